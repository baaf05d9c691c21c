#!/usr/bin/env python3
"""Fixed costs: how long `apiary -e 'select 1'` takes as a whole process, and how much each
query on a small table costs beyond its work (parsing, metastore lookups, planning, starting
the plan), against DuckDB and DataFusion running the same queries on the same files.

    startup        wall time of `apiary -e 'select 1'` (embedded metastore, already created),
                   and of the very first run on a machine (metastore and warehouse created)
    per query      one process runs the query --repeat times in a script; the time per run is
                   (time of that process - time of a process running it once) / (repeat - 1),
                   so process start and exit are not counted. DuckDB and DataFusion (Python
                   packages, same thread count) run the same query --repeat times in a loop
                   on the same Parquet file.

The small tables: `small` (1,000 rows: id, k, v) and `dim` (10 rows: k, name), Parquet files
written by Apiary and read by the peers.

    python3 sql/bench/overhead.py --apiary target/release/apiary

Needs `pip install duckdb datafusion`. Targets (docs/performance.md): startup under 100 ms,
per-query overhead under 5 ms.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import datafusion
import duckdb

QUERIES = {
    "point": "select id, v from small where id = 417",
    "aggregate": "select k, count(*), sum(v) from small group by k",
    "join": "select d.name, count(*) from small s join dim d on s.k = d.k group by d.name",
    "top": "select id, v from small order by v desc, id limit 5",
}

SETUP = """
create table small (id int, k int, v double) stored as parquet;
insert into small select pos, pos % 10, (pos * 37 % 101) / 4.0
  from (select posexplode(split(space(999), ' '))) g;
create table dim (k int, name string) stored as parquet;
insert into dim select pos, concat('name', pos) from (select posexplode(split(space(9), ' '))) g;
"""


class Apiary:
    def __init__(self, binary: str, home: Path, threads: int):
        self.binary, self.home, self.threads = binary, home, threads
        home.mkdir(parents=True, exist_ok=True)

    def command(self, *args: str) -> list:
        return [
            self.binary,
            "-S",
            "--warehouse", str(self.home / "warehouse"),
            "--metastore", str(self.home / "metastore.db"),
            "--hiveconf", f"datafusion.execution.target_partitions={self.threads}",
            *args,
        ]

    def wall(self, *args: str) -> float:
        started = time.perf_counter()
        subprocess.run(self.command(*args), check=True, capture_output=True)
        return time.perf_counter() - started

    def script(self, statements: list) -> float:
        path = self.home / "script.hql"
        path.write_text(";\n".join(statements) + ";\n")
        return self.wall("-f", str(path))

    def table_dir(self, table: str) -> Path:
        return self.home / "warehouse" / table


def median_of(runs: int, measure) -> float:
    return statistics.median(measure() for _ in range(runs))


def per_query_apiary(apiary: Apiary, query: str, repeat: int, runs: int) -> float:
    once = median_of(runs, lambda: apiary.script([query]))
    many = median_of(runs, lambda: apiary.script([query] * repeat))
    return (many - once) / (repeat - 1)


def per_query_loop(run, repeat: int, runs: int) -> float:
    run()

    def measure():
        started = time.perf_counter()
        for _ in range(repeat):
            run()
        return (time.perf_counter() - started) / repeat

    return median_of(runs, measure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apiary", required=True, help="the apiary binary (a release build)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=101, help="queries per measuring script")
    parser.add_argument("--runs", type=int, default=5, help="measurements; the median is shown")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        fresh = Apiary(args.apiary, Path(scratch) / "fresh", args.threads)
        first_run = fresh.wall("-e", "select 1")
        home = Path(scratch) / "home"
        apiary = Apiary(args.apiary, home, args.threads)
        apiary.script([s.strip() for s in SETUP.split(";") if s.strip()])
        startup = median_of(max(args.runs, 20), lambda: apiary.wall("-e", "select 1"))
        print(f"apiary -e 'select 1': {startup * 1000:.1f} ms (median of {max(args.runs, 20)}); "
              f"first run on an empty home: {first_run * 1000:.1f} ms")

        con = duckdb.connect()
        con.execute(f"set threads = {args.threads}")
        ctx = datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(args.threads))
        for table in ["small", "dim"]:
            files = f"{apiary.table_dir(table)}/[0-9]*"  # Hive's file names, not the lock file
            con.execute(f"create view {table} as select * from read_parquet('{files}')")
            ctx.register_parquet(table, str(apiary.table_dir(table)), file_extension="")

        print(f"\nper query, {args.threads} threads, median of {args.runs}; milliseconds")
        print("plan: EXPLAIN (Apiary, DuckDB) or the physical plan (DataFusion); run: plan and run")
        print(f"{'query':<10}{'step':<6}{'apiary':>9}{'duckdb':>9}{'datafusion':>11}{'/duckdb':>9}{'/datafusion':>12}")
        for name, query in QUERIES.items():
            steps = {
                "plan": (
                    f"explain {query}",
                    lambda: con.execute(f"explain {query}").fetchall(),
                    lambda: ctx.sql(query).execution_plan(),
                ),
                "run": (
                    query,
                    lambda: con.execute(query).fetchall(),
                    lambda: ctx.sql(query).collect(),
                ),
            }
            for step, (apiary_query, duckdb_run, datafusion_run) in steps.items():
                t_apiary = per_query_apiary(apiary, apiary_query, args.repeat, args.runs)
                t_duckdb = per_query_loop(duckdb_run, args.repeat, args.runs)
                t_datafusion = per_query_loop(datafusion_run, args.repeat, args.runs)
                print(
                    f"{name:<10}{step:<6}{t_apiary * 1000:>9.2f}{t_duckdb * 1000:>9.2f}"
                    f"{t_datafusion * 1000:>11.2f}{t_apiary / t_duckdb:>9.2f}{t_apiary / t_datafusion:>12.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    sys.exit(main())
