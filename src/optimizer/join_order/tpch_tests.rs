//! Plan snapshots of the join order chosen for TPC-H queries at scale factor 1, from the
//! statistics ANALYZE gives those tables (row counts, distinct counts, date ranges), with the
//! FROM clauses written largest table first. A change that alters a chosen order shows here.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::stats::Precision;
use datafusion::common::{ColumnStatistics, ScalarValue, Statistics};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{SessionConfig, SessionContext};

use super::tests::{StatsTable, join_order};
use crate::driver::settings::Settings;
use crate::optimizer::join_sides::{EstimatedRows, mark_join_sides};
use crate::optimizer::session_state;

/// A column: name, type, distinct count, and for dates the range in days since the epoch.
type ColumnDef = (&'static str, DataType, usize, Option<(i32, i32)>);

fn key(name: &'static str, distinct: usize) -> ColumnDef {
    (name, DataType::Int64, distinct, None)
}

fn text(name: &'static str, distinct: usize) -> ColumnDef {
    (name, DataType::Utf8, distinct, None)
}

fn date(name: &'static str, distinct: usize, from: i32, to: i32) -> ColumnDef {
    (name, DataType::Date32, distinct, Some((from, to)))
}

fn table(rows: usize, columns: Vec<ColumnDef>) -> Arc<StatsTable> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, t, _, _)| Field::new(*name, t.clone(), true))
            .collect::<Vec<_>>(),
    ));
    let column_statistics = columns
        .iter()
        .map(|(_, _, distinct, range)| {
            let stats = ColumnStatistics::new_unknown()
                .with_distinct_count(Precision::Inexact(*distinct))
                .with_null_count(Precision::Inexact(0));
            match range {
                Some((low, high)) => stats
                    .with_min_value(Precision::Inexact(ScalarValue::Date32(Some(*low))))
                    .with_max_value(Precision::Inexact(ScalarValue::Date32(Some(*high)))),
                None => stats,
            }
        })
        .collect();
    Arc::new(StatsTable {
        schema,
        statistics: Statistics {
            num_rows: Precision::Inexact(rows),
            total_byte_size: Precision::Inexact(rows * 100),
            column_statistics,
        },
    })
}

/// 1992-01-01 and 1998-12-01 in days since the epoch.
const FIRST_DAY: i32 = 8035;
const LAST_DAY: i32 = 10561;

fn tpch() -> SessionContext {
    let ctx =
        SessionContext::new_with_state(session_state(SessionConfig::new(), &Settings::default()));
    let tables = [
        (
            "region",
            table(5, vec![key("r_regionkey", 5), text("r_name", 5)]),
        ),
        (
            "nation",
            table(
                25,
                vec![
                    key("n_nationkey", 25),
                    text("n_name", 25),
                    key("n_regionkey", 5),
                ],
            ),
        ),
        (
            "supplier",
            table(
                10_000,
                vec![
                    key("s_suppkey", 10_000),
                    key("s_nationkey", 25),
                    text("s_name", 10_000),
                ],
            ),
        ),
        (
            "customer",
            table(
                150_000,
                vec![
                    key("c_custkey", 150_000),
                    key("c_nationkey", 25),
                    text("c_mktsegment", 5),
                    text("c_name", 150_000),
                ],
            ),
        ),
        (
            "part",
            table(
                200_000,
                vec![
                    key("p_partkey", 200_000),
                    text("p_name", 200_000),
                    text("p_type", 150),
                ],
            ),
        ),
        (
            "partsupp",
            table(
                800_000,
                vec![
                    key("ps_partkey", 200_000),
                    key("ps_suppkey", 10_000),
                    ("ps_supplycost", DataType::Decimal128(15, 2), 100_000, None),
                ],
            ),
        ),
        (
            "orders",
            table(
                1_500_000,
                vec![
                    key("o_orderkey", 1_500_000),
                    key("o_custkey", 100_000),
                    date("o_orderdate", 2406, FIRST_DAY, LAST_DAY - 151),
                ],
            ),
        ),
        (
            "lineitem",
            table(
                6_000_000,
                vec![
                    key("l_orderkey", 1_500_000),
                    key("l_partkey", 200_000),
                    key("l_suppkey", 10_000),
                    ("l_quantity", DataType::Decimal128(15, 2), 50, None),
                    (
                        "l_extendedprice",
                        DataType::Decimal128(15, 2),
                        900_000,
                        None,
                    ),
                    ("l_discount", DataType::Decimal128(15, 2), 11, None),
                    date("l_shipdate", 2526, FIRST_DAY, LAST_DAY),
                    text("l_returnflag", 3),
                ],
            ),
        ),
    ];
    for (name, provider) in tables {
        ctx.register_table(name, provider).expect("register");
    }
    ctx
}

async fn chosen_order(sql: &str) -> String {
    let plan = tpch()
        .sql(sql)
        .await
        .expect("plan")
        .into_optimized_plan()
        .expect("optimize");
    join_order(&plan)
}

#[tokio::test]
async fn q3_joins_the_filtered_customers_to_orders_before_lineitem() {
    let order = chosen_order(
        "select l_orderkey, sum(l_extendedprice * (1 - l_discount)) as revenue, o_orderdate
         from lineitem, orders, customer
         where c_mktsegment = 'BUILDING' and c_custkey = o_custkey and l_orderkey = o_orderkey
           and o_orderdate < date '1995-03-15' and l_shipdate > date '1995-03-15'
         group by l_orderkey, o_orderdate",
    )
    .await;
    assert_eq!(order, "((customer ⋈ orders) ⋈ lineitem)");
}

#[tokio::test]
async fn q5_joins_the_years_orders_to_lineitem_then_the_regions_suppliers() {
    let order = chosen_order(
        "select n_name, sum(l_extendedprice * (1 - l_discount)) as revenue
         from lineitem, orders, customer, supplier, nation, region
         where c_custkey = o_custkey and l_orderkey = o_orderkey and l_suppkey = s_suppkey
           and c_nationkey = s_nationkey and s_nationkey = n_nationkey
           and n_regionkey = r_regionkey and r_name = 'ASIA'
           and o_orderdate >= date '1994-01-01' and o_orderdate < date '1995-01-01'
         group by n_name",
    )
    .await;
    assert_eq!(
        order,
        "(customer ⋈ (((region ⋈ nation) ⋈ supplier) ⋈ (orders ⋈ lineitem)))"
    );
}

#[tokio::test]
async fn q9_joins_the_green_parts_to_lineitem_before_partsupp() {
    let order = chosen_order(
        "select n_name, date_part('year', o_orderdate), sum(l_extendedprice * (1 - l_discount) - ps_supplycost * l_quantity)
         from lineitem, orders, partsupp, part, supplier, nation
         where s_suppkey = l_suppkey and ps_suppkey = l_suppkey and ps_partkey = l_partkey
           and p_partkey = l_partkey and o_orderkey = l_orderkey and s_nationkey = n_nationkey
           and p_name like '%green%'
         group by n_name, date_part('year', o_orderdate)",
    )
    .await;
    assert_eq!(
        order,
        "((nation ⋈ supplier) ⋈ (orders ⋈ (partsupp ⋈ (part ⋈ lineitem))))"
    );
}

#[tokio::test]
async fn q10_reads_the_quarters_orders_before_lineitem() {
    let order = chosen_order(
        "select c_custkey, sum(l_extendedprice * (1 - l_discount)) as revenue, n_name
         from lineitem, orders, customer, nation
         where c_custkey = o_custkey and l_orderkey = o_orderkey
           and o_orderdate >= date '1993-10-01' and o_orderdate < date '1994-01-01'
           and l_returnflag = 'R' and c_nationkey = n_nationkey
         group by c_custkey, n_name",
    )
    .await;
    assert_eq!(order, "((nation ⋈ (orders ⋈ customer)) ⋈ lineitem)");
}

/// The estimates [`mark_join_sides`] gives the two inputs of the join on `key`.
fn side_estimates(plan: &LogicalPlan, key: &str) -> Option<(usize, usize)> {
    let rows_of = |side: &LogicalPlan| match side {
        LogicalPlan::Extension(extension) => extension
            .node
            .as_any()
            .downcast_ref::<EstimatedRows>()
            .map(EstimatedRows::rows),
        _ => None,
    };
    if let LogicalPlan::Join(join) = plan
        && join
            .on
            .iter()
            .any(|(l, r)| l.to_string().contains(key) || r.to_string().contains(key))
    {
        return rows_of(&join.left).zip(rows_of(&join.right));
    }
    plan.inputs()
        .into_iter()
        .find_map(|input| side_estimates(input, key))
}

#[tokio::test]
async fn q8_hash_joins_see_the_cost_based_estimates() {
    // DataFusion alone takes the part filter to keep a fifth of the parts, so lineitem ⋈ part
    // looks larger than the two years of orders, and it built on orders.
    let plan = tpch()
        .sql(
            "select count(*) from lineitem, part, orders
             where p_partkey = l_partkey and o_orderkey = l_orderkey
               and p_type = 'ECONOMY ANODIZED STEEL'
               and o_orderdate between date '1995-01-01' and date '1996-12-31'",
        )
        .await
        .expect("plan")
        .into_optimized_plan()
        .expect("optimize");
    let marked = mark_join_sides(plan).expect("mark");
    let (build, probe) = side_estimates(&marked, "o_orderkey").expect("estimated sides");
    // 6,000,000 lineitem rows for one part type in 150; 730 days of the orders' 2,375.
    assert_eq!(build, 40_000);
    assert_eq!(probe, 461_053);
    let (parts, lineitems) = side_estimates(&marked, "p_partkey").expect("estimated sides");
    assert_eq!((parts, lineitems), (1_333, 6_000_000));
}
