// bench_nodellamacpp.mjs - second native peer: node-llama-cpp@3.21.1 (npm, prebuilt
// llama.cpp binaries; it loads the best CPU variant it ships for this CPU).
// Same protocol as the C drivers (see bench_common.h), plus:
//   --lib DIR       directory holding node_modules/node-llama-cpp (bench/run.sh installs it)
//   --fa on|off     flash attention (defaultContextFlashAttention), default on
//   --ctxs P        P embedding contexts with threads/P threads each, working on
//                   contiguous shares of the documents concurrently (batch mode)
// node-llama-cpp embeds one sequence per decode (LlamaEmbeddingContext.getEmbeddingFor).
// Each timed call: text -> tokens -> decode -> pooled vector -> L2 normalization
// (node-llama-cpp returns the pooled vector unnormalized).
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const o = { model: null, mode: "latency", text: null, label: "", threads: 1, reps: 10, warmup: 2, n: 0, vector: 0,
            lib: null, fa: "on", ctxs: 1 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, "");
    const v = argv[++i];
    if (v === undefined || !(k in o)) { console.error(`bench_nodellamacpp: bad option ${argv[i - 1]}`); process.exit(1); }
    o[k] = typeof o[k] === "number" ? Number(v) : v;
}
if (!o.model || !o.text || !o.lib) { console.error("bench_nodellamacpp: --model, --text and --lib are required"); process.exit(1); }

function statusKb(key) {
    const m = fs.readFileSync("/proc/self/status", "utf8").match(new RegExp(`^${key}:\\s+(\\d+)`, "m"));
    return m ? Number(m[1]) : -1;
}
const mem = () => ({ rss_kb: statusKb("VmRSS"), anon_kb: statusKb("RssAnon"), file_kb: statusKb("RssFile"), hwm_kb: statusKb("VmHWM") });
const now = () => Number(process.hrtime.bigint()) / 1e6;

const raw = fs.readFileSync(o.text, "utf8");
let docs = o.mode === "batch" ? raw.split("\n").map((s) => s.replace(/\r$/, "")).filter((s) => s.length > 0)
                              : [raw.replace(/\r?\n$/, "")];
if (o.mode === "batch" && o.n > 0) docs = docs.slice(0, o.n);
if (o.mode !== "batch") o.ctxs = 1;

const m0 = mem();
const t0 = now();
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(path.join(o.lib, "node_modules/node-llama-cpp/dist/index.js")).href);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: o.model, gpuLayers: 0, defaultContextFlashAttention: o.fa === "on" });
const perCtx = Math.max(1, Math.floor(o.threads / o.ctxs));
const ctxs = [];
for (let k = 0; k < o.ctxs; k++) {
    ctxs.push(await model.createEmbeddingContext({ contextSize: 2048, batchSize: 2048, threads: perCtx }));
}
const loadMs = now() - t0;
const mLoad = mem();

let last = null;
let tokens = 0;
async function embedOne(ctx, text) {
    const e = await ctx.getEmbeddingFor(text);
    let ss = 0;
    for (const x of e.vector) ss += x * x;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    return e.vector.map((x) => x * inv);
}
async function runDocs(n) {
    const per = Math.ceil(n / ctxs.length);
    await Promise.all(ctxs.map(async (ctx, k) => {
        for (let d = k * per; d < Math.min(n, (k + 1) * per); d++) {
            const v = await embedOne(ctx, docs[d]);
            if (d === 0) last = v;
        }
    }));
}
for (const d of docs) tokens += ctxs[0].calculateInputLength(d);

const samples = [];
let mWarm;
if (o.mode === "load") {
    await runDocs(1);
    mWarm = mem();
} else if (o.mode === "latency") {
    for (let r = 0; r < o.warmup; r++) last = await embedOne(ctxs[0], docs[0]);
    mWarm = mem();
    for (let r = 0; r < o.reps; r++) {
        const a = now();
        last = await embedOne(ctxs[0], docs[0]);
        samples.push(now() - a);
    }
} else {
    for (let r = 0; r < o.warmup; r++) await runDocs(Math.min(docs.length, 16));
    mWarm = mem();
    for (let r = 0; r < o.reps; r++) {
        const a = now();
        await runDocs(docs.length);
        samples.push(now() - a);
    }
}
const mEnd = mem();
const out = {
    engine: "node-llama-cpp", mode: o.mode, label: o.label, threads: o.threads,
    config: { fa: o.fa, pack: 1, nbatch: 2048, ctxs: o.ctxs, threads_per_ctx: perCtx },
    n_docs: o.mode === "batch" ? docs.length : 1, tokens: o.mode === "batch" ? tokens : ctxs[0].calculateInputLength(docs[0]),
    load_ms: loadMs, mem_start: m0, mem_load: mLoad, mem_warm: mWarm, mem_end: mEnd, samples_ms: samples,
    system_info: `node-llama-cpp ${JSON.parse(fs.readFileSync(path.join(o.lib, "node_modules/node-llama-cpp/package.json"), "utf8")).version}, ` +
                 `llama.cpp ${llama.llamaCppRelease?.release ?? "?"}, node ${process.version}, ${llama.systemInfo ?? ""}`.replace(/[\n"\\]/g, " "),
};
if (o.vector && last) out.vector = last;
process.stdout.write(JSON.stringify(out) + "\n");
for (const c of ctxs) await c.dispose();
await model.dispose();
await llama.dispose();
process.exit(0);
