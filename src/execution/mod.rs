//! The execution engine: runs each kind of statement. Queries and the SELECT side of writes
//! run as DataFusion plans over [`table_provider::HiveTableProvider`]; DDL changes the
//! metastore and the warehouse; writes stage files and commit them atomically ([`commit`]).

pub mod adaptive_filter;
pub mod analyze;
pub mod commit;
pub mod database;
pub mod describe;
mod describe_column;
pub mod dynamic_partition;
pub mod file_scan;
mod file_splits;
pub mod files;
pub(crate) mod filter_stream;
pub mod format;
pub mod inline_reads;
pub mod insert;
pub mod join_key_filter;
pub mod join_key_test;
mod leaf_exec;
pub mod load;
pub mod materialized_cte;
pub mod memory;
pub mod multi_insert;
pub mod not_in_filter;
pub mod one_input;
mod orc_scan;
pub mod partition_ddl;
pub mod partition_pruning;
pub mod partition_values;
pub mod paths;
pub mod query;
pub mod results;
pub mod run_aggregate;
pub mod run_once;
pub mod scan_log;
pub mod semijoin_filter;
pub mod shared_source;
pub mod show;
pub mod table_ddl;
pub mod table_lock;
pub mod table_provider;
pub mod text_decode;
pub mod text_scan;
pub mod view;
pub mod writer;
