//! The service's calls end to end, in process: sessions, statements, results, catalog calls.
//! The transports and real clients are tested over sockets (tests/integration/server.rs,
//! tests/server/clients.py).

use std::time::Duration;

use super::auth::Authenticator;
use super::protocol::*;
use super::service::{Caller, HiveService};
use crate::config::ApiaryConfig;
use crate::driver::Engine;

struct Fixture {
    service: HiveService,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(ApiaryConfig {
        warehouse: dir.path().join("warehouse"),
        metastore: dir.path().join("metastore.db"),
    })
    .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let service = HiveService::new(
        engine,
        runtime.handle().clone(),
        Authenticator::None,
        Vec::new(),
    );
    Fixture {
        service,
        _runtime: runtime,
        _dir: dir,
    }
}

fn open(service: &HiveService, caller: &Caller, configuration: &[(&str, &str)]) -> TSessionHandle {
    let request = TOpenSessionReq::new(
        TProtocolVersion::HIVE_CLI_SERVICE_PROTOCOL_V10,
        "ana".to_string(),
        None,
        configuration
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<std::collections::BTreeMap<_, _>>(),
    );
    let response = service.open_session(caller, request);
    assert_eq!(
        response.status.status_code,
        TStatusCode::SUCCESS_STATUS,
        "{:?}",
        response.status
    );
    assert_eq!(
        response.server_protocol_version,
        TProtocolVersion::HIVE_CLI_SERVICE_PROTOCOL_V10
    );
    response.session_handle.unwrap()
}

fn execute(service: &HiveService, session: &TSessionHandle, sql: &str) -> TExecuteStatementResp {
    service.execute_statement(TExecuteStatementReq::new(
        session.clone(),
        sql.to_string(),
        None,
        false,
        None,
    ))
}

fn run(service: &HiveService, session: &TSessionHandle, sql: &str) -> TOperationHandle {
    let response = execute(service, session, sql);
    assert_eq!(
        response.status.status_code,
        TStatusCode::SUCCESS_STATUS,
        "{sql}: {:?}",
        response.status.error_message
    );
    response.operation_handle.unwrap()
}

fn fetch(service: &HiveService, operation: &TOperationHandle, max_rows: i64) -> TFetchResultsResp {
    let response = service.fetch_results(TFetchResultsReq::new(
        operation.clone(),
        TFetchOrientation::FETCH_NEXT,
        max_rows,
        None,
    ));
    assert_eq!(
        response.status.status_code,
        TStatusCode::SUCCESS_STATUS,
        "{:?}",
        response.status.error_message
    );
    response
}

/// The first column's values as text (strings, or integers printed).
fn first_column(response: &TFetchResultsResp) -> Vec<String> {
    let columns = response.results.as_ref().unwrap().columns.as_ref().unwrap();
    match &columns[0] {
        TColumn::StringVal(c) => c.values.clone(),
        TColumn::I32Val(c) => c.values.iter().map(i32::to_string).collect(),
        TColumn::I64Val(c) => c.values.iter().map(i64::to_string).collect(),
        other => panic!("unexpected column {other:?}"),
    }
}

fn query(service: &HiveService, session: &TSessionHandle, sql: &str) -> Vec<String> {
    let operation = run(service, session, sql);
    first_column(&fetch(service, &operation, 1000))
}

#[test]
fn statements_page_through_results() {
    let fixture = fixture();
    let service = &fixture.service;
    let session = open(service, &Caller::default(), &[]);
    run(service, &session, "create table t (n int)");
    run(
        service,
        &session,
        "insert into t values (1), (2), (3), (4), (5)",
    );
    let operation = run(service, &session, "select n from t order by n");
    assert!(operation.has_result_set);
    let metadata =
        service.get_result_set_metadata(TGetResultSetMetadataReq::new(operation.clone()));
    let columns = metadata.schema.unwrap().columns;
    assert_eq!(columns[0].column_name, "n");
    let first = fetch(service, &operation, 2);
    assert_eq!(first_column(&first), vec!["1", "2"]);
    assert_eq!(first.has_more_rows, Some(true));
    assert_eq!(first_column(&fetch(service, &operation, 2)), vec!["3", "4"]);
    let last = fetch(service, &operation, 2);
    assert_eq!(first_column(&last), vec!["5"]);
    assert_eq!(last.has_more_rows, Some(false));
    assert!(first_column(&fetch(service, &operation, 2)).is_empty());
    // FETCH_FIRST starts over.
    let again = service.fetch_results(TFetchResultsReq::new(
        operation.clone(),
        TFetchOrientation::FETCH_FIRST,
        10,
        None,
    ));
    assert_eq!(first_column(&again).len(), 5);
    // The log is read beside the results.
    let log = service.fetch_results(TFetchResultsReq::new(
        operation.clone(),
        TFetchOrientation::FETCH_NEXT,
        100,
        Some(1),
    ));
    let lines = first_column(&log);
    assert!(
        lines.iter().any(|l| l.contains("Compiling command")),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.ends_with("OK")), "{lines:?}");

    let ddl = run(service, &session, "create table u (a int)");
    assert!(!ddl.has_result_set);
    let closed = service.close_operation(TCloseOperationReq::new(operation.clone()));
    assert_eq!(closed.status.status_code, TStatusCode::SUCCESS_STATUS);
    let gone = service.fetch_results(TFetchResultsReq::new(
        operation,
        TFetchOrientation::FETCH_NEXT,
        1,
        None,
    ));
    assert_eq!(gone.status.status_code, TStatusCode::INVALID_HANDLE_STATUS);
}

#[test]
fn errors_come_back_as_hive_reports_them() {
    let fixture = fixture();
    let service = &fixture.service;
    let session = open(service, &Caller::default(), &[]);
    let response = execute(service, &session, "select * from missing");
    assert_eq!(response.status.status_code, TStatusCode::ERROR_STATUS);
    assert_eq!(response.status.sql_state.as_deref(), Some("42000"));
    let message = response.status.error_message.unwrap();
    assert!(
        message.starts_with("Error while compiling statement: FAILED: "),
        "{message}"
    );
    let parse = execute(service, &session, "selec 1");
    assert_eq!(parse.status.status_code, TStatusCode::ERROR_STATUS);
    // An asynchronous statement reports its failure in GetOperationStatus.
    let asynchronous = service.execute_statement(TExecuteStatementReq::new(
        session.clone(),
        "select * from missing".to_string(),
        None,
        true,
        None,
    ));
    let operation = asynchronous.operation_handle.unwrap();
    let status = wait(service, &operation);
    assert_eq!(status.operation_state, Some(TOperationState::ERROR_STATE));
    assert_eq!(status.sql_state.as_deref(), Some("42000"));
    assert!(status.error_message.unwrap().contains("missing"));
    let forged = TSessionHandle::new(THandleIdentifier::new(vec![0; 16], vec![0; 16]));
    let response = execute(service, &forged, "select 1");
    assert_eq!(
        response.status.status_code,
        TStatusCode::INVALID_HANDLE_STATUS
    );
}

fn wait(service: &HiveService, operation: &TOperationHandle) -> TGetOperationStatusResp {
    for _ in 0..2000 {
        let status =
            service.get_operation_status(TGetOperationStatusReq::new(operation.clone(), None));
        let state = status.operation_state.unwrap();
        if state != TOperationState::RUNNING_STATE && state != TOperationState::PENDING_STATE {
            return status;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("the operation did not end");
}

/// A statement that runs far longer than any test waits: arithmetic over every row of a
/// cross join of 10^12 rows (a bare count could be answered without computing rows).
fn slow_query(service: &HiveService, session: &TSessionHandle) -> String {
    run(service, session, "create table big (n int)");
    let values: Vec<String> = (0..1000).map(|i| format!("({i})")).collect();
    run(
        service,
        session,
        &format!("insert into big values {}", values.join(", ")),
    );
    "select sum(a.n * b.n - c.n + d.n) from big a, big b, big c, big d".to_string()
}

#[test]
fn running_statements_are_cancelled_and_time_out() {
    let fixture = fixture();
    let service = &fixture.service;
    let session = open(service, &Caller::default(), &[]);
    let slow = slow_query(service, &session);
    let started = service.execute_statement(TExecuteStatementReq::new(
        session.clone(),
        slow.clone(),
        None,
        true,
        None,
    ));
    let operation = started.operation_handle.unwrap();
    assert!(operation.has_result_set);
    std::thread::sleep(Duration::from_millis(100));
    let cancelled = service.cancel_operation(TCancelOperationReq::new(operation.clone()));
    assert_eq!(cancelled.status.status_code, TStatusCode::SUCCESS_STATUS);
    let status = wait(service, &operation);
    assert_eq!(
        status.operation_state,
        Some(TOperationState::CANCELED_STATE)
    );

    // The session is free again, and a timeout stops the next one.
    let timed = service.execute_statement(TExecuteStatementReq::new(
        session.clone(),
        slow,
        None,
        true,
        1,
    ));
    let status = wait(service, &timed.operation_handle.unwrap());
    assert_eq!(
        status.operation_state,
        Some(TOperationState::TIMEDOUT_STATE)
    );
    assert_eq!(query(service, &session, "select 41 + 1"), vec!["42"]);
}

#[test]
fn sessions_are_isolated_and_take_the_connection_settings() {
    let fixture = fixture();
    let service = &fixture.service;
    let first = open(service, &Caller::default(), &[]);
    run(service, &first, "create database sales");
    run(service, &first, "create table sales.orders (id int)");
    let second = open(
        service,
        &Caller::default(),
        &[
            ("use:database", "sales"),
            ("set:hivevar:region", "emea"),
            ("set:hiveconf:hive.cli.print.header", "true"),
        ],
    );
    assert_eq!(
        query(service, &second, "select current_database()"),
        vec!["sales"]
    );
    assert_eq!(
        query(service, &first, "select current_database()"),
        vec!["default"]
    );
    assert_eq!(query(service, &second, "select '${region}'"), vec!["emea"]);
    assert_eq!(
        query(service, &second, "set hive.cli.print.header"),
        vec!["hive.cli.print.header=true"]
    );
    run(service, &first, "create temporary table scratch (a int)");
    let other = execute(service, &second, "select * from default.scratch");
    assert_eq!(other.status.status_code, TStatusCode::ERROR_STATUS);

    // A per-statement overlay does not outlive its statement.
    let overlay = service.execute_statement(TExecuteStatementReq::new(
        first.clone(),
        "set hive.exec.dynamic.partition.mode".to_string(),
        [(
            "hive.exec.dynamic.partition.mode".to_string(),
            "nonstrict".to_string(),
        )]
        .into_iter()
        .collect::<std::collections::BTreeMap<_, _>>(),
        false,
        None,
    ));
    let lines = first_column(&fetch(service, &overlay.operation_handle.unwrap(), 10));
    assert_eq!(lines, vec!["hive.exec.dynamic.partition.mode=nonstrict"]);
    assert_eq!(
        query(service, &first, "set hive.exec.dynamic.partition.mode"),
        vec!["hive.exec.dynamic.partition.mode=strict"]
    );

    let bad = service.open_session(
        &Caller::default(),
        TOpenSessionReq::new(
            TProtocolVersion::HIVE_CLI_SERVICE_PROTOCOL_V6,
            None,
            None,
            [("use:database".to_string(), "nowhere".to_string())]
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>(),
        ),
    );
    assert_eq!(bad.status.status_code, TStatusCode::ERROR_STATUS);
}

#[test]
fn sessions_end_with_their_connection_or_when_idle() {
    let fixture = fixture();
    let service = &fixture.service;
    let on_connection = Caller {
        connection: Some(7),
        authenticated_user: Some("bo".to_string()),
    };
    let session = open(service, &on_connection, &[]);
    assert_eq!(
        query(service, &session, "select current_user()"),
        vec!["bo"]
    );
    open(service, &Caller::default(), &[]);
    assert_eq!(service.session_count(), 2);
    service.connection_closed(7);
    assert_eq!(service.session_count(), 1);
    assert_eq!(
        execute(service, &session, "select 1").status.status_code,
        TStatusCode::INVALID_HANDLE_STATUS
    );
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(service.close_idle_sessions(Duration::from_secs(3600)), 0);
    assert_eq!(service.close_idle_sessions(Duration::from_millis(10)), 1);
    assert_eq!(service.session_count(), 0);
}

#[test]
fn catalog_calls_answer_from_the_metastore() {
    let fixture = fixture();
    let service = &fixture.service;
    let session = open(service, &Caller::default(), &[]);
    run(
        service,
        &session,
        "create table events (id bigint comment 'key', tags array<string>, price decimal(8,2)) partitioned by (day string)",
    );
    run(
        service,
        &session,
        "create view recent as select id from events",
    );
    let tables = service.get_tables(TGetTablesReq::new(
        session.clone(),
        None,
        "def%".to_string(),
        "%".to_string(),
        vec!["VIEW".to_string()],
    ));
    let operation = tables.operation_handle.unwrap();
    let response = fetch(service, &operation, 100);
    let columns = response.results.unwrap().columns.unwrap();
    let TColumn::StringVal(names) = &columns[2] else {
        panic!("{:?}", columns[2]);
    };
    assert_eq!(names.values, vec!["recent"]);

    let described = service.get_columns(TGetColumnsReq::new(
        session.clone(),
        None,
        "default".to_string(),
        "events".to_string(),
        None,
    ));
    let response = fetch(service, &described.operation_handle.unwrap(), 100);
    let columns = response.results.unwrap().columns.unwrap();
    let text = |i: usize| match &columns[i] {
        TColumn::StringVal(c) => c.values.clone(),
        other => panic!("{other:?}"),
    };
    let ints = |i: usize| match &columns[i] {
        TColumn::I32Val(c) => c.values.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(text(3), vec!["id", "tags", "price", "day"]);
    assert_eq!(ints(4), vec![-5, 2003, 3, 12]);
    assert_eq!(
        text(5),
        vec!["BIGINT", "array<string>", "DECIMAL", "STRING"]
    );
    assert_eq!(ints(6)[2], 8);
    assert_eq!(ints(8)[2], 2);
    assert_eq!(ints(16), vec![1, 2, 3, 4]);
    assert_eq!(text(11)[0], "key");

    let schemas = service.get_schemas(TGetSchemasReq::new(session.clone(), None, None));
    let response = fetch(service, &schemas.operation_handle.unwrap(), 100);
    assert_eq!(first_column(&response), vec!["default"]);
    let functions = service.get_functions(TGetFunctionsReq::new(
        session.clone(),
        None,
        None,
        "explo%".to_string(),
    ));
    let response = fetch(service, &functions.operation_handle.unwrap(), 100);
    let columns = response.results.unwrap().columns.unwrap();
    let TColumn::StringVal(names) = &columns[2] else {
        panic!("{:?}", columns[2]);
    };
    assert_eq!(names.values, vec!["explode"]);
    let types = service.get_type_info(TGetTypeInfoReq::new(session.clone()));
    let response = fetch(service, &types.operation_handle.unwrap(), 100);
    assert!(first_column(&response).contains(&"DECIMAL".to_string()));
    let info = service.get_info(TGetInfoReq::new(session.clone(), 18));
    assert_eq!(
        info.info_value,
        TGetInfoValue::StringValue(super::service::HIVE_VERSION.to_string())
    );
    let unknown = service.get_info(TGetInfoReq::new(session, 9999));
    assert_eq!(unknown.status.status_code, TStatusCode::ERROR_STATUS);
}

#[test]
fn old_protocols_get_rows() {
    let fixture = fixture();
    let service = &fixture.service;
    let response = service.open_session(
        &Caller::default(),
        TOpenSessionReq::new(
            TProtocolVersion::HIVE_CLI_SERVICE_PROTOCOL_V5,
            None,
            None,
            None,
        ),
    );
    assert_eq!(
        response.server_protocol_version,
        TProtocolVersion::HIVE_CLI_SERVICE_PROTOCOL_V5
    );
    let session = response.session_handle.unwrap();
    let operation = run(service, &session, "select 7, 'x'");
    let rows = fetch(service, &operation, 10).results.unwrap();
    assert!(rows.columns.is_none());
    assert_eq!(
        rows.rows[0].col_vals[0],
        TColumnValue::I32Val(TI32Value::new(7))
    );
}
