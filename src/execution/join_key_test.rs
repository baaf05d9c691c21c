//! A join key filter's test as a predicate (`optimizer::join_key_filters`): where the probe
//! side's scan has a filter of its own, the test joins that filter's conjuncts, and
//! `AdaptiveFilterExec` orders it among them by what each drops for its cost. A test of keys
//! not yet published passes every row.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{BooleanArray, RecordBatch};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::internal_err;
use datafusion::error::Result;
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;

use super::join_key_filter::{JoinKeySets, SetPartition, contained_in};
use super::one_input::only_input;

/// Whether a row's `key` is among the keys of a join's build side.
#[derive(Debug)]
pub struct JoinKeyTest {
    key: Arc<dyn PhysicalExpr>,
    sets: Arc<JoinKeySets>,
    /// The build partition whose keys every row meets, or `None` for all partitions'.
    set_partition: Option<usize>,
}

impl JoinKeyTest {
    /// The test of `key` against `sets`, for rows not yet dealt out to a partitioned join's
    /// partitions (`SetPartition::All`) or meeting a one-partition build side (`Shared`).
    pub fn try_new(
        key: Arc<dyn PhysicalExpr>,
        sets: Arc<JoinKeySets>,
        partitions: SetPartition,
    ) -> Result<Self> {
        let set_partition = match partitions {
            SetPartition::Shared => Some(0),
            SetPartition::All => None,
            SetPartition::Same => {
                return internal_err!("a join key test cannot tell a row's partition");
            }
        };
        Ok(JoinKeyTest {
            key,
            sets,
            set_partition,
        })
    }
}

impl fmt::Display for JoinKeyTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "join_keys({})", self.key)
    }
}

impl PartialEq for JoinKeyTest {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.sets, &other.sets)
            && self.set_partition == other.set_partition
            && self.key.eq(&other.key)
    }
}

impl Eq for JoinKeyTest {}

impl Hash for JoinKeyTest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.sets).hash(state);
        self.set_partition.hash(state);
        self.key.hash(state);
    }
}

impl PhysicalExpr for JoinKeyTest {
    fn data_type(&self, _input_schema: &Schema) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn nullable(&self, _input_schema: &Schema) -> Result<bool> {
        Ok(false)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let rows = batch.num_rows();
        let keys = self.key.evaluate(batch)?.into_array(rows)?;
        let sets = self.sets.get(self.set_partition).unwrap_or_default();
        let found = contained_in(&sets, keys.as_ref())?
            .unwrap_or_else(|| BooleanArray::new(BooleanBuffer::new_set(rows), None));
        Ok(ColumnarValue::Array(Arc::new(found)))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.key]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        Ok(Arc::new(JoinKeyTest {
            key: only_input(children, "join_keys")?,
            sets: Arc::clone(&self.sets),
            set_partition: self.set_partition,
        }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "join_keys(")?;
        self.key.fmt_sql(f)?;
        write!(f, ")")
    }
}
