import type { EmbedOptions, LoadOptions, ModelInfo, ModelSource, RerankOptions, TokenizeOptions } from './index.js';
export { GgufembedError, AbortError } from './index.js';

/** The Embedder API with the model in a Web Worker (browsers) or worker_threads Worker (Node). */
export declare class WorkerEmbedder {
  private constructor();
  /** A Response cannot be sent to a worker: pass its URL instead. */
  static load(source: Exclude<ModelSource, Response>, options?: LoadOptions): Promise<WorkerEmbedder>;
  embed(text: string, options?: EmbedOptions): Promise<Float32Array>;
  embed(texts: string[], options?: EmbedOptions): Promise<Float32Array[]>;
  rerank(query: string, documents: string[], options?: RerankOptions): Promise<Float32Array>;
  tokenize(text: string, options?: TokenizeOptions): Promise<Int32Array>;
  readonly info: ModelInfo;
  /** Terminates the worker (which frees the model). */
  dispose(): void;
}
export default WorkerEmbedder;
