#!/usr/bin/env python3
"""Join order: the 22 TPC-H queries with their FROM clauses in a bad order, planned with and
without Apiary's cost-based optimizer, against the queries as the standard writes them.

For each query it runs three variants on the same Parquet files (tpchgen-cli output) and the
same metastore statistics (`ANALYZE ... FOR COLUMNS` on every table):

    standard     the query as in sql/tpch/, hive.cbo.enable=true
    bad+cbo      every comma-separated FROM list reordered largest table first, CBO on
    bad-cbo      the same bad order, hive.cbo.enable=false (joins follow the FROM order)

and prints the median time of --runs runs after a warm-up, in seconds, the ratios
bad-cbo / bad+cbo (what the optimizer saves) and bad+cbo / standard (how close it gets to the
hand-written order), and their geomeans. Answers of the three variants are checked to agree.

    python3 sql/bench/tpch_join_order.py --apiary target/release/apiary --scale 1

Needs `pip install tpchgen-cli`. The data is generated once into --data and reused.
"""

import argparse
import math
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

QUERIES = Path(__file__).resolve().parent.parent / "tpch"

# Largest first: joining in this order builds hash tables on the big tables.
SIZE_RANK = ["lineitem", "orders", "partsupp", "part", "customer", "supplier", "nation", "region"]

FROM_LIST = re.compile(r"(\bfrom\s+)([a-z_0-9]+(?:\s+[a-z_0-9]+)?(?:\s*,\s*[a-z_0-9]+(?:\s+[a-z_0-9]+)?)+)(\s+where\b)")


def bad_order(sql: str) -> str:
    """Reorders every `from a, b, c where` list of `sql` largest table first."""

    def reorder(match: re.Match) -> str:
        items = [item.strip() for item in match.group(2).split(",")]

        def rank(item: str) -> int:
            table = item.split()[0]
            return SIZE_RANK.index(table) if table in SIZE_RANK else len(SIZE_RANK)

        return match.group(1) + ", ".join(sorted(items, key=rank)) + match.group(3)

    return FROM_LIST.sub(reorder, sql)


def generate(data: Path, scale: float) -> None:
    if (data / "_GENERATED").exists():
        return
    print(f"generating TPC-H SF{scale} in {data} ...", file=sys.stderr, flush=True)
    data.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["tpchgen-cli", "parquet", "-s", str(scale), "--parts", "2", "--output-dir", str(data)],
        check=True,
    )
    (data / "_GENERATED").touch()


class Apiary:
    """Runs scripts through the `apiary` CLI on a private warehouse and metastore; each
    statement's time is its `Time taken: ... seconds` line."""

    def __init__(self, binary: str, threads: int, home: Path, timeout: float):
        self.binary, self.threads, self.home, self.timeout = binary, threads, home, timeout

    def run(self, statements: list, hivevars: dict = None) -> tuple:
        script = self.home / "bench.hql"
        script.write_text(";\n".join(statements) + ";\n")
        command = [
            self.binary,
            "--warehouse", str(self.home / "warehouse"),
            "--metastore", str(self.home / "metastore.db"),
            "--hiveconf", f"datafusion.execution.target_partitions={self.threads}",
            "-f", str(script),
        ]
        for name, value in (hivevars or {}).items():
            command += ["--hivevar", f"{name}={value}"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=self.timeout)
        if result.returncode != 0:
            raise RuntimeError(f"apiary failed: {result.stderr[-3000:]}")
        times = [float(t) for t in re.findall(r"Time taken: ([0-9.]+) seconds", result.stderr)]
        return result.stdout, times

    def setup(self, data: Path) -> float:
        schema = (QUERIES / "schema.sql").read_text()
        analyze = (QUERIES / "analyze.sql").read_text()
        text = strip_comments(schema) + "\n" + strip_comments(analyze)
        statements = [s.strip() for s in text.split(";") if s.strip()]
        _, times = self.run(statements, {"tpch_dir": str(data)})
        return sum(times)

    def measure(self, query: str, cbo: bool, runs: int, database: str = "tpch") -> tuple:
        times, answer = self.measure_runs(query, cbo, runs, database)
        return statistics.median(times), answer

    def measure_runs(self, query: str, cbo: bool, runs: int, database: str = "tpch") -> tuple:
        """The times of `runs` runs of `query` after a warm-up, in one process, and its answer."""
        settings = [f"use {database}", f"set hive.cbo.enable={'true' if cbo else 'false'}"]
        stdout, times = self.run(settings + [query] * (runs + 1))
        # The answer of one run: the output lines divided by the number of runs.
        lines = stdout.strip().splitlines()
        answer = [tuple(line.split("\t")) for line in lines[: len(lines) // (runs + 1)]]
        return times[len(times) - runs :], answer


def strip_comments(sql: str) -> str:
    return "\n".join(l for l in sql.splitlines() if not l.strip().startswith("--")).strip()


def geomean(values: list) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def agree(a: list, b: list, tolerance: float) -> bool:
    """Rows (tuples of text) agree in any order, numbers to a relative `tolerance`: sums
    may add in another order, and engines and settings keep other decimal scales."""

    def close(x: str, y: str) -> bool:
        try:
            u, v = float(x), float(y)
        except ValueError:
            return x == y
        return abs(u - v) <= tolerance * max(1.0, abs(u), abs(v))

    if len(a) != len(b):
        return False
    return all(
        len(r) == len(s) and all(map(close, r, s)) for r, s in zip(sorted(a), sorted(b))
    )


def tpch_arguments(doc: str) -> argparse.ArgumentParser:
    """The options the TPC-H benchmarks share."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apiary", required=True, help="the apiary binary (a release build)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, help="where the TPC-H files are (generated if missing)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per Apiary run of a query (all its runs)")
    return parser


def main() -> None:
    parser = tpch_arguments(__doc__)
    parser.add_argument("--queries", default="1-22", help="e.g. 5,7-9")
    args = parser.parse_args()
    data = args.data or Path(tempfile.gettempdir()) / f"apiary-tpch-sf{args.scale:g}"
    generate(data, args.scale)
    chosen = []
    for part in args.queries.split(","):
        low, _, high = part.partition("-")
        chosen += list(range(int(low), int(high or low) + 1))

    with tempfile.TemporaryDirectory() as home:
        apiary = Apiary(args.apiary, args.threads, Path(home), args.timeout)
        print(f"setup (tables and ANALYZE): {apiary.setup(data):.1f} s", flush=True)
        print(f"{'query':<6}{'standard':>10}{'bad+cbo':>10}{'bad-cbo':>10}{'saved':>8}{'vs std':>8}  note")
        saved, versus, reordered = [], [], []
        for n in chosen:
            standard = strip_comments((QUERIES / f"q{n:02d}.sql").read_text()).rstrip(";")
            bad = bad_order(standard)
            t_std, a_std = apiary.measure(standard, True, args.runs)
            t_cbo, a_cbo = apiary.measure(bad, True, args.runs)
            note = "" if bad != standard else "FROM order unchanged"
            try:
                t_off, a_off = apiary.measure(bad, False, args.runs)
            except subprocess.TimeoutExpired:
                # Counted at the timeout: a lower bound of what the bad order costs.
                t_off, a_off = args.timeout / (args.runs + 1), a_std
                note = f"bad-cbo timed out ({args.timeout:g} s for {args.runs + 1} runs)"
            # With CBO off, `avg` of a DECIMAL has Hive's non-CBO scale.
            if not (agree(a_std, a_cbo, 1e-5) and agree(a_std, a_off, 1e-5)):
                note = "ANSWERS DIFFER"
            saved.append(t_off / t_cbo)
            versus.append(t_cbo / t_std)
            if bad != standard:
                reordered.append((t_off / t_cbo, t_cbo / t_std))
            print(
                f"Q{n:<5}{t_std:>10.3f}{t_cbo:>10.3f}{t_off:>10.3f}{t_off / t_cbo:>8.2f}{t_cbo / t_std:>8.2f}  {note}",
                flush=True,
            )
        print(f"geomean, all queries: bad-cbo / bad+cbo = {geomean(saved):.2f}, bad+cbo / standard = {geomean(versus):.2f}")
        if reordered:
            print(
                f"geomean, the {len(reordered)} reordered queries: "
                f"bad-cbo / bad+cbo = {geomean([r[0] for r in reordered]):.2f}, "
                f"bad+cbo / standard = {geomean([r[1] for r in reordered]):.2f}"
            )


if __name__ == "__main__":
    main()
