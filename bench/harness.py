#!/usr/bin/env python3
"""bench/harness.py - runs every benchmark scenario and writes results.{md,json}.

Called by bench/run.sh, which builds the drivers and fetches the model first. Standard
library only. Each engine runs in its own process per scenario (so RSS is per engine);
runs of the engines are interleaved (ggufembed, llama.cpp[, node-llama-cpp]) and the order
is reversed every other round, so that drifting machine load hits all of them. Phases:
  1. limits: memory read bandwidth and int8 dot-product peaks (bench/limits.c);
  2. peer tuning: every configuration of each peer once per scenario and thread count;
     the fastest one is kept for that scenario (never a handicapped peer);
  3. R rounds of the interleaved scenarios, ggufembed vs the tuned peers;
  4. the browser half (wasm_scenarios): ggufembed-wasm vs wllama in headless Chromium, one
     bench/bench_wasm_browser.mjs process with its own interleaved rounds (when --browser);
  5. limits again (the better of the two measurements counts), then the report.
"""
import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

# ----------------------------------------------------------------------------- cost model
# EmbeddingGemma-300M (../shared/reference/embeddinggemma.md): 101.5M parameters in the
# layers (int8 MACs per token), 107.8 MB of Q8_0 layer weights streamed once per forward
# pass; attention 3072*L FLOP = 1536*L MACs per token per layer (L = keys visible);
# 24 layers, 4 global (5, 11, 17, 23), 20 local with a symmetric window of +-256.
MACS_PER_TOKEN = 101.5e6
WEIGHT_BYTES = 107.8e6
N_LAYERS, N_GLOBAL, HALF_WINDOW = 24, 4, 256


def forward_macs(n):
    """int8-MAC equivalents of one forward pass over n tokens (linear + attention)."""
    n = int(round(n))
    local_keys = 0
    for i in range(n):
        local_keys += min(n - 1, i + HALF_WINDOW) - max(0, i - HALF_WINDOW) + 1
    attn = 1536 * (N_GLOBAL * n * n + (N_LAYERS - N_GLOBAL) * local_keys)
    return n * MACS_PER_TOKEN + attn


# ----------------------------------------------------------------------------- scenarios
LATENCY = [  # name, file, label, (reps, warmup) full, (reps, warmup) smoke, tuning reps
    ("short", "short.txt", "short text (9 words)", (30, 3), (2, 1), 8),
    ("long", "long.txt", "long text (49 words)", (20, 2), (2, 1), 5),
    ("xlong", "xlong.txt", "extra-long text (398 words)", (5, 1), (1, 0), 2),
]
BATCH = [  # name, file, label
    ("batch-short", "batch-short.txt", "short"),
    ("batch-long", "batch-long.txt", "long"),
]
BATCH_DOCS_FULL, BATCH_DOCS_SMOKE, BATCH_DOCS_TUNE = 96, 4, 32
BATCH_REPS_FULL = 1  # timed passes per process (x rounds)
TUNE_PASSES = 2
PEERS = ("llama.cpp", "node-llama-cpp")
KEY = {"ggufembed": "ggufembed", "llama.cpp": "llamacpp", "node-llama-cpp": "nodellamacpp", "ggufembed-wasm": "wasm"}
WASM_ROUNDS = 1  # ggufembed-wasm (Node) runs in the first round only: it is slow, and optional


def latency_configs(peer, smoke):
    return [dict(fa=fa, pack=1, nbatch=2048, ctxs=1) for fa in (("on",) if smoke else ("on", "off"))]


def batch_configs(peer, threads, smoke):
    cs = []
    for fa in (("on",) if smoke else ("on", "off")):
        cs.append(dict(fa=fa, pack=1, nbatch=2048, ctxs=1))              # one document per decode
        if peer == "llama.cpp":
            cs.append(dict(fa=fa, pack=64, nbatch=512, ctxs=1))          # many sequences per decode
            if not smoke:
                cs.append(dict(fa=fa, pack=64, nbatch=2048, ctxs=1))
        if threads > 1:                                                  # parallel 1-thread contexts
            cs.append(dict(fa=fa, pack=1, nbatch=2048, ctxs=threads))
            if peer == "llama.cpp" and not smoke:
                cs.append(dict(fa=fa, pack=64, nbatch=512, ctxs=threads))
    return cs


def config_name(c, threads):
    if not c:
        return ""
    ctx = f"{c['ctxs']} x {max(1, threads // c['ctxs'])}-thread contexts" if c["ctxs"] > 1 else f"1 context x {threads} thread(s)"
    seq = "1 sequence per decode" if c["pack"] == 1 else f"up to {c['pack']} sequences / {c['nbatch']} tokens per decode"
    return f"{ctx}, {seq}, n_ctx=n_batch=n_ubatch={c['nbatch']}, flash attention {c['fa']}"


def peer_args(peer, c):
    if peer == "llama.cpp":
        return ["--fa", c["fa"], "--pack", str(c["pack"]), "--nbatch", str(c["nbatch"]), "--ctxs", str(c["ctxs"])]
    return ["--fa", c["fa"], "--ctxs", str(c["ctxs"])]


# ----------------------------------------------------------------------------- helpers
def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {msg}", file=sys.stderr, flush=True)


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = (len(xs) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def median(xs):
    return statistics.median(xs) if xs else None


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        return ""


def throughput(rec):
    return [rec["n_docs"] / (ms / 1e3) for ms in rec["samples_ms"] if ms > 0]


def score(rec, kind):
    """Higher is better."""
    if rec is None or not rec["samples_ms"]:
        return -1e18
    if kind == "latency":
        return -median(rec["samples_ms"])
    return median(throughput(rec))


class Runner:
    def __init__(self, args, commands):
        self.args = args
        self.commands = commands  # engine -> argv prefix
        self.records = []
        self.errors = []
        self.loads = []
        os.makedirs(args.out, exist_ok=True)
        self.progress = os.path.join(args.out, "records.jsonl.tmp")
        if os.path.exists(self.progress):
            os.remove(self.progress)

    def run(self, engine, mode, text, threads, reps, warmup, extra=(), n_docs=0, vector=0, label="", phase="main"):
        cmd = list(self.commands[engine]) + [
            "--model", self.args.model, "--mode", mode, "--text", text, "--threads", str(threads),
            "--reps", str(reps), "--warmup", str(warmup), "--label", label, "--vector", str(vector)]
        if n_docs:
            cmd += ["--n", str(n_docs)]
        cmd += list(extra)
        load_before = os.getloadavg()[0]
        t0 = time.time()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=self.args.timeout)
        except subprocess.TimeoutExpired:
            self.errors.append(dict(cmd=" ".join(cmd), error=f"timeout after {self.args.timeout}s"))
            log(f"TIMEOUT {engine} {label} t={threads}")
            return None
        wall = time.time() - t0
        if p.returncode != 0 or not p.stdout.strip():
            self.errors.append(dict(cmd=" ".join(cmd), error=f"exit {p.returncode}: {p.stderr.strip()[-500:]}"))
            log(f"FAILED {engine} {label} t={threads}: {p.stderr.strip()[-300:]}")
            return None
        rec = json.loads(p.stdout.strip().splitlines()[-1])
        rec.update(engine=engine, phase=phase, wall_s=round(wall, 3), loadavg_before=round(load_before, 2),
                   loadavg_after=round(os.getloadavg()[0], 2))
        self.loads.append(rec["loadavg_after"])
        self.records.append(rec)
        if self.progress:  # every record as it comes (bench/results/*.tmp is git-ignored)
            with open(self.progress, "a") as f:
                f.write(json.dumps({k: v for k, v in rec.items() if k != "vector"}) + "\n")
        return rec


# ----------------------------------------------------------------------------- machine
def machine_info():
    cpu = ""
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and not cpu:
                    cpu = line.split(":", 1)[1].strip()
                if line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    mem_kb = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem_kb = int(line.split()[1])
    except OSError:
        pass
    l3, family_model = "", ""
    for line in sh(["lscpu"]).splitlines():
        if line.startswith("L3 cache"):
            l3 = line.split(":", 1)[1].strip()
    try:
        with open("/proc/cpuinfo") as f:
            txt = f.read()
        fam = next(l.split(":")[1].strip() for l in txt.splitlines() if l.startswith("cpu family"))
        mod = next(l.split(":")[1].strip() for l in txt.splitlines() if l.startswith("model\t"))
        family_model = f"family {fam} model {mod}"
    except Exception:
        pass
    cc = sh(["cc", "--version"])
    return dict(
        cpu=cpu, family_model=family_model, cores=os.cpu_count(), memory_gib=round(mem_kb / 1024 / 1024, 1), l3=l3,
        isa=[x for x in ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni") if x in flags],
        hypervisor="hypervisor" in flags, kernel=platform.release(),
        cc=cc.splitlines()[0] if cc else "", node=sh(["node", "--version"]),
    )


def model_info(path):
    """Path, size, sha256 and kind of the GGUF (from scripts/fetch-model.sh's notes next to it)."""
    info = dict(path=path, size=os.path.getsize(path) if os.path.exists(path) else None, sha256="", kind="")
    try:
        with open(path + ".sha256-ok") as f:
            info["sha256"] = f.read().split()[3]
    except (OSError, IndexError):
        pass
    try:
        with open(path + ".source") as f:
            for line in f:
                if line.startswith("kind:"):
                    info["kind"] = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return info


def merge_limits(runs):
    """The best of every measurement (peaks); all measurements are kept under 'measurements'."""
    out = {k: v for k, v in runs[0].items() if k not in ("when", "loadavg")}
    out["bandwidth_gbs"] = {T: max((m["bandwidth_gbs"][T] for m in runs), key=lambda v: v["best"])
                            for T in runs[0]["bandwidth_gbs"]}
    for key in ("int8_avx2_gmacs", "int8_avx512vnni_gmacs"):
        if runs[0].get(key):
            out[key] = {T: max(m[key][T] for m in runs) for T in runs[0][key]}
    out["measurements"] = runs
    return out


# ----------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--quick", action="store_true", help="development: the full-run code paths (tuning, all "
                    "engines) with smoke-sized counts; results are meaningless")
    ap.add_argument("--model", required=True)
    ap.add_argument("--gguf-bin", required=True)
    ap.add_argument("--llama-bin", default="")
    ap.add_argument("--llama-info", default="")
    ap.add_argument("--llama-skip-reason", default="")
    ap.add_argument("--nlc-dir", default="", help="dir with node_modules/node-llama-cpp")
    ap.add_argument("--nlc-skip-reason", default="")
    ap.add_argument("--wasm-pkg", default="", help="the npm package dir (js/) with a built dist/node.js")
    ap.add_argument("--wasm-skip-reason", default="")
    ap.add_argument("--browser", action="store_true", help="run bench/bench_wasm_browser.mjs (ggufembed-wasm vs wllama in Chromium)")
    ap.add_argument("--browser-skip-reason", default="")
    ap.add_argument("--browser-wllama-dir", default="", help="dir with node_modules/@wllama/wllama (bench/install-wllama.sh)")
    ap.add_argument("--browser-pkg", default="", help="the npm package dir (js/) with a built dist/browser.js")
    ap.add_argument("--browser-rounds", type=int, default=0, help="browser rounds (default: the driver's, 2; smoke 1)")
    ap.add_argument("--browser-reps", default="", help="browser latency reps short,long,xlong (default: the driver's)")
    ap.add_argument("--browser-timeout", type=int, default=4 * 3600)
    ap.add_argument("--limits-bin", required=True)
    ap.add_argument("--texts", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--repo-rev", default="")
    args = ap.parse_args()
    smoke = args.smoke
    quick = args.quick and not smoke
    if quick:
        global BATCH_DOCS_FULL, BATCH_DOCS_TUNE, LATENCY
        BATCH_DOCS_FULL, BATCH_DOCS_TUNE = BATCH_DOCS_SMOKE, BATCH_DOCS_SMOKE
        LATENCY = [(n, f, l, sm, sm, 1) for n, f, l, _full, sm, _t in LATENCY]
    rounds = args.rounds or (1 if smoke else 3)
    threads_list = [int(t) for t in args.threads.split(",") if t.strip()]
    texts = args.texts
    t_start = time.time()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load_start = os.getloadavg()

    commands = {"ggufembed": [args.gguf_bin]}
    if args.llama_bin:
        commands["llama.cpp"] = [args.llama_bin]
    if args.nlc_dir:
        commands["node-llama-cpp"] = ["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_nodellamacpp.mjs"),
                                      "--lib", args.nlc_dir]
    if args.wasm_pkg:
        commands["ggufembed-wasm"] = ["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_wasm_node.mjs"),
                                      "--pkg", args.wasm_pkg]
    peers = [p for p in PEERS if p in commands]
    R = Runner(args, commands)

    # 1. limits (measured again before every round and at the end: they are peaks, so
    # the best of all measurements counts; a busy machine can only make them look lower)
    lim_cmd = [args.limits_bin, "--threads-max", str(max(threads_list))]
    lim_cmd += ["--mb", "128", "--seconds", "0.02"] if smoke else ["--mb", "1024", "--seconds", "0.5"]
    limit_runs = []

    def measure_limits(when):
        log(f"measuring the machine's limits (bandwidth, int8 peak): {when}")
        m = json.loads(subprocess.run(lim_cmd, capture_output=True, text=True, check=True).stdout)
        m.update(when=when, loadavg=round(os.getloadavg()[0], 2))
        limit_runs.append(m)

    measure_limits("start")

    # 2. peer tuning: every configuration TUNE_PASSES times (the second pass in reverse
    # order), a configuration's score is its best try (interference only slows runs down).
    # A smoke run skips it and takes fixed configurations that still go through every code
    # path of the drivers (packed decodes, parallel contexts).
    tuning = []
    chosen = {}  # (peer, scenario, threads) -> config
    if smoke:
        for peer in peers:
            for T in threads_list:
                for name, *_ in LATENCY:
                    chosen[(peer, name, T)] = latency_configs(peer, True)[0]
                for k, (name, *_r) in enumerate(BATCH):
                    cs = batch_configs(peer, T, True)
                    chosen[(peer, name, T)] = cs[(k + T) % len(cs)]

    def tune(peer, T, kind, name, fname, configs, reps, warm, n_docs=0):
        best = {}
        for p in range(TUNE_PASSES):
            for c in (configs if p % 2 == 0 else list(reversed(configs))):
                rec = R.run(peer, kind, os.path.join(texts, fname), T, reps, warm, peer_args(peer, c),
                            n_docs=n_docs, label=name, phase="tuning")
                sc = score(rec, kind)
                key = json.dumps(c, sort_keys=True)
                best[key] = max(best.get(key, -1e18), sc)
                t = dict(engine=peer, scenario=name, threads=T, config=c, name=config_name(c, T), try_=p + 1,
                         peak_rss_mb=None if rec is None else rec["mem_end"]["hwm_kb"] / 1024)
                if kind == "latency":
                    t["median_ms"] = None if rec is None else median(rec["samples_ms"])
                else:
                    t["emb_per_s"] = None if rec is None else median(throughput(rec))
                tuning.append(t)
                log(f"tune {peer} {name} t={T} {config_name(c, T)}: "
                    f"{t.get('median_ms', t.get('emb_per_s'))} {'ms' if kind == 'latency' else 'emb/s'}")
        chosen[(peer, name, T)] = json.loads(max(best, key=lambda k: best[k]))

    for peer in ([] if smoke else peers):
        for T in threads_list:
            for name, fname, _label, _full, _sm, tune_reps in LATENCY:
                tune(peer, T, "latency", name, fname, latency_configs(peer, False), tune_reps, 1)
            for name, fname, _label in BATCH:
                tune(peer, T, "batch", name, fname, batch_configs(peer, T, False), 1, 1, BATCH_DOCS_TUNE)

    # 3. interleaved rounds
    for r in range(rounds):
        engines = ["ggufembed"] + peers + (["ggufembed-wasm"] if "ggufembed-wasm" in commands and r < WASM_ROUNDS else [])
        order = engines if r % 2 == 0 else list(reversed(engines))
        if r > 0 and not smoke:
            measure_limits(f"before round {r + 1}")
        log(f"round {r + 1}/{rounds}: order {' / '.join(order)}")
        for T in threads_list:
            for name, fname, _label, full, sm, _tr in LATENCY:
                reps, warm = sm if smoke else full
                for eng in order:
                    extra = peer_args(eng, chosen[(eng, name, T)]) if eng in peers else []
                    rec = R.run(eng, "latency", os.path.join(texts, fname), T, reps, warm, extra,
                                vector=1 if r == 0 else 0, label=name)
                    if rec:
                        log(f"{eng:14s} {name:11s} t={T} p50 {median(rec['samples_ms']):.1f} ms")
            for name, fname, _label in BATCH:
                n = BATCH_DOCS_SMOKE if smoke else BATCH_DOCS_FULL
                reps = 1 if smoke else BATCH_REPS_FULL
                for eng in order:
                    extra = peer_args(eng, chosen[(eng, name, T)]) if eng in peers else []
                    rec = R.run(eng, "batch", os.path.join(texts, fname), T, reps, 0 if smoke else 1, extra,
                                n_docs=n, label=name)
                    if rec:
                        log(f"{eng:14s} {name:11s} t={T} {median(throughput(rec)):.2f} emb/s")

    # 4. the browser half: ggufembed-wasm vs wllama in headless Chromium
    browser = wasm_scenarios(args, smoke, threads_list, R)

    # 5. the limits once more, then the report
    measure_limits("end")
    limits = merge_limits(limit_runs)

    report = build_report(args, smoke, rounds, threads_list, limits, tuning, chosen, R, peers, "ggufembed-wasm" in commands,
                          started, load_start, time.time() - t_start, browser)
    os.makedirs(args.out, exist_ok=True)
    write_json(os.path.join(args.out, "results.json"), report)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(render_md(report))
    os.remove(R.progress)
    log(f"wrote {args.out}/results.md and results.json in {time.time() - t_start:.0f} s")
    if R.errors:
        log(f"{len(R.errors)} run(s) failed:")
        for e in R.errors:
            log(f"  {e['cmd']}: {e['error']}")
        return 1
    return 0


def write_json(path, report):
    """Indented, except the raw records: one line each (smaller file, readable diffs)."""
    rep = dict(report)
    raw = rep.pop("raw", [])
    text = json.dumps(rep, indent=1)
    assert text.endswith("\n}")
    text = text[:-2] + ',\n "raw": [\n  ' + ",\n  ".join(json.dumps(r) for r in raw) + "\n ]\n}\n"
    with open(path, "w") as f:
        f.write(text)


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na > 0 and nb > 0 else float("nan")


def engine_stats(recs, eng, T):
    def sel(label):
        return [r for r in recs if r["engine"] == eng and r["label"] == label and r["threads"] == T]

    m = {}
    lat_recs = [r for name, *_ in LATENCY for r in sel(name)]
    if lat_recs:
        m["load_ms"] = median([r["load_ms"] for r in lat_recs])
        m["rss_load_mb"] = median([r["mem_load"]["rss_kb"] for r in lat_recs]) / 1024
        m["anon_load_mb"] = median([r["mem_load"]["anon_kb"] for r in lat_recs]) / 1024
    short = sel("short")
    if short:
        m["rss_idle_mb"] = median([r["mem_warm"]["rss_kb"] for r in short]) / 1024
        m["anon_idle_mb"] = median([r["mem_warm"]["anon_kb"] for r in short]) / 1024
    for name, *_ in LATENCY:
        rs = sel(name)
        xs = [x for r in rs for x in r["samples_ms"]]
        if xs:
            m[f"{name}_p50_ms"] = percentile(xs, 50)
            m[f"{name}_p95_ms"] = percentile(xs, 95)
            m[f"{name}_n"] = len(xs)
            m[f"{name}_tokens"] = rs[0]["tokens"]
    for name, *_ in BATCH:
        rs = sel(name)
        xs = [x for r in rs for x in throughput(r)]
        if xs:
            m[f"{name}_emb_s"] = median(xs)
            m[f"{name}_n"] = len(xs)
            m[f"{name}_tokens_per_doc"] = rs[0]["tokens"] / rs[0]["n_docs"]
            m[f"{name}_docs"] = rs[0]["n_docs"]
            m[f"{name}_peak_rss_mb"] = median([r["mem_end"]["hwm_kb"] for r in rs]) / 1024
            m[f"{name}_peak_anon_mb"] = max(r["mem_end"]["anon_kb"] for r in rs) / 1024
    return m


def build_report(args, smoke, rounds, threads_list, limits, tuning, chosen, R, peers, has_wasm, started, load_start, elapsed,
                 browser=None):
    recs = [r for r in R.records if r["phase"] == "main"]
    bw = {int(k): v["best"] for k, v in limits["bandwidth_gbs"].items()}
    avx2 = {int(k): v for k, v in limits["int8_avx2_gmacs"].items()}
    vnni = {int(k): v for k, v in (limits.get("int8_avx512vnni_gmacs") or {}).items()}
    # the machine's int8 ceiling: the best int8 dot-product peak it has (AVX-512 VNNI here,
    # which both ggufembed and llama.cpp use when present), AVX2 otherwise
    peak = {T: max(v, vnni.get(T) or 0.0) for T, v in avx2.items()}
    engines = ["ggufembed"] + list(peers) + (["ggufembed-wasm"] if has_wasm else [])
    stats = {(e, T): engine_stats(recs, e, T) for e in engines for T in threads_list}
    has_llama = "llama.cpp" in peers

    rows = []
    LAT, TP, MEM = ("<= 0.5", 0.5, "le"), (">= 2", 2.0, "ge"), ("<= 0.5", 0.5, "le")

    def add(metric, label, unit, T, target=None, work=None, kind=None, cfg=None):
        row = dict(metric=metric, scenario=label, unit=unit, threads=T)
        for e in engines:
            row[KEY[e]] = stats[(e, T)].get(metric)
            if e in peers:
                row[f"{KEY[e]}_config"] = config_name(chosen.get((e, cfg, T)), T) if cfg else "latency-scenario configurations"
        g, l = row["ggufembed"], row.get("llamacpp")
        row["ratio"] = g / l if (g is not None and l) else None
        if has_wasm and g and row.get("wasm") is not None:
            row["wasm_vs_native"] = row["wasm"] / g
        if target:
            row["target"] = target[0]
            if row["ratio"] is not None:
                row["target_met"] = row["ratio"] <= target[1] if target[2] == "le" else row["ratio"] >= target[1]
        if work is not None:
            macs, passes = work  # per unit (one call / one document)
            floor_s = max(macs / (peak[T] * 1e9), passes * WEIGHT_BYTES / (bw[T] * 1e9))
            row["floor"] = floor_s * 1e3 if kind == "latency" else 1.0 / floor_s
            row["floor_unit"] = "ms" if kind == "latency" else "emb/s"
            row["macs_per_unit"] = macs
            for e in engines:
                v = row[KEY[e]]
                if v is None:
                    continue
                secs = v / 1e3 if kind == "latency" else 1.0 / v
                row[f"int8_share_{KEY[e]}"] = macs / secs / (peak[T] * 1e9)
                row[f"avx2_share_{KEY[e]}"] = macs / secs / (avx2[T] * 1e9)
                row[f"bw_share_{KEY[e]}"] = passes * WEIGHT_BYTES / secs / (bw[T] * 1e9)
                row[f"roofline_share_{KEY[e]}"] = floor_s / secs
        rows.append(row)

    for metric, label, target in (("load_ms", "Model load, warm page cache (ms)", None),
                                  ("rss_load_mb", "RSS after load (MB)", MEM),
                                  ("rss_idle_mb", "RSS idle, after the first embedding (MB)", MEM)):
        for T in threads_list:
            add(metric, label, "MB" if "rss" in metric else "ms", T, target)
    for name, _f, label, *_ in LATENCY:
        for T in threads_list:
            ntok = next((stats[(e, T)].get(f"{name}_tokens") for e in engines if stats[(e, T)].get(f"{name}_tokens")), None)
            work = (forward_macs(ntok), 1) if ntok else None
            for p in ("p50", "p95"):
                add(f"{name}_{p}_ms", f"Latency {p.upper()}, {label}, {ntok} tokens (ms)", "ms", T, LAT, work, "latency", name)
    for name, _f, label in BATCH:
        for T in threads_list:
            g = stats[("ggufembed", T)]
            tpd = g.get(f"{name}_tokens_per_doc")
            docs = g.get(f"{name}_docs", 96)
            # one document's work; the weights counted once for the whole batch
            work = (forward_macs(tpd), 1.0 / docs) if tpd else None
            add(f"{name}_emb_s", f"Batch throughput, {docs} {label} docs, {tpd and round(tpd, 1)} tokens/doc (emb/s)",
                "emb/s", T, TP, work, "batch", name)
    for name, _f, label in BATCH:
        for T in threads_list:
            add(f"{name}_peak_rss_mb", f"Peak RSS, batch of {label} docs (MB)", "MB", T, MEM, cfg=name)

    # agreement: cosine between the engines' vectors for the same text
    agreement = {}
    for peer in list(peers) + (["ggufembed-wasm"] if has_wasm else []):
        for name, *_ in LATENCY:
            a = [r for r in recs if r["engine"] == "ggufembed" and r["label"] == name and "vector" in r]
            b = [r for r in recs if r["engine"] == peer and r["label"] == name and "vector" in r]
            if a and b:
                agreement.setdefault(peer, {})[name] = cosine(a[0]["vector"], b[0]["vector"])

    llama_info = {}
    if args.llama_info and os.path.exists(args.llama_info):
        with open(args.llama_info) as f:
            for line in f:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    llama_info[k] = v
    sysinfo = {p: next((r["system_info"] for r in R.records if r["engine"] == p), "") for p in engines}
    raw = []
    for r in R.records + (browser["records"] if browser else []):  # browser records: phase "browser"
        r = dict(r)
        r.pop("vector", None)
        r.pop("system_info", None)
        raw.append(r)
    return dict(
        command=args.command, smoke=smoke, rounds=rounds, started=started, elapsed_s=round(elapsed, 1),
        loadavg=dict(start=[round(x, 2) for x in load_start], end=[round(x, 2) for x in os.getloadavg()],
                     during_min=min(R.loads) if R.loads else None,
                     during_median=median(R.loads) if R.loads else None,
                     during_max=max(R.loads) if R.loads else None),
        machine=machine_info(), ggufembed_rev=args.repo_rev, model=model_info(args.model),
        limits=limits,
        cost_model=dict(macs_per_token=MACS_PER_TOKEN, weight_bytes_per_pass=WEIGHT_BYTES,
                        attention="1536*L MACs per token per layer (3072*L FLOP), L = keys visible",
                        int8_ceiling="best measured int8 peak: max(limits.int8_avx2_gmacs, limits.int8_avx512vnni_gmacs)"),
        peers=dict(
            llamacpp=dict(measured=has_llama, skipped_reason=args.llama_skip_reason, build=llama_info,
                          system_info=sysinfo.get("llama.cpp", "")),
            nodellamacpp=dict(measured="node-llama-cpp" in peers, skipped_reason=args.nlc_skip_reason,
                              system_info=sysinfo.get("node-llama-cpp", "")),
        ),
        chosen={f"{k[0]}|{k[1]}|{k[2]}": dict(engine=k[0], scenario=k[1], threads=k[2], config=v, name=config_name(v, k[2]))
                for k, v in chosen.items()},
        tuning=tuning,
        agreement_cosine=agreement,
        rows=rows, stats={f"{k[0]}@{k[1]}": v for k, v in stats.items()},
        errors=R.errors, raw=raw,
        wasm=dict(node_measured=has_wasm, skipped_reason=args.wasm_skip_reason, rounds=WASM_ROUNDS,
                  system_info=sysinfo.get("ggufembed-wasm", "")),
        browser=browser_report(browser, stats, args.browser_skip_reason),
    )


# ----------------------------------------------------------------------------- markdown
def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        if abs(v) >= 100:
            return f"{v:.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.2f}"
    return str(v)


def pct(v):
    return "-" if v is None else f"{100 * v:.0f}%"


def render_md(rep):
    m = rep["machine"]
    lim = rep["limits"]
    pl = rep["peers"]["llamacpp"]
    pn = rep["peers"]["nodellamacpp"]
    L = []
    L.append("# ggufembed benchmark" + (" (SMOKE RUN: tiny repetition counts, the numbers mean nothing)" if rep["smoke"] else ""))
    L.append("")
    L.append(f"Command: `{rep['command']}`  ")
    L.append(f"Run: {rep['started']}, {rep['elapsed_s'] / 60:.1f} min, {rep['rounds']} interleaved round(s); "
             f"ggufembed at {rep['ggufembed_rev']}  ")
    la = rep["loadavg"]
    L.append(f"Load average (1 min): {la['start'][0]:.2f} at the start, {la['end'][0]:.2f} at the end, "
             f"{fmt(la['during_min'])} to {fmt(la['during_max'])} (median {fmt(la['during_median'])}) over the runs; "
             f"with {m['cores']} cores, more than ~1 means other jobs were competing for the CPUs  ")
    L.append(f"Machine: {m['cpu']} ({m['family_model']}), {m['cores']} cores, {m['memory_gib']} GiB RAM, L3 {m['l3']}, "
             f"ISA {' '.join(m['isa'])}{', KVM guest' if m['hypervisor'] else ''}, Linux {m['kernel']}, {m['cc']}, node {m['node']}")
    mo = rep["model"]
    L.append(f"Model: {os.path.basename(mo['path'])}, {mo['size']} bytes, sha256 {mo['sha256'][:16]}..., {mo['kind'] or 'origin unknown'}")
    L.append("")
    if pl["measured"]:
        b = pl["build"]
        L.append(f"Peer **llama.cpp** {b.get('llama.cpp.commit', '?')} ({b.get('llama.cpp.build', '?')}), vendored by the PyPI sdist "
                 f"llama-cpp-python=={b.get('llama-cpp-python', '?')}, built here with {b.get('flags', '?')} "
                 f"({b.get('compiler', '')}), driven through llama.h by bench/bench_llamacpp.cpp; "
                 f"CPU features: `{pl['system_info'].strip()}`  ")
    else:
        L.append(f"**Peer llama.cpp NOT MEASURED in this run** ({pl['skipped_reason'] or 'not available'}).  ")
    if pn["measured"]:
        L.append(f"Peer **node-llama-cpp** 3.21.1 (npm, prebuilt binaries; it picks its CPU variant at run time): "
                 f"`{pn['system_info'].strip()}`")
    else:
        L.append(f"Peer node-llama-cpp not measured ({pn['skipped_reason'] or 'not installed'}).")
    L.append("")
    n_lim = len(lim.get("measurements", []))
    L.append(f"## Physical limits (bench/limits.c, measured {n_lim} times during this run: at the start, before every round "
             "and at the end; the best counts)")
    L.append("")
    L.append("| threads | read bandwidth GB/s (best / median pass) | int8 AVX2 maddubs+madd GMAC/s | int8 AVX-512 VNNI dpbusd GMAC/s |")
    L.append("|---|---|---|---|")
    vn = lim.get("int8_avx512vnni_gmacs") or {}
    for T, v in lim["bandwidth_gbs"].items():
        vv = f"{vn[T]:.1f}" if T in vn else "-"
        L.append(f"| {T} | {v['best']:.1f} / {v['median']:.1f} | {lim['int8_avx2_gmacs'][T]:.1f} | {vv} |")
    L.append("")
    L.append("Cost model (EmbeddingGemma-300M): 101.5M int8 MACs per token in the layers + attention 1536*L MACs "
             "(3072*L FLOP) per token per layer (L = keys visible), 107.8 MB of Q8_0 layer weights streamed per "
             "forward pass. **int8 share** = model MACs / time / the machine's int8 ceiling at that thread count (the "
             "best of the two peaks above: AVX-512 VNNI where the CPU has it, which ggufembed and llama.cpp both use "
             "then; shares of the AVX2 peak are in results.json). **floor** = max(MACs / int8 ceiling, weight bytes / "
             "bandwidth): the best this machine could do (for batches the weights are counted once for the whole batch).")
    L.append("")
    L.append("## Results")
    L.append("")
    L.append("ratio = ggufembed / llama.cpp (issue #4 targets: latency and memory <= 0.5, throughput >= 2). "
             "Latency cells are P50 / P95 over all timed calls of all rounds (the int8 share uses P50); "
             "throughput is the median over passes. RSS includes the file-backed pages of the mapped model.")
    L.append("")
    has_nlc = pn["measured"]
    hdr = "| scenario | threads | ggufembed | llama.cpp (best config) | ratio | target |"
    sep = "|---|---|---|---|---|---|"
    if has_nlc:
        hdr += " node-llama-cpp |"
        sep += "---|"
    hdr += " int8 share ggufembed / llama.cpp | floor |"
    sep += "---|---|"
    L.append(hdr)
    L.append(sep)
    rows = list(rep["rows"])
    while rows:
        r = rows.pop(0)
        pair = None
        if r["metric"].endswith("_p50_ms"):
            pair = next((x for x in rows if x["metric"] == r["metric"].replace("_p50_", "_p95_") and x["threads"] == r["threads"]), None)
        if pair:
            rows.remove(pair)
            scen = r["scenario"].replace("Latency P50", "Latency P50 / P95")
            cell = lambda k: f"{fmt(r.get(k))} / {fmt(pair.get(k))}"
            ratio = "-" if r.get("ratio") is None else f"{r['ratio']:.2f} / {pair['ratio']:.2f}"
            met = [x["target_met"] for x in (r, pair) if "target_met" in x]
        else:
            scen = r["scenario"]
            cell = lambda k: fmt(r.get(k))
            ratio = "-" if r.get("ratio") is None else f"{r['ratio']:.2f}"
            met = [r["target_met"]] if "target_met" in r else []
        tgt = r.get("target", "")
        if met:
            tgt += " met" if all(met) else " **not met**"
        line = f"| {scen} | {r['threads']} | {cell('ggufembed')} | {cell('llamacpp')} | {ratio} | {tgt} |"
        if has_nlc:
            line += f" {cell('nodellamacpp')} |"
        share = "-"
        if "int8_share_ggufembed" in r:
            share = f"{pct(r.get('int8_share_ggufembed'))} / {pct(r.get('int8_share_llamacpp'))}"
        floor = "-" if r.get("floor") is None else f"{fmt(r['floor'])} {r['floor_unit']}"
        L.append(line + f" {share} | {floor} |")
    L.append("")
    if rep["chosen"]:
        L.append("## Peer configuration used per scenario " + ("(smoke run: fixed, no tuning)" if rep["smoke"] else "(the fastest in tuning)"))
        L.append("")
        L.append("| engine | scenario | threads | configuration |")
        L.append("|---|---|---|---|")
        for v in rep["chosen"].values():
            L.append(f"| {v['engine']} | {v['scenario']} | {v['threads']} | {v['name']} |")
        L.append("")
    if rep["tuning"]:
        L.append(f"<details><summary>Tuning: every peer configuration tried {TUNE_PASSES} times, the second time in "
                 f"reverse order (one process each; batches on the first {BATCH_DOCS_TUNE} documents); a "
                 "configuration counts with its best try</summary>")
        L.append("")
        L.append("| engine | scenario | threads | configuration | try | result | peak RSS MB |")
        L.append("|---|---|---|---|---|---|---|")
        for t in rep["tuning"]:
            res = f"{fmt(t['median_ms'])} ms (median)" if "median_ms" in t else f"{fmt(t['emb_per_s'])} emb/s"
            L.append(f"| {t['engine']} | {t['scenario']} | {t['threads']} | {t['name']} | {t['try_']} | {res} | {fmt(t['peak_rss_mb'])} |")
        L.append("")
        L.append("</details>")
        L.append("")
    if rep["agreement_cosine"]:
        L.append("Agreement, cosine between ggufembed's and the peer's vector for the same text: " +
                 "; ".join(f"{p}: " + ", ".join(f"{k} {v:.5f}" for k, v in d.items()) for p, d in rep["agreement_cosine"].items()))
        L.append("")
    L.append("## WebAssembly")
    L.append("")
    w = rep["wasm"]
    if w["node_measured"]:
        L.append(f"ggufembed-wasm in Node ({w['system_info']}), from js/dist, first round only; 1 thread = the "
                 "SIMD build, 2 threads = the worker_threads build. Issue #4 target: wasm single-thread within 2.5x "
                 "of native single-thread (wasm / native <= 2.5 for latency, >= 0.4 for throughput).")
        L.append("")
        L.append("| scenario | threads | ggufembed native | ggufembed-wasm (Node) | wasm / native |")
        L.append("|---|---|---|---|---|")
        for r in rep["rows"]:
            if r.get("wasm") is None:
                continue
            L.append(f"| {r['scenario']} | {r['threads']} | {fmt(r['ggufembed'])} | {fmt(r['wasm'])} | "
                     f"{'-' if r.get('wasm_vs_native') is None else format(r['wasm_vs_native'], '.2f')} |")
        L.append("")
    else:
        L.append(f"ggufembed-wasm in Node not measured in this run ({w['skipped_reason'] or 'js/dist not built'}).")
        L.append("")
    L += render_browser(rep)
    L.append("## How it is measured")
    L.append("")
    L.append("- One process per engine and scenario (bench/bench_ggufembed.c via the C API, bench/bench_llamacpp.cpp via "
             "llama.h, bench/bench_nodellamacpp.mjs, bench/bench_wasm_node.mjs), same GGUF file; runs interleaved "
             "engine by engine, the order reversed every other round.")
    L.append("- A timed call goes text -> tokens -> forward pass -> mean pooling -> L2-normalized 768-d vector. "
             "ggufembed: model opened with GGUFEMBED_OPEN_REPACK (weights packed once at load for the "
             "AVX-512 kernels; the zero-copy default is `bench_ggufembed --no-repack`), `ggufembed_embed` (latency) "
             "and `ggufembed_embed_batch` (batches), one context with n_threads = the thread count. llama.cpp: embeddings=true, pooling from the model (MEAN), mmap'ed model.")
    L.append("- Load = open the model + create the context(s), page cache warm. RSS after load and idle RSS come from "
             "the latency processes (idle = after the warm-up calls); peak RSS = VmHWM of the batch process (load included).")
    L.append("- Texts: bench/texts/short.txt, long.txt, xlong.txt; batches: bench/texts/batch-short.txt and "
             "batch-long.txt (96 distinct documents each).")
    L.append("- Browser: bench/bench_wasm_browser.mjs serves bench/browser/ (the page), js/dist, @wllama/wllama and the model "
             "from 127.0.0.1 with COOP/COEP, drives headless Chromium with playwright-core (a fresh browser per engine run) "
             "and reads the tab's renderer process from /proc between steps and every 200 ms.")
    if rep["errors"]:
        L.append("")
        L.append("## Errors")
        for e in rep["errors"]:
            L.append(f"- `{e['cmd']}`: {e['error']}")
    L.append("")
    return "\n".join(L)


BROWSER_ENGINES = ("ggufembed-wasm-chromium", "wllama")
# issue #4, the wasm build in Chromium vs wllama at the same thread count
BROWSER_TP, BROWSER_LAT = (">= 4", 4.0, "ge"), ("<= 0.25", 0.25, "le")


def wasm_scenarios(args, smoke, threads_list, R):
    """The browser half of issue #4: ggufembed-wasm (js/dist) vs wllama in headless Chromium.

    One bench/bench_wasm_browser.mjs process runs every scenario, thread count and round
    itself (a fresh browser per engine run, engines interleaved, order reversed every other
    round) and prints one JSON object; its records have the native records' shape. Smoke
    runs pass --smoke (1 thread, 1 call per text, batches of 4). Returns that object (records
    tagged phase="browser") or None when the browser half is off."""
    if not args.browser:
        return None
    cmd = ["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_wasm_browser.mjs"),
           "--no-install", "--model", args.model]
    if args.browser_wllama_dir:
        cmd += ["--wllama-dir", args.browser_wllama_dir]
    if args.browser_pkg:
        cmd += ["--pkg", args.browser_pkg]
    if smoke:
        cmd.append("--smoke")
    else:
        cmd += ["--threads", ",".join(str(t) for t in threads_list)]
        if args.browser_rounds:
            cmd += ["--rounds", str(args.browser_rounds)]
        if args.browser_reps:
            cmd += ["--reps", args.browser_reps]
    log("browser: " + " ".join(cmd))
    t0 = time.time()
    try:  # its progress log goes straight to our stderr
        p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=args.browser_timeout)
    except subprocess.TimeoutExpired:
        R.errors.append(dict(cmd=" ".join(cmd), error=f"timeout after {args.browser_timeout}s"))
        log("browser: TIMEOUT")
        return None
    out = None
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if lines:
        try:
            out = json.loads(lines[-1])
        except ValueError:
            out = None
    if out is None:
        R.errors.append(dict(cmd=" ".join(cmd), error=f"exit {p.returncode}, no JSON on stdout"))
        log(f"browser: FAILED (exit {p.returncode})")
        return None
    for e in out.get("errors", []):
        R.errors.append(dict(cmd=" ".join(cmd), error=f"{e['engine']} t={e['threads']} round {e['round'] + 1}: {e['error']}"))
    for r in out["records"]:
        r["phase"] = "browser"
    out["wall_s"] = round(time.time() - t0, 1)
    log(f"browser: {len(out['records'])} records in {out['wall_s']:.0f} s")
    return out


def browser_report(browser, native_stats, skip_reason):
    """Rows for the "wasm in Chromium" table: ggufembed-wasm vs wllama per scenario and thread
    count, ratio against the issue's targets, and native ggufembed for reference."""
    if browser is None:
        return dict(measured=False, skipped_reason=skip_reason or "not run")
    meta = browser["meta"]
    threads = meta["threads"]
    known = {r["label"]: r["tokens"] for r in browser["records"] if r.get("tokens")}
    recs = [dict(r, tokens=r.get("tokens") or known.get(r["label"], 0)) for r in browser["records"]]  # same text, same tokens
    st = {(e, T): engine_stats(recs, e, T) for e in BROWSER_ENGINES for T in threads}
    multi = {}
    for m in browser.get("multi_doc", []):
        multi.setdefault((m["label"], m["threads"]), []).append(m)
    rows = []

    # wllama's batches: one call per document (the records), and one multi-document call per
    # batch set and round (multi_doc); the faster way counts (never a handicapped peer)
    for T in threads:
        w = st[("wllama", T)]
        for name, *_ in BATCH:
            seq = w.get(f"{name}_emb_s")
            ms = multi.get((name, T), [])
            ok = [m["n_returned"] / (m["ms"] / 1e3) for m in ms
                  if m["status"] == "ok" and m["ms"] > 0 and m["n_inputs"] == w.get(f"{name}_docs")]
            mul = median(ok) if ok else None
            w[f"{name}_seq_emb_s"], w[f"{name}_multi_emb_s"] = seq, mul
            if mul is not None and (seq is None or mul > seq):
                w[f"{name}_emb_s"], w[f"{name}_way"] = mul, "one multi-document call"
            elif seq is not None:
                w[f"{name}_way"] = "one call per document"
    # peaks: one engine run = one tab; the whole run (wllama's multi-document calls included)
    for T in threads:
        for e in BROWSER_ENGINES:
            tab, total = {}, {}
            for r in recs:
                if r["engine"] == e and r["threads"] == T:
                    end = r.get("mem_tab_end") or r["mem_end"]
                    tab[r["round"]] = max(tab.get(r["round"], 0), end["hwm_kb"] / 1024)
                    if "sampled_peak" in r:
                        total[r["round"]] = r["sampled_peak"]["chromium_total_rss_kb"] / 1024
            if tab:
                st[(e, T)]["tab_peak_mb"] = median(list(tab.values()))
            if total:
                st[(e, T)]["chromium_total_peak_mb"] = median(list(total.values()))

    def add(metric, label, unit, T, target=None, native=False, batch=None):
        g, w = st[("ggufembed-wasm-chromium", T)].get(metric), st[("wllama", T)].get(metric)
        row = dict(metric=metric, scenario=label, unit=unit, threads=T, ggufembed_wasm=g, wllama=w,
                   ratio=g / w if (g is not None and w) else None)
        if target:
            row["target"] = target[0]
            if row["ratio"] is not None:
                row["target_met"] = row["ratio"] <= target[1] if target[2] == "le" else row["ratio"] >= target[1]
        if native:
            n = native_stats.get(("ggufembed", T), {}).get(metric)
            row["native"] = n
            row["wasm_vs_native"] = g / n if (g is not None and n) else None
        if batch:
            ws = st[("wllama", T)]
            row["wllama_way"] = ws.get(f"{batch}_way")
            row["wllama_seq_emb_s"] = ws.get(f"{batch}_seq_emb_s")
            row["wllama_multi_emb_s"] = ws.get(f"{batch}_multi_emb_s")
            row["wllama_multi_status"] = sorted({m["status"] for m in multi.get((batch, T), [])})
        rows.append(row)

    for metric, label in (("load_ms", "Model load in the tab: fetch + compile + model into wasm memory (ms)"),
                          ("rss_load_mb", "Tab (renderer) RSS after load (MB)"),
                          ("rss_idle_mb", "Tab RSS idle, after the first embeddings (MB)")):
        for T in threads:
            add(metric, label, "MB" if "rss" in metric else "ms", T)
    for name, _f, label, *_ in LATENCY:
        for T in threads:
            ntok = st[("ggufembed-wasm-chromium", T)].get(f"{name}_tokens") or st[("wllama", T)].get(f"{name}_tokens")
            if ntok is None:
                continue
            for p in ("p50", "p95"):
                add(f"{name}_{p}_ms", f"Latency {p.upper()}, {label}, {ntok} tokens (ms)", "ms", T, BROWSER_LAT, native=True)
    for name, _f, label in BATCH:
        for T in threads:
            g = st[("ggufembed-wasm-chromium", T)]
            if f"{name}_emb_s" not in g and f"{name}_emb_s" not in st[("wllama", T)]:
                continue
            w = st[("wllama", T)]
            tpd = g.get(f"{name}_tokens_per_doc") or w.get(f"{name}_tokens_per_doc")
            docs = g.get(f"{name}_docs") or w.get(f"{name}_docs") or meta.get("docs")
            add(f"{name}_emb_s", f"Batch throughput, {docs} {label} docs, {tpd and round(tpd, 1)} tokens/doc (emb/s)",
                "emb/s", T, BROWSER_TP, native=True, batch=name)
    for T in threads:
        add("tab_peak_mb", "Tab peak RSS over the engine run: load, latency, batches (MB)", "MB", T)
    for T in threads:
        add("chromium_total_peak_mb", "All Chromium processes, peak of the summed RSS, sampled every 200 ms (MB)", "MB", T)
    loads = [x for r in recs for x in (r.get("loadavg_before"), r.get("loadavg_after")) if x is not None]
    return dict(measured=True, meta=meta, rows=rows, multi_doc=browser.get("multi_doc", []),
                agreement_cosine=browser.get("agreement", {}), errors=browser.get("errors", []),
                wall_s=browser.get("wall_s"), loadavg=dict(min=min(loads), median=median(loads), max=max(loads)) if loads else None,
                stats={f"{k[0]}@{k[1]}": v for k, v in st.items()})


def render_browser(rep):
    """The "wasm in Chromium" section of results.md."""
    b = rep.get("browser")
    L = ["## WebAssembly in Chromium: ggufembed-wasm vs wllama", ""]
    if not b or not b.get("measured"):
        why = (b or {}).get("skipped_reason") or "this report predates the browser benchmark"
        L += [f"Not measured in this run ({why}). Standalone: `node bench/bench_wasm_browser.mjs` "
              "(`--smoke` for a quick check).", ""]
        return L
    m = b["meta"]
    eng = m["engines"]
    L.append(f"bench/bench_wasm_browser.mjs{' (SMOKE: the numbers mean nothing)' if m.get('smoke') else ''}: "
             f"{m['chromium']}, headless, page served from 127.0.0.1 cross-origin isolated (COOP/COEP), a fresh browser "
             f"per engine run; {m['rounds']} interleaved round(s) (ggufembed then wllama, reversed every other round); "
             f"latency: at least {m['warmup']} warm-up call(s) and {m.get('warmup_ms', 0) / 1e3:.0f} s of them (xlong: at most 1 call), then "
             + ", ".join(f"{k} {v}" for k, v in m["reps"].items()) + " timed calls per round; batches: "
             f"{m['docs']} documents, {m['batch_reps']} timed pass(es) per round; {b['wall_s'] or m['elapsed_s']:.0f} s in all.  ")
    la = b.get("loadavg")
    if la:
        L.append(f"Load average (1 min) around the engine runs: {la['min']:.2f} to {la['max']:.2f} (median {la['median']:.2f}).  ")
    for T, c in sorted(eng["ggufembed-wasm-chromium"]["configs"].items()):
        if c:
            L.append(f"ggufembed-wasm, {T} thread(s): build `{c['variant']}`, kernels {c['kernels']}, {c['threads']} thread(s), "
                     f"Embedder on the page thread; batch = one `embed(texts)` call (the batch API).  ")
    for T, c in sorted(eng["wllama"]["configs"].items()):
        if c:
            pr = c.get("params", {})
            L.append(f"wllama, {T} thread(s): {eng['wllama']['package']} (llama.cpp {c.get('libllama')}, simd128, one build with "
                     f"pthreads/memory64/JSPI), multi-thread {c.get('multithread')}, n_threads {c.get('threads')}, embeddings, "
                     f"pooling {pr.get('pooling_type')}, n_ctx {c.get('n_ctx')}, n_batch {c.get('n_batch')}, n_ubatch {c.get('n_ubatch')}, "
                     f"n_parallel {pr.get('n_parallel')} (unified KV), flash attention {'auto' if 'flash_attn' not in pr else pr['flash_attn']}, "
                     "CPU only (n_gpu_layers 0); model fetched into a Blob and given to loadModel; batch = one createEmbedding call "
                     "per document, one after another.  ")
    L.append("")
    L.append("ratio = ggufembed-wasm / wllama at the same thread count (issue #4 targets: throughput >= 4, latency <= 0.25). "
             "Latency cells are P50 / P95 over all timed calls of all rounds, throughput the median over passes (rounds). "
             "Memory = the tab's renderer process (main thread and workers; VmRSS, peak = the highest VmHWM/VmRSS reading), "
             "median over rounds. "
             "native = ggufembed's C build in the same harness run and thread count (- when the browser half ran on its own), wasm / native their ratio.")
    L.append("")
    L.append("| scenario | threads | ggufembed-wasm | wllama | ratio | target | ggufembed native | wasm / native |")
    L.append("|---|---|---|---|---|---|---|---|")
    rows = list(b["rows"])
    while rows:
        r = rows.pop(0)
        pair = None
        if r["metric"].endswith("_p50_ms"):
            pair = next((x for x in rows if x["metric"] == r["metric"].replace("_p50_", "_p95_") and x["threads"] == r["threads"]), None)
        if pair:
            rows.remove(pair)
            scen = r["scenario"].replace("Latency P50", "Latency P50 / P95")
            cell = lambda k, fm=fmt: f"{fm(r.get(k))} / {fm(pair.get(k))}"
            ratio = "-" if r.get("ratio") is None or pair.get("ratio") is None else f"{r['ratio']:.2f} / {pair['ratio']:.2f}"
            met = [x["target_met"] for x in (r, pair) if "target_met" in x]
        else:
            scen = r["scenario"]
            cell = lambda k, fm=fmt: fm(r.get(k))
            ratio = "-" if r.get("ratio") is None else f"{r['ratio']:.2f}"
            met = [r["target_met"]] if "target_met" in r else []
        tgt = r.get("target", "")
        if met:
            tgt += " met" if all(met) else " **not met**"
        wv = (lambda v: "-" if v is None else f"{v:.2f}")
        nat = cell("native") if "native" in r else "-"
        wvn = cell("wasm_vs_native", wv) if "native" in r else "-"
        wl = cell("wllama")
        if r.get("wllama_way"):  # batches: the faster of wllama's two ways, both shown
            wl += (f" ({'multi-doc call' if r['wllama_way'].startswith('one multi') else 'one call per doc'}; "
                   f"one per doc {fmt(r.get('wllama_seq_emb_s'))}, multi-doc {fmt(r.get('wllama_multi_emb_s'))})")
        L.append(f"| {scen} | {r['threads']} | {cell('ggufembed_wasm')} | {wl} | {ratio} | {tgt} | {nat} | {wvn} |")
    L.append("")
    md = b.get("multi_doc") or []
    if md:
        L.append("wllama's batches are timed both ways: one `createEmbedding` call per document, one after another, and one "
                 "multi-document call (`createEmbedding({input: docs})`, all documents of the set; its server packs up to "
                 "n_parallel of them per decode) after the other scenarios in the same tab, with a timeout; the batch rows count "
                 "the faster way. Multi-document calls: " + "; ".join(
                     f"t={x['threads']} {x['label']} round {x['round'] + 1}: {x['status']}, {x['n_returned']}/{x['n_inputs']} vectors"
                     + (f" in {x['ms'] / 1e3:.1f} s ({x['n_returned'] / (x['ms'] / 1e3):.2f} emb/s)" if x.get("ms") else "")
                     + (f", {x['error']}" if x.get("error") else "") for x in md)
                 + " ('ok' = one vector per document, each with cosine > 0.999 to its one-at-a-time vector).")
        L.append("")
    ag = b.get("agreement_cosine") or {}
    if ag:
        L.append("Sanity check, cosine between ggufembed-wasm's and wllama's vector for the same text: " + "; ".join(
            f"{T} thread(s): " + ", ".join(f"{k} {v:.5f}" for k, v in d.items()) for T, d in ag.items()))
        L.append("")
    if b.get("errors"):
        L.append("Errors: " + "; ".join(f"{e['engine']} t={e['threads']} round {e['round'] + 1}: {e['error']}" for e in b["errors"]))
        L.append("")
    return L


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--render-browser":
        # the "wasm in Chromium" section from a standalone `node bench/bench_wasm_browser.mjs --out FILE`
        with open(sys.argv[2]) as f:
            b = json.loads(f.read().strip().splitlines()[-1])
        b.setdefault("wall_s", b["meta"]["elapsed_s"])
        for r in b["records"]:
            r["phase"] = "browser"
        print("\n".join(render_browser(dict(browser=browser_report(b, {}, "")))))
        sys.exit(0)
    if len(sys.argv) == 3 and sys.argv[1] == "--render":
        # re-render results.md from a results.json (no measurement)
        with open(sys.argv[2]) as f:
            report = json.load(f)
        with open(os.path.join(os.path.dirname(os.path.abspath(sys.argv[2])), "results.md"), "w") as f:
            f.write(render_md(report))
        sys.exit(0)
    sys.exit(main())
