// Agreement on the golden corpus: tokens identical to llama.cpp's, every embedding
// within llama.cpp's rule (helpers.llamaRule, as tests/test_golden.c) and 0.9999 of the native build's.
// GGUFEMBED_JS_VARIANTS (default "threads,simd") lists the wasm builds to check; the
// first runs every GGUFEMBED_JS_STRIDE-th text (default 3; 1 = the whole corpus, which
// takes ~15 minutes on 2 cores), the others every 4th of those. Tokens are checked for
// every text. The kernels are bit-identical to native (simd/kernels.h), which the
// native comparison below checks on each text it embeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Embedder } from '../dist/node.js';
import { NATIVE_MEAN, NATIVE_MIN, corpus, cosine, golden, llamaRule, modelPath, nativeEmbeddings, stats } from './helpers.mjs';

const variants = (process.env.GGUFEMBED_JS_VARIANTS || 'threads,simd').split(',').filter(Boolean);
const stride = Number(process.env.GGUFEMBED_JS_STRIDE || 3);
const texts = corpus().map((c) => c.text);
const ref = golden();
// native vectors only for the texts the variants embed (the native CLI takes minutes
// for the whole corpus on 2 cores)
const selected = texts.map((_, i) => i).filter((i) => i % stride === 0);
// llama.cpp embeds the bytes as given: whitespace 'keep' here (the default strips, as
// sentence-transformers does)
const nativeSel = nativeEmbeddings(selected.map((i) => texts[i]), ['--keep-whitespace']);
const native = new Map(selected.map((i, k) => [i, nativeSel[k]]));

test('golden tokens: identical to llama.cpp for every corpus text', async () => {
  const e = await Embedder.load(modelPath(), { variant: 'simd' });
  try {
    assert.equal(ref.tokens.length, texts.length);
    let bad = 0;
    for (let i = 0; i < texts.length; i++) {
      const ids = Array.from(await e.tokenize(texts[i]));
      if (JSON.stringify(ids) !== JSON.stringify(ref.tokens[i].tokens)) {
        if (bad++ < 5) console.error(`token mismatch in ${ref.tokens[i].id}`);
      }
    }
    assert.equal(bad, 0, `${bad} texts tokenized differently from llama.cpp`);
  } finally {
    e.dispose();
  }
});

for (const [vi, variant] of variants.entries()) {
  test(`golden embeddings (${variant}): llama.cpp's rule, >= 0.9999 vs native`, async () => {
    const e = await Embedder.load(modelPath(), { variant, threads: variant === 'threads' ? 2 : 1 });
    try {
      const idx = texts.map((_, i) => i).filter((i) => i % (vi === 0 ? stride : stride * 4) === 0);
      const vecs = await e.embed(idx.map((i) => texts[i]), { whitespace: 'keep' });
      const vsLlama = [], vsNative = [];
      idx.forEach((i, k) => {
        assert.equal(vecs[k].length, ref.dim);
        vsLlama.push(cosine(vecs[k], ref.vector(i)));
        vsNative.push(cosine(vecs[k], native.get(i)));
      });
      const l = stats(vsLlama), n = stats(vsNative);
      console.log(`# ${variant} (${e.info.kernels}, ${idx.length} texts): vs llama.cpp min ${l.min.toFixed(6)} mean ${l.mean.toFixed(6)}; vs native min ${n.min.toFixed(6)} mean ${n.mean.toFixed(6)}`);
      // llama.cpp's rule per text (helpers.llamaRule); the mean over the whole corpus is the native test's
      const misses = idx.map((i, k) => [i, llamaRule(ref, i, vecs[k], native.get(i))]).filter(([, x]) => !x.ok || x.byNative);
      for (const [i, x] of misses) console.log(`#   text ${i}: vs llama.cpp ${x.on.toFixed(6)} / ${x.off.toFixed(6)} (its own spread ${x.r.toFixed(6)})${x.byNative ? ': the native vector, decided by the native golden test' : ''}`);
      assert.equal(misses.filter(([, x]) => !x.ok).length, 0, `texts outside llama.cpp's rule: ${misses.filter(([, x]) => !x.ok).map(([i]) => i)}`);
      assert.ok(n.min >= NATIVE_MIN, `min cosine vs native ${n.min}`);
      assert.ok(n.mean >= NATIVE_MEAN, `mean cosine vs native ${n.mean}`);
    } finally {
      e.dispose();
    }
  });
}
