-- Apiary demo: builds a small sales warehouse from generated data, then runs reports.
-- Run it with:  cargo run --release -- -f sql/demo.hql
-- It can be run again: it starts by dropping what it made last time.

SET hive.cli.print.header=true;

DROP DATABASE IF EXISTS apiary_demo CASCADE;
CREATE DATABASE apiary_demo COMMENT 'Apiary demo: customers and orders';
USE apiary_demo;

-- A text table with Hive delimiters, filled from generated rows.
CREATE TABLE customers (
  id      INT    COMMENT 'customer key',
  name    STRING,
  country STRING,
  tags    ARRAY<STRING>
)
COMMENT 'customers, as delimited text'
ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' COLLECTION ITEMS TERMINATED BY '|'
STORED AS TEXTFILE;

INSERT INTO customers
SELECT CAST(value AS INT),
       concat('customer_', CAST(value AS STRING)),
       CASE value % 4 WHEN 0 THEN 'US' WHEN 1 THEN 'DE' WHEN 2 THEN 'JP' ELSE 'BR' END,
       CASE WHEN value % 10 = 0 THEN array('vip', 'early') ELSE array('regular') END
FROM range(1, 1001);

-- A partitioned Parquet table: one partition per year.
CREATE TABLE orders (
  order_id    BIGINT,
  customer_id INT,
  amount      DECIMAL(10,2),
  order_date  DATE
)
PARTITIONED BY (year INT)
STORED AS PARQUET;

INSERT INTO orders PARTITION (year=2024)
SELECT value,
       CAST(value % 1000 + 1 AS INT),
       CAST((value % 97) * 1.37 AS DECIMAL(10,2)),
       CAST(concat('2024-', lpad(CAST(value % 12 + 1 AS STRING), 2, '0'), '-',
                   lpad(CAST(value % 28 + 1 AS STRING), 2, '0')) AS DATE)
FROM range(1, 50001);

INSERT INTO orders PARTITION (year=2025)
SELECT value,
       CAST(value % 1000 + 1 AS INT),
       CAST((value % 89) * 1.41 AS DECIMAL(10,2)),
       CAST(concat('2025-', lpad(CAST(value % 12 + 1 AS STRING), 2, '0'), '-',
                   lpad(CAST(value % 28 + 1 AS STRING), 2, '0')) AS DATE)
FROM range(50001, 120001);

SHOW TABLES;
SHOW PARTITIONS orders;
DESCRIBE customers;

-- Report 1: revenue by country and year.
SELECT c.country, o.year, count(*) AS orders, sum(o.amount) AS revenue
FROM orders o JOIN customers c ON o.customer_id = c.id
GROUP BY c.country, o.year
ORDER BY c.country, o.year;

-- Report 2: the five best VIP customers of 2025.
CREATE VIEW vip_revenue AS
SELECT c.name, sum(o.amount) AS revenue
FROM orders o JOIN customers c ON o.customer_id = c.id
WHERE o.year = 2025 AND array_contains(c.tags, 'vip')
GROUP BY c.name;

SELECT name, revenue FROM vip_revenue ORDER BY revenue DESC, name LIMIT 5;

-- Report 3: monthly revenue in 2024 with a running total.
SELECT month, revenue, sum(revenue) OVER (ORDER BY month) AS running_total
FROM (
  SELECT date_part('month', order_date) AS month, sum(amount) AS revenue
  FROM orders WHERE year = 2024
  GROUP BY date_part('month', order_date)
) m
ORDER BY month;
