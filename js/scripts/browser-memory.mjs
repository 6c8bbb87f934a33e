// Peak memory of a headless-Chromium tab holding the model: serves the example page,
// loads the model with the package (fetch, streamed into wasm memory), embeds a few
// texts, and samples the resident memory (RSS) of every Chromium process meanwhile.
//   node scripts/browser-memory.mjs [--isolated]     (needs /usr/bin/chromium, the model)
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../test/serve.mjs';
import { modelPath } from '../test/helpers.mjs';

const isolated = process.argv.includes('--isolated');
function rssOf(pid) {
  try { return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024; } catch { return 0; }
}
// Only this browser's processes: the one whose command line names our profile
// directory, and its descendants (other Chromium instances may be running).
function chromiumRss() {
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
  let total = 0, renderer = 0;
  for (const q of procs) {
    if (!ours.has(q.pid)) continue;
    const r = rssOf(q.pid);
    total += r;
    if (q.cmd.includes('--type=renderer')) renderer = Math.max(renderer, r);
  }
  return { total, renderer };
}
const server = await startServer({ isolated });
const userDir = mkdtempSync(join(tmpdir(), 'ggufembed-mem-'));
const browser = await chromium.launchPersistentContext(userDir, { executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/examples/index.html`);
const idle = chromiumRss();
let peak = { total: 0, renderer: 0 };
const timer = setInterval(() => { const m = chromiumRss(); peak = { total: Math.max(peak.total, m.total), renderer: Math.max(peak.renderer, m.renderer) }; }, 100);
const info = await page.evaluate(async ({ model }) => {
  const { Embedder } = await import('/dist/browser.js');
  const e = await Embedder.load(model);
  await e.embed(['The quick brown fox jumps over the lazy dog', 'Embedding models map text to vectors.']);
  const i = { variant: e.info.variant, threads: e.info.threads };
  globalThis.keep = e; // hold the model while the last sample is taken
  return i;
}, { model: `/${basename(modelPath())}` });
await new Promise((r) => setTimeout(r, 500));
clearInterval(timer);
const held = chromiumRss();
const MB = (b) => (b / 1e6).toFixed(0) + ' MB';
console.log(`chromium ${isolated ? 'isolated' : 'not isolated'} (${info.variant}, ${info.threads} thread(s)): ` +
  `tab renderer RSS idle ${MB(idle.renderer)}, holding the model ${MB(held.renderer)}, peak ${MB(peak.renderer)}; ` +
  `all Chromium processes peak ${MB(peak.total)}; model file ${MB(readFileSync(modelPath()).length)}`);
await browser.close();
server.close();
rmSync(userDir, { recursive: true, force: true });
