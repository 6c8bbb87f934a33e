import type { EmbedOptions, LoadOptions, ModelInfo, ModelSource, RerankOptions, TokenizeOptions } from './index.js';
export { GgufembedError, AbortError } from './index.js';

/** The Embedder API with the model in a Web Worker (browsers) or worker_threads Worker (Node). */
export declare class WorkerEmbedder {
  private constructor();
  /** A Response cannot be sent to a worker: pass its URL instead. A failed or aborted load
   * has terminated its worker when the promise rejects. A worker that dies (crash, exit)
   * rejects its pending and later calls with INTERNAL. In Node an idle WorkerEmbedder does
   * not keep the process alive (a call in flight does). */
  static load(source: Exclude<ModelSource, Response>, options?: LoadOptions): Promise<WorkerEmbedder>;
  embed(text: string, options?: EmbedOptions): Promise<Float32Array>;
  embed(texts: string[], options?: EmbedOptions): Promise<Float32Array[]>;
  rerank(query: string, documents: string[], options?: RerankOptions): Promise<Float32Array>;
  tokenize(text: string, options?: TokenizeOptions): Promise<Int32Array>;
  readonly info: ModelInfo;
  /** true once dispose() has been called. */
  readonly disposed: boolean;
  /** Rejects pending calls (INVALID_ARGUMENT, '... disposed'), has the worker free the
   * model (wasm instance and threads), then terminates the worker. Resolves when the
   * worker is gone; it need not be awaited. */
  dispose(): Promise<void>;
}
export default WorkerEmbedder;
