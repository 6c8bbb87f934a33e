// Runs a WASI command module under @bjorn3/browser_wasi_shim (Node 20's node:wasi
// crashes once memory.grow has moved the memory). Usage as a library:
//   const { code, stdout, stderr } = await runWasi(wasmPath, args, { preopen: dir })
// or from the command line: node test/wasi-run.mjs FILE.wasm ARGS...
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { File, OpenFile, PreopenDirectory, WASI, ConsoleStdout, Directory } from '@bjorn3/browser_wasi_shim';

function dirTree(dir, only) {
  const m = new Map();
  for (const name of readdirSync(dir)) {
    if (only && !only.includes(name)) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isFile()) m.set(name, new File(readFileSync(p), { readonly: true }));
  }
  return m;
}

/** files: paths made visible under /data (their directory is pre-opened, only those names). */
export async function runWasi(wasmPath, args, { files = [], stdin = '' } = {}) {
  let stdout = '', stderr = '';
  const dec = new TextDecoder();
  const fds = [
    new OpenFile(new File(new TextEncoder().encode(stdin))),
    new ConsoleStdout((b) => { stdout += dec.decode(b, { stream: true }); }),
    new ConsoleStdout((b) => { stderr += dec.decode(b, { stream: true }); }),
  ];
  const byDir = new Map();
  for (const f of files) {
    const d = dirname(resolve(f));
    if (!byDir.has(d)) byDir.set(d, []);
    byDir.get(d).push(basename(f));
  }
  for (const [d, names] of byDir) fds.push(new PreopenDirectory(d, dirTree(d, names)));
  const wasi = new WASI([basename(wasmPath), ...args], [], fds, { debug: false });
  // browser_wasi_shim 0.4.2 sizes the argv buffer with JS string lengths (UTF-16
  // units) but writes UTF-8 bytes, so a non-ASCII argument overflows it. Report the
  // UTF-8 byte sizes instead.
  wasi.wasiImport.args_sizes_get = (argc, argvBufSize) => {
    const view = new DataView(wasi.inst.exports.memory.buffer);
    const enc = new TextEncoder();
    view.setUint32(argc, wasi.args.length, true);
    view.setUint32(argvBufSize, wasi.args.reduce((n, a) => n + enc.encode(a).length + 1, 0), true);
    return 0;
  };
  const mod = await WebAssembly.compile(readFileSync(wasmPath));
  const inst = await WebAssembly.instantiate(mod, { wasi_snapshot_preview1: wasi.wasiImport });
  let code;
  try {
    code = wasi.start(inst);
  } catch (e) {
    if (e?.code !== undefined) code = e.code; else throw e;
  }
  return { code, stdout, stderr };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const [wasm, ...args] = process.argv.slice(2);
  const files = args.filter((a) => a.startsWith('/'));
  const r = await runWasi(wasm, args, { files });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.code;
}
