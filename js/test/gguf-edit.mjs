// A small GGUF (v2/v3) rewriter for tests: parses the header, can change a scalar
// metadata value in place and append F32 tensors, and writes a new file. Used to turn
// all-MiniLM-L6-v2 into a reranker (rank pooling plus a classifier head with fixed
// pseudo-random weights): no reranker model is available here, and the test only needs
// the native CLI and the wasm builds to score the same file the same way.
import { readFileSync, writeFileSync } from 'node:fs';

const SCALAR = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const T_STRING = 8, T_ARRAY = 9;

export function parseGguf(buf) {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = 0;
  const u32 = () => { const v = dv.getUint32(o, true); o += 4; return v; };
  const u64 = () => { const v = dv.getBigUint64(o, true); o += 8; return Number(v); };
  const str = () => { const n = u64(); const s = buf.subarray(o, o + n).toString('utf8'); o += n; return s; };
  if (buf.subarray(0, 4).toString('latin1') !== 'GGUF') throw new Error('not a GGUF file');
  o = 4;
  const version = u32();
  const nTensors = u64(), nKv = u64();
  const kv = new Map();
  const skip = (type) => {
    if (SCALAR[type]) { o += SCALAR[type]; return; }
    if (type === T_STRING) { const n = u64(); o += n; return; }
    if (type === T_ARRAY) { const t = u32(); const n = u64(); for (let i = 0; i < n; i++) skip(t); return; }
    throw new Error(`unknown GGUF type ${type}`);
  };
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const type = u32();
    kv.set(key, { type, offset: o });
    skip(type);
  }
  const kvEnd = o;
  const tensors = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    const ne = [];
    for (let d = 0; d < nd; d++) ne.push(u64());
    const type = u32();
    const offset = u64();
    tensors.push({ name, ne, type, offset });
  }
  const infoEnd = o;
  const alignment = kv.has('general.alignment') ? dv.getUint32(kv.get('general.alignment').offset, true) : 32;
  const dataStart = Math.ceil(infoEnd / alignment) * alignment;
  return { version, nTensors, nKv, kv, kvEnd, tensors, infoEnd, alignment, dataStart };
}

/**
 * Writes src with metadata changes ({key: number} for existing integer keys) and
 * extra F32 tensors ([{name, ne, data: Float32Array}]) appended.
 */
export function rewriteGguf(srcPath, dstPath, { set = {}, addTensors = [] } = {}) {
  const src = readFileSync(srcPath);
  const g = parseGguf(src);
  const head = Buffer.from(src.subarray(0, g.kvEnd)); // header + metadata, edited in place
  const hdv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  for (const [key, value] of Object.entries(set)) {
    const e = g.kv.get(key);
    if (!e) throw new Error(`no metadata key ${key}`);
    const w = { 0: 'setUint8', 1: 'setInt8', 2: 'setUint16', 3: 'setInt16', 4: 'setUint32', 5: 'setInt32' }[e.type];
    if (!w) throw new Error(`${key} is not a small integer (type ${e.type})`);
    hdv[w](e.offset, value, true);
  }
  hdv.setBigUint64(8, BigInt(g.nTensors + addTensors.length), true);
  const oldData = src.subarray(g.dataStart);
  const infos = [];
  let off = Math.ceil(oldData.length / g.alignment) * g.alignment;
  const datas = [];
  for (const t of addTensors) {
    const name = Buffer.from(t.name, 'utf8');
    const b = Buffer.alloc(8 + name.length + 4 + 8 * t.ne.length + 4 + 8);
    let o = 0;
    b.writeBigUInt64LE(BigInt(name.length), o); o += 8;
    name.copy(b, o); o += name.length;
    b.writeUInt32LE(t.ne.length, o); o += 4;
    for (const n of t.ne) { b.writeBigUInt64LE(BigInt(n), o); o += 8; }
    b.writeUInt32LE(0, o); o += 4; // GGML_TYPE_F32
    b.writeBigUInt64LE(BigInt(off), o);
    infos.push(b);
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    datas.push({ off, bytes });
    off = Math.ceil((off + bytes.length) / g.alignment) * g.alignment;
  }
  const infoBytes = Buffer.concat([src.subarray(g.kvEnd, g.infoEnd), ...infos]);
  const newInfoEnd = head.length + infoBytes.length;
  const newDataStart = Math.ceil(newInfoEnd / g.alignment) * g.alignment;
  const out = Buffer.alloc(newDataStart + off);
  head.copy(out, 0);
  infoBytes.copy(out, head.length);
  oldData.copy(out, newDataStart);
  for (const d of datas) d.bytes.copy(out, newDataStart + d.off);
  writeFileSync(dstPath, out);
  return parseGguf(out);
}

/** Deterministic values in [-scale, scale) (a 32-bit LCG), as float32. */
export function pseudoRandom(n, seed, scale) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return a;
}

/** A BERT embedding GGUF turned into a reranker: rank pooling, cls [E x E] + tanh, cls.output [E x 1]. */
export function makeBertReranker(srcPath, dstPath) {
  const g = parseGguf(readFileSync(srcPath));
  const arch = 'bert';
  const E = g.tensors.find((t) => t.name === 'token_embd.weight').ne[0];
  return rewriteGguf(srcPath, dstPath, {
    set: { [`${arch}.pooling_type`]: 4 }, // LLAMA_POOLING_TYPE_RANK
    addTensors: [
      { name: 'cls.weight', ne: [E, E], data: pseudoRandom(E * E, 1, 0.08) },
      { name: 'cls.bias', ne: [E], data: pseudoRandom(E, 2, 0.05) },
      { name: 'cls.output.weight', ne: [E, 1], data: pseudoRandom(E, 3, 0.5) },
      { name: 'cls.output.bias', ne: [1], data: pseudoRandom(1, 4, 0.1) },
    ],
  });
}
