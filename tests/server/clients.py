#!/usr/bin/env python3
"""Real HiveServer2 clients against `apiary server`, over loopback.

Starts the server on fresh warehouses (authentication NONE; PASSWORD; TLS with a certificate
made by openssl) and runs PyHive (SASL PLAIN, NOSASL and HTTP; cancel; the SQLAlchemy
`hive://` dialect's inspection), impyla (binary and HTTP), beeline (binary and HTTP, with and
without TLS) and a Java program on the Hive JDBC driver (tests/server/JdbcClient.java) against
it. PyPI's pyspark package provides beeline and the Hive JDBC jars.

    python3 tests/server/clients.py path/to/apiary

Prints one line per check and exits non-zero if any failed.
"""

import datetime
import decimal
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Server:
    """An `apiary server` on a free loopback port, over its own warehouse."""

    def __init__(self, apiary, workdir, *extra):
        self.workdir = Path(workdir)
        command = [
            apiary,
            "--warehouse", str(self.workdir / "warehouse"),
            "--metastore", str(self.workdir / "metastore.db"),
            "server", "--host", "127.0.0.1", "--port", "0", "--http-port", "0", *extra,
        ]
        self.log = open(self.workdir / "server.err", "w")
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self.log, text=True)
        ports = {}
        for _ in range(2):
            line = self.process.stdout.readline()
            match = re.search(r"listening on 127\.0\.0\.1:(\d+) \((\w+) transport", line)
            if not match:
                self.stop()
                raise RuntimeError(f"the server did not start: {line!r} {self.errors()}")
            ports[match.group(2)] = int(match.group(1))
        self.port = ports["binary"]
        self.http_port = ports["http"]

    def errors(self):
        return (self.workdir / "server.err").read_text()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


CHECKS = []


def check(function):
    CHECKS.append(function)
    return function


def expect(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


ALL_TYPES = """
select cast(1 as tinyint) ti, cast(2 as smallint) si, 3 i, 4000000000 bi,
       cast(1.5 as float) f, cast(2.25 as double) d, cast('3.10' as decimal(5,2)) dec,
       'text' s, true b, cast('2024-02-29' as date) dt,
       cast('2024-02-29 10:11:12.5' as timestamp) ts, cast('bytes' as binary) bin,
       array(1, 2) arr, map('k', 'v') m, named_struct('a', 1, 'b', 'x') st,
       cast(null as int) n
"""


@check
def pyhive_sasl_and_nosasl(server):
    from pyhive import hive
    for auth in ["NONE", "NOSASL"]:
        connection = hive.connect(host="127.0.0.1", port=server.port, username="ana", auth=auth)
        cursor = connection.cursor()
        cursor.execute(ALL_TYPES)
        names = [d[0] for d in cursor.description]
        expect(names[:4], ["ti", "si", "i", "bi"], f"{auth}: column names")
        expect([d[1] for d in cursor.description][-4:],
               ["ARRAY_TYPE", "MAP_TYPE", "STRUCT_TYPE", "INT_TYPE"], f"{auth}: column types")
        row = cursor.fetchall()[0]
        expect(row, (1, 2, 3, 4000000000, 1.5, 2.25, decimal.Decimal("3.10"), "text", True,
                     "2024-02-29", datetime.datetime(2024, 2, 29, 10, 11, 12, 500000), b"bytes",
                     "[1,2]", '{"k":"v"}', '{"a":1,"b":"x"}', None), f"{auth}: values")
        cursor.execute("select current_user()")
        expect(cursor.fetchall(), [("ana",)], f"{auth}: session user")
        try:
            cursor.execute("select * from no_such_table")
            raise AssertionError("a missing table should fail")
        except hive.OperationalError as error:
            expect("no_such_table" in str(error), True, f"{auth}: error names the table")
        connection.close()


@check
def pyhive_fetches_in_pages_and_cancels(server):
    from pyhive import hive
    from TCLIService.ttypes import TOperationState
    connection = hive.connect(host="127.0.0.1", port=server.port)
    cursor = connection.cursor()
    cursor.execute("create table numbers (n int)")
    values = ", ".join(f"({i})" for i in range(2500))
    cursor.execute(f"insert into numbers values {values}")
    cursor.arraysize = 100
    cursor.execute("select n from numbers")
    rows = cursor.fetchall()
    expect(len(rows), 2500, "rows fetched 100 at a time")
    expect(sum(r[0] for r in rows), 2500 * 2499 // 2, "sum of the rows")
    cursor.execute("select sum(a.n * b.n - c.n) from numbers a, numbers b, numbers c",
                   async_=True)
    time.sleep(0.2)
    expect(cursor.poll().operationState, TOperationState.RUNNING_STATE, "running")
    cursor.cancel()
    expect(cursor.poll().operationState, TOperationState.CANCELED_STATE, "cancelled")
    cursor.execute("select 1")
    expect(cursor.fetchall(), [(1,)], "the session goes on after a cancel")
    connection.close()


@check
def sqlalchemy_inspection(server):
    from pyhive import hive
    from sqlalchemy import create_engine, inspect, text
    setup = hive.connect(host="127.0.0.1", port=server.port).cursor()
    setup.execute("create database if not exists shop")
    setup.execute("create table if not exists shop.orders (id bigint, total decimal(10,2), "
                  "placed timestamp) partitioned by (day string)")
    engine = create_engine(f"hive://superset@127.0.0.1:{server.port}/shop")
    inspector = inspect(engine)
    expect("shop" in inspector.get_schema_names(), True, "schemas")
    expect(inspector.get_table_names(), ["orders"], "tables")
    columns = [(c["name"], type(c["type"]).__name__) for c in inspector.get_columns("orders")]
    expect(columns, [("id", "BigInteger"), ("total", "HiveDecimal"),
                     ("placed", "HiveTimestamp"), ("day", "String")], "columns")
    with engine.connect() as connection:
        expect(connection.execute(text("select count(*) from orders")).fetchall(), [(0,)],
               "query through the dialect")
    engine.dispose()


@check
def impyla_metadata_and_types(server):
    from impala.dbapi import connect
    for mechanism in ["PLAIN", "NOSASL"]:
        options = {"user": "imp", "password": "x"} if mechanism == "PLAIN" else {}
        connection = connect(host="127.0.0.1", port=server.port, auth_mechanism=mechanism,
                             **options)
        cursor = connection.cursor()
        cursor.execute("create table if not exists imp_t (a int, b string, c array<int>)")
        cursor.get_databases()
        databases = [row[0] for row in cursor.fetchall()]
        expect("default" in databases, True, f"{mechanism}: databases")
        cursor.get_tables(database_name="default")
        tables = [row[2] for row in cursor.fetchall()]
        expect("imp_t" in tables, True, f"{mechanism}: tables")
        expect(cursor.get_table_schema("imp_t"),
               [("a", "INT"), ("b", "STRING"), ("c", "array<int>")], f"{mechanism}: schema")
        cursor.execute(ALL_TYPES)
        row = cursor.fetchall()[0]
        expect(row[:9], (1, 2, 3, 4000000000, 1.5, 2.25, decimal.Decimal("3.10"), "text", True),
               f"{mechanism}: values")
        expect(row[9:12], (datetime.date(2024, 2, 29),
                           datetime.datetime(2024, 2, 29, 10, 11, 12, 500000), b"bytes"),
               f"{mechanism}: dates and binary")
        expect(row[-1], None, f"{mechanism}: NULL")
        cursor.close()
        connection.close()


def spark_home():
    import pyspark
    return Path(pyspark.__file__).resolve().parent


def run_beeline(server, *arguments):
    home = spark_home()
    environment = dict(os.environ, SPARK_HOME=str(home))
    return subprocess.run(
        [str(home / "bin" / "beeline"), "-u", f"jdbc:hive2://127.0.0.1:{server.port}/default",
         *arguments],
        capture_output=True, text=True, timeout=120, env=environment)


@check
def beeline(server):
    result = run_beeline(server, "-n", "bee", "--outputformat=tsv2", "-e",
                         "create table if not exists bee_t (a int, b string);"
                         "insert overwrite table bee_t values (1, 'one'), (2, 'two');"
                         "select * from bee_t order by a;")
    expect(result.returncode, 0, f"beeline exit code ({result.stderr[-2000:]})")
    lines = [line for line in result.stdout.splitlines() if line]
    expect(lines[-3:], ["bee_t.a\tbee_t.b", "1\tone", "2\ttwo"]
           if lines[-3].startswith("bee_t.") else ["a\tb", "1\tone", "2\ttwo"], "beeline rows")
    failed = run_beeline(server, "-e", "select * from missing_table;")
    expect(failed.returncode != 0, True, "beeline fails on an error")
    expect("Table not found" in failed.stderr, True, f"beeline shows the error: {failed.stderr[-500:]}")


@check
def jdbc_program(server):
    home = spark_home()
    classpath = str(home / "jars" / "*")
    with tempfile.TemporaryDirectory() as build:
        compiled = subprocess.run(
            ["javac", "-cp", classpath, "-d", build, str(HERE / "JdbcClient.java")],
            capture_output=True, text=True, timeout=300)
        expect(compiled.returncode, 0, f"javac ({compiled.stderr[-2000:]})")
        result = subprocess.run(
            ["java", "-cp", f"{build}{os.pathsep}{classpath}", "JdbcClient",
             f"jdbc:hive2://127.0.0.1:{server.port}/default"],
            capture_output=True, text=True, timeout=300)
        expect(result.returncode, 0, f"JDBC program ({result.stderr[-3000:]})")


@check
def concurrent_sessions(server):
    from pyhive import hive
    errors = []

    def client(number):
        try:
            connection = hive.connect(host="127.0.0.1", port=server.port, username=f"u{number}")
            cursor = connection.cursor()
            cursor.execute(f"create temporary table mine (n int)")
            cursor.execute(f"insert into mine values ({number})")
            for _ in range(5):
                cursor.execute("select n, current_user() from mine")
                expect(cursor.fetchall(), [(number, f"u{number}")], f"session {number}")
            connection.close()
        except Exception as error:  # reported below
            errors.append(f"{number}: {error}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expect(errors, [], "errors of 20 concurrent sessions")


def http_transport(server, user="ana", password="x", scheme="http"):
    """A PyHive Thrift transport over HTTP, with basic authentication."""
    import base64
    from thrift.transport import THttpClient
    transport = THttpClient.THttpClient(
        f"{scheme}://127.0.0.1:{server.http_port}/cliservice")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    transport.setCustomHeaders({"Authorization": f"Basic {token}"})
    return transport


@check
def http_transport_clients(server):
    from pyhive import hive
    from impala.dbapi import connect
    connection = hive.connect(thrift_transport=http_transport(server, user="web"))
    cursor = connection.cursor()
    cursor.execute("select current_user(), 1 + 1")
    expect(cursor.fetchall(), [("web", 2)], "PyHive over HTTP")
    connection.close()
    connection = connect(host="127.0.0.1", port=server.http_port, use_http_transport=True,
                         http_path="cliservice", auth_mechanism="PLAIN", user="imp",
                         password="x")
    cursor = connection.cursor()
    cursor.execute("select current_user()")
    expect(cursor.fetchall(), [("imp",)], "impyla over HTTP")
    cursor.close()
    connection.close()
    home = spark_home()
    result = subprocess.run(
        [str(home / "bin" / "beeline"), "-u",
         f"jdbc:hive2://127.0.0.1:{server.http_port}/default;transportMode=http;"
         "httpPath=cliservice", "-n", "bee", "--outputformat=tsv2", "-e",
         "select 'over http' as how;"],
        capture_output=True, text=True, timeout=120, env=dict(os.environ, SPARK_HOME=str(home)))
    expect(result.returncode, 0, f"beeline over HTTP ({result.stderr[-1500:]})")
    expect(result.stdout.split("\n")[-3:-1], ["how", "over http"], "beeline over HTTP rows")


PASSWORD_CHECKS = []


def password_check(function):
    PASSWORD_CHECKS.append(function)
    return function


@password_check
def passwords_are_checked(server):
    from pyhive import hive
    connection = hive.connect(host="127.0.0.1", port=server.port, username="ana",
                              password="correct-horse", auth="CUSTOM")
    cursor = connection.cursor()
    cursor.execute("select current_user()")
    expect(cursor.fetchall(), [("ana",)], "authenticated user")
    connection.close()
    for options in [{"password": "wrong", "auth": "CUSTOM"}, {"auth": "NOSASL"}]:
        try:
            hive.connect(host="127.0.0.1", port=server.port, username="ana", **options)
        except Exception as error:
            expect("Error validating the login" in str(error), True,
                   f"{options}: refusal ({type(error).__name__}: {error})")
        else:
            raise AssertionError(f"{options}: a wrong or missing password should be refused")
    connection = hive.connect(thrift_transport=http_transport(server, password="correct-horse"))
    cursor = connection.cursor()
    cursor.execute("select current_user()")
    expect(cursor.fetchall(), [("ana",)], "HTTP basic authentication")
    connection.close()
    import urllib.error
    import urllib.request
    for headers in [{}, {"Authorization": "Basic YW5hOndyb25n"}]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.http_port}/cliservice", data=b"\x80", headers=headers)
        try:
            urllib.request.urlopen(request, timeout=30)
            raise AssertionError(f"HTTP with {headers} should be refused")
        except urllib.error.HTTPError as error:
            expect(error.code, 401, f"HTTP status with {headers}")
    refused = run_beeline(server, "-n", "ana", "-p", "wrong", "-e", "select 1;")
    expect(refused.returncode != 0, True, "beeline with a wrong password fails")
    accepted = run_beeline(server, "-n", "ana", "-p", "correct-horse", "--outputformat=tsv2",
                           "-e", "select 1 as one;")
    expect(accepted.returncode, 0, f"beeline with the password ({accepted.stderr[-1000:]})")
    expect(accepted.stdout.split(), ["one", "1"], "beeline result")


TLS_CHECKS = []


def tls_check(function):
    TLS_CHECKS.append(function)
    return function


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1, and a Java trust store holding it."""
    certificate = directory / "server.pem"
    key = directory / "server-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True)
    trust_store = directory / "truststore.jks"
    subprocess.run(
        ["keytool", "-importcert", "-noprompt", "-alias", "apiary", "-file", str(certificate),
         "-keystore", str(trust_store), "-storepass", "changeit"],
        check=True, capture_output=True)
    return certificate, key, trust_store


@tls_check
def tls_on_both_transports(server):
    from impala.dbapi import connect
    certificate = server.workdir / "server.pem"
    for options in [{"port": server.port},
                    {"port": server.http_port, "use_http_transport": True,
                     "http_path": "cliservice"}]:
        connection = connect(host="127.0.0.1", auth_mechanism="PLAIN", user="tls",
                             password="x", use_ssl=True, ca_cert=str(certificate), **options)
        cursor = connection.cursor()
        cursor.execute("select current_user()")
        expect(cursor.fetchall(), [("tls",)], f"impyla over TLS {options}")
        cursor.close()
        connection.close()
    home = spark_home()
    trust = f"ssl=true;sslTrustStore={server.workdir / 'truststore.jks'};trustStorePassword=changeit"
    for url in [f"jdbc:hive2://127.0.0.1:{server.port}/default;{trust}",
                f"jdbc:hive2://127.0.0.1:{server.http_port}/default;transportMode=http;"
                f"httpPath=cliservice;{trust}"]:
        result = subprocess.run(
            [str(home / "bin" / "beeline"), "-u", url, "-n", "bee", "--outputformat=tsv2",
             "-e", "select 'secure' as how;"],
            capture_output=True, text=True, timeout=120,
            env=dict(os.environ, SPARK_HOME=str(home)))
        expect(result.returncode, 0, f"beeline over TLS {url} ({result.stderr[-1500:]})")
        expect(result.stdout.split("\n")[-3:-1], ["how", "secure"], "beeline over TLS rows")


def run_checks(checks, server):
    failures = 0
    for function in checks:
        started = time.monotonic()
        try:
            function(server)
            print(f"ok    {function.__name__} ({time.monotonic() - started:.1f}s)")
        except Exception:
            failures += 1
            print(f"FAIL  {function.__name__}")
            traceback.print_exc()
    return failures


def run_suite(apiary, checks, server_arguments):
    """Runs `checks` against a server on a fresh warehouse; `server_arguments(workdir)` gives
    the server's extra flags, after preparing what they name."""
    with tempfile.TemporaryDirectory() as workdir:
        server = Server(apiary, workdir, *server_arguments(Path(workdir)))
        failures = 0
        try:
            failures = run_checks(checks, server)
        finally:
            server.stop()
            if failures:
                print(server.errors(), file=sys.stderr)
        return failures


def password_mode(workdir):
    users = workdir / "users"
    subprocess.run([APIARY, "passwd", str(users), "ana"], input="correct-horse\n", text=True,
                   check=True)
    return ["--authentication", "PASSWORD", "--users-file", str(users)]


def tls_mode(workdir):
    certificate, key, _ = make_certificate(workdir)
    return ["--ssl-cert", str(certificate), "--ssl-key", str(key)]


APIARY = None


def main():
    global APIARY
    APIARY = os.path.abspath(sys.argv[1])
    failures = run_suite(APIARY, CHECKS, lambda workdir: [])
    failures += run_suite(APIARY, PASSWORD_CHECKS, password_mode)
    failures += run_suite(APIARY, TLS_CHECKS, tls_mode)
    total = len(CHECKS) + len(PASSWORD_CHECKS) + len(TLS_CHECKS)
    print(f"{total - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
