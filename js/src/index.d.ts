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
  /** Read every weight once at load and refuse the file (FORMAT, naming the tensor) when
   * one is NaN or infinite (the core's GGUFEMBED_OPEN_VALIDATE; ~1 s per 300 MB). Without
   * it such a weight is caught when an output comes out non-finite. Default false. */
  validate?: boolean;
}

/** Task names the core knows. Each model family defines some of them (info.taskNames;
 * EmbeddingGemma all, nomic none/query/document/clustering/classification, e5, bge and
 * Qwen3 none/query/document, other models only 'none'); a task the model does not
 * define rejects with the core's message, which lists the model's tasks. */
export type Task =
  | 'none' | 'query' | 'document' | 'question-answering' | 'fact-checking'
  | 'classification' | 'clustering' | 'sentence-similarity' | 'code-retrieval' | 'summarization'
  /** the prompt names of EmbeddingGemma's sentence-transformers config */
  | 'BitextMining' | 'Clustering' | 'Classification' | 'InstructionRetrieval' | 'MultilabelClassification'
  | 'PairClassification' | 'Reranking' | 'Retrieval' | 'Retrieval-query' | 'Retrieval-document' | 'STS'
  | 'Summarization';

export interface EmbedOptions {
  /** Prompt template of the model's family (info.prompts; EmbeddingGemma: its model card /
   * sentence-transformers prompts). Default 'none' (the text as given), or 'document' with
   * a title, 'query' with an instruction. */
  task?: Task;
  /** Title for EmbeddingGemma's task 'document' (implies it); default "none". */
  title?: string;
  /** Qwen3-Embedding queries: the task instruction (implies task 'query'); default the
   * model card's web-search instruction. Other models reject it. */
  instruction?: string;
  /** Free text put before each text instead of a task prompt (any model; task must be
   * 'none'), e.g. 'search_query: ' or 'query: '. */
  prefix?: string;
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

export interface RerankOptions {
  /** Cancels between chunks of documents; rejects with an AbortError. */
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
  /** tokenizer.ggml.model: 'llama' (SentencePiece), 'bert' (WordPiece), 'gpt2' (BPE), 't5' (Unigram) */
  tokenizer: string;
  /** the file holds a vocabulary only (no tensors): tokenize() works, embed() rejects */
  vocabOnly: boolean;
  /** pooling type rank: rerank() scores pairs, embed() rejects; dimension is the classifier's outputs */
  reranker: boolean;
  /** 'mean', 'cls', 'last', 'rank' ('' for a vocabulary) */
  pooling: string;
  /** task prompt family: 'embeddinggemma', 'nomic', 'e5', 'bge', 'qwen3' or 'none' */
  prompts: string;
  /** the core's description of the model's tasks, e.g. 'none, query, document' */
  tasks: string;
  /** the task names embed() accepts on this model (asked of the core; [] for a
   * vocabulary or a reranker, which do not embed) */
  taskNames: string[];
  /** kernel table in use: 'wasm-simd128' or 'wasm-relaxed-simd' */
  kernels: string;
  threads: number;
  version: string;
  /** the WebAssembly build in use */
  variant: Variant;
}

export declare class Embedder {
  private constructor();
  /** Rejects with a GgufembedError (or AbortError) only after everything the load had
   * started is released: the wasm instance and its threads, the file handle or download,
   * the wasm memory. A model larger than wasm memory (4 GiB) rejects with OUT_OF_MEMORY. */
  static load(source: ModelSource, options?: LoadOptions): Promise<Embedder>;
  embed(text: string, options?: EmbedOptions): Promise<Float32Array>;
  embed(texts: string[], options?: EmbedOptions): Promise<Float32Array[]>;
  /** Rerankers (info.reranker): one score per document, in order; higher = more relevant. */
  rerank(query: string, documents: string[], options?: RerankOptions): Promise<Float32Array>;
  tokenize(text: string, options?: TokenizeOptions): Promise<Int32Array>;
  readonly info: ModelInfo;
  readonly disposed: boolean;
  /** Frees the model and its WebAssembly memory now; pending and later calls reject with
   * INVALID_ARGUMENT ('... disposed'). */
  dispose(): void;
}

export type ErrorCode =
  | 'INVALID_ARGUMENT' | 'IO' | 'OUT_OF_MEMORY' | 'FORMAT' | 'UNSUPPORTED' | 'TOO_LONG'
  | 'BUFFER_TOO_SMALL' | 'CANCELLED' | 'INTERNAL' | 'ABORTED';

/** Every failure: the C core's (its message is the core's own), and those around it
 * (IO: a .wasm file or model source that cannot be fetched, read or compiled;
 * OUT_OF_MEMORY: wasm memory exhausted, after which the instance keeps working; INTERNAL:
 * a worker or wasm instance that died). */
export declare class GgufembedError extends Error {
  constructor(message: string, options?: { code?: ErrorCode; status?: number; cause?: unknown });
  readonly code: ErrorCode;
  /** the core's ggufembed_status number for code, as the wasm module reports it (-1 for
   * ABORTED, and before any wasm module has been loaded in this thread) */
  readonly status: number;
}

/** A load or batch cancelled through its AbortSignal. */
export declare class AbortError extends GgufembedError {}

export default Embedder;
