/* prompts.c - the prompt families (prompts.h), each from its model card. */
#include "prompts.h"

#include <stdio.h>
#include <string.h>

/* EmbeddingGemma's model card and config_sentence_transformers.json */
static const ge_prompt_set k_embeddinggemma = {
    .name = "embeddinggemma",
    .tmpl = {
        [GGUFEMBED_TASK_NONE] = "",
        [GGUFEMBED_TASK_QUERY] = "task: search result | query: ",
        [GGUFEMBED_TASK_DOCUMENT] = "title: {title} | text: ",
        [GGUFEMBED_TASK_QUESTION_ANSWERING] = "task: question answering | query: ",
        [GGUFEMBED_TASK_FACT_CHECKING] = "task: fact checking | query: ",
        [GGUFEMBED_TASK_CLASSIFICATION] = "task: classification | query: ",
        [GGUFEMBED_TASK_CLUSTERING] = "task: clustering | query: ",
        [GGUFEMBED_TASK_SENTENCE_SIMILARITY] = "task: sentence similarity | query: ",
        [GGUFEMBED_TASK_CODE_RETRIEVAL] = "task: code retrieval | query: ",
        [GGUFEMBED_TASK_SUMMARIZATION] = "task: summarization | query: ",
    },
    .tasks = "none, query, document, question-answering, fact-checking, classification, clustering, "
             "sentence-similarity, code-retrieval, summarization",
};

/* nomic-embed-text v1/v1.5/v2: every text needs one of four prefixes */
static const ge_prompt_set k_nomic = {
    .name = "nomic",
    .tmpl = {
        [GGUFEMBED_TASK_NONE] = "",
        [GGUFEMBED_TASK_QUERY] = "search_query: ",
        [GGUFEMBED_TASK_DOCUMENT] = "search_document: ",
        [GGUFEMBED_TASK_CLUSTERING] = "clustering: ",
        [GGUFEMBED_TASK_CLASSIFICATION] = "classification: ",
    },
    .tasks = "none, query, document, clustering, classification",
};

/* (multilingual-)e5 */
static const ge_prompt_set k_e5 = {
    .name = "e5",
    .tmpl = {
        [GGUFEMBED_TASK_NONE] = "",
        [GGUFEMBED_TASK_QUERY] = "query: ",
        [GGUFEMBED_TASK_DOCUMENT] = "passage: ",
    },
    .tasks = "none, query, document",
};

/* bge-*-en-v1.5, mxbai-embed-large, snowflake-arctic-embed: an instruction before
 * retrieval queries, documents as they are */
static const ge_prompt_set k_bge = {
    .name = "bge",
    .tmpl = {
        [GGUFEMBED_TASK_NONE] = "",
        [GGUFEMBED_TASK_QUERY] = "Represent this sentence for searching relevant passages: ",
        [GGUFEMBED_TASK_DOCUMENT] = "",
    },
    .tasks = "none, query, document",
};

/* Qwen3-Embedding: queries carry a one-sentence task instruction, documents nothing */
static const ge_prompt_set k_qwen3 = {
    .name = "qwen3",
    .tmpl = {
        [GGUFEMBED_TASK_NONE] = "",
        [GGUFEMBED_TASK_QUERY] = "Instruct: {instruction}\nQuery:",
        [GGUFEMBED_TASK_DOCUMENT] = "",
    },
    .default_instruction = "Given a web search query, retrieve relevant passages that answer the query",
    .tasks = "none, query (with an instruction), document",
};

static const ge_prompt_set k_none = {
    .name = "none",
    .tmpl = {[GGUFEMBED_TASK_NONE] = ""},
    .tasks = "none (this model has no known task prompts: use a free-text prefix)",
};

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

const ge_prompt_set *ge_prompts_for(const gguf_file *f, const char *arch) {
    char name[128] = {0};
    gguf_str s;
    if (gguf_get_str(f, "general.name", &s)) {
        size_t n = s.len < sizeof name - 1 ? s.len : sizeof name - 1;
        for (size_t i = 0; i < n; i++) name[i] = (char)(s.ptr[i] >= 'A' && s.ptr[i] <= 'Z' ? s.ptr[i] + 32 : s.ptr[i]);
    }
    if (!strcmp(arch, "gemma-embedding")) return &k_embeddinggemma;
    if (!strncmp(arch, "nomic-bert", 10) || contains(name, "nomic-embed")) return &k_nomic;
    if (!strcmp(arch, "qwen3") || contains(name, "qwen3-embedding")) return &k_qwen3;
    if (contains(name, "e5-") || contains(name, "-e5") || (contains(name, "arctic-embed") && contains(name, "v2")))
        return &k_e5; /* arctic-embed v2 took e5's "query: " */
    if ((contains(name, "bge-") && !contains(name, "bge-m3")) || contains(name, "mxbai-embed") ||
        contains(name, "arctic-embed"))
        return &k_bge;
    return &k_none;
}
