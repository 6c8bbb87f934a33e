// Every quantized GGUF of the quant-types issue through the npm package, against the native
// CLI built from the same tree: every wasm build the package ships (simd, threads, relaxed)
// gives the CLI's vectors digit for digit (%.9g: float32 exactly), i.e. wasm equals native
// bit for bit, for each weight type:
//   - all-MiniLM-L6-v2 quantized by llama-quantize (the 384-wide fallbacks: most matrices
//     end up Q5_0 / Q5_1 / Q8_0 and only the 1536-wide FFN input takes the K-quant);
//   - EmbeddingGemma-300M in BF16 and quantized the same way (GGUFEMBED_QUANT_TEXTS texts;
//     it is the slow part);
//   - Gemma 3 270M Q4_K_M as published (gemma3 architecture).
// Files: scripts/fetch-model.sh --name <model>-<TYPE>.gguf (made by command into the cache).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchedModel, formatVector, nativeEmbedLines } from './helpers.mjs';
import { VARIANTS, runCalls } from './variant-run.mjs';

const TYPES = ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K_M', 'Q4_K_M', 'Q5_K_M', 'Q6_K', 'IQ4_NL', 'IQ4_XS'];
const TEXTS = [
  'The quick brown fox jumps over the lazy dog.',
  'Ünïcödé façade, naïve café — déjà vu! 東京は日本の首都です。',
  'Quantization trades accuracy for memory: K-quants group 256 values into a super-block. '.repeat(4),
];

async function sameAsNative(name, model, texts, dim) {
  const native = nativeEmbedLines(texts, [], model);
  for (const variant of VARIANTS) {
    const res = await runCalls(variant, model, [{ op: 'info' }, { op: 'embed', args: [texts] }]);
    const info = res[0].value;
    assert.ok(info, `${name} ${variant}: ${res[0].error?.message}`);
    assert.equal(info.dimension, dim, name);
    const r = res[1];
    assert.ok(r.value, `${name} ${variant}: ${r.error?.message}`);
    r.value.forEach((v, i) => assert.equal(formatVector(v), native[i], `${name} ${variant} text ${i}`));
    console.log(`# ${name} ${variant} (${info.kernels}; ${info.weightTypes ?? ''}): ${texts.length} vectors equal the native CLI's`);
  }
}

for (const t of TYPES) {
  test(`all-MiniLM-L6-v2 ${t}: every wasm build's vectors are the native CLI's`, async () => {
    await sameAsNative(`MiniLM ${t}`, fetchedModel(`all-minilm-l6-v2-${t}.gguf`), TEXTS, 384);
  });
}

const GEMMA_TEXTS = TEXTS.slice(0, Number(process.env.GGUFEMBED_QUANT_TEXTS ?? 2));
for (const t of ['BF16', ...TYPES]) {
  test(`EmbeddingGemma ${t}: every wasm build's vectors are the native CLI's`, async () => {
    await sameAsNative(`EmbeddingGemma ${t}`, fetchedModel(`embeddinggemma-300m-dense-${t}.gguf`), GEMMA_TEXTS, 768);
  });
}

test('Gemma 3 270M Q4_K_M (as published): every wasm build\'s vectors are the native CLI\'s', async () => {
  await sameAsNative('Gemma 3 270M Q4_K_M', fetchedModel('gemma3-270m-Q4_K_M.gguf'), TEXTS, 640);
});
