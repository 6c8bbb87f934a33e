// worker_threads script behind WorkerEmbedder in Node.
import { parentPort } from 'node:worker_threads';
import { Embedder } from './node.js';
import { serve } from './worker-host.js';

serve(Embedder, (m, t) => parentPort.postMessage(m, t), (fn) => parentPort.on('message', fn));
