// npm pack -> install the tarball into a fresh temporary project -> use it from a
// Node script (ESM import by package name, and the TypeScript declarations are shipped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JS, modelPath } from '../helpers.mjs';

test('npm pack tarball installs into a fresh project and embeds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ggufembed-pack-'));
  try {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: JS, encoding: 'utf8' });
    const [{ filename, files }] = JSON.parse(out);
    const names = files.map((f) => f.path);
    for (const f of ['dist/node.js', 'dist/browser.js', 'dist/index.d.ts', 'dist/wasm/ggufembed-st.wasm',
      'dist/wasm/ggufembed-mt.worker.js', 'dist/wasm/node/ggufembed-mt.js', 'dist/wasm/ggufembed-relaxed.wasm', 'examples/index.html']) {
      assert.ok(names.includes(f), `${f} is in the tarball`);
    }
    const proj = join(dir, 'app');
    execFileSync('mkdir', ['-p', proj]);
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(dir, filename)], { cwd: proj, stdio: 'inherit' });
    assert.ok(existsSync(join(proj, 'node_modules', 'ggufembed', 'dist', 'index.d.ts')));
    writeFileSync(join(proj, 'main.mjs'), `
      import { Embedder, GgufembedError } from 'ggufembed';
      import { WorkerEmbedder } from 'ggufembed/worker';
      const e = await Embedder.load(process.argv[2]);
      const [a, b, c] = await e.embed(['A cat sleeps on the sofa.', 'A kitten naps on the couch.', 'Interest rates rose again.'], { task: 'sentence-similarity' });
      const dot = (x, y) => x.reduce((s, v, i) => s + v * y[i], 0);
      if (!(dot(a, b) > dot(a, c))) throw new Error('similarities look wrong');
      e.dispose();
      try { await Embedder.load(new Uint8Array(16)); throw new Error('no error'); } catch (err) { if (!(err instanceof GgufembedError)) throw err; }
      console.log(JSON.stringify({ ok: true, sim: dot(a, b), variant: e.info.variant, hasWorker: typeof WorkerEmbedder.load }));
    `);
    const res = JSON.parse(execFileSync('node', ['main.mjs', modelPath()], { cwd: proj, encoding: 'utf8' }).trim().split('\n').at(-1));
    assert.equal(res.ok, true);
    assert.equal(res.hasWorker, 'function');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
