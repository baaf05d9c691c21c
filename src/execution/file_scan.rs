//! What Apiary's own file-scan operators (text, ORC) share: the files of a scan with their
//! partition values, their plan properties, and how EXPLAIN shows them.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::{ScalarValue, project_schema};
use datafusion::error::Result;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::{Partitioning, PlanProperties};

/// A file to scan and the partition-key values of the partition it belongs to.
#[derive(Debug, Clone)]
pub struct ScanFile {
    pub path: std::path::PathBuf,
    pub partition_values: Vec<ScalarValue>,
}

/// The scan's projection (all columns when none is given) and its plan properties: one
/// output partition per group of files, rows emitted as they are read.
pub fn scan_properties(
    table_schema: &SchemaRef,
    projection: Option<&Vec<usize>>,
    groups: &[Vec<ScanFile>],
) -> Result<(Vec<usize>, Arc<PlanProperties>)> {
    let projection: Vec<usize> = projection
        .cloned()
        .unwrap_or_else(|| (0..table_schema.fields().len()).collect());
    let output = project_schema(table_schema, Some(&projection))?;
    let properties = Arc::new(PlanProperties::new(
        EquivalenceProperties::new(output),
        Partitioning::UnknownPartitioning(groups.len().max(1)),
        EmissionType::Incremental,
        Boundedness::Bounded,
    ));
    Ok((projection, properties))
}

/// `Name: files=N, groups=G[, limit=L]`, the EXPLAIN line of a file scan.
pub fn fmt_scan(
    f: &mut fmt::Formatter,
    name: &str,
    groups: &[Vec<ScanFile>],
    limit: Option<usize>,
) -> fmt::Result {
    let files: usize = groups.iter().map(Vec::len).sum();
    write!(f, "{name}: files={files}, groups={}", groups.len())?;
    if let Some(limit) = limit {
        write!(f, ", limit={limit}")?;
    }
    Ok(())
}
