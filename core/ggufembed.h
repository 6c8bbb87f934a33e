/*
 * ggufembed.h - turn text into embedding vectors with GGUF embedding models.
 *
 * The whole public C API. One prefix (ggufembed_ / GGUFEMBED_), opaque handles,
 * every fallible call returns a ggufembed_status.
 *
 * Two handles, split like zstd's dictionary/context:
 *   ggufembed_model    immutable after open: weights (zero-copy views into the
 *                      file mapping or the caller's buffer), vocabulary,
 *                      hyperparameters. Share one model between any number of
 *                      threads.
 *   ggufembed_context  per-thread scratch (activations, tokenizer work space, a
 *                      worker pool) plus the last detailed error message. A
 *                      context is used by one thread at a time; make one
 *                      context per thread to embed in parallel on one model.
 *
 * Ownership, in one place:
 *   - Every pointer you pass in stays yours; the library copies what it keeps,
 *     except the buffer given to ggufembed_model_open_memory(), which must stay
 *     valid and unchanged until ggufembed_model_free() (weights are views into it).
 *   - Output arrays (vectors, token ids) are always caller-allocated.
 *   - Strings returned by the library (messages, names) are owned by the library:
 *     static, or valid until the next call on the same handle / until the handle
 *     is freed, as documented per function.
 *   - Every *_free() accepts NULL.
 *   - Free all contexts of a model before the model.
 *
 * Text is UTF-8, given as pointer + length in bytes (it need not be
 * NUL-terminated and may contain NUL bytes). Invalid UTF-8 never fails or
 * crashes: such bytes are tokenized exactly as llama.cpp does it, i.e. a byte
 * that cannot be part of a vocabulary piece becomes its byte token <0xXX>.
 */
#ifndef GGUFEMBED_H
#define GGUFEMBED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GGUFEMBED_VERSION_MAJOR 0
#define GGUFEMBED_VERSION_MINOR 4
#define GGUFEMBED_VERSION_PATCH 0
#define GGUFEMBED_VERSION_NUMBER \
    (GGUFEMBED_VERSION_MAJOR * 10000 + GGUFEMBED_VERSION_MINOR * 100 + GGUFEMBED_VERSION_PATCH)
#define GGUFEMBED_VERSION_STRING "0.4.0"

/*
 * ABI stability. The shared library's SONAME is libggufembed.so.GGUFEMBED_ABI_VERSION.
 * The ABI version goes up only when a binary built against the previous release could
 * break: a function removed or its signature changed, a field moved, a constant
 * renumbered. These never break it, so they come in minor releases:
 *   - new functions, new enum values and flags appended at the end;
 *   - new fields appended at the end of the caller-allocated structs. Each carries
 *     struct_size, set by its _init() function (or passed, for ggufembed_model_info):
 *     the library reads only the fields the caller's struct_size covers, gives the later
 *     ones their defaults, and refuses a struct larger than it knows whose unknown tail
 *     is not all zero (a caller asking for something this library cannot do).
 * The static library defines no extern symbol outside the ggufembed_ prefix.
 */
#define GGUFEMBED_ABI_VERSION 1

#if defined(_WIN32) && defined(GGUFEMBED_BUILD_SHARED)
#define GGUFEMBED_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define GGUFEMBED_API __attribute__((visibility("default")))
#else
#define GGUFEMBED_API
#endif

/* Run-time version: GGUFEMBED_VERSION_NUMBER / _STRING of the linked library. */
GGUFEMBED_API int         ggufembed_version_number(void);
GGUFEMBED_API const char *ggufembed_version_string(void);

/* ---------------------------------------------------------------- status */

typedef enum ggufembed_status {
    GGUFEMBED_OK = 0,
    GGUFEMBED_ERR_INVALID_ARGUMENT = 1, /* NULL handle, bad option value, ...        */
    GGUFEMBED_ERR_IO = 2,               /* file missing, unreadable, mmap failed     */
    GGUFEMBED_ERR_OUT_OF_MEMORY = 3,    /* an allocation failed                      */
    GGUFEMBED_ERR_FORMAT = 4,           /* not a GGUF file, truncated, corrupt       */
    GGUFEMBED_ERR_UNSUPPORTED = 5,      /* architecture, tensor type, GGUF version   */
    GGUFEMBED_ERR_TOO_LONG = 6,         /* text longer than the context, truncation off */
    GGUFEMBED_ERR_BUFFER_TOO_SMALL = 7, /* output capacity smaller than needed       */
    GGUFEMBED_ERR_CANCELLED = 8,        /* the progress callback asked to stop       */
    GGUFEMBED_ERR_INTERNAL = 9          /* a bug: please report it                   */
} ggufembed_status;

/* Static text for a status ("out of memory", ...). Never NULL. */
GGUFEMBED_API const char *ggufembed_status_string(ggufembed_status status);

/* ------------------------------------------------------------- kernels */

/* The name of the kernel table the library runs ("avx512", "avx2", "scalar",
 * "wasm-simd128", ...), chosen once at start-up for this CPU. */
GGUFEMBED_API const char *ggufembed_kernels(void);
/* Uses the table `name` for all later calls instead (every table gives the same bits;
 * "scalar" is the reference): GGUFEMBED_ERR_UNSUPPORTED when this CPU or build lacks it.
 * For tests and benchmarks; not thread-safe. */
GGUFEMBED_API ggufembed_status ggufembed_select_kernels(const char *name);

/* ------------------------------------------------------------- memory */

/*
 * Every heap allocation of the library (models, contexts, scratch, tokenizer tables)
 * goes through these functions (zstd's customMem, SQLite's SQLITE_CONFIG_MALLOC). The
 * file mapping of ggufembed_model_open_file() is not heap memory and is not included.
 * malloc_fn returns NULL on failure (the call then fails with
 * GGUFEMBED_ERR_OUT_OF_MEMORY); free_fn accepts NULL. Both may be called from several
 * threads at once when contexts are used in parallel. Memory is requested with at most
 * 16-byte alignment (larger alignments are carved out of larger blocks).
 */
typedef struct ggufembed_allocator {
    size_t struct_size; /* sizeof(ggufembed_allocator) */
    void *(*malloc_fn)(void *user, size_t size);
    void (*free_fn)(void *user, void *ptr);
    void *user;
} ggufembed_allocator;

/* Installs alloc for all later allocations (NULL: back to the C library's malloc/free).
 * Only while the library holds no memory (no model or context exists): otherwise
 * GGUFEMBED_ERR_INVALID_ARGUMENT and nothing changes. Not thread-safe: call it at start-up. */
GGUFEMBED_API ggufembed_status ggufembed_set_allocator(const ggufembed_allocator *alloc);

/* ----------------------------------------------------------------- model */

typedef struct ggufembed_model ggufembed_model;
typedef struct ggufembed_context ggufembed_context;

/*
 * Open a model from a GGUF file: the file is memory-mapped read-only and the
 * weights are used in place (zero-copy). Native builds only.
 * On failure *out_model is NULL, and when err/err_size are given a one-line
 * message naming the problem is written there (always NUL-terminated).
 */
GGUFEMBED_API ggufembed_status ggufembed_model_open_file(const char *path,
                                                         ggufembed_model **out_model,
                                                         char *err, size_t err_size);

/*
 * Open a model from GGUF bytes the caller holds in memory. The buffer is NOT
 * copied: it must stay valid and unchanged until ggufembed_model_free().
 * The buffer should be aligned to at least 32 bytes (malloc'ed or mapped memory is);
 * one whose weights land at addresses not a multiple of 4 (F32) or 2 (other types) is
 * refused with GGUFEMBED_ERR_FORMAT ("not N-byte aligned").
 */
GGUFEMBED_API ggufembed_status ggufembed_model_open_memory(const void *data, size_t size,
                                                           ggufembed_model **out_model,
                                                           char *err, size_t err_size);

/*
 * Flags for the _v2 openers (0 = what the plain openers do).
 *
 * GGUFEMBED_OPEN_REPACK: copy the quantized layer weights once, at load, into the
 * layout this CPU's kernels read fastest (AVX-512 VNNI: 16 rows interleaved; types
 * of fewer bits than Q8_0 are decoded to 8-bit levels, so they take about Q8_0's memory),
 * instead of re-arranging them on the fly in every call. Faster above all for
 * short texts (measured here: ~1.5x for a 9-word sentence); costs ~70 ms of
 * load and makes the weights (~100 MB for EmbeddingGemma-300M) private memory
 * of the process instead of shared file pages (the file pages the copy replaces
 * are released). Ignored where the kernels have no packed layout (AVX2, scalar,
 * WebAssembly). Results are bit-identical either way.
 */
#define GGUFEMBED_OPEN_REPACK 1u
/*
 * GGUFEMBED_OPEN_F32_ACTIVATIONS: every matrix product reads its input in f32, the
 * weights widened to float row by row, instead of quantizing the input to 8 bits as
 * llama.cpp does (and as ggufembed does by default). The result is the file's weights'
 * own function, free of activation rounding: a reference for judging quantized files
 * (the tests use it), several times slower. Not combined with GGUFEMBED_OPEN_REPACK.
 */
#define GGUFEMBED_OPEN_F32_ACTIVATIONS 2u
/*
 * GGUFEMBED_OPEN_VALIDATE: read every weight once at load (each tensor decoded to
 * float, llama.cpp's --check-tensors) and refuse the file with GGUFEMBED_ERR_FORMAT,
 * naming the tensor, when a value is NaN or infinite. Costs a pass over the whole file
 * (~1 s for 300 MB). Without it a non-finite weight is caught where it matters: an
 * embedding (or rerank score) that comes out NaN/Inf fails with GGUFEMBED_ERR_FORMAT
 * instead of being returned.
 */
#define GGUFEMBED_OPEN_VALIDATE 4u

GGUFEMBED_API ggufembed_status ggufembed_model_open_file_v2(const char *path, unsigned flags,
                                                            ggufembed_model **out_model,
                                                            char *err, size_t err_size);
/* With GGUFEMBED_OPEN_REPACK the caller's buffer is still read (never written)
 * and must still outlive the model. */
GGUFEMBED_API ggufembed_status ggufembed_model_open_memory_v2(const void *data, size_t size, unsigned flags,
                                                              ggufembed_model **out_model,
                                                              char *err, size_t err_size);

/* Releases the model (and the file mapping). Accepts NULL. */
GGUFEMBED_API void ggufembed_model_free(ggufembed_model *model);

/* What a model is. Strings point into the model and live as long as it. */
typedef struct ggufembed_model_info {
    size_t struct_size;          /* written by the library: the bytes it filled in       */
    const char *architecture;    /* "gemma-embedding"                                  */
    const char *name;            /* general.name, or "" when absent                    */
    int32_t dimension;           /* length of the output vector (768)                 */
    int32_t hidden_size;         /* embedding_length (768)                            */
    int32_t context_length;      /* maximum tokens per text, BOS/EOS included (2048)  */
    int32_t vocab_size;          /* 262144                                            */
    int32_t n_layers;            /* 24                                                */
    int32_t n_heads, n_kv_heads; /* 3, 1                                              */
    int32_t head_dim;            /* 256                                               */
    int32_t ffn_size;            /* 1152                                              */
    int32_t sliding_window;      /* 512 (0 = none)                                    */
    int32_t has_dense;           /* 1 when dense_2/dense_3 projections are applied    */
    int32_t missing_dense;       /* 1 for a gemma-embedding file WITHOUT dense_2/dense_3:
                                    its vectors are the pooled hidden state, not
                                    EmbeddingGemma's embedding (see warning)           */
    const char *warning;         /* "" or one line naming a known problem of the file */
    int32_t n_tensors;           /* tensors in the file                               */
    const char *weight_types;    /* e.g. "Q8_0 x169, F32 x145": tensor type histogram */
    uint64_t n_params;           /* parameters in all tensors                         */
    uint64_t file_size;          /* bytes of the GGUF file                            */
    int32_t bos_id, eos_id;      /* -1 when the model adds none                       */
    int32_t add_bos, add_eos;    /* 1 when tokenization adds them                     */
    const char *prompts;         /* task prompt family: "embeddinggemma", "nomic", "e5",
                                    "bge", "qwen3" or "none" (see ggufembed_task)         */
    const char *tasks;           /* the tasks this model defines, "none, query, ..."   */
    const char *tokenizer;       /* tokenizer.ggml.model: "llama", "bert", "gpt2", "t5" */
    int32_t vocab_only;          /* 1: the file holds a vocabulary only (tokenize, no embed) */
    int32_t reranker;            /* 1: pooling type rank: ggufembed_rerank scores pairs;
                                    dimension is then the classifier's outputs          */
    const char *pooling;         /* "mean", "cls", "last", "rank" ("" for a vocabulary) */
} ggufembed_model_info;

/* Fills the first info_size bytes of *out_info (pass sizeof *out_info): an older
 * caller's smaller struct gets only the fields it has. */
GGUFEMBED_API ggufembed_status ggufembed_model_get_info(const ggufembed_model *model,
                                                        ggufembed_model_info *out_info, size_t info_size);

/* Integer/float/string metadata lookup by GGUF key, for tools (info printing). */
GGUFEMBED_API int ggufembed_model_metadata_count(const ggufembed_model *model);
/* Writes "key = value" (arrays summarised) into buf; returns the status. */
GGUFEMBED_API ggufembed_status ggufembed_model_metadata_line(const ggufembed_model *model, int index,
                                                             char *buf, size_t buf_size);

/* --------------------------------------------------------------- context */

typedef struct ggufembed_context_params {
    size_t struct_size; /* set by ggufembed_context_params_init()                          */
    int32_t n_threads;  /* worker threads for one embed call; 0 = one per CPU core (capped at 16) */
} ggufembed_context_params;

/* Defaults (n_threads 0) and struct_size. */
GGUFEMBED_API void ggufembed_context_params_init(ggufembed_context_params *params);

/*
 * A context: per-thread scratch for one model. params may be NULL (defaults); when
 * given it must have been set up by ggufembed_context_params_init().
 * The model must outlive the context.
 */
GGUFEMBED_API ggufembed_status ggufembed_context_new(const ggufembed_model *model,
                                                     const ggufembed_context_params *params,
                                                     ggufembed_context **out_ctx);
GGUFEMBED_API void ggufembed_context_free(ggufembed_context *ctx);

/* The last detailed error message of this context ("" after success). Valid until
 * the next call on ctx. */
GGUFEMBED_API const char *ggufembed_context_last_error(const ggufembed_context *ctx);

/* --------------------------------------------------------------- embed */

/* Task prompts. One list of task names across models; each model family defines
 * some of them, with the texts of its model card (ggufembed_model_info.prompts names
 * the family, .tasks lists its tasks; a task the model does not define is an error
 * that lists them). The EmbeddingGemma texts are shown; others:
 *   nomic (nomic-embed-text): query "search_query: ", document "search_document: ",
 *         clustering "clustering: ", classification "classification: "
 *   e5 (multilingual-e5, arctic-embed v2): query "query: ", document "passage: "
 *   bge (bge-*-v1.5, mxbai-embed-large, arctic-embed v1): query "Represent this sentence
 *         for searching relevant passages: ", document: the text as is
 *   qwen3 (Qwen3-Embedding): query "Instruct: {instruction}\nQuery:", document as is
 * For any model, a free-text prefix (ggufembed_embed_options.prefix) instead. */
typedef enum ggufembed_task {
    GGUFEMBED_TASK_NONE = 0,               /* the text as given (default)               */
    GGUFEMBED_TASK_QUERY,                  /* "task: search result | query: {text}"     */
    GGUFEMBED_TASK_DOCUMENT,               /* "title: {title|none} | text: {text}"      */
    GGUFEMBED_TASK_QUESTION_ANSWERING,     /* "task: question answering | query: ..."  */
    GGUFEMBED_TASK_FACT_CHECKING,          /* "task: fact checking | query: ..."       */
    GGUFEMBED_TASK_CLASSIFICATION,         /* "task: classification | query: ..."      */
    GGUFEMBED_TASK_CLUSTERING,             /* "task: clustering | query: ..."          */
    GGUFEMBED_TASK_SENTENCE_SIMILARITY,    /* "task: sentence similarity | query: ..." */
    GGUFEMBED_TASK_CODE_RETRIEVAL,         /* "task: code retrieval | query: ..."      */
    GGUFEMBED_TASK_SUMMARIZATION,          /* "task: summarization | query: ..."       */
    GGUFEMBED_TASK_COUNT_
} ggufembed_task;

/* "none", "query", "document", "question-answering", "fact-checking", "classification",
 * "clustering", "sentence-similarity", "code-retrieval", "summarization" (case-insensitive;
 * underscores and spaces are accepted for '-'). The prompt names of the model's
 * sentence-transformers config are accepted too, so that prompt_name="STS" in Python
 * and task "STS" here give the same prompt: BitextMining, Reranking, Retrieval and
 * Retrieval-query (= query), Retrieval-document (= document), InstructionRetrieval
 * (= code-retrieval), MultilabelClassification (= classification), PairClassification
 * and STS (= sentence-similarity), Clustering, Classification, Summarization.
 * Returns GGUFEMBED_ERR_INVALID_ARGUMENT for an unknown name. */
GGUFEMBED_API ggufembed_status ggufembed_task_from_name(const char *name, ggufembed_task *out_task);
GGUFEMBED_API const char *ggufembed_task_name(ggufembed_task task); /* NULL if out of range */

typedef enum ggufembed_truncation {
    GGUFEMBED_TRUNCATE_ERROR = 0, /* a text over the context length fails with ERR_TOO_LONG */
    GGUFEMBED_TRUNCATE_END = 1    /* keep the first tokens (BOS/EOS kept) and drop the rest  */
} ggufembed_truncation;

/* What happens to whitespace around the input before tokenizing. The two
 * references differ here: sentence-transformers strips leading and trailing
 * whitespace (Python's str.strip(), after the prompt is prepended), llama.cpp
 * tokenizes the bytes as given. */
typedef enum ggufembed_whitespace {
    GGUFEMBED_WHITESPACE_STRIP = 0, /* default: strip(prompt + text), as sentence-transformers */
    GGUFEMBED_WHITESPACE_KEEP = 1   /* the bytes as given, as llama.cpp's llama-embedding   */
} ggufembed_whitespace;

typedef struct ggufembed_embed_options {
    size_t struct_size;              /* set by ggufembed_embed_options_init()             */
    ggufembed_task task;             /* prompt template applied to each text              */
    const char *title;               /* EmbeddingGemma documents: NUL-terminated title; NULL = "none" */
    int32_t dimensions;              /* Matryoshka: keep the first N values, 1..dimension;
                                        0 = full. The model was trained for 768/512/256/128. */
    int32_t normalize;               /* 1 = L2-normalize (after truncation); 0 = raw      */
    ggufembed_truncation truncation; /* what to do with over-long texts                   */
    ggufembed_whitespace whitespace; /* strip (default) or keep surrounding whitespace    */
    /* Optional progress for batches: called after each text; return non-zero to
     * cancel (the call then returns GGUFEMBED_ERR_CANCELLED). */
    int (*progress)(void *user, size_t done, size_t total);
    void *progress_user;
    const char *prefix;              /* NUL-terminated text put before each text instead of a
                                        task prompt (task must be NONE); NULL = none        */
    const char *instruction;         /* Qwen3 queries: the task instruction; NULL = the
                                        model card's web-search one                          */
} ggufembed_embed_options;

/* Fill with defaults: no task, full dimension, normalized, error on over-long text,
 * surrounding whitespace stripped; and struct_size. Options must start from this call
 * (a struct_size of 0 is refused with GGUFEMBED_ERR_INVALID_ARGUMENT).
 * Passing NULL options anywhere means exactly these defaults. */
GGUFEMBED_API void ggufembed_embed_options_init(ggufembed_embed_options *opts);

/* Number of floats one vector gets with these options (dimensions, or the model's). */
GGUFEMBED_API int32_t ggufembed_output_dimension(const ggufembed_model *model,
                                                 const ggufembed_embed_options *opts);

/*
 * Embed one text into out[0 .. out_len). out_len must be at least
 * ggufembed_output_dimension(); the vector is written into the first that many floats.
 */
GGUFEMBED_API ggufembed_status ggufembed_embed(ggufembed_context *ctx, const char *text, size_t text_len,
                                               const ggufembed_embed_options *opts, float *out,
                                               size_t out_len);

/*
 * Embed n texts: text i is texts[i] with byte length lens[i] (lens may be NULL when
 * every text is NUL-terminated). Vector i goes to out + i * dim, dim =
 * ggufembed_output_dimension(); out_len (floats) must be >= n * dim.
 *
 * Limits: the call's memory does not grow with n. Every text is tokenized first (so a
 * bad option or an over-long text fails before any vector is written); the token ids
 * are kept for up to 4096 texts and 65536 tokens, and a larger batch is embedded in
 * chunks of that size, tokenized again. The activations are those of one forward pass
 * of at most 1024 tokens, or of one text up to the context length. When a call fails
 * part-way (out of memory, cancelled, a non-finite output) the vectors before the failing
 * text are written and the rest of out is unspecified.
 */
GGUFEMBED_API ggufembed_status ggufembed_embed_batch(ggufembed_context *ctx, const char *const *texts,
                                                     const size_t *lens, size_t n,
                                                     const ggufembed_embed_options *opts, float *out,
                                                     size_t out_len);

/*
 * Embed n lists of token ids as given (list i: ids[i][0 .. n_ids[i])): no task prompt,
 * no BOS/EOS added, no whitespace handling; opts' task must be NONE and prefix NULL
 * (dimensions, normalize and truncation apply: truncation keeps the first n_ctx ids).
 * Every id must be in [0, n_vocab); every list non-empty. Output as embed_batch; the
 * vectors equal embed_batch's for the ids ggufembed_tokenize gives (with the default
 * flags) a text that needs no prompt and no stripping. Memory bounded as embed_batch.
 * Added in 0.4.0 (ABI version 1: appended).
 */
GGUFEMBED_API ggufembed_status ggufembed_embed_tokens(ggufembed_context *ctx, const int32_t *const *ids,
                                                      const size_t *n_ids, size_t n,
                                                      const ggufembed_embed_options *opts, float *out,
                                                      size_t out_len);

/*
 * The number of tokens the model runs for this text when embedded with opts: task
 * prompt and special tokens included, after truncation. Fails exactly as embedding it
 * would before any work (bad options, over-long text without truncation, a reranker).
 * Added in 0.4.0.
 */
GGUFEMBED_API ggufembed_status ggufembed_count_tokens(ggufembed_context *ctx, const char *text, size_t text_len,
                                                      const ggufembed_embed_options *opts, size_t *n_tokens);

/* ------------------------------------------------------------- tokenize */

/*
 * Rerank: scores[i] = how well document i answers the query, for rerankers (GGUFs
 * whose pooling type is rank: bge-reranker, jina-reranker, Qwen3-Reranker). Each
 * query/document pair is put together as llama.cpp does (the file's rerank template,
 * or query, EOS/SEP, document) and scored by the model's classifier head: the raw
 * logit (bge, jina), or the probability of "yes" (Qwen3). Higher is more relevant.
 * docs[i] has doc_lens[i] bytes (doc_lens may be NULL for NUL-terminated documents).
 * Embedding models refuse with GGUFEMBED_ERR_UNSUPPORTED, as rerankers refuse embed.
 */
GGUFEMBED_API ggufembed_status ggufembed_rerank(ggufembed_context *ctx, const char *query, size_t query_len,
                                                const char *const *docs, const size_t *doc_lens, size_t n_docs,
                                                float *scores);

/*
 * Token ids of a text as the model sees it. flags: GGUFEMBED_TOKENIZE_ADD_SPECIAL adds
 * BOS/EOS as the model's metadata says; GGUFEMBED_TOKENIZE_PARSE_SPECIAL turns special
 * token texts such as "<bos>" in the input into their ids (llama.cpp's default;
 * without it they are tokenized as plain text). No task prompt is applied.
 * Writes min(n, cap) ids to out and the full count to *n_tokens; returns
 * GGUFEMBED_ERR_BUFFER_TOO_SMALL when cap < count (call again with a larger buffer;
 * out may be NULL when cap is 0).
 */
#define GGUFEMBED_TOKENIZE_ADD_SPECIAL 1u
#define GGUFEMBED_TOKENIZE_PARSE_SPECIAL 2u
#define GGUFEMBED_TOKENIZE_DEFAULT (GGUFEMBED_TOKENIZE_ADD_SPECIAL | GGUFEMBED_TOKENIZE_PARSE_SPECIAL)

GGUFEMBED_API ggufembed_status ggufembed_tokenize(ggufembed_context *ctx, const char *text, size_t text_len,
                                                  unsigned flags, int32_t *out, size_t cap,
                                                  size_t *n_tokens);

/* The text piece of a token id (not NUL-terminated; *len gets its length), or NULL
 * for an id out of range. Points into the model. */
GGUFEMBED_API const char *ggufembed_token_text(const ggufembed_model *model, int32_t id, size_t *len);

/* The text a token stands for, as llama.cpp's llama_token_to_piece (special tokens
 * shown): U+2581 as a space, byte tokens <0xXX> as their byte, byte-level BPE characters
 * mapped back to bytes, control tokens as their text. Concatenating the pieces of a
 * tokenization gives its text back (after the model's normalization). A piece may be part
 * of a UTF-8 sequence. Writes min(len, cap) bytes (no NUL) and the full length to *len;
 * GGUFEMBED_ERR_BUFFER_TOO_SMALL when cap < len. Added in 0.4.0. */
GGUFEMBED_API ggufembed_status ggufembed_token_piece(const ggufembed_model *model, int32_t id, char *out,
                                                     size_t cap, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* GGUFEMBED_H */
