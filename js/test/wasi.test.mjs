// The WASI build (clang-19 + wasi-libc): the CLI as a WASI command module run under
// @bjorn3/browser_wasi_shim, and the kernel and quant-type tests compiled for WASI.
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWasi } from './wasi-run.mjs';
import { makeBertReranker } from './gguf-edit.mjs';
import { JS, NATIVE_MIN, ROOT, cosine, fetchedModel, modelPath, nativeEmbeddings, nativeRun, vocabDir } from './helpers.mjs';

const CLI = join(JS, 'dist', 'wasm', 'ggufembed.wasm');
const MODEL = modelPath();
const TEXTS = ['Glaciers carve U-shaped valleys over thousands of years.', 'Le chat dort sur le canapé.'];

// tests/test_kernels.c and tests/test_quant.c: every table of the build against the scalar
// reference, bit for bit. The relaxed builds run in a child process with the flag V8 11
// needs to validate relaxed SIMD (the child is wasi-run.mjs's command line).
const wasiChild = (wasm, flags) => {
  const r = spawnSync(process.execPath, [...flags, join(JS, 'test', 'wasi-run.mjs'), wasm], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr + (r.error ? String(r.error) : '') };
};
for (const t of ['test_kernels', 'test_quant']) {
  test(`WASI ${t} (simd128 vs scalar reference)`, async () => {
    const r = await runWasi(join(ROOT, 'build-wasm', `${t}-simd128.wasm`), []);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /kernels available: scalar wasm-simd128\n/);
    assert.match(r.stdout, / [1-9]\d* passed, 0 failed/);
  });
  test(`WASI ${t} (relaxed SIMD and simd128 vs scalar reference, --experimental-wasm-relaxed-simd)`, () => {
    const r = wasiChild(join(ROOT, 'build-wasm', `${t}-relaxed.wasm`), ['--experimental-wasm-relaxed-simd']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /kernels available: scalar wasm-simd128 wasm-relaxed-simd\n/);
    assert.match(r.stdout, / [1-9]\d* passed, 0 failed/);
  });
}

// tests/test_malformed.c (every malformed-file class refused with its message, NaN/Inf
// weights) and tests/test_abi.c (versioned structs, allocator hook) in the wasm build.
for (const t of ['test_malformed', 'test_abi']) {
  test(`WASI ${t}`, async () => {
    const r = await runWasi(join(ROOT, 'build-wasm', `${t}.wasm`), []);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, / [1-9]\d* passed, 0 failed/);
  });
}

test('WASI CLI: embed agrees with native, tokenize, info, errors', async () => {
  const r = await runWasi(CLI, ['embed', '-m', MODEL, '--format', 'ndjson', ...TEXTS], { files: [MODEL] });
  assert.equal(r.code, 0, r.stderr);
  const vs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const ref = nativeEmbeddings(TEXTS);
  assert.equal(vs.length, TEXTS.length);
  vs.forEach((v, i) => assert.ok(cosine(v, ref[i]) >= NATIVE_MIN, `text ${i}: ${cosine(v, ref[i])}`));

  const t = await runWasi(CLI, ['tokenize', '-m', MODEL, 'Hello world'], { files: [MODEL] });
  assert.equal(t.code, 0, t.stderr);
  assert.equal(t.stdout.trim(), '[2, 9259, 1902, 1]');

  const i = await runWasi(CLI, ['info', '-m', MODEL], { files: [MODEL] });
  assert.equal(i.code, 0, i.stderr);
  assert.match(i.stdout, /architecture:\s+gemma-embedding/);
  assert.match(i.stdout, /kernels:\s+wasm-simd128/);

  const bad = await runWasi(CLI, ['info', '-m', join(JS, 'package.json')], { files: [join(JS, 'package.json')] });
  assert.equal(bad.code, 1);
  assert.ok(bad.stderr.length > 0);
  const missing = await runWasi(CLI, ['info', '-m', '/nonexistent/model.gguf']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot open/);
});

test('WASI CLI: all-MiniLM-L6-v2, vocabularies and a reranker print exactly what the native CLI prints', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ggufembed-wasi-'));
  try {
    const texts = ['The quick brown fox jumps over the lazy dog.', 'Ünïcödé façade, naïve café — déjà vu!',
      '東京は日本の首都です。', 'Emoji 🚀🔥 ©®™ ∞', '  padded\t'];
    const same = async (model, args, files = [model]) => {
      const n = nativeRun(args);
      assert.equal(n.code, 0, n.stderr);
      const w = await runWasi(CLI, args, { files });
      assert.equal(w.code, 0, w.stderr);
      assert.equal(w.stdout, n.stdout, args.join(' '));
    };
    for (const q of ['Q8_0', 'F16', 'F32']) {
      const m = fetchedModel(`all-minilm-l6-v2-${q}.gguf`);
      await same(m, ['embed', '-m', m, '--format', 'ndjson', ...texts]);
      if (q === 'Q8_0') {
        await same(m, ['embed', '-m', m, '--format', 'ndjson', '--prefix', 'query: ', '--keep-whitespace', ...texts]);
        // errors: the same one line
        for (const args of [['embed', '-m', m, '--task', 'query', 'x'], ['rerank', '-m', m, '--query', 'q', 'd']]) {
          const n = nativeRun(args), w = await runWasi(CLI, args, { files: [m] });
          assert.equal(w.code, n.code);
          assert.equal(w.stderr.trim(), n.stderr.trim());
        }
        const r = join(tmp, 'reranker.gguf');
        makeBertReranker(m, r);
        await same(r, ['rerank', '-m', r, '--query', 'What is the capital of France?', 'Paris is the capital of France.', 'Bananas are yellow.', '']);
      }
    }
    const dir = vocabDir();
    const f = join(tmp, 'text.txt');
    writeFileSync(f, texts.join('\n'));
    for (const name of ['bert-bge', 'llama-spm', 'qwen2', 'nomic-bert-moe']) {
      const v = join(dir, `ggml-vocab-${name}.gguf`);
      if (!existsSync(v)) continue;
      await same(v, ['tokenize', '-m', v, '--file', f], [v, f]);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
