#!/usr/bin/env node
// bench/bench_wasm_browser.mjs - the browser half of issue #4: ggufembed-wasm (the npm package
// built in js/dist) vs wllama (@wllama/wllama, llama.cpp compiled to wasm) in headless
// Chromium, same GGUF file, same thread count.
//
//   node bench/bench_wasm_browser.mjs [options]        full: threads 1,2, 2 interleaved rounds
//   node bench/bench_wasm_browser.mjs --smoke          1 thread, 1 round, 1 timed call per text and no
//                                                      warm-up, short and long text only (xlong goes the
//                                                      same way and costs wllama ~35 s), batches of 4
//                                                      docs, wllama's multi-doc call on the 4 short docs
//                                                      only (CI; ~1-1.5 min; the numbers mean nothing)
//
// Needs: /usr/bin/chromium (apt-get install -y chromium), js/dist built (node js/scripts/build.mjs),
// the model (scripts/fetch-model.sh, run to find it), and @wllama/wllama@3.13.0 +
// playwright-core@1.65.1 in ${GGUFEMBED_CACHE:-~/.cache/ggufembed}/bench-wllama: this script runs
// bench/install-wllama.sh (npm install --prefix-style, outside the repo) when they are missing,
// unless --no-install is given (then it exits 3). Nothing else is installed or written, except
// --out FILE.
//
// A local HTTP server (127.0.0.1, random port) serves bench/browser/ (the page), js/dist, the
// wllama package and the model, every response with COOP/COEP/CORP headers, so the page is
// cross-origin isolated and both engines can use threads. For every round, thread count and
// engine (ggufembed then wllama, reversed every other round) a fresh headless Chromium opens
// the page, and the driver steps it through: load (fetch + compile + model into wasm memory),
// latency (warm-up, then timed single-text calls) for short/long/xlong, batch throughput for
// batch-short/batch-long (ggufembed: its batch API, one call; wllama: one createEmbedding call
// per document, one after another - its multi-document call returned one vector or stalled in
// 3.8.1), and for wllama, last, one multi-document createEmbedding call per batch set with all
// its documents (bounded by a timeout): does it return one vector per document, equal to the
// one-at-a-time vectors, and how fast (the harness counts wllama's faster way). Between the steps
// (and every 200 ms) it reads the renderer process's VmRSS/VmHWM/RssAnon/RssFile from /proc
// (the tab's main thread and its workers all live there).
//
// Output: one JSON object on stdout {meta, records, multi_doc, agreement, errors}; records have
// the shape of the native drivers' records (engine, mode, label, threads, samples_ms, tokens,
// n_docs, load_ms, mem_load/mem_warm/mem_end with rss_kb/anon_kb/file_kb/hwm_kb) so
// bench/harness.py merges them. A summary goes to stderr. Exit 1 if any engine run failed.
//
// Options:
//   --threads 1,2           thread counts (default 1,2; smoke 1)
//   --rounds N              interleaved rounds (default 2; smoke 1)
//   --reps S,L,X            timed latency calls per round for short,long,xlong (default 8,8,3; smoke 1,1,1)
//   --warmup N              untimed calls before each text's timed calls (default 2, xlong at most 1; smoke 0)
//   --warmup-ms MS          ... and at least that long, xlong excepted (default 5000; smoke 0): V8 tiers
//                           wasm up in the background, which takes seconds for wllama's 10 MB module
//   --texts short,long,xlong  latency texts (smoke: short,long)
//   --docs N                documents per batch (default 96; smoke 4)
//   --batch-reps N          timed passes per batch and round (default 1)
//   --multi-docs N          documents in wllama's multi-document call (default 0 = the whole batch set;
//                           smoke: the 4 short docs only)
//   --engines ggufembed,wllama   --model PATH   --pkg DIR (default <repo>/js)   --wllama-dir DIR
//   --chromium PATH         default $CHROMIUM or /usr/bin/chromium
//   --wllama-ctx N          wllama n_ctx = n_batch = n_ubatch (default 2048)
//   --wllama-parallel N     wllama n_parallel (default 4, its own default; unified KV cache)
//   --wllama-fa auto|on|off wllama flash attention (default auto, llama.cpp's default)
//   --step-timeout S        per page step (default 1800)   --out FILE (the JSON, too)
//   --no-install            exit 3 instead of installing wllama   --quiet (no stderr log)
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { homedir, loadavg, tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const CACHE = process.env.GGUFEMBED_CACHE || join(homedir(), '.cache', 'ggufembed');
const WLLAMA_VERSION = '3.13.0';

// ------------------------------------------------------------------------------ options
const argv = process.argv.slice(2);
const smoke = argv.includes('--smoke');
const o = {
  threads: smoke ? '1' : '1,2', rounds: smoke ? 1 : 2, reps: smoke ? '1,1,1' : '8,8,3', warmup: smoke ? 0 : 2, 'warmup-ms': smoke ? 0 : 5000,
  texts: smoke ? 'short,long' : 'short,long,xlong', docs: smoke ? 4 : 96, 'batch-reps': 1, engines: 'ggufembed,wllama', model: '', pkg: join(ROOT, 'js'),
  'wllama-dir': join(CACHE, 'bench-wllama'), chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  'wllama-ctx': 2048, 'wllama-parallel': 4, 'wllama-fa': 'auto', 'multi-docs': 0, 'step-timeout': 1800, out: '',
};
const flags = new Set(['--smoke', '--no-install', '--quiet']);
for (let i = 0; i < argv.length; i++) {
  if (flags.has(argv[i])) continue;
  const k = argv[i].replace(/^--/, '');
  if (!argv[i].startsWith('--') || !(k in o) || argv[i + 1] === undefined) {
    console.error(`bench_wasm_browser: bad option ${argv[i]} (see the comment at the top of this file)`);
    process.exit(2);
  }
  o[k] = typeof o[k] === 'number' ? Number(argv[++i]) : argv[++i];
}
const quiet = argv.includes('--quiet');
const THREADS = String(o.threads).split(',').map(Number).filter((t) => t > 0);
const ENGINES = String(o.engines).split(',').filter(Boolean);
const [REPS_SHORT, REPS_LONG, REPS_XLONG] = String(o.reps).split(',').map(Number);
const log = (m) => { if (!quiet) process.stderr.write(`[bench-browser ${new Date().toISOString().slice(11, 19)}] ${m}\n`); };
for (const e of ENGINES) if (!['ggufembed', 'wllama'].includes(e)) { console.error(`unknown engine ${e}`); process.exit(2); }

// ------------------------------------------------------------------------------ prerequisites
function need(cond, msg, code = 1) { if (!cond) { console.error(`bench_wasm_browser: ${msg}`); process.exit(code); } }
need(existsSync(o.chromium), `no Chromium at ${o.chromium} (apt-get install -y chromium, or --chromium PATH)`);
need(existsSync(join(o.pkg, 'dist', 'browser.js')), `${o.pkg}/dist/browser.js is missing: build the package (cd js && npm run build)`);
if (!o.model) {
  o.model = process.env.GGUFEMBED_MODEL_PATH && existsSync(process.env.GGUFEMBED_MODEL_PATH) ? process.env.GGUFEMBED_MODEL_PATH
    : execFileSync('bash', [join(ROOT, 'scripts', 'fetch-model.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
}
need(existsSync(o.model), `no model at ${o.model}`);
const wllamaPkg = join(o['wllama-dir'], 'node_modules', '@wllama', 'wllama');
const haveWllama = () => existsSync(join(wllamaPkg, 'package.json')) &&
  JSON.parse(readFileSync(join(wllamaPkg, 'package.json'), 'utf8')).version === WLLAMA_VERSION &&
  existsSync(join(o['wllama-dir'], 'node_modules', 'playwright-core', 'package.json'));
if (!haveWllama()) {
  need(!argv.includes('--no-install'), `@wllama/wllama@${WLLAMA_VERSION} is not installed in ${o['wllama-dir']} (bash bench/install-wllama.sh)`, 3);
  need(resolve(o['wllama-dir']) === resolve(CACHE, 'bench-wllama'), `@wllama/wllama@${WLLAMA_VERSION} is not installed in ${o['wllama-dir']}`);
  log(`installing @wllama/wllama@${WLLAMA_VERSION} and playwright-core with bench/install-wllama.sh`);
  execFileSync('bash', [join(HERE, 'install-wllama.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  need(haveWllama(), `installing @wllama/wllama@${WLLAMA_VERSION} into ${o['wllama-dir']} failed`);
}
const { chromium } = createRequire(join(o['wllama-dir'], 'package.json'))('playwright-core');

const texts = {
  short: readFileSync(join(HERE, 'texts', 'short.txt'), 'utf8').replace(/\r?\n$/, ''),
  long: readFileSync(join(HERE, 'texts', 'long.txt'), 'utf8').replace(/\r?\n$/, ''),
  xlong: readFileSync(join(HERE, 'texts', 'xlong.txt'), 'utf8').replace(/\r?\n$/, ''),
};
const batchDocs = (f) => readFileSync(join(HERE, 'texts', f), 'utf8').split('\n').map((s) => s.replace(/\r$/, ''))
  .filter((s) => s.length > 0).slice(0, o.docs);
const LATENCY = [['short', REPS_SHORT], ['long', REPS_LONG], ['xlong', REPS_XLONG]]
  .filter(([name]) => String(o.texts).split(',').includes(name));
const BATCH = [['batch-short', batchDocs('batch-short.txt')], ['batch-long', batchDocs('batch-long.txt')]];

// ------------------------------------------------------------------------------ server
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json' };
const MOUNTS = [['/bench/browser/', join(HERE, 'browser')], ['/js/dist/', join(o.pkg, 'dist')], ['/wllama/', wllamaPkg]];
function startServer() {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = null;
    if (path === '/model.gguf') file = o.model;
    for (const [prefix, dir] of MOUNTS) {
      if (!file && path.startsWith(prefix)) {
        const f = resolve(dir, normalize(path.slice(prefix.length)).replace(/^(\.\.[/\\])+/, ''));
        if (f === dir || f.startsWith(dir + sep)) file = f;
      }
    }
    let st = null;
    try { st = file && statSync(file); } catch { st = null; }
    const iso = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
      'cross-origin-resource-policy': 'same-origin' };
    if (!st || !st.isFile()) { res.writeHead(404, { 'content-type': 'text/plain', ...iso }).end('not found'); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'content-length': st.size,
      'cache-control': 'no-store', ...iso });
    if (req.method === 'HEAD') { res.end(); return; }
    createReadStream(file).pipe(res);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

// ------------------------------------------------------------------------------ /proc
function status(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => { const m = new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s); return m ? Number(m[1]) : -1; };
    return { rss_kb: kb('VmRSS'), anon_kb: kb('RssAnon'), file_kb: kb('RssFile'), hwm_kb: kb('VmHWM') };
  } catch { return null; }
}
/** This browser's processes (the one whose command line names our profile dir, and its descendants). */
function ourProcesses(userDir) {
  const procs = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      const ppid = Number(readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]);
      procs.push({ pid: Number(p), ppid, cmd });
    } catch { /* gone */ }
  }
  const ours = new Set(procs.filter((q) => q.cmd.includes(userDir) && !q.cmd.includes('--type=')).map((q) => q.pid));
  for (let grew = true; grew;) {
    grew = false;
    for (const q of procs) if (!ours.has(q.pid) && ours.has(q.ppid)) { ours.add(q.pid); grew = true; }
  }
  return procs.filter((q) => ours.has(q.pid));
}
/**
 * The tab's renderer (the largest renderer process) and the sum over all of this browser's processes.
 * hwm_kb is the peak of the renderer so far: the maximum of every VmHWM and VmRSS reading of this
 * run (taken every 200 ms and at every step), because Chromium resets VmHWM now and then
 * (/proc/self/clear_refs), so VmHWM alone is not monotonic; the raw reading is vmhwm_kb.
 */
let runPeakKb = 0;
function memory(userDir) {
  let renderer = null, total = 0;
  for (const q of ourProcesses(userDir)) {
    const m = status(q.pid);
    if (!m) continue;
    total += m.rss_kb;
    if (q.cmd.includes('--type=renderer') && !q.cmd.includes('--extension-process') && (!renderer || m.rss_kb > renderer.rss_kb)) {
      renderer = { ...m, pid: q.pid };
    }
  }
  if (!renderer) return { rss_kb: -1, anon_kb: -1, file_kb: -1, hwm_kb: -1, chromium_total_rss_kb: total };
  runPeakKb = Math.max(runPeakKb, renderer.hwm_kb, renderer.rss_kb);
  return { ...renderer, vmhwm_kb: renderer.hwm_kb, hwm_kb: runPeakKb, chromium_total_rss_kb: total };
}

// ------------------------------------------------------------------------------ one engine, one browser
const stepTimeoutMs = o['step-timeout'] * 1000;
async function step(page, what, fn, arg) {
  let timer;
  const t = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`step '${what}' timed out after ${o['step-timeout']} s`)), stepTimeoutMs); });
  try { return await Promise.race([page.evaluate(fn, arg), t]); } finally { clearTimeout(timer); }
}

async function runEngine(base, engine, T, round, errors) {
  const userDir = mkdtempSync(join(tmpdir(), 'ggufembed-bench-browser-'));
  const ctx = await chromium.launchPersistentContext(userDir, { executablePath: o.chromium, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-extensions'] });
  const recs = [];
  runPeakKb = 0;
  let multi = [], env = null, info = null;
  const loadBefore = loadavg()[0];
  let peak = { rss_kb: 0, total_kb: 0 }, peakScenarios = null;
  const sampler = setInterval(() => {
    const m = memory(userDir);
    peak = { rss_kb: Math.max(peak.rss_kb, m.rss_kb), total_kb: Math.max(peak.total_kb, m.chromium_total_rss_kb) };
  }, 200);
  const consoleLines = [];
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('console', (m) => { if (consoleLines.length < 50) consoleLines.push(m.text()); });
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e}`));
    await page.goto(`${base}/bench/browser/index.html`);
    await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60000 });
    env = await page.evaluate(() => globalThis.bench.env());
    if (!env.crossOriginIsolated) throw new Error('the page is not cross-origin isolated');
    const memStart = memory(userDir);
    const loadOpts = { model: '/model.gguf', threads: T,
      wllama: { version: WLLAMA_VERSION, n_ctx: o['wllama-ctx'], n_batch: o['wllama-ctx'], n_ubatch: o['wllama-ctx'],
                n_parallel: o['wllama-parallel'], flash_attn: o['wllama-fa'] } };
    const ld = await step(page, 'load', ({ engine, loadOpts }) => globalThis.bench.load(engine, loadOpts), { engine, loadOpts });
    info = ld.info;
    const memLoad = memory(userDir);
    log(`${engine} t=${T} round ${round + 1}: loaded in ${ld.load_ms.toFixed(0)} ms (${JSON.stringify(info)})`);
    const base_ = { engine: engine === 'ggufembed' ? 'ggufembed-wasm-chromium' : 'wllama', threads: T, round,
      config: info, load_ms: ld.load_ms, mem_start: memStart, mem_load: memLoad };
    for (const [name, reps] of LATENCY) {
      const w = await step(page, `warm ${name}`, ({ t, n, ms }) => globalThis.bench.warm(t, n, ms),
        { t: texts[name], n: name === 'xlong' ? Math.min(1, o.warmup) : o.warmup, ms: name === 'xlong' ? 0 : o['warmup-ms'] });
      const tokens = w.tokens;
      const memWarm = memory(userDir);
      const r = await step(page, `latency ${name}`, ({ t, reps, v }) => globalThis.bench.latency(t, reps, v),
        { t: texts[name], reps, v: round === 0 });
      const rec = { ...base_, mode: 'latency', label: name, n_docs: 1, tokens: r.tokens ?? tokens, samples_ms: r.samples_ms,
        warmup_calls: w.calls, warmup_ms: w.ms, mem_warm: memWarm, mem_end: memory(userDir) };
      if (r.vector) rec.vector = r.vector;
      recs.push(rec);
      const s = [...r.samples_ms].sort((a, b) => a - b);
      log(`${engine} t=${T} ${name}: median ${s[Math.floor((s.length - 1) / 2)].toFixed(1)} ms over ${s.length} (${rec.tokens} tokens)`);
    }
    for (const [name, docs] of BATCH) {
      const mode = engine === 'ggufembed' ? 'api' : 'sequential';
      const memWarm = memory(userDir);
      const r = await step(page, `batch ${name}`, ({ docs, reps, mode, w }) => globalThis.bench.batch(docs, reps, mode, w),
        { docs, reps: o['batch-reps'], mode, w: Math.min(4, docs.length) });
      if (r.n_vectors !== docs.length) throw new Error(`${name}: ${r.n_vectors} vectors for ${docs.length} documents`);
      const rec = { ...base_, mode: 'batch', label: name, n_docs: docs.length, tokens: r.tokens, samples_ms: r.samples_ms,
        batch_mode: mode === 'api' ? 'one call with all documents (batch API)' : 'one call per document, one after another',
        mem_warm: memWarm, mem_end: memory(userDir) };
      if (round === 0 && r.vector) rec.vector = r.vector;
      recs.push(rec);
      log(`${engine} t=${T} ${name}: ${(docs.length / (Math.min(...r.samples_ms) / 1e3)).toFixed(2)} emb/s (${docs.length} docs, ${r.tokens} tokens)`);
    }
    peakScenarios = { ...peak };
    // wllama's multi-document call (createEmbedding with all the documents of a batch set in one
    // call; its server packs up to n_parallel of them per decode), once per batch set, after the
    // rest: one vector per document, equal to the one-at-a-time vectors? how fast? Timeout: 3x
    // the one-at-a-time pass (it stalled in 3.8.1). The report counts the faster of the two ways.
    const seqMs = Object.fromEntries(recs.filter((r) => r.mode === 'batch').map((r) => [r.label, Math.min(...r.samples_ms)]));
    for (const [name, all] of engine === 'wllama' ? (smoke ? BATCH.slice(0, 1) : BATCH) : []) {
      const docs = o['multi-docs'] > 0 ? all.slice(0, o['multi-docs']) : all;
      const limit = Math.max(smoke ? 60000 : 300000, 3 * (seqMs[name] || 0) * docs.length / all.length);
      const m = await step(page, `multi ${name}`, ({ docs, ms }) => globalThis.bench.multi(docs, ms), { docs, ms: limit });
      multi.push({ threads: T, round, label: name, timeout_ms: limit, mem_end: memory(userDir), ...m });
      log(`wllama t=${T} multi-document createEmbedding, ${docs.length} ${name} docs in one call: ${m.status}, ` +
          `${m.n_returned} vector(s) in ${m.ms.toFixed(0)} ms (${(m.n_returned / (m.ms / 1e3)).toFixed(2)} emb/s)${m.error ? ': ' + m.error : ''}`);
      if (m.status !== 'ok') break; // the engine may be wedged now
    }
    const memEnd = memory(userDir);
    for (const r of recs) r.mem_tab_end = memEnd;
    await Promise.race([page.evaluate(() => globalThis.bench.dispose()), new Promise((r) => setTimeout(r, 10000))]);
  } catch (e) {
    errors.push({ engine, threads: T, round, error: String(e?.message ?? e), console: consoleLines.slice(-10) });
    log(`FAILED ${engine} t=${T} round ${round + 1}: ${e?.message ?? e}${consoleLines.length ? '\n  ' + consoleLines.slice(-5).join('\n  ') : ''}`);
  } finally {
    clearInterval(sampler);
    const loadAfter = loadavg()[0];
    for (const r of recs) {
      // sampled every 200 ms over the whole engine run (wllama's multi-document calls included);
      // without_multi_doc: up to the end of the one-at-a-time batches
      const p = peakScenarios || peak;
      r.sampled_peak = { renderer_rss_kb: peak.rss_kb, chromium_total_rss_kb: peak.total_kb,
                         without_multi_doc: { renderer_rss_kb: p.rss_kb, chromium_total_rss_kb: p.total_kb } };
      r.loadavg_before = loadBefore;
      r.loadavg_after = loadAfter;
    }
    await ctx.close().catch(() => {});
    rmSync(userDir, { recursive: true, force: true });
  }
  return { recs, multi, env, info };
}

// ------------------------------------------------------------------------------ main
function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(na * nb);
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return null;
  const k = (s.length - 1) * p / 100, lo = Math.floor(k), hi = Math.ceil(k);
  return s[lo] + (s[hi] - s[lo]) * (k - lo);
};

const t0 = Date.now();
const server = await startServer();
const base = `http://127.0.0.1:${server.address().port}`;
const chromiumVersion = (() => { try { return execFileSync(o.chromium, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return ''; } })();
log(`${chromiumVersion}; serving ${base}; model ${o.model}; threads ${THREADS.join(',')}; ${o.rounds} round(s); ` +
    `latency reps ${o.reps}; batches of ${o.docs} docs`);
const records = [], multiDoc = [], errors = [], envs = {}, infos = {};
for (let r = 0; r < o.rounds; r++) {
  const order = r % 2 === 0 ? ENGINES : [...ENGINES].reverse();
  for (const T of THREADS) {
    for (const e of order) {
      const out = await runEngine(base, e, T, r, errors);
      records.push(...out.recs);
      multiDoc.push(...out.multi);
      if (out.env) envs[e] = out.env;
      if (out.info) infos[`${e}@${T}`] = out.info;
    }
  }
}
server.close();
server.closeAllConnections?.();

// sanity: cosine between the two engines' vectors for the same text (first round)
const agreement = {};
for (const T of THREADS) {
  for (const name of ['short', 'long', 'xlong', 'batch-short', 'batch-long']) {
    const a = records.find((x) => x.engine === 'ggufembed-wasm-chromium' && x.threads === T && x.label === name && x.vector);
    const b = records.find((x) => x.engine === 'wllama' && x.threads === T && x.label === name && x.vector);
    if (a && b) (agreement[T] ??= {})[name] = cosine(a.vector, b.vector);
  }
}
const meta = {
  command: `node bench/bench_wasm_browser.mjs ${argv.join(' ')}`.trim(), smoke, elapsed_s: (Date.now() - t0) / 1e3,
  chromium: chromiumVersion, node: process.version, env: envs, model: o.model, threads: THREADS, rounds: o.rounds,
  reps: Object.fromEntries(LATENCY), warmup: o.warmup, warmup_ms: o['warmup-ms'], docs: o.docs, batch_reps: o['batch-reps'],
  engines: {
    'ggufembed-wasm-chromium': { package: 'js/dist (ggufembed npm package as built in this tree)', configs: Object.fromEntries(
      THREADS.map((T) => [T, infos[`ggufembed@${T}`] || null])) },
    wllama: { package: `@wllama/wllama@${WLLAMA_VERSION} (npm)`, configs: Object.fromEntries(THREADS.map((T) => [T, infos[`wllama@${T}`] || null])),
      batch: 'one createEmbedding call per document, one after another (its multi-document call: see multi_doc)' },
  },
  memory: 'renderer process of the tab (main thread + workers): VmRSS / RssAnon / RssFile / VmHWM from /proc; ' +
    'mem_load after load, mem_warm after the warm-up calls, mem_end after the scenario; hwm = peak of the tab so far. ' +
    'chromium_total_rss_kb sums every process of that browser (the browser process holds the fetched Blob for wllama).',
};
const report = { meta, records, multi_doc: multiDoc, agreement, errors };
const json = JSON.stringify(report);
if (o.out) writeFileSync(o.out, json + '\n');

// summary on stderr
if (!quiet) {
  const lines = [];
  for (const T of THREADS) {
    for (const e of ['ggufembed-wasm-chromium', 'wllama']) {
      const rs = records.filter((x) => x.engine === e && x.threads === T);
      if (!rs.length) continue;
      const parts = [`${e.padEnd(24)} t=${T} load ${pct(rs.map((x) => x.load_ms), 50).toFixed(0)} ms`];
      for (const [name] of LATENCY) {
        const xs = rs.filter((x) => x.label === name).flatMap((x) => x.samples_ms);
        if (xs.length) parts.push(`${name} p50/p95 ${pct(xs, 50).toFixed(1)}/${pct(xs, 95).toFixed(1)} ms`);
      }
      for (const [name] of BATCH) {
        const xs = rs.filter((x) => x.label === name).flatMap((x) => x.samples_ms.map((ms) => x.n_docs / (ms / 1e3)));
        if (xs.length) parts.push(`${name} ${pct(xs, 50).toFixed(2)} emb/s`);
      }
      parts.push(`tab peak ${(Math.max(...rs.map((x) => x.mem_tab_end?.hwm_kb ?? x.mem_end.hwm_kb)) / 1024).toFixed(0)} MB`);
      lines.push(parts.join('; '));
    }
    if (agreement[T]) lines.push(`cosine ggufembed vs wllama t=${T}: ` + Object.entries(agreement[T]).map(([k, v]) => `${k} ${v.toFixed(5)}`).join(', '));
  }
  for (const m of multiDoc) {
    lines.push(`wllama multi-document call t=${m.threads} ${m.label}: ${m.status} (${m.n_returned}/${m.n_inputs} vectors, ` +
      `${m.ms.toFixed(0)} ms = ${(m.n_returned / (m.ms / 1e3)).toFixed(2)} emb/s)`);
  }
  for (const e of errors) lines.push(`ERROR ${e.engine} t=${e.threads} round ${e.round + 1}: ${e.error}`);
  log(`done in ${meta.elapsed_s.toFixed(0)} s\n` + lines.join('\n'));
}
// exit once stdout is flushed (a pipe takes 64 KiB at a time; exiting earlier truncates the JSON)
process.stdout.write(json + '\n', () => process.exit(errors.length ? 1 : 0));
