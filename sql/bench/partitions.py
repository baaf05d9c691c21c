#!/usr/bin/env python3
"""Partition pruning at scale: Apiary against DuckDB and DataFusion on the same files.

For each table size (1k, 10k, 100k partitions by default) it writes a Parquet table
partitioned by an integer key `p` (one small file per partition, `p=<n>/` directories),
registers it in a fresh Apiary metastore with MSCK REPAIR TABLE, and times three queries:

    single   one partition      select count(*), sum(v) from t where p = <n>
    range    1% of partitions   select count(*), sum(v) from t where p >= <a> and p < <a + N/100>
    full     every partition    select count(*), sum(v) from t

on Apiary (its own metastore), DuckDB (`read_parquet(..., hive_partitioning = true)`) and
DataFusion (a listing table with `p` as a partition column), each with the same thread count.
"plan" is the time to plan a query (EXPLAIN for Apiary and DuckDB, building the physical plan
for DataFusion); "total" the time to plan and run it. Both are medians over --repeat runs after
a warm-up. The answers of the three engines are checked to agree.

    python3 sql/bench/partitions.py --apiary target/release/apiary

Needs `pip install duckdb datafusion pyarrow`. The generated files are kept in --data and
reused by later runs.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import datafusion
import pyarrow as pa
import pyarrow.parquet as pq

ROWS_PER_PARTITION = 10


def generate(root: Path, partitions: int) -> None:
    """Writes `partitions` directories `p=<n>` with one Parquet file each, unless present."""
    done = root / "_GENERATED"
    if done.exists():
        return
    print(f"generating {partitions} partitions in {root} ...", file=sys.stderr, flush=True)
    for n in range(partitions):
        directory = root / f"p={n}"
        directory.mkdir(parents=True, exist_ok=True)
        first = n * ROWS_PER_PARTITION
        batch = pa.table(
            {
                "id": pa.array(range(first, first + ROWS_PER_PARTITION), pa.int64()),
                "v": pa.array([float(i % 97) for i in range(ROWS_PER_PARTITION)], pa.float64()),
            }
        )
        pq.write_table(batch, directory / "part-0.parquet", compression="snappy")
    done.touch()


def queries(partitions: int) -> dict:
    single = partitions // 2 + 7
    start = partitions // 3
    width = max(partitions // 100, 1)
    return {
        "single": f"where p = {single}",
        "range": f"where p >= {start} and p < {start + width}",
        "full": "",
    }


def select(table: str, where: str) -> str:
    return f"select count(*), sum(v) from {table} {where}".strip()


class Apiary:
    """Runs statements through the `apiary` CLI on a private warehouse and metastore, and
    reads each statement's time from its `Time taken: ... seconds` line."""

    name = "apiary"

    def __init__(self, binary: str, threads: int, home: Path):
        self.binary = binary
        self.home = home
        self.threads = threads

    def run(self, statements: list) -> tuple:
        script = self.home / "bench.hql"
        script.write_text(";\n".join(statements) + ";\n")
        result = subprocess.run(
            [
                self.binary,
                "--warehouse", str(self.home / "warehouse"),
                "--metastore", str(self.home / "metastore.db"),
                "--hiveconf", f"datafusion.execution.target_partitions={self.threads}",
                "-f", str(script),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"apiary failed: {result.stderr[-2000:]}")
        times = [float(t) for t in re.findall(r"Time taken: ([0-9.]+) seconds", result.stderr)]
        return result.stdout, times

    def register(self, table: str, root: Path) -> float:
        _, times = self.run(
            [
                f"drop table if exists {table}",
                f"create external table {table} (id bigint, v double) partitioned by (p int) "
                f"stored as parquet location '{root}'",
                f"msck repair table {table}",
            ]
        )
        return times[-1]

    def measure(self, table: str, where: str, repeat: int) -> tuple:
        query = select(table, where)
        statements = [f"explain {query}"] * (repeat + 1) + [query] * (repeat + 1)
        stdout, times = self.run(statements)
        answer = stdout.strip().splitlines()[-1].split("\t")
        plan = times[1 : repeat + 1]
        total = times[repeat + 2 :]
        return statistics.median(plan), statistics.median(total), normalize(answer)


class DuckDB:
    name = "duckdb"

    def __init__(self, threads: int):
        self.connection = duckdb.connect()
        self.connection.execute(f"set threads = {threads}")

    def register(self, table: str, root: Path) -> float:
        started = time.perf_counter()
        self.connection.execute(
            f"create or replace view {table} as select * from "
            f"read_parquet('{root}/*/*.parquet', hive_partitioning = true)"
        )
        return time.perf_counter() - started

    def measure(self, table: str, where: str, repeat: int) -> tuple:
        query = select(table, where)
        plan = timed(lambda: self.connection.execute(f"explain {query}").fetchall(), repeat)
        answer = []
        total = timed(lambda: answer.append(self.connection.execute(query).fetchone()), repeat)
        return plan, total, normalize(answer[-1])


class DataFusion:
    name = "datafusion"

    def __init__(self, threads: int):
        config = datafusion.SessionConfig().with_target_partitions(threads)
        self.context = datafusion.SessionContext(config)

    def register(self, table: str, root: Path) -> float:
        started = time.perf_counter()
        self.context.deregister_table(table)
        self.context.register_listing_table(
            table, str(root), table_partition_cols=[("p", pa.int32())], file_extension=".parquet"
        )
        return time.perf_counter() - started

    def measure(self, table: str, where: str, repeat: int) -> tuple:
        query = select(table, where)
        plan = timed(lambda: self.context.sql(query).execution_plan(), repeat)
        answer = []
        total = timed(lambda: answer.append(self.context.sql(query).collect()), repeat)
        row = answer[-1][0].to_pylist()[0] if answer[-1] else {}
        return plan, total, normalize(list(row.values()))


def timed(action, repeat: int) -> float:
    """Median seconds of `repeat` runs of `action` after one warm-up run."""
    action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def normalize(row) -> tuple:
    """A result row as (count, sum) numbers, whatever engine printed it."""
    values = []
    for value in row:
        if value is None or value == "NULL":
            values.append(None)
        else:
            values.append(round(float(value), 6))
    return tuple(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apiary", default="target/release/apiary", help="the apiary binary")
    parser.add_argument("--sizes", default="1000,10000,100000", help="partition counts")
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "apiary-partition-bench"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    data = Path(args.data)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="apiary-bench-") as home:
        engines = [
            Apiary(args.apiary, args.threads, Path(home)),
            DuckDB(args.threads),
            DataFusion(args.threads),
        ]
        print(
            f"apiary, duckdb {duckdb.__version__}, datafusion {datafusion.__version__}; "
            f"{args.threads} threads; median of {args.repeat} runs; times in ms"
        )
        header = f"{'partitions':>10} {'query':<7} {'engine':<11} {'plan':>9} {'total':>9} {'plan/apiary':>12} {'total/apiary':>13}"
        print(header)
        print("-" * len(header))
        failures = 0
        for size in sizes:
            root = data / f"p{size}"
            generate(root, size)
            table = f"p{size}"
            for engine in engines:
                seconds = engine.register(table, root)
                print(f"{size:>10} {'setup':<7} {engine.name:<11} {'':>9} {seconds * 1000:>9.1f}")
            for label, where in queries(size).items():
                results = [(engine.name, *engine.measure(table, where, args.repeat)) for engine in engines]
                base_plan, base_total = results[0][1], results[0][2]
                for name, plan, total, answer in results:
                    print(
                        f"{size:>10} {label:<7} {name:<11} {plan * 1000:>9.2f} {total * 1000:>9.2f}"
                        f" {ratio(plan, base_plan):>12} {ratio(total, base_total):>13}"
                    )
                answers = {answer for _, _, _, answer in results}
                if len(answers) != 1:
                    failures += 1
                    print(f"answers differ: {results}", file=sys.stderr)
        if failures:
            sys.exit(f"{failures} queries had answers that differ between engines")


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}" if base > 0 else "-"


if __name__ == "__main__":
    main()
