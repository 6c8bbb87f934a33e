/*
 * prompts.h - task prompts per model family. The task names of ggufembed.h
 * (ggufembed_task) are one vocabulary across models; each family's model card says
 * which of them it defines and with what text. A template may hold "{title}"
 * (EmbeddingGemma's documents) and "{instruction}" (Qwen3's queries).
 */
#ifndef GE_PROMPTS_H
#define GE_PROMPTS_H

#include "ggufembed.h"
#include "gguf.h"

typedef struct ge_prompt_set {
    const char *name;                          /* "embeddinggemma", "nomic", "e5", "bge", "qwen3", "none" */
    const char *tmpl[GGUFEMBED_TASK_COUNT_];   /* NULL: the family has no such task (NONE is always "") */
    const char *default_instruction;           /* for "{instruction}", or NULL                        */
    const char *tasks;                         /* "none, query, document" for messages and info       */
} ge_prompt_set;

/* The family of a model, from general.architecture and general.name (lower-cased
 * substrings, e.g. "e5", "bge-" but not "bge-m3"); "none" when nothing is known. */
const ge_prompt_set *ge_prompts_for(const gguf_file *f, const char *arch);

#endif
