//! The HiveServer2 calls: what each does with the server's sessions and operations. Every
//! call answers; a failure travels as an error status in the response, as HiveServer2's do.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Handle as RuntimeHandle;

use super::auth::Authenticator;
use super::handles::{Handle, HandleId};
use super::metadata;
use super::operations::{Failure, Operation, Outcome, Results, State, lock};
use super::protocol::*;
use super::row_set::row_set;
use super::sessions::{ServerSession, StatementSettings};
use super::type_desc::table_schema;
use crate::analyzer::lateral_view::GENERATORS;
use crate::driver::{Engine, Session, StatementOutput};
use crate::error::Result;
use crate::execution::results::single_column;
use crate::functions::catalog::function_names;

/// The newest protocol version the server speaks.
pub const SERVER_PROTOCOL: TProtocolVersion = TProtocolVersion::HIVE_CLI_SERVICE_PROTOCOL_V11;
/// The Hive version the server reports, so that drivers enable what Hive 3.1 supports.
pub const HIVE_VERSION: &str = "3.1.3";
/// The most rows one FetchResults returns, whatever the client asks
/// (`hive.server2.thrift.resultset.max.fetch.size`).
pub const MAX_FETCH_ROWS: usize = 10_000;

/// What the connection a call came on knows about its client.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The binary-transport connection, whose sessions end when it closes.
    pub connection: Option<u64>,
    /// The user the transport authenticated (SASL PLAIN, HTTP basic authentication).
    pub authenticated_user: Option<String>,
}

pub struct HiveService {
    engine: Arc<Engine>,
    runtime: RuntimeHandle,
    authenticator: Authenticator,
    /// Settings every session starts with.
    session_settings: Vec<(String, String)>,
    sessions: Mutex<HashMap<HandleId, Arc<ServerSession>>>,
    operations: Mutex<HashMap<HandleId, Arc<Operation>>>,
}

fn status_ok() -> TStatus {
    TStatus::new(TStatusCode::SUCCESS_STATUS, None, None, None, None)
}

fn status_error(failure: &Failure) -> TStatus {
    TStatus::new(
        TStatusCode::ERROR_STATUS,
        None,
        Some(failure.sql_state.clone()),
        Some(failure.error_code),
        Some(failure.message.clone()),
    )
}

fn invalid_handle(what: &str) -> TStatus {
    TStatus::new(
        TStatusCode::INVALID_HANDLE_STATUS,
        None,
        Some("HY000".to_string()),
        Some(0),
        Some(format!("Invalid {what}")),
    )
}

/// A call's failure: a bad handle or another error.
enum CallError {
    InvalidHandle(&'static str),
    Failed(Failure),
}

impl CallError {
    fn status(&self) -> TStatus {
        match self {
            CallError::InvalidHandle(what) => invalid_handle(what),
            CallError::Failed(failure) => status_error(failure),
        }
    }
}

impl From<crate::error::ApiaryError> for CallError {
    fn from(error: crate::error::ApiaryError) -> Self {
        CallError::Failed(Failure::of_statement(&error))
    }
}

type CallResult<T> = std::result::Result<T, CallError>;

fn failed(message: impl Into<String>) -> CallError {
    CallError::Failed(Failure::internal(message))
}

impl HiveService {
    pub fn new(
        engine: Arc<Engine>,
        runtime: RuntimeHandle,
        authenticator: Authenticator,
        session_settings: Vec<(String, String)>,
    ) -> HiveService {
        HiveService {
            engine,
            runtime,
            authenticator,
            session_settings,
            sessions: Mutex::default(),
            operations: Mutex::default(),
        }
    }

    pub fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }

    fn session(&self, handle: &TSessionHandle) -> CallResult<Arc<ServerSession>> {
        let handle = Handle::from_thrift(&handle.session_id);
        let session = handle.and_then(|h| {
            lock(&self.sessions)
                .get(&h.id)
                .filter(|s| s.handle == h)
                .cloned()
        });
        let session = session.ok_or(CallError::InvalidHandle("SessionHandle"))?;
        session.touch();
        Ok(session)
    }

    fn operation(&self, handle: &TOperationHandle) -> CallResult<Arc<Operation>> {
        let handle = Handle::from_thrift(&handle.operation_id);
        let operation = handle.and_then(|h| {
            lock(&self.operations)
                .get(&h.id)
                .filter(|o| o.handle == h)
                .cloned()
        });
        let operation = operation.ok_or(CallError::InvalidHandle("OperationHandle"))?;
        if let Some(session) = lock(&self.sessions).get(&operation.session) {
            session.touch();
        }
        Ok(operation)
    }

    fn register(&self, session: &ServerSession, operation: Operation) -> Arc<Operation> {
        let operation = Arc::new(operation);
        session.add_operation(operation.handle.id);
        lock(&self.operations).insert(operation.handle.id, Arc::clone(&operation));
        operation
    }

    fn operation_handle(operation: &Operation, has_result_set: bool) -> TOperationHandle {
        TOperationHandle::new(
            operation.handle.to_thrift(),
            operation.kind,
            has_result_set,
            None,
        )
    }

    // ---- Sessions -------------------------------------------------------------------------

    pub fn open_session(&self, caller: &Caller, request: TOpenSessionReq) -> TOpenSessionResp {
        let protocol = request.client_protocol.min(SERVER_PROTOCOL);
        match self.try_open_session(caller, request, protocol) {
            Ok(session) => TOpenSessionResp::new(
                status_ok(),
                protocol,
                TSessionHandle::new(session.handle.to_thrift()),
                BTreeMap::new(),
            ),
            Err(error) => TOpenSessionResp::new(error.status(), protocol, None, None),
        }
    }

    fn try_open_session(
        &self,
        caller: &Caller,
        request: TOpenSessionReq,
        protocol: TProtocolVersion,
    ) -> CallResult<Arc<ServerSession>> {
        let user = match &caller.authenticated_user {
            Some(user) => user.clone(),
            None => self
                .authenticator
                .open_session_user(request.username.as_deref(), request.password.as_deref())
                .map_err(|e| failed(e.to_string()))?,
        };
        let mut session = self.engine.new_session();
        session.set_user(&user);
        for (name, value) in &self.session_settings {
            session.set(name, value)?;
        }
        for (key, value) in request.configuration.unwrap_or_default() {
            apply_connection_setting(&mut session, &key, &value)?;
        }
        let session = Arc::new(ServerSession::new(
            user,
            protocol,
            caller.connection,
            session,
        ));
        lock(&self.sessions).insert(session.handle.id, Arc::clone(&session));
        Ok(session)
    }

    pub fn close_session(&self, request: TCloseSessionReq) -> TCloseSessionResp {
        match self.session(&request.session_handle) {
            Ok(session) => {
                self.end_session(&session);
                TCloseSessionResp::new(status_ok())
            }
            Err(error) => TCloseSessionResp::new(error.status()),
        }
    }

    /// Closes a session and its operations, stopping those that run.
    fn end_session(&self, session: &ServerSession) {
        lock(&self.sessions).remove(&session.handle.id);
        let mut operations = lock(&self.operations);
        for id in session.take_operations() {
            if let Some(operation) = operations.remove(&id) {
                operation.close();
            }
        }
    }

    /// Closes the sessions a closed connection opened.
    pub fn connection_closed(&self, connection: u64) {
        let orphans: Vec<Arc<ServerSession>> = lock(&self.sessions)
            .values()
            .filter(|s| s.connection == Some(connection))
            .cloned()
            .collect();
        for session in orphans {
            self.end_session(&session);
        }
    }

    /// Closes sessions idle for longer than `timeout` that run nothing.
    pub fn close_idle_sessions(&self, timeout: Duration) -> usize {
        let idle: Vec<Arc<ServerSession>> = lock(&self.sessions)
            .values()
            .filter(|s| s.idle_for() > timeout)
            .cloned()
            .collect();
        let operations = lock(&self.operations).clone();
        let mut closed = 0;
        for session in idle {
            let busy = session
                .operation_ids()
                .iter()
                .any(|id| operations.get(id).is_some_and(|o| o.is_running()));
            if !busy {
                self.end_session(&session);
                closed += 1;
            }
        }
        closed
    }

    pub fn session_count(&self) -> usize {
        lock(&self.sessions).len()
    }

    pub fn get_info(&self, request: TGetInfoReq) -> TGetInfoResp {
        let fallback = TGetInfoValue::StringValue(String::new());
        if let Err(error) = self.session(&request.session_handle) {
            return TGetInfoResp::new(error.status(), fallback);
        }
        let value = match request.info_type {
            // CLI_SERVER_NAME
            13 => TGetInfoValue::StringValue("Apiary".to_string()),
            // CLI_DBMS_NAME
            17 => TGetInfoValue::StringValue("Apache Hive".to_string()),
            // CLI_DBMS_VER
            18 => TGetInfoValue::StringValue(HIVE_VERSION.to_string()),
            // CLI_MAX_COLUMN_NAME_LEN, CLI_MAX_SCHEMA_NAME_LEN, CLI_MAX_TABLE_NAME_LEN
            30 | 32 | 35 => TGetInfoValue::LenValue(128),
            // CLI_TXN_CAPABLE: no transactions.
            46 => TGetInfoValue::SmallIntValue(0),
            other => {
                let failure = Failure::internal(format!("Unrecognized GetInfoType value: {other}"));
                return TGetInfoResp::new(status_error(&failure), fallback);
            }
        };
        TGetInfoResp::new(status_ok(), value)
    }

    // ---- Statements ---------------------------------------------------------------------

    pub fn execute_statement(&self, request: TExecuteStatementReq) -> TExecuteStatementResp {
        match self.try_execute_statement(request) {
            Ok(handle) => TExecuteStatementResp::new(status_ok(), handle),
            Err(error) => TExecuteStatementResp::new(error.status(), None),
        }
    }

    fn try_execute_statement(&self, request: TExecuteStatementReq) -> CallResult<TOperationHandle> {
        let session = self.session(&request.session_handle)?;
        let text = request.statement.trim().trim_end_matches(';').to_string();
        let statement = session.engine_session().blocking_lock().parse(&text)?;
        let operation = self.register(
            &session,
            Operation::new(
                session.handle.id,
                TOperationType::EXECUTE_STATEMENT,
                statement.returns_rows(),
            ),
        );
        let query_id = operation.handle.display_id();
        operation.log(format!(
            "INFO  : Compiling command(queryId={query_id}): {text}"
        ));
        let settings = StatementSettings {
            overlay: request.conf_overlay.unwrap_or_default(),
            timeout: request
                .query_timeout
                .and_then(|seconds| u64::try_from(seconds).ok())
                .filter(|seconds| *seconds > 0)
                .map(Duration::from_secs),
        };
        let task = self.runtime.spawn(run_statement(
            session.engine_session(),
            statement,
            settings,
            Arc::clone(&operation),
        ));
        operation.set_task(task.abort_handle());
        if request.run_async.unwrap_or(false) {
            return Ok(Self::operation_handle(
                &operation,
                operation.announces_results,
            ));
        }
        // A synchronous call answers when the statement has ended, with its error if it failed.
        let _ = self.runtime.block_on(task);
        let state = operation.state();
        match &*state {
            State::Finished(results) => {
                let has_rows = !results.schema.fields().is_empty();
                Ok(Self::operation_handle(&operation, has_rows))
            }
            State::Failed(failure) => Err(CallError::Failed(failure.clone())),
            State::TimedOut(limit) => Err(failed(format!(
                "Query timed out after {} seconds",
                limit.as_secs()
            ))),
            other => Err(failed(format!(
                "The statement ended in state {}",
                other.name()
            ))),
        }
    }

    pub fn get_operation_status(&self, request: TGetOperationStatusReq) -> TGetOperationStatusResp {
        let operation = match self.operation(&request.operation_handle) {
            Ok(operation) => operation,
            Err(error) => {
                return TGetOperationStatusResp::new(
                    error.status(),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                );
            }
        };
        let state = operation.state();
        let (failure, has_result_set) = match &*state {
            State::Failed(failure) => (Some(failure.clone()), None),
            State::TimedOut(limit) => (
                Some(Failure::internal(format!(
                    "Query timed out after {} seconds",
                    limit.as_secs()
                ))),
                None,
            ),
            State::Finished(results) => (None, Some(!results.schema.fields().is_empty())),
            _ => (None, None),
        };
        TGetOperationStatusResp {
            status: status_ok(),
            operation_state: Some(state.thrift_state()),
            sql_state: failure.as_ref().map(|f| f.sql_state.clone()),
            error_code: failure.as_ref().map(|f| f.error_code),
            error_message: failure.map(|f| f.message),
            task_status: None,
            operation_started: Some(operation.started),
            operation_completed: operation.completed(),
            has_result_set,
            progress_update_response: None,
        }
    }

    pub fn cancel_operation(&self, request: TCancelOperationReq) -> TCancelOperationResp {
        match self.operation(&request.operation_handle) {
            Ok(operation) => {
                operation.cancel();
                TCancelOperationResp::new(status_ok())
            }
            Err(error) => TCancelOperationResp::new(error.status()),
        }
    }

    pub fn close_operation(&self, request: TCloseOperationReq) -> TCloseOperationResp {
        match self.operation(&request.operation_handle) {
            Ok(operation) => {
                lock(&self.operations).remove(&operation.handle.id);
                if let Some(session) = lock(&self.sessions).get(&operation.session) {
                    session.remove_operation(&operation.handle.id);
                }
                operation.close();
                TCloseOperationResp::new(status_ok())
            }
            Err(error) => TCloseOperationResp::new(error.status()),
        }
    }

    pub fn get_result_set_metadata(
        &self,
        request: TGetResultSetMetadataReq,
    ) -> TGetResultSetMetadataResp {
        let result = self
            .operation(&request.operation_handle)
            .and_then(|operation| match &*operation.state() {
                State::Finished(results) => Ok(table_schema(&results.schema)),
                other => Err(not_finished(other)),
            });
        match result {
            Ok(schema) => TGetResultSetMetadataResp::new(status_ok(), schema),
            Err(error) => TGetResultSetMetadataResp::new(error.status(), None),
        }
    }

    pub fn fetch_results(&self, request: TFetchResultsReq) -> TFetchResultsResp {
        match self.try_fetch_results(&request) {
            Ok((rows, has_more)) => TFetchResultsResp::new(status_ok(), has_more, rows),
            Err(error) => TFetchResultsResp::new(error.status(), None, None),
        }
    }

    fn try_fetch_results(&self, request: &TFetchResultsReq) -> CallResult<(TRowSet, bool)> {
        let operation = self.operation(&request.operation_handle)?;
        let columnar = lock(&self.sessions)
            .get(&operation.session)
            .is_none_or(|s| s.protocol >= TProtocolVersion::HIVE_CLI_SERVICE_PROTOCOL_V6);
        let rewind = match request.orientation {
            TFetchOrientation::FETCH_NEXT => false,
            TFetchOrientation::FETCH_FIRST => true,
            other => {
                return Err(failed(format!(
                    "The fetch type {} is not supported for this resultset",
                    orientation_name(other)
                )));
            }
        };
        let max_rows = usize::try_from(request.max_rows)
            .unwrap_or(0)
            .clamp(1, MAX_FETCH_ROWS);
        if request.fetch_type == Some(1) {
            let lines = operation.unread_log(rewind, max_rows);
            let StatementOutput::Rows { schema, batches } = single_column("operation_log", lines)
            else {
                return Err(failed("the operation log has no rows"));
            };
            let rows = row_set(&schema, &batches, 0, columnar)?;
            return Ok((rows, false));
        }
        let mut state = operation.state();
        let State::Finished(results) = &mut *state else {
            return Err(not_finished(&state));
        };
        if rewind {
            results.rewind();
        }
        let (page, start, has_more) = results.next_page(max_rows);
        let rows = row_set(
            &results.schema,
            &page,
            i64::try_from(start).unwrap_or(i64::MAX),
            columnar,
        )?;
        Ok((rows, has_more))
    }

    // ---- Catalog ------------------------------------------------------------------------

    /// Runs a catalog call: its rows become a finished operation's results.
    fn metadata_operation(
        &self,
        session: &TSessionHandle,
        kind: TOperationType,
        build: impl FnOnce(&ServerSession) -> Result<Results>,
    ) -> (TStatus, Option<TOperationHandle>) {
        let result = self.session(session).and_then(|session| {
            let results = build(&session)?;
            let operation = self.register(
                &session,
                Operation::finished(session.handle.id, kind, results),
            );
            Ok(Self::operation_handle(&operation, true))
        });
        match result {
            Ok(handle) => (status_ok(), Some(handle)),
            Err(error) => (error.status(), None),
        }
    }

    pub fn get_type_info(&self, request: TGetTypeInfoReq) -> TGetTypeInfoResp {
        let (status, handle) = self.metadata_operation(
            &request.session_handle,
            TOperationType::GET_TYPE_INFO,
            |_| metadata::type_info(),
        );
        TGetTypeInfoResp::new(status, handle)
    }

    pub fn get_catalogs(&self, request: TGetCatalogsReq) -> TGetCatalogsResp {
        let (status, handle) = self.metadata_operation(
            &request.session_handle,
            TOperationType::GET_CATALOGS,
            |_| metadata::catalogs(),
        );
        TGetCatalogsResp::new(status, handle)
    }

    pub fn get_schemas(&self, request: TGetSchemasReq) -> TGetSchemasResp {
        let (status, handle) =
            self.metadata_operation(&request.session_handle, TOperationType::GET_SCHEMAS, |_| {
                metadata::schemas(
                    self.engine.metastore.as_ref(),
                    request.schema_name.as_deref(),
                )
            });
        TGetSchemasResp::new(status, handle)
    }

    pub fn get_tables(&self, request: TGetTablesReq) -> TGetTablesResp {
        let (status, handle) =
            self.metadata_operation(&request.session_handle, TOperationType::GET_TABLES, |_| {
                metadata::tables(
                    self.engine.metastore.as_ref(),
                    request.schema_name.as_deref(),
                    request.table_name.as_deref(),
                    request.table_types.as_deref(),
                )
            });
        TGetTablesResp::new(status, handle)
    }

    pub fn get_table_types(&self, request: TGetTableTypesReq) -> TGetTableTypesResp {
        let (status, handle) = self.metadata_operation(
            &request.session_handle,
            TOperationType::GET_TABLE_TYPES,
            |_| metadata::table_types(),
        );
        TGetTableTypesResp::new(status, handle)
    }

    pub fn get_columns(&self, request: TGetColumnsReq) -> TGetColumnsResp {
        let (status, handle) =
            self.metadata_operation(&request.session_handle, TOperationType::GET_COLUMNS, |_| {
                metadata::columns(
                    self.engine.metastore.as_ref(),
                    request.schema_name.as_deref(),
                    request.table_name.as_deref(),
                    request.column_name.as_deref(),
                )
            });
        TGetColumnsResp::new(status, handle)
    }

    pub fn get_functions(&self, request: TGetFunctionsReq) -> TGetFunctionsResp {
        let (status, handle) = self.metadata_operation(
            &request.session_handle,
            TOperationType::GET_FUNCTIONS,
            |session| {
                let engine_session = session.engine_session();
                let mut names = function_names(&engine_session.blocking_lock().ctx.state());
                names.extend(GENERATORS.iter().map(|g| g.to_string()));
                names.sort();
                names.dedup();
                metadata::functions(names, GENERATORS, Some(&request.function_name))
            },
        );
        TGetFunctionsResp::new(status, handle)
    }

    /// The protocol has no operation type for key lookups; like HiveServer2, they report
    /// GET_FUNCTIONS.
    pub fn get_primary_keys(&self, request: TGetPrimaryKeysReq) -> TGetPrimaryKeysResp {
        let (status, handle) = self.metadata_operation(
            &request.session_handle,
            TOperationType::GET_FUNCTIONS,
            |_| metadata::primary_keys(),
        );
        TGetPrimaryKeysResp::new(status, handle)
    }

    /// Reported as GET_FUNCTIONS, as HiveServer2 does (see `get_primary_keys`).
    pub fn get_cross_reference(&self, request: TGetCrossReferenceReq) -> TGetCrossReferenceResp {
        let (status, handle) = self.metadata_operation(
            &request.session_handle,
            TOperationType::GET_FUNCTIONS,
            |_| metadata::cross_reference(),
        );
        TGetCrossReferenceResp::new(status, handle)
    }
}

fn not_finished(state: &State) -> CallError {
    failed(format!(
        "Expected state FINISHED, but found {}",
        state.name()
    ))
}

fn orientation_name(orientation: TFetchOrientation) -> String {
    match orientation {
        TFetchOrientation::FETCH_PRIOR => "FETCH_PRIOR".to_string(),
        TFetchOrientation::FETCH_RELATIVE => "FETCH_RELATIVE".to_string(),
        TFetchOrientation::FETCH_ABSOLUTE => "FETCH_ABSOLUTE".to_string(),
        TFetchOrientation::FETCH_LAST => "FETCH_LAST".to_string(),
        other => format!("{}", other.0),
    }
}

/// One entry of OpenSession's configuration, as the Hive JDBC driver sends the connection
/// URL's parts: `use:database`, `set:hiveconf:name`, `set:hivevar:name`; other keys are
/// settings.
fn apply_connection_setting(session: &mut Session, key: &str, value: &str) -> Result<()> {
    if key == "use:database" {
        return session.use_database(value);
    }
    if let Some(name) = key.strip_prefix("set:hivevar:") {
        session.set_hivevar(name, value);
        return Ok(());
    }
    if let Some(name) = key.strip_prefix("set:hiveconf:") {
        return session.set(name, value);
    }
    if key.starts_with("set:") {
        // `set:system:` and other scopes have no meaning here.
        return Ok(());
    }
    session.set(key, value)
}

/// Runs a statement in its session: waits for the session's earlier statements, applies the
/// statement's settings, runs, puts the settings back (also when cancelled: the guard
/// restores them when dropped), and records the outcome.
async fn run_statement(
    session: Arc<tokio::sync::Mutex<Session>>,
    statement: crate::parser::HiveStatement,
    settings: StatementSettings,
    operation: Arc<Operation>,
) {
    let guard = session.lock_owned().await;
    if !operation.start_running() {
        return;
    }
    operation.log(format!(
        "INFO  : Executing command(queryId={})",
        operation.handle.display_id()
    ));
    let timeout = settings.timeout;
    let mut session = match settings.apply(guard) {
        Ok(session) => session,
        Err(error) => {
            operation.complete(Outcome::Done(Err(error)));
            return;
        }
    };
    let outcome = match timeout {
        Some(limit) => match tokio::time::timeout(limit, session.run(statement)).await {
            Ok(result) => Outcome::Done(result),
            Err(_) => Outcome::TimedOut(limit),
        },
        None => Outcome::Done(session.run(statement).await),
    };
    drop(session);
    operation.complete(outcome);
}
