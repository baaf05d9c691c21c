//! Plan tests of the join order: tables with made-up statistics, queries naming them in a
//! bad order, and the order the rule chooses.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session as CatalogSession;
use datafusion::common::stats::Precision;
use datafusion::common::{ColumnStatistics, Statistics};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::prelude::{SessionConfig, SessionContext};

use super::explain::explain_cbo;
use crate::driver::settings::Settings;
use crate::optimizer::session_state;

/// A table that has statistics and no rows.
#[derive(Debug)]
pub(super) struct StatsTable {
    pub schema: SchemaRef,
    pub statistics: Statistics,
}

#[async_trait]
impl TableProvider for StatsTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn table_type(&self) -> TableType {
        TableType::Base
    }
    fn statistics(&self) -> Option<Statistics> {
        Some(self.statistics.clone())
    }
    async fn scan(
        &self,
        _state: &dyn CatalogSession,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let schema = datafusion::common::project_schema(&self.schema, projection)?;
        Ok(Arc::new(EmptyExec::new(schema)))
    }
}

/// A table of `rows` rows whose columns have the given distinct counts.
fn table(rows: usize, columns: &[(&str, usize)]) -> Arc<StatsTable> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, _)| Field::new(*name, DataType::Int64, true))
            .collect::<Vec<_>>(),
    ));
    let statistics = Statistics {
        num_rows: Precision::Inexact(rows),
        total_byte_size: Precision::Inexact(rows * 8 * columns.len()),
        column_statistics: columns
            .iter()
            .map(|(_, distinct)| {
                ColumnStatistics::new_unknown().with_distinct_count(Precision::Inexact(*distinct))
            })
            .collect(),
    };
    Arc::new(StatsTable { schema, statistics })
}

/// A star schema: a fact table and three dimensions of very different sizes.
fn context(settings: &Settings) -> SessionContext {
    let ctx = SessionContext::new_with_state(session_state(SessionConfig::new(), settings));
    let tables = [
        (
            "sales",
            table(
                1_000_000,
                &[
                    ("item", 10_000),
                    ("store", 100),
                    ("day", 1_000),
                    ("amount", 5_000),
                ],
            ),
        ),
        ("item", table(10_000, &[("id", 10_000), ("category", 10)])),
        ("store", table(100, &[("id", 100), ("state", 50)])),
        ("day", table(1_000, &[("id", 1_000), ("year", 3)])),
    ];
    for (name, provider) in tables {
        ctx.register_table(name, provider).expect("register");
    }
    ctx
}

async fn optimized(ctx: &SessionContext, sql: &str) -> LogicalPlan {
    ctx.sql(sql)
        .await
        .expect("plan")
        .into_optimized_plan()
        .expect("optimize")
}

/// The joins of a plan as a nested expression of table names, left (build) side first.
pub(super) fn join_order(plan: &LogicalPlan) -> String {
    match plan {
        LogicalPlan::Join(join) => {
            format!("({} ⋈ {})", join_order(&join.left), join_order(&join.right))
        }
        LogicalPlan::TableScan(scan) => scan.table_name.to_string(),
        other => other
            .inputs()
            .iter()
            .map(|input| join_order(input))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

const STAR: &str = "select count(*) from sales, item, day, store
    where sales.item = item.id and sales.store = store.id and sales.day = day.id
      and store.state = 7 and item.category = 3";

#[tokio::test]
async fn a_star_join_starts_from_the_most_selective_dimension() {
    let ctx = context(&Settings::default());
    let plan = optimized(&ctx, STAR).await;
    assert_eq!(
        join_order(&plan),
        "(day ⋈ (item ⋈ (store ⋈ sales)))",
        "{}",
        plan.display_indent()
    );
}

#[tokio::test]
async fn without_cbo_the_written_order_stays() {
    let mut settings = Settings::default();
    settings.set("hive.cbo.enable", "false");
    let ctx = context(&settings);
    let plan = optimized(&ctx, STAR).await;
    assert_eq!(join_order(&plan), "(((sales ⋈ item) ⋈ day) ⋈ store)");
}

#[tokio::test]
async fn the_result_keeps_the_columns_in_the_written_order() {
    let ctx = context(&Settings::default());
    let plan = optimized(
        &ctx,
        "select * from sales join item on sales.item = item.id join store on sales.store = store.id
         where store.state = 1",
    )
    .await;
    let names: Vec<String> = plan
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "item", "store", "day", "amount", "id", "category", "id", "state"
        ]
    );
    assert_eq!(join_order(&plan), "(item ⋈ (store ⋈ sales))");
}

#[tokio::test]
async fn explain_cbo_shows_rows_and_cost() {
    let ctx = context(&Settings::default());
    let plan = optimized(&ctx, STAR).await;
    let lines = explain_cbo(&plan);
    let top_join = lines
        .iter()
        .find(|l| l.trim_start().starts_with("Inner Join"))
        .expect("a join");
    assert!(
        top_join.contains("rows=") && top_join.contains("cost="),
        "{lines:?}"
    );
    assert!(
        lines.last().is_some_and(|l| l.starts_with("join cost")),
        "{lines:?}"
    );
}
