//! Apiary's error type: one variant per pipeline layer, converted at the layer boundary.

use datafusion::error::DataFusionError;

pub use crate::parser::ParseError;

#[derive(Debug, thiserror::Error)]
pub enum ApiaryError {
    /// The statement text is not valid HiveQL.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The statement is valid HiveQL but names something that does not exist or is misused.
    #[error("{0}")]
    Analysis(String),
    #[error(transparent)]
    Metastore(#[from] apiary_metastore::MetastoreError),
    /// The statement failed while running.
    #[error("{0}")]
    Execution(String),
    /// Valid HiveQL that Apiary does not implement yet.
    #[error("Not supported yet: {0}")]
    NotSupported(String),
    #[error(transparent)]
    DataFusion(DataFusionError),
    /// A query needed more memory than `apiary.memory.limit` gives it, in an operator that
    /// cannot spill to disk.
    #[error(
        "Query ran out of memory: it needs more than apiary.memory.limit allows and could not \
         spill to disk. Raise the limit (SET apiary.memory.limit=...) or make the query smaller. \
         Details: {0}"
    )]
    OutOfMemory(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("Query cancelled")]
    Cancelled,
}

impl From<DataFusionError> for ApiaryError {
    fn from(error: DataFusionError) -> Self {
        match error.find_root() {
            DataFusionError::ResourcesExhausted(detail) => ApiaryError::OutOfMemory(detail.clone()),
            _ => ApiaryError::DataFusion(error),
        }
    }
}

impl ApiaryError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ApiaryError::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = ApiaryError> = std::result::Result<T, E>;

/// Shorthand for an analysis error with a formatted message.
#[macro_export]
macro_rules! analysis_err {
    ($($arg:tt)*) => { $crate::error::ApiaryError::Analysis(format!($($arg)*)) };
}
