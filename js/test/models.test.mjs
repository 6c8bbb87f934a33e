// Models besides EmbeddingGemma through the npm package, against the native CLI built
// from the same tree:
//   - all-MiniLM-L6-v2 (bert, WordPiece, mean pooling) in Q8_0, F16 and F32: every
//     vector of every wasm build the package ships (simd, threads, relaxed) printed as
//     the CLI prints it (%.9g: float32 exactly) equals the CLI's ndjson line, for default, prefix,
//     keep-whitespace and raw (unnormalized) embeddings;
//   - llama.cpp's vocabulary-only GGUFs (WordPiece, SentencePiece, BPE, Unigram): tokenize()
//     gives the CLI's ids (tokenize --file) for every text, in every build; embed() rejects;
//   - a reranker (MiniLM turned into one by test/gguf-edit.mjs: rank pooling plus a
//     classifier head): rerank() scores equal the CLI's (%.9g: float32 exactly);
//   - option errors: the message is the C core's, the same as the CLI prints.
// Models: scripts/fetch-model.sh --name all-minilm-l6-v2-*.gguf; vocabularies:
// scripts/fetch-vocabs.sh (helpers.vocabDir).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Embedder, GgufembedError, AbortError } from '../dist/node.js';
import { WorkerEmbedder } from '../dist/worker-client-node.js';
import { makeBertReranker } from './gguf-edit.mjs';
import { fetchedModel, formatVector, modelPath, nativeEmbedLines, nativeError, nativeRun, vocabDir } from './helpers.mjs';
import { VARIANTS, runCalls } from './variant-run.mjs';

const MINILM = {
  Q8_0: fetchedModel('all-minilm-l6-v2-Q8_0.gguf'),
  F16: fetchedModel('all-minilm-l6-v2-F16.gguf'),
  F32: fetchedModel('all-minilm-l6-v2-F32.gguf'),
};
const TEXTS = [
  'The quick brown fox jumps over the lazy dog.',
  'Ünïcödé façade, naïve café — déjà vu! Ärger über Öl.',
  '東京は日本の首都です。北京是中国的首都。',
  'Emoji 🚀🔥 and symbols ©®™ ± ∞ ≠ √2',
  '  leading and trailing whitespace\t\n',
  'UPPER lower MiXeD 12345 3.14159 e-mail@example.com',
  'Привет, мир! Γειά σου κόσμε. مرحبا بالعالم',
  'word '.repeat(120).trim(),
];
// [package options, the CLI's arguments for the same]
const OPTION_SETS = [
  [{}, []],
  [{ prefix: 'query: ' }, ['--prefix', 'query: ']],
  [{ whitespace: 'keep' }, ['--keep-whitespace']],
  [{ normalize: false, dimensions: 100 }, ['--no-normalize', '--dim', '100']],
];

const tmp = mkdtempSync(join(tmpdir(), 'ggufembed-models-'));
const RERANKER = join(tmp, 'minilm-reranker.gguf');
before(() => { makeBertReranker(MINILM.Q8_0, RERANKER); });
after(() => rmSync(tmp, { recursive: true, force: true }));

for (const [quant, model] of Object.entries(MINILM)) {
  test(`all-MiniLM-L6-v2 ${quant}: every wasm build's vectors are the native CLI's, digit for digit`, async () => {
    const sets = quant === 'Q8_0' ? OPTION_SETS : OPTION_SETS.slice(0, 2);
    const native = sets.map(([, args]) => nativeEmbedLines(TEXTS, args, model));
    for (const variant of VARIANTS) {
      const res = await runCalls(variant, model, [
        { op: 'info' },
        ...sets.map(([opts]) => ({ op: 'embed', args: [TEXTS, opts] })),
      ]);
      const info = res[0].value;
      assert.equal(info.architecture, 'bert');
      assert.equal(info.tokenizer, 'bert');
      assert.equal(info.pooling, 'mean');
      assert.equal(info.dimension, 384);
      assert.equal(info.prompts, 'none');
      assert.deepEqual(info.taskNames, ['none']);
      assert.equal(info.vocabOnly, false);
      assert.equal(info.reranker, false);
      assert.equal(info.variant, variant);
      assert.equal(info.kernels, variant === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd128');
      sets.forEach(([opts], s) => {
        const r = res[1 + s];
        assert.ok(r.value, `${variant} ${JSON.stringify(opts)}: ${r.error?.message}`);
        assert.equal(r.value.length, TEXTS.length);
        r.value.forEach((v, i) => {
          assert.equal(v.length, opts.dimensions ?? 384);
          assert.equal(formatVector(v), native[s][i], `${variant} ${quant} ${JSON.stringify(opts)} text ${i}`);
        });
      });
      console.log(`# MiniLM ${quant} ${variant} (${info.kernels}): ${sets.length * TEXTS.length} vectors equal the native CLI's`);
    }
  });
}

// [vocabulary, tokenizer.ggml.model]; each is tested when its file is there
const VOCABS = [
  ['bert-bge', 'bert'], ['llama-spm', 'llama'], ['phi-3', 'llama'], ['qwen2', 'gpt2'], ['gpt-2', 'gpt2'],
  ['llama-bpe', 'gpt2'], ['nomic-bert-moe', 't5'],
];
const TOKENIZE_TEXTS = [
  'Hello world',
  ' Hello World! How are you?  ',
  'Ünïcödé façade, naïve café — déjà vu! ÄÖÜ äöü ß',
  '東京は日本の首都です。北京是中国的首都。한국어 텍스트',
  'Emoji 🚀🔥👍🏽 and symbols ©®™ ± ∞ ≠ √2 €100',
  'Привет, мир! Γειά σου κόσμε. مرحبا بالعالم עברית हिन्दी',
  'tabs\tand\nnewlines\n\n   spaces    3.14159 1,000,000 can\'t won\'t I\'m',
  'def add(a, b):\n    return a + b  # comment',
  '',
];

test('vocabulary-only GGUFs: tokenize() gives the native CLI\'s ids in every wasm build; embed() rejects', async () => {
  const dir = vocabDir();
  const textFiles = TOKENIZE_TEXTS.map((t, i) => {
    const f = join(tmp, `text-${i}.txt`);
    writeFileSync(f, t);
    return f;
  });
  let tested = 0;
  for (const [name, tokenizer] of VOCABS) {
    const vocab = join(dir, `ggml-vocab-${name}.gguf`);
    if (!existsSync(vocab)) { console.log(`# ${name}: no ${vocab}, skipped`); continue; }
    const native = textFiles.map((f) => {
      const r = nativeRun(['tokenize', '-m', vocab, '--file', f]);
      assert.equal(r.code, 0, `native tokenize ${name}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    });
    const embedErr = nativeError(['embed', '-m', vocab, 'x']);
    for (const variant of VARIANTS) {
      const res = await runCalls(variant, vocab, [
        { op: 'info' },
        ...TOKENIZE_TEXTS.map((t) => ({ op: 'tokenize', args: [t] })),
        { op: 'embed', args: ['x'] },
        { op: 'embed', args: [['x', 'y'], { dimensions: 8 }] },
      ]);
      const info = res[0].value;
      assert.equal(info.vocabOnly, true, name);
      assert.equal(info.tokenizer, tokenizer, name);
      assert.equal(info.tensors, 0);
      assert.deepEqual(info.taskNames, []);
      TOKENIZE_TEXTS.forEach((t, i) => {
        const r = res[1 + i];
        assert.ok(r.value, `${name} ${variant} text ${i}: ${r.error?.message}`);
        assert.deepEqual(r.value, native[i], `${name} ${variant}: ${JSON.stringify(t)}`);
      });
      for (const r of res.slice(1 + TOKENIZE_TEXTS.length)) {
        assert.equal(r.error?.code, 'UNSUPPORTED', `${name} ${variant}: embed should reject`);
        assert.equal(r.error.message, embedErr);
        assert.match(r.error.message, /vocabulary only/);
      }
    }
    tested++;
    console.log(`# ${name} (${tokenizer}): ${TOKENIZE_TEXTS.length} texts tokenized as the native CLI does in ${VARIANTS.join(', ')}`);
  }
  assert.ok(tested >= 2, `only ${tested} vocabularies found in ${dir}`);
});

const QUERY = 'What is the capital of France?';
const DOCS = [
  'Paris is the capital and largest city of France.',
  'Bananas are yellow when ripe.',
  'Berlin is the capital of Germany.',
  'La capitale de la France est Paris.',
  '',
  ...Array.from({ length: 17 }, (_, i) => `Document number ${i} about ${['cities', 'fruit', 'rivers', 'mountains'][i % 4]}.`),
];

test('reranker: rerank() scores equal the native CLI\'s bit for bit in every wasm build and the worker', async () => {
  const r = nativeRun(['rerank', '-m', RERANKER, '--query', QUERY, ...DOCS]);
  assert.equal(r.code, 0, r.stderr);
  const native = r.stdout.trim().split('\n').map((l) => Math.fround(Number(l))); // %.9g: a float32 exactly
  assert.equal(native.length, DOCS.length);
  const embedErr = nativeError(['embed', '-m', RERANKER, 'x']);
  for (const variant of VARIANTS) {
    const res = await runCalls(variant, RERANKER, [
      { op: 'info' },
      { op: 'rerank', args: [QUERY, DOCS] }, // more documents than one chunk (16)
      { op: 'rerank', args: [QUERY, DOCS.slice(0, 3)] },
      { op: 'rerank', args: [QUERY, []] },
      { op: 'embed', args: ['x'] },
    ]);
    const info = res[0].value;
    assert.equal(info.reranker, true);
    assert.equal(info.pooling, 'rank');
    assert.equal(info.dimension, 1);
    assert.deepEqual(info.taskNames, []);
    assert.ok(res[1].value, res[1].error?.message);
    assert.deepEqual(res[1].value, native, variant);
    assert.deepEqual(res[2].value, native.slice(0, 3), variant);
    assert.deepEqual(res[3].value, []);
    assert.equal(res[4].error?.code, 'UNSUPPORTED');
    assert.equal(res[4].error.message, embedErr);
  }
  const e = await Embedder.load(RERANKER, { variant: 'simd' });
  try {
    const s = await e.rerank(QUERY, DOCS.slice(0, 2));
    assert.ok(s instanceof Float32Array);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(e.rerank(QUERY, DOCS, { signal: ac.signal }), AbortError);
    await assert.rejects(e.rerank(QUERY, 'not an array'), GgufembedError);
    await assert.rejects(e.rerank(42, DOCS), GgufembedError);
    await assert.rejects(e.rerank(QUERY, [1, 2]), GgufembedError);
    assert.deepEqual(Array.from(await e.rerank(QUERY, DOCS)), native); // still fine after the rejections
  } finally { e.dispose(); }
  const w = await WorkerEmbedder.load(RERANKER, { variant: 'simd' });
  try {
    assert.equal(w.info.reranker, true);
    const s = await w.rerank(QUERY, DOCS);
    assert.ok(s instanceof Float32Array);
    assert.deepEqual(Array.from(s), native);
    await assert.rejects(w.embed('x'), (err) => err instanceof GgufembedError && err.code === 'UNSUPPORTED' && err.message === embedErr);
  } finally { w.dispose(); }
});

test('errors: task, prefix, instruction, title and rerank misuse reject with the C core\'s message', async () => {
  const M = MINILM.Q8_0, G = modelPath();
  // [model, package options, CLI arguments for the same]
  const cases = [
    [M, { task: 'query' }, ['--task', 'query']],                        // MiniLM defines only 'none'
    [M, { task: 'document' }, ['--task', 'document']],
    [M, { task: 'STS' }, ['--task', 'STS']],
    [M, { prefix: 'query: ', task: 'query' }, ['--prefix', 'query: ', '--task', 'query']],
    [M, { instruction: 'Find the answer' }, ['--instruction', 'Find the answer']], // implies 'query', as the CLI
    [M, { task: 'query', instruction: 'Find the answer' }, ['--task', 'query', '--instruction', 'Find the answer']],
    [M, { title: 'A title' }, ['--title', 'A title']],                  // implies 'document', as the CLI
    [G, { prefix: 'query: ', task: 'query' }, ['--prefix', 'query: ', '--task', 'query']], // a task it has
    [G, { prefix: 'x', title: 'T' }, ['--prefix', 'x', '--title', 'T']],
    [G, { instruction: 'Find the answer' }, ['--instruction', 'Find the answer']],    // not a Qwen3 model
    [G, { task: 'document', instruction: 'Find' }, ['--task', 'document', '--instruction', 'Find']],
  ];
  const expected = cases.map(([model, , args]) => nativeError(['embed', '-m', model, ...args, 'some text']));
  const rerankErr = nativeError(['rerank', '-m', M, '--query', 'q', 'd']);
  assert.match(expected[0], /has no task 'query'; its tasks: none/);
  assert.match(expected[7], /prefix/);
  assert.match(expected[9], /instruction/);
  assert.match(rerankErr, /not a reranker/);
  for (const model of [M, G]) {
    const e = await Embedder.load(model, { variant: 'simd' });
    try {
      for (const [k, [m, opts]] of cases.entries()) {
        if (m !== model) continue;
        for (const input of ['some text', ['some text', 'more'], []]) {
          await assert.rejects(e.embed(input, opts), (err) => {
            assert.ok(err instanceof GgufembedError, String(err));
            assert.equal(err.code, 'INVALID_ARGUMENT');
            assert.equal(err.message, expected[k], JSON.stringify(opts));
            return true;
          });
        }
      }
      // a name no model knows: the core's message lists this model's tasks
      await assert.rejects(e.embed('x', { task: 'nope' }), (err) => err.code === 'INVALID_ARGUMENT' &&
        err.message === `unknown task 'nope'; this model's tasks: ${e.info.tasks}`);
      await assert.rejects(e.embed('x', { prefix: 42 }), (err) => err.code === 'INVALID_ARGUMENT' && /prefix/.test(err.message));
      for (const docs of [['d'], []]) {
        await assert.rejects(e.rerank('q', docs), (err) => err instanceof GgufembedError && err.code === 'UNSUPPORTED' && err.message === rerankErr);
      }
      assert.equal((await e.embed('still works')).length, e.info.dimension);
    } finally { e.dispose(); }
  }
  // the same through the worker
  const w = await WorkerEmbedder.load(M, { variant: 'simd' });
  try {
    await assert.rejects(w.embed('x', { task: 'query' }), (err) => err instanceof GgufembedError && err.code === 'INVALID_ARGUMENT' && err.message === expected[0]);
    await assert.rejects(w.rerank('q', ['d']), (err) => err instanceof GgufembedError && err.code === 'UNSUPPORTED' && err.message === rerankErr);
    const v = await w.embed(TEXTS[0], { prefix: 'query: ' });
    assert.equal(formatVector(v), nativeEmbedLines([TEXTS[0]], ['--prefix', 'query: '], M)[0]);
  } finally { w.dispose(); }
});

test('EmbeddingGemma: info lists its prompt family and tasks; prefix and instruction options', async () => {
  const G = modelPath();
  const e = await Embedder.load(G, { variant: 'simd' });
  try {
    assert.equal(e.info.prompts, 'embeddinggemma');
    assert.equal(e.info.tokenizer, 'llama');
    assert.equal(e.info.pooling, 'mean');
    assert.equal(e.info.reranker, false);
    assert.equal(e.info.vocabOnly, false);
    assert.deepEqual(e.info.taskNames, ['none', 'query', 'document', 'question-answering', 'fact-checking',
      'classification', 'clustering', 'sentence-similarity', 'code-retrieval', 'summarization']);
    assert.match(e.info.tasks, /^none, query, document/);
    const t = 'Which planet is known as the Red Planet?';
    // a free-text prefix is the task prompt written out
    assert.deepEqual(await e.embed(t, { prefix: 'task: search result | query: ' }), await e.embed(t, { task: 'query' }));
    const v = await e.embed(t, { prefix: 'custom: ' });
    assert.equal(formatVector(v), nativeEmbedLines([t], ['--prefix', 'custom: '], G)[0]);
  } finally { e.dispose(); }
});
