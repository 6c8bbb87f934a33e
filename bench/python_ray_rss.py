#!/usr/bin/env python3
"""bench/python_ray_rss.py - the memory of Ray Data actors that embed with ggufembed.

    python_ray_rss.py --model GGUF --texts FILE --mode zero-copy|repack [--rows N] [--out F.json]

Run by bench/python_bench.py in the bench venv (ray[data], the ggufembed wheel), once per
mode, each in a fresh process and a fresh local cluster: ray.init(num_cpus=2), a Parquet
corpus (the texts repeated to --rows rows, repartitioned into --blocks blocks), ``map_batches`` with two actors of
``ggufembed.ray.EmbedBatch`` (1 thread each, num_cpus=0.5 so that the read and write tasks
still get a CPU - see python/tests/test_ray.py), written to Parquet as a real job would.

Memory per actor (kB from /proc/PID/status: VmRSS, VmHWM, RssAnon, RssFile, RssShmem, and
/proc/PID/smaps_rollup: Pss, Pss_Anon, Pss_File) is taken two ways:
  - by the actors themselves, a subclass of EmbedBatch that adds its process's memory as
    extra columns: once before the model is opened ("before model") and after each batch
    (the actors are gone when the job ends, so they cannot be asked later);
  - by a sampler thread here, every 0.25 s, from /proc of the actor processes (proc title
    "ray::MapWorker(MapBatches(MemEmbedBatch))..."). The report uses, of the snapshots in
    which every actor that embedded was alive, the one with the largest total VmRSS (the
    steady state; a later one may catch an actor in its teardown). PSS splits shared pages
    between the processes mapping them *at that moment*, and Ray Data stops an idle actor
    as soon as the input runs out, so an actor's own last-batch figure may already count
    the shared model pages alone.
With repack=False the two actors map the same file: its pages are counted in each actor's
RssFile but split between them in Pss; with repack=True each holds its own copy (RssAnon).

proc_memory() is also imported by python_bench.py (standard library only at import time).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time

STATUS_KEYS = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem")
ROLLUP_KEYS = ("Rss", "Pss", "Pss_Anon", "Pss_File", "Pss_Shmem")


def proc_memory(pid="self"):
    """kB figures of a process: /proc/PID/status and smaps_rollup (Pss: shared pages split
    between the processes that map them). Keys missing on this kernel are left out."""
    out = {}
    try:
        with open("/proc/%s/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in STATUS_KEYS:
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    try:
        with open("/proc/%s/smaps_rollup" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ROLLUP_KEYS:
                    out["rollup_" + k if k == "Rss" else k] = int(v.split()[0])
    except OSError:
        pass
    return out


def actor_pids(tag=b"MapBatches(MemEmbedBatch)"):
    pids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    if tag in f.read().split(b"\0")[0]:
                        pids.append(int(p))
            except OSError:
                pass
    return pids


class Sampler(threading.Thread):
    """Snapshots {pid: memory} of the actor processes until stopped."""

    def __init__(self, every=0.25):
        super().__init__(daemon=True)
        self.every, self.snaps, self.stop = every, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            snap = {pid: proc_memory(pid) for pid in actor_pids()}
            snap = {pid: m for pid, m in snap.items() if "VmRSS" in m}  # exited meanwhile
            if snap:
                self.snaps.append((time.perf_counter(), snap))
            self.stop.wait(self.every)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", required=True, help="one text per line (bench/texts/batch-long.txt)")
    ap.add_argument("--mode", choices=("zero-copy", "repack"), required=True)
    ap.add_argument("--rows", type=int, default=768)
    ap.add_argument("--blocks", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--actors", type=int, default=2)
    ap.add_argument("--num-cpus", type=int, default=2, help="ray.init(num_cpus=...)")
    ap.add_argument("--actor-cpus", type=float, default=0.5, help="num_cpus reserved by each actor")
    ap.add_argument("--out", default="")
    a = ap.parse_args()

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray
    import ggufembed
    from ggufembed.ray import EmbedBatch

    with open(a.texts, encoding="utf-8") as f:
        base = [line.rstrip("\n") for line in f if line.strip()]
    texts = [base[i % len(base)] for i in range(a.rows)]
    repack = a.mode == "repack"

    # Defined here, not at module level: cloudpickle then ships the class by value, so the
    # Ray workers need neither this file nor bench/ on their path.
    class MemEmbedBatch(EmbedBatch):
        def __init__(self, **kw):
            self.mem0 = proc_memory()           # the bare Ray worker, before the model
            super().__init__(**kw)
            self.calls = 0

        def __call__(self, batch):
            out = super().__call__(batch)
            self.calls += 1
            n = len(out[self.output_column])
            out["actor_pid"] = np.full(n, os.getpid(), dtype=np.int64)
            out["actor_call"] = np.full(n, self.calls, dtype=np.int64)
            for k, v in proc_memory().items():
                out["mem_" + k] = np.full(n, v, dtype=np.int64)
            for k, v in self.mem0.items():
                out["mem0_" + k] = np.full(n, v, dtype=np.int64)
            return out

    work = tempfile.mkdtemp(prefix="ray-rss-")
    pq.write_table(pa.table({"id": list(range(a.rows)), "text": texts}), os.path.join(work, "corpus.parquet"))
    ray.init(num_cpus=a.num_cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    sampler = Sampler()
    sampler.start()
    try:
        t0 = time.perf_counter()
        ds = ray.data.read_parquet(os.path.join(work, "corpus.parquet"))
        # Ray Data reads a small corpus as one block whatever override_num_blocks says (and
        # one block goes to one actor): split it so that both actors get work
        ds = ds.repartition(a.blocks)
        # a fixed pool of a.actors actors (what concurrency=N gives), but one block in flight
        # per actor: with the default (several) the actor that starts first can take every
        # block of a small corpus and the other one never embeds anything
        pool = ray.data.ActorPoolStrategy(size=a.actors, max_tasks_in_flight_per_actor=1)
        ds = ds.map_batches(MemEmbedBatch, fn_constructor_kwargs=dict(model=a.model, threads=1, repack=repack, task="none"),
                            compute=pool, num_cpus=a.actor_cpus, batch_size=a.batch_size, batch_format="numpy")
        ds.write_parquet(os.path.join(work, "out"))
        wall = time.perf_counter() - t0
    finally:
        sampler.stop.set()
        sampler.join()
        ray.shutdown()
    table = pq.read_table(os.path.join(work, "out")).to_pandas()
    shutil.rmtree(work, ignore_errors=True)
    vecs = np.stack([np.asarray(v, dtype=np.float32) for v in table["embedding"]])
    norms = np.linalg.norm(vecs, axis=1)
    ok = sorted(table["id"].tolist()) == list(range(a.rows)) and bool(np.all(np.abs(norms - 1) < 1e-3))
    pids = sorted(int(p) for p in table["actor_pid"].unique())
    # of the snapshots with every actor that embedded alive, the one with the most memory
    # in all (steady state: models loaded, scratch grown; later ones may catch an actor in
    # its teardown, already unmapping)
    both = [(t, snap) for t, snap in sampler.snaps if all(p in snap for p in pids)]
    snap_t, snap = max(both, key=lambda ts: sum(m["VmRSS"] for m in ts[1].values())) if both else (None, {})
    actors = []
    for pid, g in table.groupby("actor_pid"):
        last = g[g["actor_call"] == g["actor_call"].max()].iloc[0]
        rec = {"pid": int(pid), "batches": int(g["actor_call"].max()), "rows": int(len(g))}
        rec["last_batch"] = {c[4:]: int(last[c]) for c in table.columns if c.startswith("mem_")}
        rec["before_model"] = {c[5:]: int(last[c]) for c in table.columns if c.startswith("mem0_")}
        rec["after"] = snap.get(int(pid)) or rec["last_batch"]
        rec["after_source"] = "sampler" if int(pid) in snap else "last batch (no snapshot with all actors alive)"
        actors.append(rec)
    res = {"mode": a.mode, "repack": repack, "rows": a.rows, "blocks": a.blocks, "batch_size": a.batch_size,
           "actors_requested": a.actors, "num_cpus_per_actor": a.actor_cpus, "cluster_cpus": a.num_cpus,
           "wall_s": round(wall, 3), "snapshots": len(sampler.snaps),
           "snapshot_before_end_s": round(t0 + wall - snap_t, 2) if snap_t else None,
           # every snapshot: seconds since the job started, {pid: [VmRSS, Pss] in MiB}
           "timeline": [[round(t - t0, 2), {str(p): [m["VmRSS"] // 1024, m.get("Pss", 0) // 1024] for p, m in sn.items()}]
                        for t, sn in sampler.snaps], "rows_per_s": round(a.rows / wall, 2), "output_ok": ok, "actors": actors,
           "ray": ray.__version__, "ggufembed": ggufembed.__version__,
           "model_file_kb": os.path.getsize(a.model) // 1024}
    js = json.dumps(res)
    if a.out:
        with open(a.out, "w") as f:
            f.write(js + "\n")
    print(js)
    if not ok:
        print("python_ray_rss: the output is wrong (rows missing or vectors not unit length)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
