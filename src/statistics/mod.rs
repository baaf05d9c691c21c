//! Table and column statistics: gathering them from rows (`ANALYZE TABLE`), keeping track of
//! whether they are current (`COLUMN_STATS_ACCURATE`), and combining partitions' statistics.
//! The metastore stores them; the planner reads them.

pub mod accuracy;
pub mod column_builder;
pub mod merge;
pub mod sketch;
pub mod table_statistics;
