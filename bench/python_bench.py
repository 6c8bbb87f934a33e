#!/usr/bin/env python3
"""bench/python_bench.py - ggufembed's Python package vs llama-cpp-python vs sentence-transformers.

Run by bench/python.sh, which makes the environments first (see there). Two roles:

  driver (default)  runs every measurement as a subprocess and writes the Markdown report;
                    it runs in the bench venv (numpy for the cosines)
  --worker ENGINE   one engine in one process: open the model, warm up, time passes over the
                    texts, print one JSON line (and save the vectors and token ids when asked).
                    It runs in the engine's own interpreter: the bench venv for ggufembed and
                    llama-cpp-python, fetch-model.sh's converter venv + st-lib for
                    sentence-transformers; so only the standard library is imported at the top.

Fairness: the same texts (bench/texts/batch-{short,long}.txt, 96 documents each) reach every
engine as the same token ids (no prompt: ggufembed task "none", sentence-transformers
prompt="", llama-cpp-python the raw text; checked, see "tokens" in the report), every engine
gets the same thread count, the peers are tuned first (every configuration of CONFIGS once
per text set and thread count; the fastest is used), each run is a fresh process (so peak
RSS is the engine's own), and the engine order alternates per round and cell so that drifting
machine load hits all of them. Each run waits for the other processes on the machine to be
idle and records the CPU they used meanwhile ("others"); a disturbed run is repeated.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from python_ray_rss import proc_memory  # noqa: E402  (standard library only)

SETS = (("short", "batch-short.txt"), ("long", "batch-long.txt"))
ENGINES = ("ggufembed", "llama-cpp-python", "sentence-transformers")
GE, LCP, ST = ENGINES

# Every configuration tried in tuning; the first one is the default (smoke runs, --no-tune).
#   ggufembed: the package's defaults (repack=True, batch_size=256: all 96 texts in one call,
#     which the library packs into shared forward passes); zero-copy weights for comparison
#   llama-cpp-python: Llama.embed(list) packs many sequences per decode up to n_batch tokens
#     (n_ctx = n_batch = n_ubatch: a non-causal model must see a sequence in one ubatch);
#     or one embed() call per text; flash attention on/off (the package's default is off)
#   sentence-transformers: encode(batch_size=...): it sorts the texts by length and pads
#     each batch; 32 is its default
CONFIGS = {
    GE: [dict(repack=True, batch_size=256), dict(repack=False, batch_size=256)],
    LCP: [dict(n_batch=2048, flash_attn=True, per_text=False), dict(n_batch=2048, flash_attn=False, per_text=False),
          dict(n_batch=512, flash_attn=True, per_text=False), dict(n_batch=512, flash_attn=False, per_text=False),
          dict(n_batch=2048, flash_attn=True, per_text=True), dict(n_batch=2048, flash_attn=False, per_text=True)],
    ST: [dict(batch_size=32), dict(batch_size=8), dict(batch_size=16), dict(batch_size=96)],
}
COS_MIN = 0.99           # the sanity threshold for every peer (same GGUF, and fp32 on the original weights)
OTHERS_MAX = 0.25        # cores used by other processes above which a run counts as disturbed
IDLE_WAIT_S = 120        # before each run: wait at most this long for the others to go idle


def config_name(engine, c):
    if engine == GE:
        return "repack=%s, batch_size=%d" % (c["repack"], c["batch_size"])
    if engine == LCP:
        how = "one embed() per text" if c["per_text"] else "embed(list): sequences packed per decode"
        return "%s, n_ctx=n_batch=n_ubatch=%d, flash_attn=%s" % (how, c["n_batch"], c["flash_attn"])
    return "encode(batch_size=%d)" % c["batch_size"]


def read_texts(path):
    with open(path, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    # sentence-transformers and ggufembed strip surrounding whitespace, llama.cpp does not:
    # texts without any keep the three inputs identical
    assert all(t == t.strip() for t in texts), "%s: a text with surrounding whitespace" % path
    return texts


# =============================================================================== worker
def open_engine(a, cfg):
    """-> (embed(list of str) -> float32 (n, d) L2-normalized, tokenize(str) -> ids, info)"""
    import numpy as np
    T = a.threads
    if a.worker == GE:
        import ggufembed
        m = ggufembed.Embedder(a.model, threads=T, repack=cfg["repack"])
        info = {"ggufembed": ggufembed.__version__, "kernels": ggufembed.kernels(), "numpy": np.__version__}
        return (lambda xs: m.embed(xs, task="none", batch_size=cfg["batch_size"]), lambda x: m.tokenize(x), info)
    if a.worker == LCP:
        import llama_cpp
        from llama_cpp import Llama
        nb = cfg["n_batch"]
        llm = Llama(model_path=a.model, embedding=True, n_threads=T, n_threads_batch=T, n_ctx=nb, n_batch=nb,
                    n_ubatch=nb, flash_attn=cfg["flash_attn"], pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
                    verbose=False)

        def unit(v):  # normalized with numpy instead of embed(normalize=True)'s Python loop
            v = np.asarray(v, dtype=np.float32)
            return v / np.linalg.norm(v, axis=-1, keepdims=True)
        if cfg["per_text"]:
            embed = lambda xs: unit([llm.embed(x) for x in xs])
        else:
            embed = lambda xs: unit(llm.embed(xs))
        info = {"llama_cpp_python": llama_cpp.__version__, "numpy": np.__version__,
                "system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
                "pooling_type": str(llm.pooling_type())}
        # embed() tokenizes exactly like this (add_bos=True: BOS/EOS as the vocabulary says)
        return embed, lambda x: llm.tokenize(x.encode("utf-8")), info
    if a.worker == ST:
        import torch
        torch.set_num_threads(T)
        import sentence_transformers
        import transformers
        from sentence_transformers import SentenceTransformer
        model = SentenceTransformer(a.st_model, device="cpu", model_kwargs={"dtype": torch.float32})
        model.eval()
        # prompt="" explicitly: no prompt whatever the model's default_prompt_name says
        embed = lambda xs: model.encode(xs, batch_size=cfg["batch_size"], prompt="", normalize_embeddings=True,
                                        convert_to_numpy=True, show_progress_bar=False)
        am = model[0].auto_model
        info = {"sentence_transformers": sentence_transformers.__version__, "transformers": transformers.__version__,
                "torch": torch.__version__, "numpy": np.__version__,
                "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
                "torch_threads": torch.get_num_threads(), "dtype": str(next(am.parameters()).dtype),
                "attn_implementation": getattr(am.config, "_attn_implementation", None)}
        return embed, lambda x: model.tokenize([x])["input_ids"][0].tolist(), info
    raise SystemExit("unknown engine " + a.worker)


def worker(a):
    cfg = json.loads(a.config)
    texts = read_texts(a.texts)[:a.n]
    import numpy as np
    t0 = time.perf_counter()
    embed, tokenize, info = open_engine(a, cfg)
    load_s = time.perf_counter() - t0
    mem_load = proc_memory()
    if a.warmup:
        embed(texts[:a.warmup])
    passes = []
    v = None
    for _ in range(a.reps):
        c0, w0 = time.process_time(), time.perf_counter()
        v = embed(texts)
        passes.append((time.perf_counter() - w0, time.process_time() - c0))
    v = np.asarray(v, dtype=np.float32)
    if v.shape[0] != len(texts) or not np.all(np.isfinite(v)):
        raise SystemExit("bad output: shape %s, finite %s" % (v.shape, bool(np.all(np.isfinite(v)))))
    mem_end = proc_memory()
    if a.save:
        np.save(a.save + ".npy", v)
        with open(a.save + ".tokens.json", "w") as f:
            json.dump([[int(t) for t in tokenize(x)] for x in texts], f)
    wall = sum(p[0] for p in passes)
    cpu = sum(p[1] for p in passes)
    print(json.dumps({
        "n_docs": len(texts), "dim": int(v.shape[1]), "reps": a.reps, "pass_s": [round(p[0], 4) for p in passes],
        "emb_per_s": len(texts) * a.reps / wall, "cores_used": cpu / wall if wall > 0 else None,
        "load_s": round(load_s, 3), "rss_after_load_kb": mem_load.get("VmRSS"), "rss_end_kb": mem_end.get("VmRSS"),
        "peak_rss_kb": mem_end.get("VmHWM"), "info": info, "python": platform.python_version()}))


# =============================================================================== driver
def log(msg):
    print("[python-bench %s load %.2f] %s" % (time.strftime("%H:%M:%S"), os.getloadavg()[0], msg),
          file=sys.stderr, flush=True)


def cpu_busy_s():
    """Seconds of CPU time the whole machine has been busy (all cores, /proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: everything but idle and iowait
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def wait_idle(max_s, threshold=0.15):
    """Waits (at most max_s) until the other processes use < threshold cores over 1 s."""
    t0 = time.time()
    while True:
        b0 = cpu_busy_s()
        time.sleep(1.0)
        used = cpu_busy_s() - b0
        if used < threshold or time.time() - t0 > max_s:
            return used


def wait_quiet(max_s, limit=0.5, poll=20):
    """Before measuring: until the 1-minute load average is below limit (at most max_s)."""
    t0 = time.time()
    first = os.getloadavg()
    while os.getloadavg()[0] >= limit and time.time() - t0 < max_s:
        log("waiting for a quiet machine (1-min load average %.2f >= %.2f; %d s of at most %d s)"
            % (os.getloadavg()[0], limit, time.time() - t0, max_s))
        time.sleep(poll)
    la = os.getloadavg()
    return {"load_first": [round(x, 2) for x in first], "load_start": [round(x, 2) for x in la],
            "waited_s": round(time.time() - t0), "quiet": la[0] < limit, "limit": limit}


class Driver:
    def __init__(self, a):
        self.a = a
        self.records = []
        self.errors = []
        self.jsonl = os.path.join(a.tmp, "runs.jsonl")

    def python_for(self, engine):
        return self.a.st_python if engine == ST else sys.executable

    def env_for(self, engine, threads):
        env = dict(os.environ)
        # thread pools of the libraries underneath (OpenMP, MKL, the HF tokenizers' rayon)
        # get the same count as the engine; no GPU
        for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS"):
            env[k] = str(threads)
        env.update(TOKENIZERS_PARALLELISM="false", CUDA_VISIBLE_DEVICES="")
        if engine == ST:
            env.update(PYTHONPATH=self.a.st_lib, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        else:
            env.pop("PYTHONPATH", None)
        return env

    def run(self, engine, set_name, threads, cfg, phase, rnd, reps, warmup, save=False):
        a = self.a
        path = os.path.join(a.texts, dict(SETS)[set_name])
        save_to = os.path.join(a.tmp, "vec-%s-%s-t%d" % (engine, set_name, threads)) if save else ""
        cmd = [self.python_for(engine), os.path.abspath(__file__), "--worker", engine, "--model", a.model,
               "--st-model", a.st_model, "--texts", path, "--n", str(self.n_docs), "--threads", str(threads),
               "--config", json.dumps(cfg), "--reps", str(reps), "--warmup", str(warmup)]
        if save_to:
            cmd += ["--save", save_to]
        attempts = 0
        while True:
            attempts += 1
            if not a.smoke:
                wait_idle(IDLE_WAIT_S)
            load_before = os.getloadavg()[0]
            b0, ru0, t0 = cpu_busy_s(), resource.getrusage(resource.RUSAGE_CHILDREN), time.time()
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout, env=self.env_for(engine, threads))
            except subprocess.TimeoutExpired:
                self.errors.append("%s %s t=%d %s: timeout after %d s" % (engine, set_name, threads, cfg, a.timeout))
                log("TIMEOUT " + self.errors[-1])
                return None
            wall = time.time() - t0
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            child = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
            others = max(0.0, (cpu_busy_s() - b0) - child) / wall
            if p.returncode != 0 or not p.stdout.strip():
                self.errors.append("%s %s t=%d %s: exit %d: %s" % (engine, set_name, threads, config_name(engine, cfg),
                                                                  p.returncode, p.stderr.strip()[-800:]))
                log("FAILED " + self.errors[-1])
                return None
            rec = json.loads(p.stdout.strip().splitlines()[-1])
            rec.update(engine=engine, set=set_name, threads=threads, config=cfg, config_name=config_name(engine, cfg),
                       phase=phase, round=rnd, wall_s=round(wall, 2), others_cores=round(others, 3),
                       load_before=round(load_before, 2), attempts=attempts, saved=save_to)
            disturbed = others > OTHERS_MAX
            if disturbed and attempts <= a.retries:
                log("%s %s t=%d disturbed (others used %.2f cores): again" % (engine, set_name, threads, others))
                continue
            rec["disturbed"] = disturbed
            break
        self.records.append(rec)
        with open(self.jsonl, "a") as f:
            f.write(json.dumps(rec) + "\n")
        log("%-21s %-5s t=%d %-9s %7.1f emb/s  peak RSS %5.0f MiB  cores %.2f  others %.2f  (%s)"
            % (engine, set_name, threads, phase, rec["emb_per_s"], rec["peak_rss_kb"] / 1024, rec["cores_used"] or 0,
               others, rec["config_name"]))
        return rec


def cosines(a_vecs, b_vecs):
    import numpy as np
    a_n = a_vecs / np.linalg.norm(a_vecs, axis=1, keepdims=True)
    b_n = b_vecs / np.linalg.norm(b_vecs, axis=1, keepdims=True)
    return (a_n * b_n).sum(1)


def machine_info():
    def sh(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
        except Exception:
            return ""
    cpu = next((l.split(":", 1)[1].strip() for l in sh(["lscpu"]).splitlines() if l.startswith("Model name")), "?")
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(next(l.split()[1] for l in f if l.startswith("MemTotal")))
    isa = [x for x in ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")
           if x in flags]
    return {"cpu": cpu, "cores": os.cpu_count(), "isa": isa, "amx": "amx_int8" in flags, "hypervisor": "hypervisor" in flags,
            "kernel": platform.release(), "mem_gib": round(mem_kb / 1048576, 1), "os": platform.platform()}


def fmt(v, nd=1):
    if v is None:
        return "-"
    return ("%." + str(nd) + "f") % v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", choices=ENGINES)
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", required=True, help="worker: the texts file; driver: bench/texts")
    ap.add_argument("--st-model", default="")
    ap.add_argument("--threads", default="2,1")
    ap.add_argument("--n", type=int, default=96)
    ap.add_argument("--config", default="{}")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--save", default="")
    # driver only
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--quick", action="store_true", help="development: the full run's code paths (tuning, both thread "
                    "counts, retries) at smoke counts; the numbers mean nothing")
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--out", default="")
    ap.add_argument("--tmp", default="")
    ap.add_argument("--command", default="bench/python.sh")
    ap.add_argument("--t-start", type=float, default=0)
    ap.add_argument("--st-python", default="")
    ap.add_argument("--st-lib", default="")
    ap.add_argument("--st-skip", default="")
    ap.add_argument("--llama-skip", default="")
    ap.add_argument("--llama-build", default="")
    ap.add_argument("--ge-wheel", default="")
    ap.add_argument("--ge-rev", default="")
    ap.add_argument("--ge-dirty", default="")
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--no-tune", action="store_true")
    ap.add_argument("--quiet-wait", type=int, default=0, help="wait at most this many seconds for load average < 0.5")
    ap.add_argument("--retries", type=int, default=-1)
    ap.add_argument("--timeout", type=int, default=1800)
    a = ap.parse_args()
    if a.worker:
        a.threads = int(a.threads)
        return worker(a)
    return drive(a)


def drive(a):
    import numpy as np
    smoke = a.smoke
    t_start = a.t_start or time.time()
    a.tmp = a.tmp or __import__("tempfile").mkdtemp(prefix="python-bench-")
    if a.retries < 0:
        a.retries = 0 if smoke else 2
    threads_list = [int(t) for t in (("2" if smoke else a.threads) if a.threads == "2,1" else a.threads).split(",") if t]
    rounds = a.rounds or (1 if smoke else 3)
    engines = [GE] + ([LCP] if not a.llama_skip else []) + ([ST] if not a.st_skip else [])
    D = Driver(a)
    D.n_docs = 8 if smoke or a.quick else 96
    reps, warmup = (1, 2) if smoke or a.quick else (2, D.n_docs)  # full: an untimed pass over all texts first
    if a.quick:
        rounds = a.rounds or 1
    tune = not smoke and not a.no_tune
    machine = machine_info()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    quiet = wait_quiet(a.quiet_wait) if a.quiet_wait else {"load_start": [round(x, 2) for x in os.getloadavg()],
                                                           "waited_s": 0, "quiet": None, "limit": 0.5}
    if quiet.get("quiet") is False:
        log("*** the machine did not get quiet within %d s: measuring anyway, the report says so ***" % a.quiet_wait)
    set_names = [s for s, _ in SETS]

    # 1. tuning: every configuration once per text set and thread count, fastest kept
    chosen = {}
    for s in set_names:
        for T in threads_list:
            for e in engines:
                cs = CONFIGS[e]
                if not tune or len(cs) == 1:
                    chosen[(e, s, T)] = cs[0]
                    continue
                best = None
                for c in cs:
                    r = D.run(e, s, T, c, "tuning", 0, 1, warmup)
                    if r and (best is None or r["emb_per_s"] > best[0]):
                        best = (r["emb_per_s"], c)
                chosen[(e, s, T)] = best[1] if best else cs[0]

    # 2. the measured rounds, engine order alternating per round and cell
    cell = 0
    for rnd in range(1, rounds + 1):
        for s in set_names:
            for T in threads_list:
                order = engines if (rnd + cell) % 2 else list(reversed(engines))
                cell += 1
                for e in order:
                    D.run(e, s, T, chosen[(e, s, T)], "main", rnd, reps, warmup, save=(rnd == 1))

    # 3. sanity: the peers' vectors and token ids against ggufembed's, same texts
    sanity = []
    failed = []
    for s in set_names:
        for T in threads_list:
            base = os.path.join(a.tmp, "vec-%s-%s-t%d" % (GE, s, T))
            if not os.path.exists(base + ".npy"):
                continue
            gv = np.load(base + ".npy")
            gt = json.load(open(base + ".tokens.json"))
            for e in engines[1:]:
                p = os.path.join(a.tmp, "vec-%s-%s-t%d" % (e, s, T))
                if not os.path.exists(p + ".npy"):
                    continue
                c = cosines(gv, np.load(p + ".npy"))
                pt = json.load(open(p + ".tokens.json"))
                same = sum(1 for x, y in zip(gt, pt) if x == y)
                row = dict(peer=e, set=s, threads=T, n=len(c), cos_min=float(c.min()), cos_mean=float(c.mean()),
                           tokens_same=same, tokens_n=len(gt), tokens_per_text=sum(map(len, gt)) / len(gt))
                sanity.append(row)
                if row["cos_min"] < COS_MIN:
                    failed.append("%s vs ggufembed on %s (threads %d): min cosine %.5f < %.2f" % (e, s, T, row["cos_min"], COS_MIN))
    # the library promises the same vectors for any thread count: checked on the way
    same_threads = []
    if len(threads_list) > 1:
        for s in set_names:
            vs = [os.path.join(a.tmp, "vec-%s-%s-t%d.npy" % (GE, s, T)) for T in threads_list]
            if all(os.path.exists(v) for v in vs):
                arrs = [np.load(v) for v in vs]
                same_threads.append((s, all(np.array_equal(arrs[0].view(np.uint32), x.view(np.uint32)) for x in arrs[1:])))

    # 4. Ray Data: memory per actor, zero-copy vs repacked weights
    ray_runs = []
    if not a.no_ray:
        rows = 64 if smoke else 768
        for mode in ("zero-copy", "repack"):
            out = os.path.join(a.tmp, "ray-%s.json" % mode)
            cmd = [sys.executable, os.path.join(HERE, "python_ray_rss.py"), "--model", a.model, "--texts",
                   os.path.join(a.texts, "batch-long.txt"), "--mode", mode, "--rows", str(rows),
                   "--blocks", "8" if smoke else "16", "--batch-size", "8" if smoke else "32", "--out", out]
            if not smoke:
                wait_idle(IDLE_WAIT_S)
            log("Ray Data, 2 actors, %s, %d rows" % (mode, rows))
            env = D.env_for(GE, 1)
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout, env=env)
            if p.returncode != 0 or not os.path.exists(out):
                D.errors.append("Ray %s: exit %d: %s" % (mode, p.returncode, p.stderr.strip()[-1500:]))
                log("FAILED " + D.errors[-1])
                continue
            r = json.load(open(out))
            ray_runs.append(r)
            for act in r["actors"]:
                log("  actor %d: %d batches, VmRSS %d MiB, RssAnon %d, RssFile %d, Pss %s MiB"
                    % (act["pid"], act["batches"], act["after"]["VmRSS"] / 1024, act["after"]["RssAnon"] / 1024,
                       act["after"]["RssFile"] / 1024, act["after"].get("Pss", 0) // 1024))

    # 5. the report
    md = report(a, machine, started, quiet, engines, threads_list, rounds, reps, warmup, tune, D, chosen, sanity,
                same_threads, ray_runs, failed, t_start)
    out = a.out or os.path.join(a.tmp, "python.md")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write(md)
    print(md.split("## Every run")[0].rstrip())
    problems = D.errors + failed + [("Ray %s: output wrong" % r["mode"]) for r in ray_runs if not r["output_ok"]]
    if problems:
        for p in problems:
            log("*** " + p.splitlines()[0])
        return 1
    return 0


def report(a, machine, started, quiet, engines, threads_list, rounds, reps, warmup, tune, D, chosen, sanity,
           same_threads, ray_runs, failed, t_start):
    med = lambda xs: statistics.median(xs) if xs else None
    main_runs = [r for r in D.records if r["phase"] == "main"]
    info = {}
    for r in D.records:
        info.setdefault(r["engine"], r["info"])
        info[r["engine"] + "/python"] = r["python"]
    L = []
    L.append("# Python: ggufembed vs llama-cpp-python vs sentence-transformers%s"
             % (" (smoke)" if a.smoke else " (--quick: development, meaningless numbers)" if a.quick else ""))
    L.append("")
    L.append("Command: `%s`  " % a.command)
    load_end = os.getloadavg()
    if quiet.get("quiet") is None:
        waited = "not waited for a quiet machine"
    else:
        waited = "waited %d s for < %.1f%s" % (quiet["waited_s"], quiet["limit"], "" if quiet["quiet"] else "; **NOT QUIET: busy machine**")
    L.append("Run: %s, %.1f min; load average (1/5/15 min) %s at the start of the measurements (%s), %s at the end  "
             % (started, (time.time() - t_start) / 60, " / ".join("%.2f" % x for x in quiet["load_start"]), waited,
                " / ".join("%.2f" % x for x in load_end)))
    L.append("Machine: %s, %d cores, %.1f GiB, %s%s; ISA: %s  "
             % (machine["cpu"], machine["cores"], machine["mem_gib"], machine["os"], " (KVM guest)" if machine["hypervisor"] else "",
                " ".join(machine["isa"])))
    L.append("Model: `%s` (%d bytes) for ggufembed and llama-cpp-python; sentence-transformers: the original weights "
             "(`%s`, model.safetensors, fp32)  " % (os.path.basename(a.model), os.path.getsize(a.model),
                                                    os.path.basename(os.path.normpath(a.st_model)) if a.st_model else "-"))
    gi = info.get(GE, {})
    L.append("ggufembed: the wheel `%s` (python -m build from the tree at %s%s) in a venv, `Embedder(path, threads=T, repack=...)`, "
             "`embed(texts, task=\"none\", batch_size=...)`; version %s, kernels %s; Python %s, numpy %s  "
             % (a.ge_wheel, a.ge_rev, ("; uncommitted changes in: " + a.ge_dirty) if a.ge_dirty else "", gi.get("ggufembed", "?"),
                gi.get("kernels", "?"), info.get(GE + "/python", "?"), gi.get("numpy", "?")))
    if LCP in engines:
        li = info.get(LCP, {})
        L.append("llama-cpp-python: %s built from the PyPI sdist (%s), `Llama(path, embedding=True, n_threads=T, n_threads_batch=T, "
                 "pooling_type=MEAN, n_ctx=n_batch=n_ubatch=..., flash_attn=...)`, `embed(...)`, normalized with numpy; "
                 "llama.cpp system info: `%s`; numpy %s  " % (li.get("llama_cpp_python", "?"), a.llama_build,
                                                             li.get("system_info", "?"), li.get("numpy", "?")))
    else:
        L.append("**llama-cpp-python SKIPPED: %s**  " % a.llama_skip)
    if ST in engines:
        si = info.get(ST, {})
        L.append("sentence-transformers: %s, transformers %s, torch %s (CPU capability %s, `torch.set_num_threads(T)`), %s, "
                 "attention %s, numpy %s, Python %s; `SentenceTransformer(dir, device=\"cpu\", model_kwargs={\"dtype\": torch.float32})`, "
                 "`encode(texts, batch_size=..., prompt=\"\", normalize_embeddings=True)`  "
                 % (si.get("sentence_transformers", "?"), si.get("transformers", "?"), si.get("torch", "?"),
                    si.get("torch_cpu_capability", "?"), si.get("dtype", "?"), si.get("attn_implementation", "?"),
                    si.get("numpy", "?"), info.get(ST + "/python", "?")))
    else:
        L.append("**sentence-transformers SKIPPED: %s**  " % a.st_skip)
    L.append("Method: texts `bench/texts/batch-short.txt` / `batch-long.txt` (%d documents each; no prompt: the same token ids "
             "for all three engines, checked below), one process per engine and run; per process: load, %s, then %d timed "
             "pass(es) over all %d texts (embeddings/s = texts x passes / time); %d round(s), the engine order alternating per round "
             "and cell; table = median over rounds. Peak RSS = the process's VmHWM (its own interpreter, libraries and model). "
             "cores = CPU time / wall time of the timed passes. Each run first waits (at most %d s) until other processes use "
             "< 0.15 cores; others = CPU the rest of the machine used during the run (cores); a run above %.2f is repeated "
             "(at most %d times). Thread pools underneath (OpenMP, MKL, tokenizers) are set to the same count; no GPU.  "
             % (D.n_docs, ("a warm-up pass over all texts" if warmup >= D.n_docs else "a warm-up call on %d texts" % warmup),
                reps, D.n_docs, rounds, IDLE_WAIT_S, OTHERS_MAX, a.retries))
    L.append("")

    # ---------------------------------------------------------------- throughput
    L.append("## Throughput (embeddings/s, median over rounds) and memory")
    L.append("")
    L.append("| texts | threads | engine | embeddings/s | ggufembed is x faster | peak RSS (MiB) | RSS after load (MiB) | cores | settings (fastest in tuning) |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for s, _ in SETS:
        for T in threads_list:
            vals = {}
            for e in engines:
                rs = [r for r in main_runs if r["engine"] == e and r["set"] == s and r["threads"] == T]
                if rs:
                    vals[e] = (med([r["emb_per_s"] for r in rs]), med([r["peak_rss_kb"] for r in rs]) / 1024,
                               med([r["rss_after_load_kb"] for r in rs]) / 1024, med([r["cores_used"] for r in rs]), len(rs))
            summary[(s, T)] = vals
            for e in engines:
                if e not in vals:
                    L.append("| %s | %d | %s | failed | | | | | |" % (s, T, e))
                    continue
                v = vals[e]
                ratio = ""
                if e != GE and GE in vals and v[0]:
                    ratio = "**%.2f**" % (vals[GE][0] / v[0])
                L.append("| %s | %d | %s | %s | %s | %.0f | %.0f | %.2f | %s |"
                         % (s, T, e, fmt(v[0]), ratio, v[1], v[2], v[3] or 0, config_name(e, chosen[(e, s, T)])))
    L.append("")
    L.append("short = ~%s tokens per text, long = ~%s (BOS/EOS included)." % tuple(
        fmt(next((x["tokens_per_text"] for x in sanity if x["set"] == s), None), 0) for s in ("short", "long")))
    L.append("")

    # ---------------------------------------------------------------- sanity
    L.append("## Same inputs, same vectors")
    L.append("")
    if sanity:
        L.append("Cosine between ggufembed's vector and the peer's for each text (round 1; the threshold is %.2f), and how many "
                 "texts got identical token ids:" % COS_MIN)
        L.append("")
        L.append("| peer | texts | threads | min cosine | mean cosine | token ids identical |")
        L.append("|---|---|---|---|---|---|")
        for x in sanity:
            L.append("| %s | %s | %d | %.6f | %.6f | %d / %d |" % (x["peer"], x["set"], x["threads"], x["cos_min"], x["cos_mean"],
                                                                 x["tokens_same"], x["tokens_n"]))
        L.append("")
    for s, ok in same_threads:
        L.append("ggufembed's vectors with %s threads on %s: %s.  " % (" and ".join(map(str, threads_list)), s,
                                                                       "bit-identical" if ok else "**DIFFERENT**"))
    for f_ in failed:
        L.append("**SANITY FAILED: %s**  " % f_)
    L.append("")

    # ---------------------------------------------------------------- Ray
    if ray_runs:
        L.append("## Ray Data: memory per actor, zero-copy vs repacked weights")
        L.append("")
        r0 = ray_runs[0]
        L.append("`python_ray_rss.py`: ray %s, `ray.init(num_cpus=%d)`, a Parquet corpus of %d rows (batch-long.txt repeated, "
                 "`repartition(%d)`), `map_batches(EmbedBatch subclass, compute=ActorPoolStrategy(size=%d, max_tasks_in_flight_per_actor=1), num_cpus=%.1f, batch_size=%d, batch_format=\"numpy\")` "
                 "with `threads=1, task=\"none\"`, written to Parquet. Each actor reports its memory after every batch (extra "
                 "columns); the figures are those after its last batch (kB from /proc/self/status and smaps_rollup, shown in MiB). "
                 "\"before model\" = the same Ray worker before `Embedder(...)`. The model file is %.0f MiB. rows/s is the whole "
                 "job's wall time (cluster start excluded, actor start and model load included)."
                 % (r0["ray"], r0["cluster_cpus"], r0["rows"], r0["blocks"], r0["actors_requested"], r0["num_cpus_per_actor"],
                    r0["batch_size"], r0["model_file_kb"] / 1024))
        L.append("")
        L.append("| weights | actor | batches | VmRSS | RssAnon | RssFile | RssShmem | PSS | Pss_Anon | Pss_File | VmHWM | VmRSS before model | PSS before model |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        mib = lambda d, k: ("%.0f" % (d[k] / 1024)) if k in d else "-"
        for r in ray_runs:
            if len(r["actors"]) < r["actors_requested"]:
                L.append("| %s | only %d of %d actors got batches | | | | | | | | | | | |" % (r["mode"], len(r["actors"]), r["actors_requested"]))
            label = "zero-copy (repack=False)" if r["mode"] == "zero-copy" else "repacked (repack=True)"
            for k, act in enumerate(r["actors"]):
                m, m0 = act["after"], act["before_model"]
                L.append("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                         % (label, k + 1, act["batches"], mib(m, "VmRSS"), mib(m, "RssAnon"), mib(m, "RssFile"), mib(m, "RssShmem"),
                            mib(m, "Pss"), mib(m, "Pss_Anon"), mib(m, "Pss_File"), mib(m, "VmHWM"), mib(m0, "VmRSS"), mib(m0, "Pss")))
        L.append("")
        L.append("| weights | actors | sum of PSS (MiB) | sum of PSS minus before model (MiB) | sum of VmRSS (MiB) | rows/s | output |")
        L.append("|---|---|---|---|---|---|---|")
        for r in ray_runs:
            acts = r["actors"]
            pss = sum(x["after"].get("Pss", 0) for x in acts) / 1024
            pss0 = sum(x["before_model"].get("Pss", 0) for x in acts) / 1024
            rss = sum(x["after"].get("VmRSS", 0) for x in acts) / 1024
            L.append("| %s | %d | **%.0f** | %.0f | %.0f | %.1f | %s |" % (r["mode"], len(acts), pss, pss - pss0, rss, r["rows_per_s"],
                                                                          "ok" if r["output_ok"] else "**WRONG**"))
        L.append("")

    # ---------------------------------------------------------------- tuning + raw
    if tune:
        L.append("## Tuning (every configuration once; the fastest is used above)")
        L.append("")
        L.append("| texts | threads | engine | configuration | embeddings/s | peak RSS (MiB) |")
        L.append("|---|---|---|---|---|---|")
        for r in D.records:
            if r["phase"] == "tuning":
                mark = " (used)" if chosen.get((r["engine"], r["set"], r["threads"])) == r["config"] else ""
                L.append("| %s | %d | %s | %s%s | %s | %.0f |" % (r["set"], r["threads"], r["engine"], r["config_name"], mark,
                                                               fmt(r["emb_per_s"]), r["peak_rss_kb"] / 1024))
        L.append("")
        L.append("Not tried: several llama.cpp contexts in threads of one process (bench/run.sh does that with the C API; "
                 "llama-cpp-python users call one Llama per process), sentence-transformers in bf16/int8 or with ONNX/OpenVINO "
                 "(the comparison is fp32, the reference the model was trained and published in).")
        L.append("")
    L.append("## Every run")
    L.append("")
    L.append("| phase | round | texts | threads | engine | configuration | embeddings/s | pass times (s) | peak RSS (MiB) | load (s) | cores | others (cores) | attempts |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in D.records:
        L.append("| %s | %d | %s | %d | %s | %s | %s | %s | %.0f | %.1f | %.2f | %.2f%s | %d |"
                 % (r["phase"], r["round"], r["set"], r["threads"], r["engine"], r["config_name"], fmt(r["emb_per_s"]),
                    ", ".join("%.2f" % x for x in r["pass_s"]), r["peak_rss_kb"] / 1024, r["load_s"], r["cores_used"] or 0,
                    r["others_cores"], " (disturbed)" if r.get("disturbed") else "", r["attempts"]))
    if D.errors:
        L.append("")
        L.append("## Errors")
        L.append("")
        for e in D.errors:
            L.append("- `%s`" % e.replace("\n", " ")[:1500])
    return "\n".join(L).rstrip() + "\n"


if __name__ == "__main__":
    sys.exit(main())
