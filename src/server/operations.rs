//! Operations: a statement or a metadata call that a session runs. An operation owns its
//! state (pending, running, finished, failed, cancelled, timed out, closed), its results,
//! read page by page, and its log, which clients read beside the results.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::error::DataFusionError;
use tokio::task::AbortHandle;

use super::handles::{Handle, HandleId};
use super::protocol::{TOperationState, TOperationType};
use crate::driver::StatementOutput;
use crate::error::ApiaryError;

/// Why an operation failed, as HiveServer2 reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub message: String,
    pub sql_state: String,
    pub error_code: i32,
}

impl Failure {
    /// A statement's error: compile errors (the text, names, types) as Hive's
    /// `Error while compiling statement` with SQL state 42000, others as
    /// `Error while processing statement` with 08S01.
    pub fn of_statement(error: &ApiaryError) -> Failure {
        let compile_error = match error {
            ApiaryError::Parse(_)
            | ApiaryError::Analysis(_)
            | ApiaryError::NotSupported(_)
            | ApiaryError::Metastore(_) => true,
            ApiaryError::DataFusion(e) => matches!(
                e.find_root(),
                DataFusionError::Plan(_)
                    | DataFusionError::SchemaError(..)
                    | DataFusionError::SQL(..)
                    | DataFusionError::NotImplemented(_)
            ),
            _ => false,
        };
        if compile_error {
            Failure {
                message: format!("Error while compiling statement: FAILED: {error}"),
                sql_state: "42000".to_string(),
                error_code: 40000,
            }
        } else {
            Failure {
                message: format!("Error while processing statement: FAILED: {error}"),
                sql_state: "08S01".to_string(),
                error_code: 1,
            }
        }
    }

    pub fn internal(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            sql_state: "HY000".to_string(),
            error_code: 0,
        }
    }
}

/// Results and how far the client has read them.
#[derive(Debug)]
pub struct Results {
    pub schema: SchemaRef,
    batches: Vec<RecordBatch>,
    next_row: usize,
    row_count: usize,
}

impl Results {
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Results {
        let row_count = batches.iter().map(RecordBatch::num_rows).sum();
        Results {
            schema,
            batches,
            next_row: 0,
            row_count,
        }
    }

    fn of_output(output: StatementOutput) -> Results {
        match output {
            StatementOutput::Rows { schema, batches } => Results::new(schema, batches),
            StatementOutput::Done => Results::new(Arc::new(Schema::empty()), Vec::new()),
        }
    }

    /// Starts reading from the first row again.
    pub fn rewind(&mut self) {
        self.next_row = 0;
    }

    /// The next `max_rows` rows (as slices of the batches), the offset of the first, and
    /// whether rows remain after them.
    pub fn next_page(&mut self, max_rows: usize) -> (Vec<RecordBatch>, usize, bool) {
        let start = self.next_row;
        let end = start.saturating_add(max_rows).min(self.row_count);
        let mut page = Vec::new();
        let mut batch_start = 0;
        for batch in &self.batches {
            let batch_end = batch_start + batch.num_rows();
            let from = start.max(batch_start);
            let to = end.min(batch_end);
            if from < to {
                page.push(batch.slice(from - batch_start, to - from));
            }
            batch_start = batch_end;
        }
        self.next_row = end;
        (page, start, end < self.row_count)
    }
}

#[derive(Debug)]
pub enum State {
    /// Waiting for its session (another statement of the session is running).
    Pending,
    Running,
    Finished(Results),
    Failed(Failure),
    Cancelled,
    TimedOut(Duration),
    Closed,
}

impl State {
    pub fn thrift_state(&self) -> TOperationState {
        match self {
            State::Pending => TOperationState::PENDING_STATE,
            State::Running => TOperationState::RUNNING_STATE,
            State::Finished(_) => TOperationState::FINISHED_STATE,
            State::Failed(_) => TOperationState::ERROR_STATE,
            State::Cancelled => TOperationState::CANCELED_STATE,
            State::TimedOut(_) => TOperationState::TIMEDOUT_STATE,
            State::Closed => TOperationState::CLOSED_STATE,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            State::Pending => "PENDING",
            State::Running => "RUNNING",
            State::Finished(_) => "FINISHED",
            State::Failed(_) => "ERROR",
            State::Cancelled => "CANCELED",
            State::TimedOut(_) => "TIMEDOUT",
            State::Closed => "CLOSED",
        }
    }

    fn is_terminal(&self) -> bool {
        !matches!(self, State::Pending | State::Running)
    }
}

/// How a statement's run ended.
pub enum Outcome {
    Done(crate::error::Result<StatementOutput>),
    TimedOut(Duration),
}

/// The lines of an operation's log, and how far the client has read them.
#[derive(Debug, Default)]
struct Log {
    lines: Vec<String>,
    next_line: usize,
}

pub struct Operation {
    pub handle: Handle,
    pub session: HandleId,
    pub kind: TOperationType,
    /// Whether results come: what the client is told when the operation starts.
    pub announces_results: bool,
    /// Milliseconds since the epoch.
    pub started: i64,
    completed: Mutex<Option<i64>>,
    state: Mutex<State>,
    log: Mutex<Log>,
    task: Mutex<Option<AbortHandle>>,
}

pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// Locks a mutex, going on with the data if a thread panicked while holding it (the state
/// it guards is replaced whole, never left half-updated).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Operation {
    pub fn new(session: HandleId, kind: TOperationType, announces_results: bool) -> Operation {
        Operation {
            handle: Handle::new(),
            session,
            kind,
            announces_results,
            started: now_millis(),
            completed: Mutex::new(None),
            state: Mutex::new(State::Pending),
            log: Mutex::default(),
            task: Mutex::new(None),
        }
    }

    /// An operation that is finished from the start (metadata calls).
    pub fn finished(session: HandleId, kind: TOperationType, results: Results) -> Operation {
        let operation = Operation::new(session, kind, true);
        operation.finish(State::Finished(results));
        operation
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub fn completed(&self) -> Option<i64> {
        *lock(&self.completed)
    }

    pub fn log(&self, line: impl Into<String>) {
        lock(&self.log).lines.push(line.into());
    }

    /// The log lines the client has not read yet (all of them again after `rewind`).
    pub fn unread_log(&self, rewind: bool, max_lines: usize) -> Vec<String> {
        let mut log = lock(&self.log);
        if rewind {
            log.next_line = 0;
        }
        let start = log.next_line.min(log.lines.len());
        let end = start.saturating_add(max_lines).min(log.lines.len());
        log.next_line = end;
        log.lines[start..end].to_vec()
    }

    pub fn set_task(&self, task: AbortHandle) {
        *lock(&self.task) = Some(task);
    }

    /// The statement got its session and runs; false when it was cancelled meanwhile.
    pub fn start_running(&self) -> bool {
        let mut state = self.state();
        if matches!(*state, State::Pending) {
            *state = State::Running;
            true
        } else {
            false
        }
    }

    /// Records how the statement ended, unless the operation was cancelled or closed first.
    pub fn complete(&self, outcome: Outcome) {
        let elapsed = (now_millis() - self.started) as f64 / 1000.0;
        let state = match outcome {
            Outcome::Done(Ok(output)) => {
                self.log(format!(
                    "INFO  : Completed executing command; Time taken: {elapsed:.3} seconds"
                ));
                self.log("INFO  : OK");
                State::Finished(Results::of_output(output))
            }
            Outcome::Done(Err(error)) => {
                let failure = Failure::of_statement(&error);
                self.log(format!("ERROR : {}", failure.message));
                State::Failed(failure)
            }
            Outcome::TimedOut(limit) => {
                self.log(format!(
                    "ERROR : Query timed out after {} seconds",
                    limit.as_secs()
                ));
                State::TimedOut(limit)
            }
        };
        self.finish(state);
    }

    fn finish(&self, new_state: State) {
        let mut state = self.state();
        if !state.is_terminal() {
            *state = new_state;
            *lock(&self.completed) = Some(now_millis());
        }
    }

    /// Stops the statement if it has not ended; a finished operation keeps its results.
    pub fn cancel(&self) {
        let stopped = {
            let mut state = self.state();
            if state.is_terminal() {
                false
            } else {
                *state = State::Cancelled;
                true
            }
        };
        if stopped {
            *lock(&self.completed) = Some(now_millis());
            self.log("INFO  : Query was cancelled");
            self.abort_task();
        }
    }

    /// Ends the operation for good and frees its results.
    pub fn close(&self) {
        *self.state() = State::Closed;
        self.abort_task();
    }

    fn abort_task(&self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
    }

    pub fn is_running(&self) -> bool {
        !self.state().is_terminal()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{ArrayRef, Int32Array};

    use super::*;

    fn results(sizes: &[i32]) -> Results {
        let mut next = 0;
        let batches: Vec<RecordBatch> = sizes
            .iter()
            .map(|size| {
                let values: ArrayRef = Arc::new(Int32Array::from_iter_values(next..next + size));
                next += size;
                RecordBatch::try_from_iter([("v", values)]).unwrap()
            })
            .collect();
        Results::new(batches[0].schema(), batches)
    }

    fn values(page: &[RecordBatch]) -> Vec<i32> {
        page.iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<Int32Array>()
                    .unwrap()
                    .values()
                    .to_vec()
            })
            .collect()
    }

    #[test]
    fn pages_cross_batches_and_rewind() {
        let mut results = results(&[3, 0, 4]);
        let (page, start, more) = results.next_page(5);
        assert_eq!((values(&page), start, more), (vec![0, 1, 2, 3, 4], 0, true));
        let (page, start, more) = results.next_page(5);
        assert_eq!((values(&page), start, more), (vec![5, 6], 5, false));
        let (page, _, more) = results.next_page(5);
        assert_eq!((values(&page), more), (vec![], false));
        results.rewind();
        assert_eq!(values(&results.next_page(2).0), vec![0, 1]);
    }

    #[test]
    fn a_cancelled_statement_stays_cancelled() {
        let operation = Operation::new([0; 16], TOperationType::EXECUTE_STATEMENT, true);
        assert!(operation.start_running());
        operation.cancel();
        operation.complete(Outcome::Done(Ok(StatementOutput::Done)));
        assert_eq!(operation.state().name(), "CANCELED");
        assert!(operation.completed().is_some());
        assert!(!operation.start_running());
    }

    #[test]
    fn failures_tell_compile_errors_from_run_errors() {
        let compile = Failure::of_statement(&ApiaryError::Analysis("Table not found: t".into()));
        assert_eq!(compile.sql_state, "42000");
        assert!(
            compile
                .message
                .starts_with("Error while compiling statement: FAILED: ")
        );
        let run = Failure::of_statement(&ApiaryError::Execution("disk full".into()));
        assert_eq!(run.sql_state, "08S01");
    }
}
