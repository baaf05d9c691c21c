//! One Thrift call: reads the message, hands its request to the service, writes the reply.
//! A call the server does not serve gets Thrift's "unknown method" exception once its
//! arguments are skipped, so the connection stays usable (impyla asks for Impala's calls).

use thrift::protocol::{
    TFieldIdentifier, TInputProtocol, TMessageIdentifier, TMessageType, TOutputProtocol,
    TSerializable, TStructIdentifier, TType,
};
use thrift::{ApplicationError, ApplicationErrorKind, ProtocolError, ProtocolErrorKind};

use super::service::{Caller, HiveService};

/// Serves one call from `input`, answering on `output`.
pub fn serve_call(
    service: &HiveService,
    caller: &Caller,
    input: &mut dyn TInputProtocol,
    output: &mut dyn TOutputProtocol,
) -> thrift::Result<()> {
    let message = input.read_message_begin()?;
    if message.message_type != TMessageType::Call && message.message_type != TMessageType::OneWay {
        return Err(thrift::Error::Protocol(ProtocolError::new(
            ProtocolErrorKind::InvalidData,
            format!("expected a call, got a {:?}", message.message_type),
        )));
    }
    macro_rules! calls {
        ($($name:literal => |$request:ident| $answer:expr,)*) => {
            match message.name.as_str() {
                $($name => {
                    let $request = read_request(input)?;
                    let response = $answer;
                    write_reply(output, &message, &response)
                })*
                _ => unknown_method(input, output, &message),
            }
        };
    }
    calls! {
        "OpenSession" => |request| service.open_session(caller, request),
        "CloseSession" => |request| service.close_session(request),
        "GetInfo" => |request| service.get_info(request),
        "ExecuteStatement" => |request| service.execute_statement(request),
        "GetTypeInfo" => |request| service.get_type_info(request),
        "GetCatalogs" => |request| service.get_catalogs(request),
        "GetSchemas" => |request| service.get_schemas(request),
        "GetTables" => |request| service.get_tables(request),
        "GetTableTypes" => |request| service.get_table_types(request),
        "GetColumns" => |request| service.get_columns(request),
        "GetFunctions" => |request| service.get_functions(request),
        "GetPrimaryKeys" => |request| service.get_primary_keys(request),
        "GetCrossReference" => |request| service.get_cross_reference(request),
        "GetOperationStatus" => |request| service.get_operation_status(request),
        "CancelOperation" => |request| service.cancel_operation(request),
        "CloseOperation" => |request| service.close_operation(request),
        "GetResultSetMetadata" => |request| service.get_result_set_metadata(request),
        "FetchResults" => |request| service.fetch_results(request),
    }
}

/// Reads a call's arguments: the request is field 1.
fn read_request<Request: TSerializable>(input: &mut dyn TInputProtocol) -> thrift::Result<Request> {
    input.read_struct_begin()?;
    let mut request = None;
    loop {
        let field = input.read_field_begin()?;
        if field.field_type == TType::Stop {
            break;
        }
        match (field.id, field.field_type) {
            (Some(1), TType::Struct) => request = Some(Request::read_from_in_protocol(input)?),
            (_, other) => input.skip(other)?,
        }
        input.read_field_end()?;
    }
    input.read_struct_end()?;
    input.read_message_end()?;
    request.ok_or_else(|| {
        thrift::Error::Protocol(ProtocolError::new(
            ProtocolErrorKind::InvalidData,
            "the call has no request",
        ))
    })
}

/// Writes a reply: the response is field 0 of the result.
fn write_reply<Response: TSerializable>(
    output: &mut dyn TOutputProtocol,
    call: &TMessageIdentifier,
    response: &Response,
) -> thrift::Result<()> {
    output.write_message_begin(&TMessageIdentifier::new(
        &call.name,
        TMessageType::Reply,
        call.sequence_number,
    ))?;
    output.write_struct_begin(&TStructIdentifier::new("result"))?;
    output.write_field_begin(&TFieldIdentifier::new("success", TType::Struct, 0))?;
    response.write_to_out_protocol(output)?;
    output.write_field_end()?;
    output.write_field_stop()?;
    output.write_struct_end()?;
    output.write_message_end()?;
    output.flush()
}

fn unknown_method(
    input: &mut dyn TInputProtocol,
    output: &mut dyn TOutputProtocol,
    call: &TMessageIdentifier,
) -> thrift::Result<()> {
    input.skip(TType::Struct)?;
    input.read_message_end()?;
    let error = ApplicationError::new(
        ApplicationErrorKind::UnknownMethod,
        format!("Invalid method name: '{}'", call.name),
    );
    output.write_message_begin(&TMessageIdentifier::new(
        &call.name,
        TMessageType::Exception,
        call.sequence_number,
    ))?;
    thrift::Error::write_application_error_to_out_protocol(&error, output)?;
    output.write_message_end()?;
    output.flush()
}
