// bench_wasm_node.mjs - ggufembed-wasm (the npm package built in js/dist) in Node, same
// protocol as the C drivers (see bench_common.h), plus:
//   --pkg DIR         the package directory (default: ../js next to this file); uses DIR/dist/node.js
//   --variant V       'simd' (1 thread) or 'threads' (worker_threads); default: simd for
//                     --threads 1, threads otherwise
// latency: embedder.embed(text); batch: embedder.embed(texts). The model is read into wasm
// memory at load (no mmap in wasm), so its RSS includes a private copy of the weights.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const o = { model: null, mode: "latency", text: null, label: "", threads: 1, reps: 10, warmup: 2, n: 0, vector: 0,
            pkg: path.join(here, "..", "js"), variant: "" };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, "");
    const v = argv[++i];
    if (v === undefined || !(k in o)) { console.error(`bench_wasm_node: bad option ${argv[i - 1]}`); process.exit(1); }
    o[k] = typeof o[k] === "number" ? Number(v) : v;
}
if (!o.model || !o.text) { console.error("bench_wasm_node: --model and --text are required"); process.exit(1); }
const variant = o.variant || (o.threads > 1 ? "threads" : "simd");

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

const m0 = mem();
const t0 = now();
const { Embedder } = await import(pathToFileURL(path.join(o.pkg, "dist", "node.js")).href);
const emb = await Embedder.load(o.model, { threads: o.threads, variant });
const loadMs = now() - t0;
const mLoad = mem();
let tokens = 0;
for (const d of docs) tokens += (await emb.tokenize(d)).length;

const samples = [];
let last = null;
let mWarm;
if (o.mode === "load") {
    last = await emb.embed(docs[0]);
    mWarm = mem();
} else if (o.mode === "latency") {
    for (let r = 0; r < o.warmup; r++) last = await emb.embed(docs[0]);
    mWarm = mem();
    for (let r = 0; r < o.reps; r++) {
        const a = now();
        last = await emb.embed(docs[0]);
        samples.push(now() - a);
    }
} else {
    for (let r = 0; r < o.warmup; r++) await emb.embed(docs.slice(0, 16));
    mWarm = mem();
    for (let r = 0; r < o.reps; r++) {
        const a = now();
        const v = await emb.embed(docs);
        samples.push(now() - a);
        last = v[0];
    }
}
const mEnd = mem();
const out = {
    engine: "ggufembed-wasm", mode: o.mode, label: o.label, threads: o.threads,
    config: { variant: emb.info.variant, kernels: emb.info.kernels, threads: emb.info.threads },
    n_docs: docs.length, tokens, load_ms: loadMs, mem_start: m0, mem_load: mLoad, mem_warm: mWarm, mem_end: mEnd,
    samples_ms: samples,
    system_info: `ggufembed-wasm ${emb.info.version} (${emb.info.variant}, ${emb.info.kernels}), node ${process.version}`,
};
if (o.vector && last) out.vector = Array.from(last);
process.stdout.write(JSON.stringify(out) + "\n");
emb.dispose();
process.exit(0);
