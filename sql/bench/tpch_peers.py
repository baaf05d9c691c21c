#!/usr/bin/env python3
"""TPC-H on Apiary, DuckDB and DataFusion: the 22 queries of sql/tpch/ on the same Parquet
files (tpchgen-cli output), with the same thread count.

Apiary reads the files as the external tables of sql/tpch/schema.sql, with statistics from
sql/tpch/analyze.sql; DuckDB through views over `read_parquet`; DataFusion (its Python
package) through `register_parquet`. Each query runs once to warm up, then --runs times; the
table shows medians in seconds, Apiary's time over each peer's, and geomeans. Answers are
checked to agree (numbers to a relative 1e-4: Hive's DECIMAL arithmetic keeps other scales).

    python3 sql/bench/tpch_peers.py --apiary target/release/apiary --scale 1

Needs `pip install tpchgen-cli duckdb datafusion`. This is the Parquet layout of the
benchmark issue 7 asks for; the partitioned and text layouts are not here yet.
"""

import datetime
import decimal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import datafusion
import duckdb

from tpch_join_order import QUERIES, Apiary, agree, generate, geomean, strip_comments, tpch_arguments

TABLES = ["nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem"]


def as_text(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (float, decimal.Decimal)):
        return repr(float(value))
    return str(value)


def timed(run, runs: int) -> tuple:
    answer = run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), answer


class DuckDB:
    def __init__(self, data: Path, threads: int):
        self.connection = duckdb.connect()
        self.connection.execute(f"set threads = {threads}")
        for table in TABLES:
            self.connection.execute(
                f"create view {table} as select * from read_parquet('{data}/{table}/*.parquet')"
            )

    def measure(self, query: str, runs: int) -> tuple:
        def run():
            return [tuple(map(as_text, row)) for row in self.connection.execute(query).fetchall()]

        return timed(run, runs)


class DataFusion:
    def __init__(self, data: Path, threads: int):
        config = datafusion.SessionConfig().with_target_partitions(threads)
        self.context = datafusion.SessionContext(config)
        for table in TABLES:
            self.context.register_parquet(table, str(data / table))

    def measure(self, query: str, runs: int) -> tuple:
        def run():
            rows = []
            for batch in self.context.sql(query).collect():
                columns = batch.to_pydict()
                names = list(columns)
                for i in range(batch.num_rows):
                    rows.append(tuple(as_text(columns[n][i]) for n in names))
            return rows

        return timed(run, runs)


def main() -> None:
    args = tpch_arguments(__doc__).parse_args()
    data = args.data or Path(tempfile.gettempdir()) / f"apiary-tpch-sf{args.scale:g}"
    generate(data, args.scale)

    with tempfile.TemporaryDirectory() as home:
        apiary = Apiary(args.apiary, args.threads, Path(home), args.timeout)
        apiary.setup(data)
        peers = [("duckdb", DuckDB(data, args.threads)), ("datafusion", DataFusion(data, args.threads))]
        print(f"TPC-H SF{args.scale:g}, Parquet, {args.threads} threads; medians of {args.runs} runs, seconds")
        print(f"{'query':<6}{'apiary':>9}{'duckdb':>9}{'datafusion':>11}{'/duckdb':>9}{'/datafusion':>12}  note")
        ratios = {name: [] for name, _ in peers}
        for n in range(1, 23):
            query = strip_comments((QUERIES / f"q{n:02d}.sql").read_text()).rstrip(";")
            t_apiary, answer = apiary.measure(query, True, args.runs)
            times, notes = {}, []
            for name, peer in peers:
                try:
                    times[name], theirs = peer.measure(query, args.runs)
                except Exception as error:  # a peer that cannot run a query is reported, not fatal
                    times[name], theirs = float("nan"), None
                    notes.append(f"{name} failed: {str(error).splitlines()[0][:60]}")
                    continue
                ratios[name].append(t_apiary / times[name])
                if not agree(answer, theirs, 1e-4):
                    notes.append(f"answers differ from {name}")
            print(
                f"Q{n:<5}{t_apiary:>9.3f}{times['duckdb']:>9.3f}{times['datafusion']:>11.3f}"
                f"{t_apiary / times['duckdb']:>9.2f}{t_apiary / times['datafusion']:>12.2f}  {'; '.join(notes)}",
                flush=True,
            )
        print(
            "geomean of apiary's time over: "
            + ", ".join(f"{name} {geomean(r):.2f}" for name, r in ratios.items() if r)
        )


if __name__ == "__main__":
    sys.exit(main())
