//! A computation that many partitions of a plan wait for and only one starts: a WITH query's
//! rows (`materialized_cte`), a NOT IN subquery's keys (`not_in_filter`). The first
//! partition to ask starts it on a task of its own, so that a partition cancelled while it
//! runs (its query failed elsewhere, or was stopped) neither stops it nor leaves it to
//! another partition to start again, which would execute the same physical plan twice. Its
//! outcome, a failure too, is kept for every partition that asks later. The task stops once
//! the plans that hold it are dropped.

use std::future::Future;
use std::sync::{Arc, Mutex};

use datafusion::common::runtime::SpawnedTask;
use datafusion::error::{DataFusionError, Result};
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

type Outcome<T> = std::result::Result<Arc<T>, Arc<DataFusionError>>;

/// The one run of a computation whose result is a `T`.
pub struct RunOnce<T> {
    run: Mutex<Option<Shared<BoxFuture<'static, Outcome<T>>>>>,
}

impl<T> Default for RunOnce<T> {
    fn default() -> Self {
        RunOnce {
            run: Mutex::new(None),
        }
    }
}

impl<T> std::fmt::Debug for RunOnce<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let started = self.run.lock().map(|run| run.is_some()).unwrap_or(true);
        write!(f, "RunOnce(started: {started})")
    }
}

impl<T: Send + Sync + 'static> RunOnce<T> {
    /// The result of the run, started with `start` if no partition has asked before.
    pub fn get<F>(&self, start: impl FnOnce() -> F) -> BoxFuture<'static, Result<Arc<T>>>
    where
        F: Future<Output = Result<T>> + Send + 'static,
    {
        let mut run = self.run.lock().unwrap_or_else(|e| e.into_inner());
        let shared = run
            .get_or_insert_with(|| {
                let computation = start();
                // Spawned when first polled, inside the runtime that runs the query.
                async move {
                    match SpawnedTask::spawn(computation).join().await {
                        Ok(outcome) => outcome.map(Arc::new).map_err(Arc::new),
                        Err(failed) => {
                            Err(Arc::new(DataFusionError::ExecutionJoin(Box::new(failed))))
                        }
                    }
                }
                .boxed()
                .shared()
            })
            .clone();
        async move { shared.await.map_err(DataFusionError::Shared) }.boxed()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use datafusion::common::exec_err;

    use super::*;

    #[tokio::test]
    async fn the_first_start_runs_and_every_caller_gets_its_outcome() {
        let starts = Arc::new(AtomicUsize::new(0));
        let once = RunOnce::<usize>::default();
        let start = |value: usize| {
            let starts = Arc::clone(&starts);
            move || async move {
                starts.fetch_add(1, Ordering::SeqCst);
                Ok(value)
            }
        };
        let first = once.get(start(7));
        let second = once.get(start(8));
        assert_eq!(*second.await.unwrap(), 7);
        assert_eq!(*first.await.unwrap(), 7);
        assert_eq!(starts.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failure_is_kept() {
        let once = RunOnce::<usize>::default();
        let failed = once.get(|| async { exec_err!("no rows today") });
        assert!(
            failed
                .await
                .unwrap_err()
                .to_string()
                .contains("no rows today")
        );
        let again = once.get(|| async { Ok(1) });
        assert!(
            again
                .await
                .unwrap_err()
                .to_string()
                .contains("no rows today")
        );
    }
}
