"""Hive's own LazySimpleSerDe reads the text files Apiary writes, and Apiary reads the files
Hive's SerDe writes, with the same values; the same both ways for ORC files.

The Hive side is Spark SQL with Hive support (PyPI `pyspark`, which bundles Hive 2.3's SerDe
jars and Apache ORC's Java reader and writer). Apiary's `SHOW CREATE TABLE` output is the DDL
given to Hive, so the metadata Apiary records (delimiters, escapes, NULL format, ORC's SerDe
and formats) is checked as well as the bytes.

Usage: python3 hive_roundtrip.py PATH/TO/apiary
"""

import datetime
import decimal
import os
import shutil
import subprocess
import sys
import tempfile

from pyspark.sql import Row, SparkSession

APIARY = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="apiary-hive-compat-")
ENV = dict(os.environ, APIARY_HOME=os.path.join(WORK, "home"))
for name in ("APIARY_WAREHOUSE", "APIARY_METASTORE", "APIARY_CONFIG"):
    ENV.pop(name, None)

ALL_TYPES = (
    "ti tinyint, si smallint, i int, bi bigint, f float, d double, dec decimal(12,3), "
    "s string, b boolean, bin binary, dt date, ts timestamp, arr array<int>, "
    "m map<string,double>, st struct<a:int,b:string>, nested array<struct<k:string,v:array<int>>>"
)
ALL_TYPES_ROW = Row(
    ti=1, si=2, i=3, bi=4, f=1.5, d=22500000000.0, dec=decimal.Decimal("123.456"), s="str",
    b=True, bin=b"bin", dt=datetime.date(2024, 2, 29),
    ts=datetime.datetime(2024, 2, 29, 23, 59, 59, 123000), arr=[1, 2], m={"x": 0.5},
    st=Row(a=1, b="z"), nested=[Row(k="p", v=[7, 8])],
)
NULL_ROW = Row(**{name: None for name in ALL_TYPES_ROW.asDict()})

# The types Apiary writes to ORC files (orc-rust encodes no DECIMAL or complex types yet).
ORC_TYPES = (
    "ti tinyint, si smallint, i int, bi bigint, f float, d double, s string, b boolean, "
    "bin binary, dt date, ts timestamp"
)
ORC_ROW = Row(
    ti=1, si=2, i=3, bi=4, f=1.5, d=22500000000.0, s="str", b=True, bin=b"bin",
    dt=datetime.date(2024, 2, 29), ts=datetime.datetime(2024, 2, 29, 23, 59, 59, 123000),
)
ORC_NULL_ROW = Row(**{name: None for name in ORC_ROW.asDict()})

passed = failed = 0


def check(name, actual, expected):
    global passed, failed
    if actual == expected:
        passed += 1
        print(f"ok      {name}")
    else:
        failed += 1
        print(f"FAILED  {name}\n  expected: {expected!r}\n  actual:   {actual!r}")


def apiary(sql):
    result = subprocess.run([APIARY, "-S", "-e", sql], env=ENV, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"apiary failed on {sql!r}:\n{result.stderr}")
    return result.stdout


def main():
    t1, t2 = os.path.join(WORK, "t1"), os.path.join(WORK, "t2")
    apiary(
        f"create external table t1 ({ALL_TYPES}) location '{t1}';"
        "insert into t1 values (1, 2, 3, 4, 1.5, 2.25e10, 123.456, 'str', true, 'bin',"
        " date '2024-02-29', timestamp '2024-02-29 23:59:59.123', array(1, 2), map('x', 0.5),"
        " named_struct('a', 1, 'b', 'z'), array(named_struct('k', 'p', 'v', array(7, 8))));"
        "insert into t1 select null, null, null, null, null, null, null, null, null, null,"
        " null, null, null, null, null, null;"
        "create external table t2 (s string, n int, tags array<string>)"
        " row format delimited fields terminated by ',' escaped by '\\\\'"
        " collection items terminated by '|' null defined as 'NIL'"
        f" location '{t2}';"
        "insert into t2 values ('a,b|c', 1, array('x|y', 'z')), (null, null, null),"
        " ('line\\nbreak', 2, array());"
        f"create external table o1 ({ORC_TYPES}) stored as orc location '{os.path.join(WORK, 'o1')}';"
        "insert into o1 values (1, 2, 3, 4, 1.5, 2.25e10, 'str', true, cast('bin' as binary),"
        " date '2024-02-29', timestamp '2024-02-29 23:59:59.123');"
        "insert into o1 select null, null, null, null, null, null, null, null, null, null, null"
    )

    # Hive's metastore (Derby) and logs go into this run's own directory, never the caller's.
    derby = f"jdbc:derby:;databaseName={os.path.join(WORK, 'hive-metastore')};create=true"
    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.sql.warehouse.dir", os.path.join(WORK, "spark-warehouse"))
        .config("spark.hadoop.javax.jdo.option.ConnectionURL", derby)
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={WORK}")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .enableHiveSupport()
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")

    # Hive reads what Apiary wrote, through the DDL Apiary prints.
    for table in ("t1", "t2", "o1"):
        spark.sql(apiary(f"show create table {table}").replace("`default`.", ""))
    rows = spark.sql("select * from t1 order by i").collect()
    check("Hive reads Apiary's NULL row", rows[0], NULL_ROW)
    check("Hive reads Apiary's values of every type", rows[1], ALL_TYPES_ROW)
    rows = spark.sql("select * from t2").collect()
    check(
        "Hive reads Apiary's escapes, delimiters and NULL format",
        rows,
        [
            Row(s="a,b|c", n=1, tags=["x|y", "z"]),
            Row(s=None, n=None, tags=None),
            Row(s="line\nbreak", n=2, tags=[]),
        ],
    )

    rows = spark.sql("select * from o1 order by i").collect()
    check("Hive reads Apiary's ORC files", rows, [ORC_NULL_ROW, ORC_ROW])

    # Apiary reads what Hive wrote.
    h1 = os.path.join(WORK, "h1")
    spark.sql(
        f"create table h1 ({ALL_TYPES}) row format serde"
        " 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe' stored as textfile"
        f" location '{h1}'"
    )
    spark.sql("insert into h1 select * from t1")
    apiary(f"create external table h1 ({ALL_TYPES}) location '{h1}'")
    check(
        "Apiary reads Hive's files of every type",
        apiary("select * from h1 order by i"),
        apiary("select * from t1 order by i"),
    )
    h2 = os.path.join(WORK, "h2")
    spark.sql(f"create table h2 ({ORC_TYPES}) stored as orc location '{h2}'")
    spark.sql("insert into h2 select * from o1")
    apiary(f"create external table h2 ({ORC_TYPES}) stored as orc location '{h2}'")
    check(
        "Apiary reads Hive's ORC files",
        apiary("select * from h2 order by i"),
        apiary("select * from o1 order by i"),
    )
    spark.stop()
    shutil.rmtree(WORK, ignore_errors=True)
    print(f"hive-compat: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
