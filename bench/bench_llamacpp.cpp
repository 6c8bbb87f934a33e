// bench_llamacpp.cpp - the llama.cpp peer of the benchmark, through llama.h only.
//
// Same protocol as bench_ggufembed.c (see bench_common.h), plus llama.cpp's knobs:
//   --fa on|off|auto   flash attention (default on)
//   --pack S           at most S sequences in one llama_decode (default 1 = one document
//                      per decode); sequences are packed until --nbatch tokens are full,
//                      exactly like llama-embedding does with many prompts
//   --nbatch T         n_ctx = n_batch = n_ubatch = T tokens (default 2048, the model's
//                      context: the same capability as ggufembed)
//   --ctxs P           P contexts on the one model, each with threads/P threads, working
//                      on contiguous shares of the documents in parallel (batch mode)
// Every timed call goes text -> tokens -> llama_decode -> pooled (model's pooling, MEAN)
// -> L2-normalized vector, like ggufembed_embed.
#include "llama.h"

extern "C" {
#include "bench_common.h"
}

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Cfg {
    llama_flash_attn_type fa = LLAMA_FLASH_ATTN_TYPE_ENABLED;
    int pack = 1;
    int nbatch = 2048;
    int ctxs = 1;
};

void log_cb(enum ggml_log_level level, const char *text, void *) {
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

[[noreturn]] void die(const char *msg) {
    fprintf(stderr, "bench_llamacpp: %s\n", msg);
    exit(1);
}

struct Worker {
    llama_context *ctx = nullptr;
    llama_batch batch{};
    int n_embd = 0;
    const llama_vocab *vocab = nullptr;
    Cfg cfg;
    std::vector<llama_token> tok;

    void tokenize(const char *text, size_t len, std::vector<llama_token> &out) {
        if (tok.size() < len + 16) tok.resize(len + 16);
        int n = llama_tokenize(vocab, text, (int32_t)len, tok.data(), (int32_t)tok.size(), true, true);
        if (n < 0) {
            tok.resize((size_t)-n);
            n = llama_tokenize(vocab, text, (int32_t)len, tok.data(), (int32_t)tok.size(), true, true);
            if (n < 0) die("llama_tokenize failed");
        }
        out.assign(tok.begin(), tok.begin() + n);
    }

    void flush(int n_seq, float *out) {
        if (batch.n_tokens == 0) return;
        llama_memory_clear(llama_get_memory(ctx), true);  // no memory for this model: no-op
        if (llama_decode(ctx, batch) != 0) die("llama_decode failed");
        for (int s = 0; s < n_seq; s++) {
            const float *e = llama_get_embeddings_seq(ctx, s);
            if (!e) die("no pooled embedding (pooling type NONE?)");
            double ss = 0;
            for (int i = 0; i < n_embd; i++) ss += (double)e[i] * e[i];
            const float inv = ss > 0 ? (float)(1.0 / std::sqrt(ss)) : 0.0f;
            for (int i = 0; i < n_embd; i++) out[(size_t)s * n_embd + i] = e[i] * inv;
        }
        batch.n_tokens = 0;
    }

    // Embeds docs[0..n) into out (n * n_embd floats); returns total tokens.
    long embed(char **docs, const size_t *lens, size_t n, float *out) {
        std::vector<llama_token> ids;
        long total = 0;
        int s = 0;
        float *dst = out;
        batch.n_tokens = 0;
        for (size_t d = 0; d < n; d++) {
            tokenize(docs[d], lens[d], ids);
            if ((int)ids.size() > cfg.nbatch) die("document longer than --nbatch tokens");
            if (batch.n_tokens + (int)ids.size() > cfg.nbatch || s >= cfg.pack) {
                flush(s, dst);
                dst += (size_t)s * n_embd;
                s = 0;
            }
            for (size_t i = 0; i < ids.size(); i++) {
                const int k = batch.n_tokens++;
                batch.token[k] = ids[i];
                batch.pos[k] = (llama_pos)i;
                batch.n_seq_id[k] = 1;
                batch.seq_id[k][0] = s;
                batch.logits[k] = 1;
            }
            total += (long)ids.size();
            s++;
        }
        flush(s, dst);
        return total;
    }
};

}  // namespace

int main(int argc, char **argv) {
    bench_opts o;
    bench_opts_init(&o);
    Cfg cfg;
    for (int i = 1; i < argc; i++) {
        int r = bench_opts_parse(&o, argc, argv, &i);
        if (r == 1) continue;
        if (r < 0) die("missing option value");
        std::string a = argv[i];
        auto val = [&]() -> const char * {
            if (i + 1 >= argc) die("missing option value");
            return argv[++i];
        };
        if (a == "--fa") {
            std::string v = val();
            cfg.fa = v == "on" ? LLAMA_FLASH_ATTN_TYPE_ENABLED
                   : v == "off" ? LLAMA_FLASH_ATTN_TYPE_DISABLED : LLAMA_FLASH_ATTN_TYPE_AUTO;
        } else if (a == "--pack") {
            cfg.pack = atoi(val());
        } else if (a == "--nbatch") {
            cfg.nbatch = atoi(val());
        } else if (a == "--ctxs") {
            cfg.ctxs = atoi(val());
        } else {
            fprintf(stderr, "bench_llamacpp: unknown option %s\n", argv[i]);
            return 1;
        }
    }
    if (!o.model || !o.text) die("--model and --text are required");
    if (cfg.pack < 1 || cfg.pack > 256 || cfg.nbatch < 16 || cfg.ctxs < 1 || o.threads < 1) die("bad option value");
    const std::string mode = o.mode;
    if (mode != "latency" && mode != "batch" && mode != "load") die("--mode must be load, latency or batch");
    if (mode != "batch") cfg.ctxs = 1;

    size_t text_len = 0;
    char *text = bench_read_file(o.text, &text_len);
    if (!text) die("cannot read --text file");
    char **docs = nullptr;
    size_t *lens = nullptr;
    size_t n_docs;
    if (mode == "batch") {
        n_docs = bench_split_lines(text, text_len, &docs, &lens);
        if (o.n_docs > 0 && (size_t)o.n_docs < n_docs) n_docs = (size_t)o.n_docs;
    } else {
        text_len = bench_chomp(text, text_len);
        docs = &text;
        lens = &text_len;
        n_docs = 1;
    }
    if (n_docs == 0) die("no text");

    llama_log_set(log_cb, nullptr);
    const bench_mem m0 = bench_mem_now();
    const double t0 = bench_now_ms();
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model *model = llama_model_load_from_file(o.model, mp);
    if (!model) die("cannot load the model");
    const int threads_per_ctx = std::max(1, o.threads / cfg.ctxs);
    std::vector<Worker> workers((size_t)cfg.ctxs);
    for (auto &w : workers) {
        llama_context_params cp = llama_context_default_params();
        cp.n_ctx = (uint32_t)cfg.nbatch;
        cp.n_batch = (uint32_t)cfg.nbatch;
        cp.n_ubatch = (uint32_t)cfg.nbatch;  // non-causal: a decode is one ubatch
        cp.n_seq_max = (uint32_t)cfg.pack;
        cp.kv_unified = true;                // as llama-embedding: every sequence may use n_ctx
        cp.n_threads = threads_per_ctx;
        cp.n_threads_batch = threads_per_ctx;
        cp.embeddings = true;
        cp.pooling_type = LLAMA_POOLING_TYPE_UNSPECIFIED;  // from the model (MEAN)
        cp.flash_attn_type = cfg.fa;
        cp.no_perf = true;
        w.ctx = llama_init_from_model(model, cp);
        if (!w.ctx) die("cannot create a context");
        w.batch = llama_batch_init(cfg.nbatch, 0, 1);
        w.n_embd = llama_model_n_embd_out(model);
        w.vocab = llama_model_get_vocab(model);
        w.cfg = cfg;
    }
    const double load_ms = bench_now_ms() - t0;
    const bench_mem m_load = bench_mem_now();
    const int n_embd = workers[0].n_embd;
    if (llama_pooling_type(workers[0].ctx) == LLAMA_POOLING_TYPE_NONE) die("model has no pooling");

    std::vector<float> out((size_t)n_embd * n_docs);
    std::vector<double> samples;
    long tokens = 0;
    bench_mem m_warm;

    // Runs docs [0, n) over all workers in parallel (contiguous shares); returns tokens.
    auto run_all = [&](size_t n) -> long {
        if (workers.size() == 1) return workers[0].embed(docs, lens, n, out.data());
        std::vector<long> tok(workers.size(), 0);
        std::vector<std::thread> th;
        const size_t per = (n + workers.size() - 1) / workers.size();
        for (size_t k = 0; k < workers.size(); k++) {
            const size_t b = std::min(n, k * per), e = std::min(n, b + per);
            th.emplace_back([&, k, b, e]() {
                if (e > b) tok[k] = workers[k].embed(docs + b, lens + b, e - b, out.data() + b * n_embd);
            });
        }
        for (auto &t : th) t.join();
        long s = 0;
        for (long v : tok) s += v;
        return s;
    };

    if (mode == "load") {
        tokens = run_all(1);
        m_warm = bench_mem_now();
    } else if (mode == "latency") {
        for (int r = 0; r < o.warmup; r++) tokens = workers[0].embed(docs, lens, 1, out.data());
        m_warm = bench_mem_now();
        for (int r = 0; r < o.reps; r++) {
            const double a = bench_now_ms();
            tokens = workers[0].embed(docs, lens, 1, out.data());
            samples.push_back(bench_now_ms() - a);
        }
    } else {
        for (int r = 0; r < o.warmup; r++) run_all(std::min<size_t>(n_docs, 16));
        m_warm = bench_mem_now();
        for (int r = 0; r < o.reps; r++) {
            const double a = bench_now_ms();
            tokens = run_all(n_docs);
            samples.push_back(bench_now_ms() - a);
        }
    }
    const bench_mem m_end = bench_mem_now();

    FILE *f = stdout;
    fprintf(f, "{\"engine\":\"llama.cpp\",\"mode\":\"%s\",\"label\":\"%s\",\"threads\":%d,", o.mode, o.label, o.threads);
    fprintf(f, "\"config\":{\"fa\":\"%s\",\"pack\":%d,\"nbatch\":%d,\"ctxs\":%d,\"threads_per_ctx\":%d},",
            cfg.fa == LLAMA_FLASH_ATTN_TYPE_ENABLED ? "on" : cfg.fa == LLAMA_FLASH_ATTN_TYPE_DISABLED ? "off" : "auto",
            cfg.pack, cfg.nbatch, cfg.ctxs, threads_per_ctx);
    fprintf(f, "\"n_docs\":%zu,\"tokens\":%ld,\"load_ms\":%.3f,", mode == "batch" ? n_docs : (size_t)1, tokens, load_ms);
    bench_json_mem(f, "mem_start", m0);
    fputc(',', f);
    bench_json_mem(f, "mem_load", m_load);
    fputc(',', f);
    bench_json_mem(f, "mem_warm", m_warm);
    fputc(',', f);
    bench_json_mem(f, "mem_end", m_end);
    fputc(',', f);
    bench_json_doubles(f, "samples_ms", samples.data(), samples.size(), "%.4f");
    if (o.vector) {
        fputc(',', f);
        bench_json_floats(f, "vector", out.data(), (size_t)n_embd);
    }
    std::string sys = llama_print_system_info();
    for (auto &c : sys) if (c == '"' || c == '\\' || (unsigned char)c < 32) c = ' ';
    fprintf(f, ",\"system_info\":\"%s\"}\n", sys.c_str());
    fflush(f);

    for (auto &w : workers) {
        llama_batch_free(w.batch);
        llama_free(w.ctx);
    }
    llama_model_free(model);
    llama_backend_free();
    free(text);
    if (mode == "batch") { free(docs); free(lens); }
    return 0;
}
