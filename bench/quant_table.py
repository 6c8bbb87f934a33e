#!/usr/bin/env python3
"""The quant table (run by bench/quant.sh): for every weight type of one model, the
size-vs-quality choice users make.

    quant_table.py --ref F32.gguf --model TYPE=FILE... --gguf-bin B --quality-bin Q
                   --texts DIR --corpus corpus.jsonl --out DIR [--llama-bin L]
                   [--threads 2] [--reps 3] [--stride 1] [--command CMD]

Per file: its size; ggufembed's RSS after load and one short call (zero-copy and repacked:
bench_ggufembed --mode load, VmRSS); batch throughput (96 long documents, bench/texts/batch-long.txt,
--threads, the best of --reps passes, repacked and zero-copy), llama.cpp's on the same
file when --llama-bin is given (one context, up to 64 sequences / 2048 tokens per decode,
flash attention auto: the configuration the main bench picks for batches here); and the
cosine of its vectors to the F32 file's (both ggufembed; golden corpus, raw texts: quality.c),
mean and min. Every engine runs in its own process; types are interleaved per round so
machine noise hits them alike. Writes quant-table.{md,json} into --out.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time


def log(msg):
    print(f"[quant {time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {msg}", file=sys.stderr, flush=True)


def run_json(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), r.stderr.strip()[-400:]))
    return json.loads(r.stdout.strip().splitlines()[-1])


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", required=True)
    ap.add_argument("--model", action="append", required=True, help="TYPE=FILE")
    ap.add_argument("--gguf-bin", required=True)
    ap.add_argument("--quality-bin", required=True)
    ap.add_argument("--llama-bin", default="")
    ap.add_argument("--texts", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--stride", type=int, default=1, help="quality on every k-th corpus text")
    ap.add_argument("--docs", default="batch-long.txt")
    ap.add_argument("--command", default="bench/quant.sh")
    a = ap.parse_args()

    models = []
    for spec in a.model:
        t, path = spec.split("=", 1)
        models.append((t, os.path.abspath(path)))
    docs = os.path.join(a.texts, a.docs)
    rows = {t: {"type": t, "file": os.path.basename(p), "size": os.path.getsize(p)} for t, p in models}

    log("quality: cosine to %s (stride %d)" % (os.path.basename(a.ref), a.stride))
    r = subprocess.run([a.quality_bin, a.ref, a.corpus, str(a.stride), "-"] + [p for _, p in models],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("quality failed: " + r.stderr.strip()[-400:])
    for (t, _), line in zip(models, r.stdout.strip().splitlines()):
        rows[t]["quality"] = json.loads(line)
        log("  %s: %s" % (t, rows[t]["quality"]))

    common = ["--threads", str(a.threads), "--text", docs]
    for rnd in range(a.rounds):
        order = models if rnd % 2 == 0 else list(reversed(models))
        for t, p in order:
            r = rows[t]
            for mode, extra in (("repack", []), ("zero-copy", ["--no-repack"])):
                load = run_json([a.gguf_bin, "--model", p, "--mode", "load", "--threads", str(a.threads), "--text",
                                 os.path.join(a.texts, "short.txt")] + extra)
                r.setdefault("rss_kb_" + mode, load["mem_warm"]["rss_kb"])
                b = run_json([a.gguf_bin, "--model", p, "--mode", "batch", "--reps", str(a.reps), "--warmup", "1"] +
                             common + extra)
                r.setdefault("batch_" + mode, []).append(b)
            if a.llama_bin:
                b = run_json([a.llama_bin, "--model", p, "--mode", "batch", "--reps", str(a.reps), "--warmup", "1",
                              "--fa", "auto", "--pack", "64", "--nbatch", "2048", "--ctxs", "1"] + common)
                r.setdefault("batch_llamacpp", []).append(b)
            log("round %d %s done" % (rnd + 1, t))

    def best_eps(runs):  # embeddings per second, best pass of all rounds
        best = None
        for b in runs or []:
            n = b.get("n_docs") or b.get("docs")
            for ms in b.get("samples_ms", []):
                eps = n * 1000.0 / ms
                best = eps if best is None or eps > best else best
        return best

    for r in rows.values():
        for k in ("repack", "zero-copy", "llamacpp"):
            r["eps_" + k] = best_eps(r.get("batch_" + k))

    os.makedirs(a.out, exist_ok=True)
    meta = {"command": a.command, "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "cpu": cpu_name(), "threads": a.threads, "reps": a.reps, "rounds": a.rounds, "docs": a.docs,
            "ref": os.path.basename(a.ref), "stride": a.stride}
    with open(os.path.join(a.out, "quant-table.json"), "w") as f:
        json.dump({"meta": meta, "rows": [rows[t] for t, _ in models]}, f, indent=1)

    q8 = rows.get("Q8_0", {}).get("eps_repack")
    L = ["# Quant table: %s" % os.path.basename(a.ref).replace("-F32.gguf", ""), "",
         "`%s` on %s, %d threads, %s (96 documents), best of %d passes x %d rounds; cosine to the F32 file "
         "on tests/golden/corpus.jsonl%s (raw texts, both run by ggufembed). %s UTC." % (
             a.command, meta["cpu"], a.threads, a.docs, a.reps, a.rounds,
             "" if a.stride == 1 else " (every %d-th text)" % a.stride, meta["date_utc"]), "",
         "| type | file MB | RSS MB zero-copy / repacked | emb/s zero-copy | emb/s repacked | vs own Q8_0 | llama.cpp emb/s | "
         "ggufembed / llama.cpp | cos to F32 mean | min |",
         "|---|---|---|---|---|---|---|---|---|---|"]

    def f(v, fmt):
        return fmt % v if v is not None else "-"
    for t, _ in models:
        r = rows[t]
        q = r["quality"]
        best = max(x for x in (r["eps_repack"], r["eps_zero-copy"]) if x is not None)
        L.append("| %s | %.1f | %s / %s | %s | %s | %s | %s | %s | %.5f | %.5f |" % (
            t, r["size"] / 1e6, f((r["rss_kb_zero-copy"] or 0) / 1024, "%.0f"), f((r["rss_kb_repack"] or 0) / 1024, "%.0f"),
            f(r["eps_zero-copy"], "%.1f"), f(r["eps_repack"], "%.1f"),
            f(r["eps_repack"] / q8 if q8 and r["eps_repack"] else None, "%.2fx"), f(r["eps_llamacpp"], "%.1f"),
            f(best / r["eps_llamacpp"] if r["eps_llamacpp"] else None, "%.2fx"), q["mean"], q["min"]))
    with open(os.path.join(a.out, "quant-table.md"), "w") as f_:
        f_.write("\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
