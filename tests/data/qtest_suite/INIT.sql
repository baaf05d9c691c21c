-- A miniature suite in the layout of Hive's q-test harness, for the runner's own tests.
CREATE TABLE small (key INT, value STRING) STORED AS TEXTFILE;
LOAD DATA LOCAL INPATH '${hiveconf:test.data.dir}/small.txt' INTO TABLE small;
