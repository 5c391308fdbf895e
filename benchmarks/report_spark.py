"""The full report of the bundled sample on PySpark (local[2]) against pandas.

Builds the sample's tables as Spark DataFrames (naive timestamps as TIMESTAMP_NTZ),
runs ``pipelinekit.report`` on them and on the pandas tables, checks that the JSON
reports are equal and prints both times. Needs the ``spark`` extra and Java 17::

    python benchmarks/report_spark.py
"""

from __future__ import annotations

import json
import time
from typing import Any

import pipelinekit as pk
from pipelinekit.dataset import Dataset


def spark_session() -> Any:
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("pipelinekit-report")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def main() -> None:
    data = pk.sample_dataset()
    spark = spark_session()
    frames = {
        name: spark.createDataFrame(frame)
        for name, frame in data.tables().items()
        if frame is not None and len(frame)
    }
    spark_data = Dataset(**frames, tz=data.tz, validated=True)
    start = time.perf_counter()
    want = pk.report(data).to_json()
    pandas_s = time.perf_counter() - start
    start = time.perf_counter()
    got = pk.report(spark_data).to_json()
    spark_s = time.perf_counter() - start
    same = json.loads(got) == json.loads(want)
    print(f"pandas report: {pandas_s:.1f} s; PySpark report: {spark_s:.1f} s; same JSON: {same}")
    if not same:
        raise SystemExit("the PySpark report differs from the pandas report")


if __name__ == "__main__":
    main()
