// Web Worker script: new Worker(new URL('ggufembed/dist/worker.js', import.meta.url), { type: 'module' }),
// or simply use WorkerEmbedder from 'ggufembed/worker', which does that.
import { Embedder } from './browser.js';
import { serve } from './worker-host.js';

serve(Embedder, (m, t) => self.postMessage(m, t), (fn) => { self.onmessage = (e) => fn(e.data); });
