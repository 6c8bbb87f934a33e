// 'ggufembed/worker' in Node: WorkerEmbedder runs the model in a worker_threads Worker.
import { Worker } from 'node:worker_threads';
import { makeWorkerEmbedder } from './worker-client-core.js';

export { GgufembedError, AbortError } from './errors.js';

export const WorkerEmbedder = makeWorkerEmbedder(async () => {
  const w = new Worker(new URL('./worker-node.js', import.meta.url));
  return {
    post: (m, t) => w.postMessage(m, t ?? []),
    onMessage: (fn) => w.on('message', fn),
    onError: (fn) => { w.on('error', fn); w.on('messageerror', fn); },
    onExit: (fn) => w.on('exit', fn),
    terminate: () => w.terminate(),
    ref: () => w.ref(),
    unref: () => w.unref(),
  };
});
export default WorkerEmbedder;
