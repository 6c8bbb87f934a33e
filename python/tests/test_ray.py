"""Ray Data on local clusters (ray.init(num_cpus=2), and `ray start --head` on loopback for
the example script): the vectors of a Parquet corpus embedded by Ray actors equal the
single-process ones bit for bit."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

import ray
import pyarrow as pa
import pyarrow.parquet as pq

import ggufembed
from ggufembed.ray import EmbedBatch

MODEL = os.environ.get("GGUFEMBED_MODEL_PATH", "")


class PidEmbedBatch(EmbedBatch):
    """EmbedBatch that also says which actor (process) embedded each row"""

    def __call__(self, batch):
        out = super().__call__(batch)
        out["pid"] = np.full(len(batch["id"]), os.getpid())
        return out


def test_ray_parquet_equals_single_process(tmp_path):
    texts = ["text %d: %s" % (i, "the quick brown fox " * (1 + i % 5)) for i in range(40)]
    (tmp_path / "corpus").mkdir()
    for k in range(4):
        rows = list(range(10 * k, 10 * k + 10))
        pq.write_table(pa.table({"id": rows, "text": [texts[i] for i in rows]}), tmp_path / "corpus" / ("%d.parquet" % k))
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True)
    try:
        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this file
        # four blocks (Ray would read four small files as one): work for both actors
        ds = ray.data.read_parquet(str(tmp_path / "corpus")).repartition(4)
        # two actors of half a CPU each: the read and write tasks need the other CPU
        ds.map_batches(PidEmbedBatch, fn_constructor_kwargs=dict(model=MODEL, task="document"), concurrency=2,
                       num_cpus=0.5, batch_size=5, batch_format="numpy").write_parquet(str(tmp_path / "out"))
    finally:
        ray.shutdown()
    table = pq.read_table(tmp_path / "out").to_pandas().sort_values("id")
    got = np.stack([np.asarray(v, dtype=np.float32) for v in table["embedding"]])
    assert list(table["id"]) == list(range(40)), "every row once"
    assert table["pid"].nunique() == 2, "both actors embedded"
    with ggufembed.Embedder(MODEL) as m:
        ref = m.embed(texts, task="document")
    assert got.shape == ref.shape and np.array_equal(got.view(np.uint32), ref.view(np.uint32))


def test_example_on_a_started_cluster(tmp_path):
    """examples/ray_parquet.py against a cluster started apart (`ray start --head`, loopback),
    as on a multi-node cluster where only --address changes; embed_dataset's default layout
    (one actor per CPU but one) must not starve the read and write tasks"""
    texts = ["row %d %s" % (i, "lorem ipsum " * (i % 7)) for i in range(24)]
    pq.write_table(pa.table({"id": list(range(24)), "text": texts}), tmp_path / "corpus.parquet")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    ray_cli = os.path.join(os.path.dirname(sys.executable), "ray")
    head = subprocess.Popen([ray_cli, "start", "--head", "--block", "--num-cpus=2", "--port=%d" % port,
                             "--node-ip-address=127.0.0.1", "--include-dashboard=false", "--disable-usage-stats",
                             "--temp-dir=" + temp], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "ray_parquet.py")
        deadline = time.time() + 120
        while True:  # the head is up when a client can connect
            r = subprocess.run([sys.executable, "-c", "import ray; ray.init(address='127.0.0.1:%d')" % port],
                               capture_output=True, text=True)
            if r.returncode == 0 or time.time() > deadline or head.poll() is not None:
                break
            time.sleep(1)
        assert r.returncode == 0, r.stderr[-2000:]
        run = subprocess.run([sys.executable, example, MODEL, str(tmp_path / "corpus.parquet"), str(tmp_path / "out"),
                              "--address", "127.0.0.1:%d" % port], capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        shutil.rmtree(temp, ignore_errors=True)
    table = pq.read_table(tmp_path / "out").to_pandas().sort_values("id")
    got = np.stack([np.asarray(v, dtype=np.float32) for v in table["embedding"]])
    with ggufembed.Embedder(MODEL) as m:
        ref = m.embed(texts, task="document")
    assert list(table["id"]) == list(range(24))
    assert np.array_equal(got.view(np.uint32), ref.view(np.uint32))
