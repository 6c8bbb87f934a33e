// The WASI build (clang-19 + wasi-libc): the CLI as a WASI command module run under
// @bjorn3/browser_wasi_shim, and the kernel tests compiled for WASI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runWasi } from './wasi-run.mjs';
import { JS, NATIVE_MIN, ROOT, cosine, modelPath, nativeEmbeddings } from './helpers.mjs';

const CLI = join(JS, 'dist', 'wasm', 'ggufembed.wasm');
const MODEL = modelPath();
const TEXTS = ['Glaciers carve U-shaped valleys over thousands of years.', 'Le chat dort sur le canapé.'];

test('WASI kernel tests (simd128 vs scalar reference)', async () => {
  const r = await runWasi(join(ROOT, 'build-wasm', 'test_kernels-simd128.wasm'), []);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /wasm-simd128/);
  assert.match(r.stdout, / 0 failed/);
});

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
