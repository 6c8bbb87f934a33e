"""Embed a Parquet corpus (a "text" column) into a Parquet file of vectors with Ray Data.

    python ray_parquet.py MODEL.gguf corpus.parquet vectors/ [--address ray://head:10001]

Locally (no --address) Ray starts a cluster of this machine's cores; on a multi-node cluster
only the address changes (the model file must be at the same path on every node).
"""
import argparse

import ray

from ggufembed.ray import embed_dataset


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--address", default=None)
    ap.add_argument("--task", default="document")
    args = ap.parse_args()
    ray.init(address=args.address)
    ds = ray.data.read_parquet(args.corpus)
    embed_dataset(ds, args.model, task=args.task).write_parquet(args.out)


if __name__ == "__main__":
    main()
