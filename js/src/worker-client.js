// 'ggufembed/worker' in browsers: WorkerEmbedder runs the model in a module Web Worker.
import { makeWorkerEmbedder } from './worker-client-core.js';

export { GgufembedError, AbortError } from './errors.js';

export const WorkerEmbedder = makeWorkerEmbedder(async () => {
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  return {
    post: (m, t) => w.postMessage(m, t ?? []),
    onMessage: (fn) => { w.onmessage = (e) => fn(e.data); },
    // a worker script that fails to load or throws, or a message that cannot be read
    onError: (fn) => { w.onerror = (e) => { e.preventDefault?.(); fn(e); }; w.onmessageerror = (e) => fn(e); },
    terminate: () => w.terminate(),
  };
});
export default WorkerEmbedder;
