/*
 * tok_bpe_pre.c - the pre-tokenizers of byte-level BPE, as llama.cpp's unicode_regex_split.
 *
 * llama.cpp gives each pre-tokenizer type a list of regexes (llm_tokenizer_bpe's
 * constructor). The text starts as one segment; each regex in turn re-splits every
 * segment into its matches and the (unmatched) text between them, never across a
 * segment boundary. A regex is run by a hand-written splitter when llama.cpp has one
 * (unicode_regex_split_custom: the gpt2, llama3, qwen2, qwen35 and newline patterns),
 * otherwise by std::regex on a "collapsed" text where every code point >= U+0080 is
 * replaced by one byte standing for its category (\p{N} -> 0xD1, \p{P} -> 0xD3, ...,
 * non-ASCII White_Space -> 0x0B). The few such regexes used here are single character
 * classes, written out below as what std::regex makes of them.
 *
 * The regex chains supported (llama.cpp's strings):
 *   DEFAULT    [\p{P}\$\+<=>\^~\|]+ , GPT2 , \p{N}+ , [0-9][0-9][0-9]
 *   FALCON     [\p{P}\$\+<=>\^~\|`]+ , GPT2 , [0-9][0-9][0-9]
 *   GPT2       's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
 *   STARCODER  \p{N} , GPT2
 *   LLAMA3     (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+
 *              |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *   QWEN2      LLAMA3 with \p{N} for \p{N}{1,3}
 *   QWEN35     QWEN2 with [\p{L}\p{M}]+ for \p{L}+ and [^\s\p{L}\p{M}\p{N}] for [^\s\p{L}\p{N}]
 *   LAGUNA     [^\n]+|[\n]+ , QWEN2
 * The custom splitters below are line-by-line ports of llama.cpp's, quirks included
 * (a lookahead never sees past the end of its segment; "\s+(?!\S)" leaves the last
 * whitespace for the next word).
 */
#include "tok_bpe_pre.h"

#include <string.h>
#include <utf8proc.h>

uint16_t ge_bpe_cpt_flags(uint32_t cpt) {
    uint16_t f;
    switch (utf8proc_category((utf8proc_int32_t)cpt)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
        f = GE_CPT_LETTER; break;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        f = GE_CPT_MARK; break;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        f = GE_CPT_NUMBER; break;
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS: case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF: case UTF8PROC_CATEGORY_PO:
        f = GE_CPT_PUNCT; break;
    case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK: case UTF8PROC_CATEGORY_SO:
        f = GE_CPT_SYMBOL; break;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
        f = GE_CPT_SEPARATOR; break;
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO:
        f = GE_CPT_CONTROL; break;
    default:
        f = GE_CPT_UNDEFINED; break;
    }
    /* llama.cpp's \s is Unicode's White_Space property (PropList.txt), which is the
     * separators Z* plus the controls TAB..CR and NEL; not U+001C..U+001F (Python's
     * isspace has those) and not U+200B or U+180E (format characters). */
    if (f == GE_CPT_SEPARATOR || (cpt >= 0x09 && cpt <= 0x0D) || cpt == 0x85) f |= GE_CPT_WS;
    return f;
}

/* ------------------------------------------------------------ the pre-tokenizer table */

enum { PRE_DEFAULT, PRE_FALCON, PRE_GPT2, PRE_STARCODER, PRE_LLAMA3, PRE_QWEN2, PRE_QWEN35, PRE_LAGUNA };

/* the splitters, in the order of llama.cpp's regex lists */
enum { S_END, S_PUNCT_RUNS, S_PUNCT_RUNS_BACKTICK, S_NUMBER_RUNS, S_NUMBER_EACH, S_DIGITS3, S_NEWLINE_RUNS,
       S_GPT2, S_LLAMA3, S_QWEN2, S_QWEN35 };

static const uint8_t k_chains[][5] = {
    [PRE_DEFAULT] = {S_PUNCT_RUNS, S_GPT2, S_NUMBER_RUNS, S_DIGITS3, S_END},
    [PRE_FALCON] = {S_PUNCT_RUNS_BACKTICK, S_GPT2, S_DIGITS3, S_END},
    [PRE_GPT2] = {S_GPT2, S_END},
    [PRE_STARCODER] = {S_NUMBER_EACH, S_GPT2, S_END},
    [PRE_LLAMA3] = {S_LLAMA3, S_END},
    [PRE_QWEN2] = {S_QWEN2, S_END},
    [PRE_QWEN35] = {S_QWEN35, S_END},
    [PRE_LAGUNA] = {S_NEWLINE_RUNS, S_QWEN2, S_END},
};

/* llama.cpp's tokenizer_pre -> pre_type table (llama_vocab::impl::load), for the types
 * whose regexes are one of the chains above, with the flags it sets for each name. */
static const ge_bpe_pre k_pres[] = {
    {"", PRE_DEFAULT, 0, 0, 0},          /* no tokenizer.ggml.pre */
    {"default", PRE_DEFAULT, 0, 0, 0},
    {"llama3", PRE_LLAMA3, 1, 1, 0},     {"llama-v3", PRE_LLAMA3, 1, 1, 0},  {"llama-bpe", PRE_LLAMA3, 1, 1, 0},
    {"falcon3", PRE_LLAMA3, 1, 1, 0},    {"falcon-h1", PRE_LLAMA3, 1, 1, 0}, {"pixtral", PRE_LLAMA3, 1, 1, 0},
    {"midm-2.0", PRE_LLAMA3, 1, 1, 0},   {"lfm2", PRE_LLAMA3, 1, 1, 0},      {"jina-v5-nano", PRE_LLAMA3, 1, 1, 0},
    {"dbrx", PRE_LLAMA3, 0, 0, 0},       {"smaug-bpe", PRE_LLAMA3, 0, 0, 0},
    {"chatglm-bpe", PRE_LLAMA3, 0, 0, 1}, {"glm4", PRE_LLAMA3, 1, 0, 1},     {"glm5", PRE_LLAMA3, 1, 0, 1},
    {"falcon", PRE_FALCON, 0, 0, 0},
    {"gpt-2", PRE_GPT2, 0, 0, 0},        {"phi-2", PRE_GPT2, 0, 0, 0},       {"jina-es", PRE_GPT2, 0, 0, 0},
    {"jina-de", PRE_GPT2, 0, 0, 0},      {"gigachat", PRE_GPT2, 0, 0, 0},    {"jina-v2-es", PRE_GPT2, 0, 0, 0},
    {"jina-v2-de", PRE_GPT2, 0, 0, 0},   {"a.x-4.0", PRE_GPT2, 0, 0, 0},     {"mellum", PRE_GPT2, 0, 0, 0},
    {"modern-bert", PRE_GPT2, 0, 0, 0},  {"jina-v1-en", PRE_GPT2, 0, 0, 0},  {"jina-v2-code", PRE_GPT2, 0, 0, 0},
    {"roberta-bpe", PRE_GPT2, 0, 0, 0},  {"mpt", PRE_GPT2, 0, 0, 0},         {"olmo", PRE_GPT2, 0, 0, 0},
    {"jais", PRE_GPT2, 0, 0, 0},         {"exaone4", PRE_GPT2, 0, 0, 0},     {"trillion", PRE_GPT2, 0, 0, 0},
    {"granite-docling", PRE_GPT2, 0, 0, 0},
    {"starcoder", PRE_STARCODER, 0, 0, 0}, {"refact", PRE_STARCODER, 0, 0, 0}, {"command-r", PRE_STARCODER, 0, 0, 0},
    {"smollm", PRE_STARCODER, 0, 0, 0},  {"codeshell", PRE_STARCODER, 0, 0, 0}, {"exaone", PRE_STARCODER, 0, 0, 0},
    {"minerva-7b", PRE_STARCODER, 0, 0, 0}, {"mellum2", PRE_STARCODER, 0, 0, 0},
    {"qwen2", PRE_QWEN2, 0, 0, 0},       {"deepseek-r1-qwen", PRE_QWEN2, 0, 0, 0}, {"kormo", PRE_QWEN2, 0, 0, 0},
    {"f2llmv2", PRE_QWEN2, 0, 0, 0},     {"megrez", PRE_QWEN2, 0, 0, 0},     {"stablelm2", PRE_QWEN2, 0, 0, 0},
    {"hunyuan", PRE_QWEN2, 0, 0, 0},     {"solar-open", PRE_QWEN2, 0, 0, 0}, {"grok-2", PRE_QWEN2, 0, 0, 0},
    {"qwen35", PRE_QWEN35, 0, 0, 0},
    {"laguna", PRE_LAGUNA, 0, 0, 0},
};

const ge_bpe_pre *ge_bpe_pre_find(const char *name) {
    for (size_t i = 0; i < sizeof k_pres / sizeof k_pres[0]; i++)
        if (strcmp(k_pres[i].name, name) == 0) return &k_pres[i];
    return NULL;
}

const char *ge_bpe_pre_supported(void) {
    /* one name per regex chain: the full list (k_pres) would not fit an error message */
    return "default, gpt-2, llama-bpe, qwen2, qwen35, falcon, starcoder, laguna, and the names llama.cpp "
           "gives the same regexes: llama3, dbrx, glm4, mpt, olmo, jina-v2-de, refact, command-r, stablelm2, ...";
}

/* ------------------------------------------------------------ splitting one segment */

#define OUT_OF_RANGE 0xFFFFFFFFu

typedef struct splitter {
    const uint32_t *cpt;
    const uint16_t *flags;
    size_t ini, end;  /* the segment being split */
    size_t prev_end;  /* where the next word starts */
    uint32_t *out;    /* word lengths */
    size_t n_out;
} splitter;

/* llama.cpp's _get_cpt / _get_flags: nothing outside the segment (flags 0) */
static inline uint32_t cpt_at(const splitter *s, size_t pos) { return pos < s->end ? s->cpt[pos] : OUT_OF_RANGE; }
static inline uint16_t flags_at(const splitter *s, size_t pos) { return pos < s->end ? s->flags[pos] : 0; }

/* Ends the current word at `end` (nothing when empty); returns its length. */
static size_t add_word(splitter *s, size_t end) {
    size_t len = end - s->prev_end;
    if (len > 0) s->out[s->n_out++] = (uint32_t)len;
    s->prev_end = end;
    return len;
}

/* 's 't 're 've 'm 'll 'd at pos (within the segment): their length, or 0. fold: the
 * letters in either case (llama.cpp's unicode_tolower; the only non-ASCII code points
 * it maps into ASCII are U+0130 -> 'i' and U+212A -> 'k', neither used here). */
static size_t contraction(const splitter *s, size_t pos, int fold) {
    if (s->cpt[pos] != '\'' || pos + 1 >= s->end) return 0;
    uint32_t a = s->cpt[pos + 1];
    if (fold && a >= 'A' && a <= 'Z') a += 32;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (pos + 2 >= s->end) return 0;
    uint32_t b = s->cpt[pos + 2];
    if (fold && b >= 'A' && b <= 'Z') b += 32;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

/* The whitespace alternatives at the end of the gpt2 / llama3 patterns, and the
 * "no match" fallback: ends a word and returns the new position.
 * with_newlines: llama3's \s*[\r\n]+ first (up to the last CR/LF of the run). */
static size_t whitespace_word(splitter *s, size_t pos, int with_newlines) {
    size_t n_ws = 0, last_rn = 0;
    while (flags_at(s, pos + n_ws) & GE_CPT_WS) {
        uint32_t c = cpt_at(s, pos + n_ws);
        if (with_newlines && (c == '\r' || c == '\n')) last_rn = pos + n_ws + 1;
        n_ws++;
    }
    if (last_rn > 0) pos = last_rn;                           /* \s*[\r\n]+  */
    else if (n_ws > 1 && pos + n_ws < s->end) pos += n_ws - 1; /* \s+(?!\S): not the last one before non-space */
    else if (n_ws > 0) pos += n_ws;                            /* \s+         */
    else pos++;                                                /* no match    */
    add_word(s, pos);
    return pos;
}

/* unicode_regex_split_custom_gpt2 */
static void split_gpt2(splitter *s) {
    for (size_t pos = s->ini; pos < s->end;) {
        const uint32_t cpt = s->cpt[pos];
        const uint16_t flags = s->flags[pos];
        size_t k = contraction(s, pos, 0);                 /* 's|'t|'re|'ve|'m|'ll|'d */
        if (k) {
            pos += add_word(s, pos + k);
            continue;
        }
        /* " ?X+" for X = \p{L}, \p{N}, [^\s\p{L}\p{N}]: the class of the code point
         * after an optional space */
        const uint16_t f2 = cpt == ' ' ? flags_at(s, pos + 1) : flags;
        const uint16_t other = GE_CPT_WS | GE_CPT_LETTER | GE_CPT_NUMBER;
        if (f2 & (GE_CPT_LETTER | GE_CPT_NUMBER)) {
            const uint16_t cls = f2 & (GE_CPT_LETTER | GE_CPT_NUMBER);
            pos += cpt == ' ';
            while (flags_at(s, pos) & cls) pos++;
            add_word(s, pos);
            continue;
        }
        if (!(f2 & other) && f2) {
            pos += cpt == ' ';
            while (!(flags_at(s, pos) & other) && flags_at(s, pos)) pos++;
            add_word(s, pos);
            continue;
        }
        pos = whitespace_word(s, pos, 0);                   /* \s+(?!\S) and the rest */
    }
}

/* unicode_regex_split_custom_llama3 (max_digits 3), _qwen2 (max_digits 1: its one-digit
 * words come out the same) and _qwen35 (word = letters and marks). */
static void split_llama3(splitter *s, size_t max_digits, uint16_t word) {
    const uint16_t other = GE_CPT_WS | GE_CPT_NUMBER | word; /* [^\s\p{L}\p{N}] */
    for (size_t pos = s->ini; pos < s->end;) {
        const uint32_t cpt = s->cpt[pos];
        const uint16_t flags = s->flags[pos];
        size_t k = contraction(s, pos, 1);                 /* (?i:'s|'t|'re|'ve|'m|'ll|'d) */
        if (k) {
            pos += add_word(s, pos + k);
            continue;
        }
        /* [^\r\n\p{L}\p{N}]?\p{L}+ : any one code point but CR, LF and numbers may lead */
        if (!(cpt == '\r' || cpt == '\n' || (flags & GE_CPT_NUMBER)) &&
            ((flags & word) || (flags_at(s, pos + 1) & word))) {
            pos++;
            while (flags_at(s, pos) & word) pos++;
            add_word(s, pos);
            continue;
        }
        if (flags & GE_CPT_NUMBER) {                        /* \p{N}{1,3} */
            size_t run = pos;
            while (flags_at(s, pos) & GE_CPT_NUMBER) {
                if (++pos - run >= max_digits) {
                    add_word(s, pos);
                    run = pos;
                }
            }
            add_word(s, pos);
            continue;
        }
        /*  ?[^\s\p{L}\p{N}]+[\r\n]* (llama.cpp tests the flags of the code point itself,
         * not of the one after the space, for being in range: always true here) */
        const uint16_t f2 = cpt == ' ' ? flags_at(s, pos + 1) : flags;
        if (!(f2 & other) && flags) {
            pos += cpt == ' ';
            while (!(flags_at(s, pos) & other) && flags_at(s, pos)) pos++;
            while (cpt_at(s, pos) == '\r' || cpt_at(s, pos) == '\n') pos++;
            add_word(s, pos);
            continue;
        }
        pos = whitespace_word(s, pos, 1);                   /* \s*[\r\n]+|\s+(?!\S)|\s+ */
    }
}

/* The std::regex character classes: does the code point belong? */
static int in_class(int split, uint32_t cpt, uint16_t flags) {
    switch (split) {
    case S_PUNCT_RUNS:          /* [\p{P}\$\+<=>\^~\|]: the collapsed class is the ASCII */
    case S_PUNCT_RUNS_BACKTICK: /* punctuation !-#%-*,-/:-;?-@[-]_{} plus 0xD3 (\p{P} above ASCII) */
        if (flags & GE_CPT_PUNCT) return 1;
        if (split == S_PUNCT_RUNS_BACKTICK && cpt == '`') return 1;
        return cpt < 0x80 && cpt && strchr("$+<=>^~|", (int)cpt) != NULL;
    case S_NUMBER_RUNS:         /* \p{N}: 0-9 plus 0xD1 (\p{N} above ASCII) */
    case S_NUMBER_EACH:
        return (flags & GE_CPT_NUMBER) != 0;
    case S_DIGITS3:             /* [0-9] (std::wregex on the code points) */
        return cpt >= '0' && cpt <= '9';
    case S_NEWLINE_RUNS:
        return cpt == '\n';
    }
    return 0;
}

/* [C]+ (and [^\n]+|[\n]+): maximal runs of members and of non-members alternate. */
static void split_runs(splitter *s, int split) {
    for (size_t pos = s->ini; pos < s->end;) {
        const int member = in_class(split, s->cpt[pos], s->flags[pos]);
        while (pos < s->end && in_class(split, s->cpt[pos], s->flags[pos]) == member) pos++;
        add_word(s, pos);
    }
}

/* [C]: every member alone; the text between members is one word. */
static void split_each(splitter *s, int split) {
    for (size_t pos = s->ini; pos < s->end; pos++) {
        if (in_class(split, s->cpt[pos], s->flags[pos])) {
            add_word(s, pos);
            add_word(s, pos + 1);
        }
    }
    add_word(s, s->end);
}

/* [0-9][0-9][0-9]: the leftmost three digits, again after them; what is between them is
 * one word ("12345a" -> "123" "45a"). */
static void split_digits3(splitter *s) {
    size_t pos = s->ini;
    while (pos + 3 <= s->end) {
        if (in_class(S_DIGITS3, s->cpt[pos], 0) && in_class(S_DIGITS3, s->cpt[pos + 1], 0) &&
            in_class(S_DIGITS3, s->cpt[pos + 2], 0)) {
            add_word(s, pos);
            add_word(s, pos + 3);
            pos += 3;
        } else {
            pos++;
        }
    }
    add_word(s, s->end);
}

const uint32_t *ge_bpe_pre_split(const ge_bpe_pre *pre, const uint32_t *cpt, const uint16_t *flags, size_t n,
                                 uint32_t *a, uint32_t *b, size_t *n_words) {
    /* the text starts as one segment; each split turns the segments in `in` into
     * the words in `out`, which the next split takes as its segments */
    uint32_t *in = a, *out = b;
    size_t n_in = 0;
    if (n > 0) in[n_in++] = (uint32_t)n;
    for (const uint8_t *step = k_chains[pre->type]; *step != S_END; step++) {
        splitter s = {cpt, flags, 0, 0, 0, out, 0};
        size_t start = 0;
        for (size_t i = 0; i < n_in; i++) {
            s.ini = s.prev_end = start;
            s.end = start + in[i];
            start = s.end;
            switch (*step) {
            case S_GPT2: split_gpt2(&s); break;
            case S_LLAMA3: split_llama3(&s, 3, GE_CPT_LETTER); break;
            case S_QWEN2: split_llama3(&s, 1, GE_CPT_LETTER); break;
            case S_QWEN35: split_llama3(&s, 1, GE_CPT_LETTER | GE_CPT_MARK); break;
            case S_NUMBER_EACH: split_each(&s, *step); break;
            case S_DIGITS3: split_digits3(&s); break;
            default: split_runs(&s, *step); break;
            }
        }
        uint32_t *t = in;
        in = out;
        out = t;
        n_in = s.n_out;
    }
    *n_words = n_in;
    return in;
}
