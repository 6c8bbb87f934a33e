// Runs package calls in one wasm build and returns plain results, so that every test can
// treat the variants alike. 'simd' and 'threads' run in this process; 'relaxed' needs
// Node's --experimental-wasm-relaxed-simd (V8 11 validates relaxed SIMD only behind it),
// so it runs in a child process started with that flag (this file is also that child:
// node --experimental-wasm-relaxed-simd test/variant-run.mjs REQUEST.json).
//
// A request: { model, variant, threads?, calls: [{ op: 'embed' | 'rerank' | 'tokenize' | 'info', args: [...] }] }
// A result per call: { value } (Float32Array / Int32Array as plain arrays of numbers;
// JSON keeps a float32's double exactly) or { error: { name, code, status, message } }.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const plain = (v) => (ArrayBuffer.isView(v) ? Array.from(v) : Array.isArray(v) ? v.map(plain) : v);

async function runHere({ model, variant, threads, calls }) {
  const { Embedder } = await import('../dist/node.js');
  const e = await Embedder.load(model, { variant, threads: threads ?? (variant === 'threads' ? 2 : 1) });
  try {
    const out = [];
    for (const c of calls) {
      try {
        out.push({ value: c.op === 'info' ? e.info : plain(await e[c.op](...c.args)) });
      } catch (err) {
        out.push({ error: { name: err?.name, code: err?.code, status: err?.status, message: err?.message ?? String(err) } });
      }
    }
    return out;
  } finally {
    e.dispose();
  }
}

/** Runs the calls in the variant; returns one result per call. */
export async function runCalls(variant, model, calls, threads) {
  const req = { model, variant, threads, calls };
  if (variant !== 'relaxed') return runHere(req);
  const dir = mkdtempSync(join(tmpdir(), 'ggufembed-variant-'));
  try {
    const f = join(dir, 'request.json');
    writeFileSync(f, JSON.stringify(req));
    const out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', fileURLToPath(import.meta.url), f],
      { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'inherit'] });
    return JSON.parse(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The wasm builds the package ships, all run in Node here. */
export const VARIANTS = ['simd', 'threads', 'relaxed'];

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const res = await runHere(JSON.parse(readFileSync(process.argv[2], 'utf8')));
  process.stdout.write(JSON.stringify(res));
}
