// node scripts/bench.mjs VARIANT THREADS [MODEL]: time 16 short sentences (after a warm-up)
// and report peak-ish RSS of this Node process holding the model.
import { Embedder } from '../dist/node.js';
const [variant = 'simd', threads = '1', model = `${process.env.HOME}/.cache/ggufembed/embeddinggemma-300m-dense-Q8_0.gguf`] = process.argv.slice(2);
const e = await Embedder.load(model, { variant, threads: Number(threads) });
const texts = Array.from({ length: 16 }, (_, i) => `This is sentence number ${i} about embeddings and the weather today.`);
await e.embed(texts.slice(0, 2));
const t = performance.now();
await e.embed(texts);
const ms = performance.now() - t;
console.log(JSON.stringify({ variant, threads: e.info.threads, kernels: e.info.kernels, ms16: Math.round(ms),
  rssMB: Math.round(process.memoryUsage().rss / 1048576), modelMB: Math.round(e.info.fileSize / 1048576) }));
e.dispose();
