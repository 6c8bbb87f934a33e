"""Embed a Parquet corpus (columns "id", "text") into Parquet vectors with Spark's mapInPandas.

    python spark_parquet.py MODEL.gguf corpus.parquet vectors/ [--master local[2]]

Each Python worker opens the model once, at its first batch, and keeps it for the batches
that follow; zero-copy (repack=False), so the workers of a node share the file's pages.
On a cluster the model must be at the same path on every executor (or fetched there with
ggufembed.download). Match spark.task.cpus to `threads`; the batch size is
spark.sql.execution.arrow.maxRecordsPerBatch.
"""
import argparse
from typing import Any, Iterator

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql.types import ArrayType, FloatType, LongType, StructField, StructType

_model: Any = None


def embed_partitions(model_path: str, task: str):  # -> the function mapInPandas calls
    def embed(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        global _model
        import ggufembed
        if _model is None:
            _model = ggufembed.Embedder(model_path, threads=1, repack=False)
        for pdf in batches:
            v = _model.embed(pdf["text"].tolist(), task=task)
            yield pd.DataFrame({"id": pdf["id"], "embedding": list(v)})
    return embed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--master", default=None, help="e.g. local[2] or spark://host:7077 (default: spark-submit's)")
    ap.add_argument("--task", default="document")
    args = ap.parse_args()
    builder = SparkSession.builder.appName("ggufembed")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    schema = StructType([StructField("id", LongType()), StructField("embedding", ArrayType(FloatType()))])
    (spark.read.parquet(args.corpus).select("id", "text")
        .mapInPandas(embed_partitions(args.model, args.task), schema)
        .write.mode("overwrite").parquet(args.out))
    spark.stop()


if __name__ == "__main__":
    main()
