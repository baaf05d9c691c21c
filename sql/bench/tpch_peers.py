#!/usr/bin/env python3
"""TPC-H on Apiary, DuckDB and DataFusion (and, on request, Spark SQL as the Hive reference):
the 22 queries of sql/tpch/ on the same files, with the same thread count, in three layouts.

    parquet       tpchgen-cli's Parquet files (two per table) as external tables
                  (sql/tpch/schema.sql). DuckDB: views over read_parquet; DataFusion:
                  register_parquet.
    partitioned   lineitem partitioned by ship month and orders by order month, written by
                  Apiary's dynamic-partition inserts (sql/tpch/schema_partitioned.sql); the
                  other tables as in parquet. DuckDB and DataFusion read the same partition
                  directories (hive_partitioning / table_partition_cols).
    text          tpchgen-cli's pipe-delimited .tbl files as Hive TEXTFILE tables
                  (sql/tpch/schema_text.sql). DuckDB: read_csv; DataFusion: register_csv.

Apiary's tables carry statistics from sql/tpch/analyze.sql. Each query runs once to warm up,
then --runs times; the tables show medians in seconds, Apiary's time over each peer's, and
geomeans. Answers are checked to agree (numbers to a relative 1e-4: Hive's DECIMAL arithmetic
keeps other scales).

    python3 sql/bench/tpch_peers.py --apiary target/release/apiary --scale 1

`--cpu` adds a table of CPU time per run (user and system; Apiary's from the measured process,
which runs the query --runs + 1 times, less a process running it once; the peers' from this
process) and of the cores each engine kept busy: where Apiary loses on wall time with less CPU
time, its work was not spread over the threads.

Needs `pip install tpchgen-cli duckdb datafusion pyarrow`; `--spark` adds a Spark SQL row
(`pip install pyspark` and a Java runtime), which is slow.
"""

import datetime
import decimal
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import datafusion
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from tpch_join_order import QUERIES, Apiary, agree, generate, geomean, strip_comments, tpch_arguments

TABLES = ["nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem"]
LAYOUTS = ["parquet", "partitioned", "text"]
# Partition column of each partitioned table, and the column its month comes from.
PARTITIONED = {"lineitem": "l_shipmonth", "orders": "o_ordermonth"}
DATABASES = {"parquet": "tpch", "partitioned": "tpch_partitioned", "text": "tpch_text"}
SCHEMAS = {"parquet": "schema.sql", "partitioned": "schema_partitioned.sql", "text": "schema_text.sql"}


class Files:
    """Where each layout's files are: `parquet` and `text` from tpchgen-cli, `partitioned`
    written by Apiary."""

    def __init__(self, parquet: Path, scale: float):
        self.parquet = parquet
        self.text = parquet.with_name(parquet.name + "-text")
        self.partitioned = parquet.with_name(parquet.name + "-partitioned")
        self.scale = scale

    def generate_text(self) -> None:
        if (self.text / "_GENERATED").exists():
            return
        print(f"generating TPC-H SF{self.scale:g} text in {self.text} ...", file=sys.stderr, flush=True)
        self.text.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["tpchgen-cli", "tbl", "-s", str(self.scale), "--parts", "2", "--output-dir", str(self.text)],
            check=True,
        )
        (self.text / "_GENERATED").touch()

    def schema(self, table: str) -> pa.Schema:
        """The table's columns as tpchgen-cli's Parquet files type them (plain strings)."""
        file = sorted((self.parquet / table).glob("*.parquet"))[0]
        fields = [
            pa.field(f.name, pa.string() if f.type == pa.string_view() else f.type)
            for f in pq.read_schema(file)
        ]
        return pa.schema(fields)

    def text_schema(self, table: str) -> pa.Schema:
        # Every .tbl line ends with '|': an empty last field.
        return self.schema(table).append(pa.field("_end", pa.string()))


def as_text(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (float, decimal.Decimal)):
        return repr(float(value))
    return str(value)


def timed(run, runs: int) -> tuple:
    """The median time of `runs` runs after a warm-up, the answer, and the CPU time (user
    and system, every thread of this process) per run."""
    answer = run()
    times = []
    cpu = cpu_seconds(resource.RUSAGE_SELF)
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), answer, (cpu_seconds(resource.RUSAGE_SELF) - cpu) / runs


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def apiary_cpu_of_one_run(apiary: Apiary, query: str, database: str) -> float:
    """The CPU time of a process running `query` once, as `Apiary.measure` runs it: what
    start-up and the warm-up run cost, to take from a measured process's CPU time."""
    before = cpu_seconds(resource.RUSAGE_CHILDREN)
    apiary.measure_runs(query, True, 0, database)
    return cpu_seconds(resource.RUSAGE_CHILDREN) - before


DUCKDB_TYPES = {pa.int64(): "BIGINT", pa.int32(): "INTEGER", pa.string(): "VARCHAR", pa.date32(): "DATE"}


class DuckDB:
    name = "duckdb"

    def __init__(self, files: Files, layout: str, threads: int):
        self.connection = duckdb.connect()
        self.connection.execute(f"set threads = {threads}")
        for table in TABLES:
            if layout == "text":
                columns = ", ".join(
                    f"'{f.name}': '{DUCKDB_TYPES.get(f.type) or str(f.type).replace('decimal128', 'DECIMAL')}'"
                    for f in files.text_schema(table)
                )
                source = (
                    f"read_csv('{files.text}/{table}/*.tbl', delim = '|', header = false, "
                    f"columns = {{{columns}}})"
                )
            elif layout == "partitioned" and table in PARTITIONED:
                source = f"read_parquet('{files.partitioned}/{table}/*/*', hive_partitioning = true)"
            else:
                source = f"read_parquet('{files.parquet}/{table}/*.parquet')"
            self.connection.execute(f"create view {table} as select * from {source}")

    def measure(self, query: str, runs: int) -> tuple:
        def run():
            return [tuple(map(as_text, row)) for row in self.connection.execute(query).fetchall()]

        return timed(run, runs)


class DataFusion:
    name = "datafusion"

    def __init__(self, files: Files, layout: str, threads: int):
        config = datafusion.SessionConfig().with_target_partitions(threads)
        self.context = datafusion.SessionContext(config)
        for table in TABLES:
            if layout == "text":
                self.context.register_csv(
                    table,
                    str(files.text / table),
                    schema=files.text_schema(table),
                    has_header=False,
                    delimiter="|",
                    file_extension=".tbl",
                )
            elif layout == "partitioned" and table in PARTITIONED:
                self.context.register_parquet(
                    table,
                    str(files.partitioned / table),
                    table_partition_cols=[(PARTITIONED[table], pa.string())],
                    file_extension="",
                )
            else:
                self.context.register_parquet(table, str(files.parquet / table))

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


class Spark:
    """Spark SQL in local mode: the Hive reference row. Its tables are temporary views over
    the same files."""

    name = "spark"

    def __init__(self, files: Files, layout: str, threads: int):
        from pyspark.sql import SparkSession

        self.spark = (
            SparkSession.builder.master(f"local[{threads}]")
            .config("spark.sql.shuffle.partitions", str(threads))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")
        for table in TABLES:
            if layout == "text":
                ddl = ", ".join(
                    f"{f.name} {'string' if f.type == pa.string() else spark_type(f.type)}"
                    for f in files.text_schema(table)
                )
                frame = self.spark.read.csv(str(files.text / table), sep="|", schema=ddl)
            elif layout == "partitioned" and table in PARTITIONED:
                frame = self.spark.read.parquet(str(files.partitioned / table))
            else:
                frame = self.spark.read.parquet(str(files.parquet / table))
            frame.createOrReplaceTempView(table)

    def measure(self, query: str, runs: int) -> tuple:
        def run():
            return [tuple(map(as_text, row)) for row in self.spark.sql(query).collect()]

        return timed(run, runs)


def spark_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    return {pa.int64(): "bigint", pa.int32(): "int", pa.date32(): "date"}[arrow_type]


def setup_apiary(apiary: Apiary, files: Files, layouts: list) -> None:
    """Creates the tables of every layout asked for, with their statistics. The partitioned
    layout is written from the Parquet one."""
    analyze = strip_comments((QUERIES / "analyze.sql").read_text())
    text = ""
    for layout in LAYOUTS:
        if layout in layouts or (layout == "parquet" and "partitioned" in layouts):
            text += strip_comments((QUERIES / SCHEMAS[layout]).read_text()) + "\n" + analyze + "\n"
    statements = [s.strip() for s in text.split(";") if s.strip()]
    hivevars = {
        "tpch_dir": str(files.parquet),
        "tpch_partitioned_dir": str(files.partitioned),
        "tpch_text_dir": str(files.text),
    }
    started = time.perf_counter()
    apiary.run(statements, hivevars)
    print(f"apiary setup ({', '.join(layouts)}): {time.perf_counter() - started:.1f} s", flush=True)


def run_layout(layout: str, apiary: Apiary, peers: list, queries: list, args) -> None:
    names = [peer.name for peer in peers]
    print(f"\nTPC-H SF{args.scale:g}, {layout}, {args.threads} threads; medians of {args.runs} runs, seconds")
    print(
        f"{'query':<6}{'apiary':>9}"
        + "".join(f"{name:>11}" for name in names)
        + "".join(f"{'/' + name:>12}" for name in names)
        + "  note"
    )
    ratios = {name: [] for name in names}
    # With --cpu: per query, each engine's CPU seconds per run and wall seconds.
    cpu_rows = []
    for n in queries:
        query = strip_comments((QUERIES / f"q{n:02d}.sql").read_text()).rstrip(";")
        before = cpu_seconds(resource.RUSAGE_CHILDREN)
        apiary_times, answer = apiary.measure_runs(query, True, args.runs, DATABASES[layout])
        t_apiary = statistics.median(apiary_times)
        measured_cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - before
        times, cpu, notes = {}, {}, []
        if args.cpu:
            once = apiary_cpu_of_one_run(apiary, query, DATABASES[layout])
            cpu["apiary"] = (measured_cpu - once) / args.runs
        for peer in peers:
            try:
                times[peer.name], theirs, cpu[peer.name] = peer.measure(query, args.runs)
            except Exception as error:  # a peer that cannot run a query is reported, not fatal
                times[peer.name] = float("nan")
                notes.append(f"{peer.name} failed: {str(error).splitlines()[0][:60]}")
                continue
            ratios[peer.name].append(t_apiary / times[peer.name])
            if not agree(answer, theirs, 1e-4):
                notes.append(f"answers differ from {peer.name}")
        print(
            f"Q{n:<5}{t_apiary:>9.3f}"
            + "".join(f"{times[name]:>11.3f}" for name in names)
            + "".join(f"{t_apiary / times[name]:>12.2f}" for name in names)
            + f"  {'; '.join(notes)}",
            flush=True,
        )
        if args.cpu:
            # Apiary's CPU time is a mean over its runs; so is the wall time it is set against.
            cpu_rows.append((n, cpu, dict(times, apiary=statistics.mean(apiary_times))))
    print(
        f"{layout}: geomean of apiary's time over "
        + ", ".join(f"{name}'s {geomean(r):.2f}" for name, r in ratios.items() if r),
        flush=True,
    )
    if args.cpu:
        print_cpu(layout, names, cpu_rows)


def print_cpu(layout: str, names: list, rows: list) -> None:
    """CPU time per run (user and system) against each peer's, and the cores each engine
    kept busy (CPU time over wall time, Apiary's both from the same runs; its CPU time is a
    difference of two processes', so its cores can read a little above the thread count):
    a query can lose on wall time with less CPU time when its work is not spread over the
    threads."""
    # Spark runs in a JVM of its own, out of this process's CPU time.
    names = [name for name in names if name != "spark"]
    engines = ["apiary"] + names
    print(f"\n{layout}: CPU seconds per run, and cores kept busy (CPU time over wall time)")
    print(
        f"{'query':<6}"
        + "".join(f"{name:>11}" for name in engines)
        + "".join(f"{'/' + name:>12}" for name in names)
        + "".join(f"{'busy:' + name[:6]:>13}" for name in engines)
    )
    ratios = {name: [] for name in names}
    for n, cpu, wall in rows:
        line = f"Q{n:<5}" + "".join(f"{cpu.get(name, float('nan')):>11.3f}" for name in engines)
        for name in names:
            ratio = cpu["apiary"] / cpu[name] if name in cpu else float("nan")
            if name in cpu:
                ratios[name].append(ratio)
            line += f"{ratio:>12.2f}"
        line += "".join(
            f"{cpu[name] / wall[name] if name in cpu else float('nan'):>13.2f}" for name in engines
        )
        print(line, flush=True)
    print(
        f"{layout}: geomean of apiary's CPU time over "
        + ", ".join(f"{name}'s {geomean(r):.2f}" for name, r in ratios.items() if r),
        flush=True,
    )


def main() -> None:
    parser = tpch_arguments(__doc__)
    parser.add_argument("--layouts", default=",".join(LAYOUTS), help="some of: " + ", ".join(LAYOUTS))
    parser.add_argument("--queries", default="1-22", help="e.g. 5,7-9")
    parser.add_argument("--spark", action="store_true", help="add Spark SQL (slow)")
    parser.add_argument(
        "--cpu", action="store_true", help="also CPU time per run and cores kept busy (runs Apiary twice more per query)"
    )
    args = parser.parse_args()
    layouts = [layout.strip() for layout in args.layouts.split(",")]
    for layout in layouts:
        if layout not in LAYOUTS:
            parser.error(f"unknown layout {layout}; the layouts are {', '.join(LAYOUTS)}")
    queries = []
    for part in args.queries.split(","):
        low, _, high = part.partition("-")
        queries += list(range(int(low), int(high or low) + 1))

    files = Files(args.data or Path(tempfile.gettempdir()) / f"apiary-tpch-sf{args.scale:g}", args.scale)
    generate(files.parquet, args.scale)
    if "text" in layouts:
        files.generate_text()

    with tempfile.TemporaryDirectory() as home:
        apiary = Apiary(args.apiary, args.threads, Path(home), args.timeout)
        setup_apiary(apiary, files, layouts)
        kinds = [DuckDB, DataFusion] + ([Spark] if args.spark else [])
        for layout in layouts:
            peers = [kind(files, layout, args.threads) for kind in kinds]
            run_layout(layout, apiary, peers, queries, args)


if __name__ == "__main__":
    sys.exit(main())
