// The example page: WorkerEmbedder keeps the page responsive while the model loads and embeds.
import { WorkerEmbedder } from '../dist/worker-client.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
if (params.get('model')) $('url').value = params.get('model');
let embedder = null;

function setStatus(s) { $('status').textContent = s; }

async function load(source) {
  embedder?.dispose();
  embedder = null;
  $('embed').disabled = true;
  const t0 = performance.now();
  try {
    embedder = await WorkerEmbedder.load(source, {
      onProgress: ({ loaded, total }) => {
        $('progress').value = total ? loaded / total : 0;
        setStatus(`Loading… ${(loaded / 1e6).toFixed(0)}${total ? ` / ${(total / 1e6).toFixed(0)}` : ''} MB`);
      },
    });
    const i = embedder.info;
    $('progress').value = 1;
    setStatus(`Loaded ${i.name || i.architecture} (${(i.fileSize / 1e6).toFixed(0)} MB, ${i.dimension} dims, ` +
      `${i.variant}, ${i.kernels}, ${i.threads} thread${i.threads > 1 ? 's' : ''}) in ${((performance.now() - t0) / 1000).toFixed(1)} s.` +
      (i.warning ? ` Warning: ${i.warning}` : ''));
    // the tasks this model defines (EmbeddingGemma: all of them; most others: 'none')
    const keep = $('task').value;
    const names = i.taskNames?.length ? i.taskNames : ['none'];
    $('task').replaceChildren(...names.map((n) => new Option(n, n, false, n === keep)));
    if (!names.includes(keep)) $('task').value = names.includes('sentence-similarity') ? 'sentence-similarity' : names[0];
    $('embed').disabled = i.vocabOnly || i.reranker;
    if (i.vocabOnly || i.reranker) setStatus(`${$('status').textContent} This file ${i.vocabOnly ? 'is a vocabulary only' : 'is a reranker'}: it does not embed.`);
    document.body.dataset.state = 'loaded';
  } catch (e) {
    setStatus(`Error: ${e.message}`);
    document.body.dataset.state = 'error';
  }
}

async function compare() {
  const texts = $('texts').value.split('\n').map((s) => s.trim()).filter(Boolean);
  if (!embedder || texts.length === 0) return;
  const t0 = performance.now();
  let vs;
  try {
    vs = await embedder.embed(texts, { task: $('task').value });
  } catch (e) {
    setStatus(`Error: ${e.message}`);
    document.body.dataset.state = 'error';
    return;
  }
  const ms = performance.now() - t0;
  const table = document.createElement('table');
  const head = table.insertRow();
  head.appendChild(document.createElement('th'));
  texts.forEach((_, j) => { const th = document.createElement('th'); th.textContent = `#${j + 1}`; head.appendChild(th); });
  texts.forEach((t, i) => {
    const row = table.insertRow();
    const th = document.createElement('th');
    th.textContent = `#${i + 1} ${t}`;
    th.title = t;
    row.appendChild(th);
    texts.forEach((_, j) => {
      let dot = 0;
      for (let k = 0; k < vs[i].length; k++) dot += vs[i][k] * vs[j][k];
      const c = row.insertCell();
      c.textContent = dot.toFixed(3);
      c.style.background = `hsl(${120 * Math.max(0, dot)}, 70%, ${90 - 25 * Math.max(0, dot)}%)`;
    });
  });
  $('matrix').replaceChildren(table);
  setStatus(`${$('status').textContent.replace(/ Embedded.*$/, '')} Embedded ${texts.length} texts in ${ms.toFixed(0)} ms.`);
  document.body.dataset.state = 'compared';
}

$('load').onclick = () => load(new URL($('url').value, location.href).href);
$('file').onchange = () => { if ($('file').files[0]) load($('file').files[0]); };
$('embed').onclick = compare;
if (params.has('autoload')) load(new URL($('url').value, location.href).href).then(() => params.has('autocompare') && compare());
