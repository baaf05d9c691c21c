#!/usr/bin/env python3
"""Load on `apiary server`: N concurrent HiveServer2 clients running mixed queries.

Starts the server on a fresh warehouse, loads a table of events (and a small dimension
table), then runs N client threads, each with its own PyHive session (SASL PLAIN over the
binary transport), for a fixed time. Each client loops over a mix of point lookups,
aggregations, top-N sorts, a join and catalog statements, fetching every row. Prints
throughput, latency percentiles per kind of query, errors, and the server's memory (resident
set, sampled every 200 ms) before, during and after the run.

    python3 sql/bench/server_load.py target/release/apiary [--clients 100] [--seconds 60]
        [--rows 200000]

Needs PyHive (pip install PyHive thrift thrift-sasl pure-sasl).
"""

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

QUERIES = {
    "point lookup": "select * from events where id = {id}",
    "aggregation": "select category, count(*), sum(amount), avg(amount) "
                   "from events group by category",
    "top 10": "select id, amount from events where category = '{category}' "
              "order by amount desc limit 10",
    "join": "select c.region, count(*) from events e join categories c "
            "on e.category = c.name group by c.region",
    "catalog": "describe events",
}
CATEGORIES = [f"c{i:02d}" for i in range(40)]


def start_server(apiary, workdir):
    command = [apiary, "--warehouse", f"{workdir}/warehouse",
               "--metastore", f"{workdir}/metastore.db",
               "server", "--host", "127.0.0.1", "--port", "0", "--transport-mode", "binary",
               "--max-connections", "1000"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    line = process.stdout.readline()
    match = re.search(r"127\.0\.0\.1:(\d+)", line)
    if not match:
        process.kill()
        sys.exit(f"the server did not start: {line} {process.stderr.read()}")
    return process, int(match.group(1))


def resident_mib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def load_data(port, workdir, rows):
    from pyhive import hive
    data = Path(workdir) / "events.csv"
    generator = random.Random(7)
    with data.open("w") as out:
        for i in range(rows):
            out.write(f"{i},{generator.choice(CATEGORIES)},{generator.random() * 1000:.2f}\n")
    cursor = hive.connect(host="127.0.0.1", port=port, username="setup").cursor()
    cursor.execute("create table events (id int, category string, amount double) "
                   "row format delimited fields terminated by ','")
    cursor.execute(f"load data local inpath '{data}' into table events")
    cursor.execute("create table categories (name string, region string)")
    values = ", ".join(f"('{c}', 'r{i % 5}')" for i, c in enumerate(CATEGORIES))
    cursor.execute(f"insert into categories values {values}")
    cursor.execute("select count(*) from events")
    return cursor.fetchall()[0][0]


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = {kind: [] for kind in QUERIES}
        self.errors = []
        self.connected = 0


def client(port, number, deadline, rows, results):
    from pyhive import hive
    generator = random.Random(number)
    try:
        connection = hive.connect(host="127.0.0.1", port=port, username=f"user{number}")
        cursor = connection.cursor()
    except Exception as error:  # counted as an error of the run
        with results.lock:
            results.errors.append(f"connect: {error}")
        return
    with results.lock:
        results.connected += 1
    kinds = list(QUERIES)
    while time.monotonic() < deadline:
        kind = generator.choice(kinds)
        sql = QUERIES[kind].format(id=generator.randrange(rows),
                                   category=generator.choice(CATEGORIES))
        started = time.monotonic()
        try:
            cursor.execute(sql)
            cursor.fetchall()
        except Exception as error:
            with results.lock:
                results.errors.append(f"{kind}: {error}")
            continue
        elapsed = time.monotonic() - started
        with results.lock:
            results.latencies[kind].append(elapsed)
    connection.close()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("apiary")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        server, port = start_server(os.path.abspath(args.apiary), workdir)
        try:
            loaded = load_data(port, workdir, args.rows)
            idle_memory = resident_mib(server.pid)
            results = Results()
            deadline = time.monotonic() + args.seconds
            threads = [threading.Thread(target=client,
                                        args=(port, i, deadline, args.rows, results))
                       for i in range(args.clients)]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            peak_memory = idle_memory
            while any(t.is_alive() for t in threads):
                peak_memory = max(peak_memory, resident_mib(server.pid))
                time.sleep(0.2)
            wall = time.monotonic() - started
            time.sleep(1)
            after_memory = resident_mib(server.pid)
        finally:
            server.terminate()
            server.wait()
    total = sum(len(v) for v in results.latencies.values())
    print(f"apiary server, {args.clients} clients, {args.seconds:.0f} s, "
          f"{loaded} rows, {os.cpu_count()} cores")
    print(f"{'query':<14}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for kind, values in results.latencies.items():
        if values:
            print(f"{kind:<14}{len(values):>8}{percentile(values, .5) * 1000:>10.1f}"
                  f"{percentile(values, .95) * 1000:>10.1f}{percentile(values, .99) * 1000:>10.1f}"
                  f"{max(values) * 1000:>10.1f}")
    every = [v for values in results.latencies.values() for v in values]
    if every:
        print(f"{'all':<14}{total:>8}{percentile(every, .5) * 1000:>10.1f}"
              f"{percentile(every, .95) * 1000:>10.1f}{percentile(every, .99) * 1000:>10.1f}"
              f"{max(every) * 1000:>10.1f}")
    print(f"throughput: {total / wall:.1f} queries/s; sessions connected: {results.connected}"
          f" of {args.clients}; errors: {len(results.errors)}")
    print(f"server memory (RSS): {idle_memory:.0f} MiB loaded and idle, "
          f"{peak_memory:.0f} MiB peak under load, {after_memory:.0f} MiB after")
    for error in results.errors[:10]:
        print(f"  error: {error}")
    sys.exit(1 if results.errors or results.connected < args.clients else 0)


if __name__ == "__main__":
    main()
