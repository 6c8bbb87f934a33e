/** Where a GGUF model comes from. A string is a URL (browsers) or a file path / URL (Node). */
export type ModelSource = string | URL | ArrayBuffer | ArrayBufferView | Blob | Response;

export interface LoadProgress {
  /** bytes read so far */
  loaded: number;
  /** total bytes, when the source announces it */
  total?: number;
}

export type Variant = 'simd' | 'relaxed' | 'threads';

export interface LoadOptions {
  /** Called while the model is read: at the start, about every MiB, and at the end. */
  onProgress?: (progress: LoadProgress) => void;
  /** Worker threads for one embed call. More than 1 needs SharedArrayBuffer (Node, or a
   * cross-origin-isolated page); default: the number of cores, at most 8. */
  threads?: number;
  /** Cancels the load; the promise then rejects with an AbortError. */
  signal?: AbortSignal;
  /** Force a WebAssembly build instead of choosing by feature detection. */
  variant?: Variant;
}

export type Task =
  | 'none' | 'query' | 'document' | 'question-answering' | 'fact-checking'
  | 'classification' | 'clustering' | 'sentence-similarity' | 'code-retrieval' | 'summarization'
  /** the prompt names of EmbeddingGemma's sentence-transformers config */
  | 'BitextMining' | 'Clustering' | 'Classification' | 'InstructionRetrieval' | 'MultilabelClassification'
  | 'PairClassification' | 'Reranking' | 'Retrieval' | 'Retrieval-query' | 'Retrieval-document' | 'STS'
  | 'Summarization';

export interface EmbedOptions {
  /** Prompt template from the EmbeddingGemma model card / its sentence-transformers
   * prompts (default 'none': the text as given). */
  task?: Task;
  /** Title for task 'document' (implies it); default "none". */
  title?: string;
  /** Matryoshka truncation: keep the first N values (768, 512, 256, 128 were trained). */
  dimensions?: number;
  /** L2-normalize (after truncation). Default true. */
  normalize?: boolean;
  /** Drop tokens past the context length instead of failing. Default false. */
  truncate?: boolean;
  /** 'strip' (default): leading/trailing whitespace of prompt + text is removed before
   * tokenizing, as sentence-transformers does; 'keep': the text as given, as llama.cpp. */
  whitespace?: 'strip' | 'keep';
  /** Cancels a batch between chunks of texts; rejects with an AbortError. */
  signal?: AbortSignal;
}

export interface TokenizeOptions {
  /** Add BOS/EOS as the model says (default true). */
  addSpecial?: boolean;
  /** Turn special-token texts such as "<bos>" into their ids (default true, like llama.cpp). */
  parseSpecial?: boolean;
}

export interface ModelInfo {
  architecture: string;
  name: string;
  dimension: number;
  hiddenSize: number;
  contextLength: number;
  vocabSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffnSize: number;
  slidingWindow: number;
  /** dense_2/dense_3 projections present and applied */
  hasDense: boolean;
  /** a gemma-embedding file WITHOUT dense_2/dense_3: its vectors are not EmbeddingGemma's */
  missingDense: boolean;
  /** '' or one line naming a known problem of the file (e.g. missingDense) */
  warning: string;
  tensors: number;
  weightTypes: string;
  parameters: number;
  fileSize: number;
  bosId: number;
  eosId: number;
  /** kernel table in use: 'wasm-simd128' or 'wasm-relaxed-simd' */
  kernels: string;
  threads: number;
  version: string;
  /** the WebAssembly build in use */
  variant: Variant;
}

export declare class Embedder {
  private constructor();
  static load(source: ModelSource, options?: LoadOptions): Promise<Embedder>;
  embed(text: string, options?: EmbedOptions): Promise<Float32Array>;
  embed(texts: string[], options?: EmbedOptions): Promise<Float32Array[]>;
  tokenize(text: string, options?: TokenizeOptions): Promise<Int32Array>;
  readonly info: ModelInfo;
  readonly disposed: boolean;
  /** Frees the model and its WebAssembly memory now. */
  dispose(): void;
}

export type ErrorCode =
  | 'INVALID_ARGUMENT' | 'IO' | 'OUT_OF_MEMORY' | 'FORMAT' | 'UNSUPPORTED' | 'TOO_LONG'
  | 'BUFFER_TOO_SMALL' | 'CANCELLED' | 'INTERNAL' | 'ABORTED';

/** Every failure: the message is the C core's own. */
export declare class GgufembedError extends Error {
  constructor(message: string, options?: { code?: ErrorCode; status?: number; cause?: unknown });
  readonly code: ErrorCode;
  /** the core's ggufembed_status (-1 for an abort) */
  readonly status: number;
}

/** A load or batch cancelled through its AbortSignal. */
export declare class AbortError extends GgufembedError {}

export default Embedder;
