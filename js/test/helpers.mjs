// Shared test setup: the model path, the golden corpus, and reference vectors from
// the native CLI (computed once per run and cached in js/test/.cache/, gitignored).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

export const JS = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = join(JS, '..');
export const GOLDEN = join(ROOT, 'tests', 'golden');

export function modelPath() {
  const p = process.env.GGUFEMBED_MODEL_PATH || process.env.GGUFEMBED_MODEL ||
    join(process.env.HOME, '.cache', 'ggufembed', 'embeddinggemma-300m-dense-Q8_0.gguf');
  if (!existsSync(p)) throw new Error(`model not found at ${p}: run scripts/fetch-model.sh or set GGUFEMBED_MODEL_PATH`);
  return p;
}

export function corpus() {
  return readFileSync(join(GOLDEN, 'corpus.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

/** llama.cpp's tokens and L2-normalized vectors; the test fails when they are missing. */
export function golden() {
  const tokens = readFileSync(join(GOLDEN, 'tokens.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const raw = readFileSync(join(GOLDEN, 'embeddings.f32'));
  const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const dim = all.length / tokens.length;
  const rawOff = readFileSync(join(GOLDEN, 'embeddings-fa-off.f32'));
  const off = new Float32Array(rawOff.buffer, rawOff.byteOffset, rawOff.byteLength / 4);
  return {
    tokens, dim,
    vector: (i) => all.subarray(i * dim, (i + 1) * dim),
    vectorOff: (i) => off.subarray(i * dim, (i + 1) * dim),
  };
}

/**
 * tests/test_golden.c's per-text rule against llama.cpp's two readings (flash attention
 * on / off): where they agree (r >= 0.999), 0.999 to one of them; where they do not, as
 * close to each as they are to each other, less 0.001. A text that misses it passes when
 * the vector is the native one (cosine >= 0.999999): the native golden test decides those
 * (by sentence-transformers, see there). Returns { ok, on, off, r, byNative }.
 */
export function llamaRule(ref, i, vec, nativeVec) {
  const on = cosine(vec, ref.vector(i)), off = cosine(vec, ref.vectorOff(i));
  const r = cosine(ref.vector(i), ref.vectorOff(i));
  const hi = Math.max(on, off), lo = Math.min(on, off);
  const agrees = r >= 0.999 ? hi >= 0.999 : lo >= r - 0.001;
  const byNative = !agrees && cosine(vec, nativeVec) >= 0.999999;
  return { ok: agrees || byNative, on, off, r, byNative };
}

export function nativeCli() {
  const p = process.env.GGUFEMBED_NATIVE_CLI || join(ROOT, 'build', 'bin', 'ggufembed');
  if (!existsSync(p)) throw new Error(`native CLI not found at ${p}: build it (cmake -S . -B build && cmake --build build) or set GGUFEMBED_NATIVE_CLI`);
  return p;
}

/** Native vectors for texts (default options), cached by content hash. */
export function nativeEmbeddings(texts, extraArgs = []) {
  const cli = nativeCli();
  const key = createHash('sha256').update(JSON.stringify([texts, extraArgs, readFileSync(cli).length, modelPath(), statSync(modelPath()).size])).digest('hex').slice(0, 16);
  const dir = join(JS, 'test', '.cache');
  const file = join(dir, `native-${key}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const out = execFileSync(cli, ['embed', '-m', modelPath(), '--format', 'ndjson', ...extraArgs, '--', ...texts],
    { encoding: 'utf8', maxBuffer: 1 << 30 });
  const vecs = out.trim().split('\n').map((l) => JSON.parse(l));
  if (vecs.length !== texts.length) throw new Error(`native CLI gave ${vecs.length} vectors for ${texts.length} texts`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(vecs));
  return vecs;
}

export function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(na * nb);
}

export function stats(xs) {
  let min = Infinity, sum = 0;
  for (const x of xs) { min = Math.min(min, x); sum += x; }
  return { min, mean: sum / xs.length, n: xs.length };
}

// Wasm vs native: issue #3 asks for cosine >= 0.9999 per text. The kernels follow one
// canonical arithmetic order (simd/kernels.h) and the core avoids libm differences, so
// wasm and native vectors are in fact bit-identical; the mean floor checks that.
export const NATIVE_MIN = 0.9999;
export const NATIVE_MEAN = 0.999999;
