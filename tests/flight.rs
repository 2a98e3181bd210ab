//! Flight SQL against a real gateway on port 0 with arrow-flight's own client: authentication, queries, prepared
//! statements with parameters, metadata commands and errors, checked against the raw tables.

mod common;

use std::sync::Arc;

use arrow_flight::FlightInfo;
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{CommandGetDbSchemas, CommandGetTables, SqlInfo};
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use futures::TryStreamExt;
use tonic::Code;
use tonic::transport::Channel;

async fn connect() -> FlightSqlServiceClient<Channel> {
    let url = format!("http://{}", common::flight_addr());
    let channel = Channel::from_shared(url).unwrap().connect().await.unwrap();
    FlightSqlServiceClient::new(channel)
}

async fn signed_in() -> FlightSqlServiceClient<Channel> {
    let mut client = connect().await;
    client.handshake("analyst", "analyst").await.expect("demo credentials");
    assert!(client.token().is_some(), "the handshake hands out a bearer token");
    client
}

/// Every endpoint's batches, checking each against the schema FlightInfo announced.
async fn fetch(client: &mut FlightSqlServiceClient<Channel>, info: FlightInfo) -> Vec<RecordBatch> {
    let announced = info.clone().try_decode_schema().unwrap();
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let stream = client.do_get(endpoint.ticket.unwrap()).await.unwrap();
        let part: Vec<RecordBatch> = stream.try_collect().await.unwrap();
        for batch in &part {
            assert_eq!(
                batch.schema().as_ref(),
                &announced,
                "DoGet sends the schema FlightInfo announced"
            );
        }
        batches.extend(part);
    }
    batches
}

const REVENUE_BY_REGION: &str = "SELECT r_name, SUM(l_extendedprice * (1 - l_discount)), COUNT(DISTINCT l_orderkey) \
     FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey \
     JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey GROUP BY r_name ORDER BY r_name";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_streams_the_same_numbers_as_the_raw_tables() {
    let mut client = signed_in().await;
    let info = client
        .execute(
            "SELECT region, MEASURE(revenue), SUM(order_count) FROM sales GROUP BY region ORDER BY region".into(),
            None,
        )
        .await
        .unwrap();
    let batches = fetch(&mut client, info).await;
    let names: Vec<String> = batches[0].schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(
        names,
        ["region", "measure", "sum"],
        "columns are named as on the PostgreSQL wire"
    );
    let expected = common::reference_rows(&common::reference().await, REVENUE_BY_REGION).await;
    common::assert_same("flight query", &common::batch_rows(&batches), &expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statement_binds_parameters_through_do_put() {
    let mut client = signed_in().await;
    let mut prepared = client
        .prepare(
            "SELECT nation, MEASURE(revenue) FROM sales WHERE region = $1 AND order_date >= $2 \
             GROUP BY nation ORDER BY nation"
                .into(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(prepared.parameter_schema().unwrap().fields().len(), 2);
    let reference = common::reference().await;
    for region in ["EUROPE", "ASIA"] {
        let parameters = Schema::new(vec![
            Field::new("$1", DataType::Utf8, true),
            Field::new("$2", DataType::Utf8, true),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![region])),
            Arc::new(StringArray::from(vec!["1995-01-01"])),
        ];
        prepared
            .set_parameters(RecordBatch::try_new(Arc::new(parameters), columns).unwrap())
            .unwrap();
        let info = prepared.execute().await.unwrap();
        let actual = common::batch_rows(&fetch(&mut client, info).await);
        let expected = common::reference_rows(
            &reference,
            &format!(
                "SELECT n_name, SUM(l_extendedprice * (1 - l_discount)) FROM lineitem \
                 JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey \
                 JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey \
                 WHERE r_name = '{region}' AND o_orderdate >= DATE '1995-01-01' GROUP BY n_name ORDER BY n_name"
            ),
        )
        .await;
        common::assert_same(&format!("prepared, {region}"), &actual, &expected);
    }
    prepared.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_lists_the_semantic_views() {
    let mut client = signed_in().await;
    let info = client.get_catalogs().await.unwrap();
    assert_eq!(common::batch_rows(&fetch(&mut client, info).await), [["semgate"]]);

    let info = client.get_db_schemas(CommandGetDbSchemas::default()).await.unwrap();
    assert_eq!(
        common::batch_rows(&fetch(&mut client, info).await),
        [["semgate", "public"]]
    );

    let info = client
        .get_tables(CommandGetTables {
            include_schema: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let tables = fetch(&mut client, info).await;
    let rows = common::batch_rows(&tables);
    let names: Vec<(&str, &str)> = rows.iter().map(|r| (r[2].as_str(), r[3].as_str())).collect();
    assert_eq!(names, [("customers", "VIEW"), ("sales", "VIEW")]);
    // The schema shipped with a table is the view's columns: dimensions and measures.
    let schema_bytes = tables[0]
        .column_by_name("table_schema")
        .unwrap()
        .as_any()
        .downcast_ref::<datafusion::arrow::array::BinaryArray>()
        .unwrap()
        .value(1)
        .to_vec();
    let schema = datafusion::arrow::ipc::convert::try_schema_from_ipc_buffer(&schema_bytes).unwrap();
    for column in ["region", "order_date", "revenue", "order_count"] {
        assert!(schema.field_with_name(column).is_ok(), "sales has {column}: {schema:?}");
    }

    let info = client.get_table_types().await.unwrap();
    assert_eq!(common::batch_rows(&fetch(&mut client, info).await), [["VIEW"]]);

    let info = client
        .get_sql_info(vec![SqlInfo::FlightSqlServerName, SqlInfo::FlightSqlServerReadOnly])
        .await
        .unwrap();
    let info_rows = common::batch_rows(&fetch(&mut client, info).await);
    assert_eq!(info_rows.len(), 2);
    assert!(info_rows[0][1].contains("semgate"), "{info_rows:?}");
    assert!(info_rows[1][1].contains("true"), "{info_rows:?}");

    let info = client.get_xdbc_type_info(Default::default()).await.unwrap();
    let types = common::batch_rows(&fetch(&mut client, info).await);
    assert!(types.iter().any(|t| t[0] == "numeric"), "{types:?}");
}

/// The gRPC status a call failed with.
fn code(error: arrow_flight::error::FlightError) -> (Code, String) {
    match error {
        arrow_flight::error::FlightError::Tonic(status) => (status.code(), status.message().to_string()),
        other => panic!("expected a gRPC status, got {other}"),
    }
}

/// A failed call as text: the status code's name and the message.
fn describe(error: arrow_flight::error::FlightError) -> String {
    error.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_map_to_grpc_statuses_with_the_postgres_messages() {
    let mut anonymous = connect().await;
    // The client wraps a failed handshake into text; the server's message survives in it.
    let refused = describe(anonymous.handshake("analyst", "wrong").await.unwrap_err());
    assert!(refused.contains("password authentication failed"), "{refused}");
    let (status, _) = code(anonymous.execute("SELECT 1".into(), None).await.unwrap_err());
    assert_eq!(status, Code::Unauthenticated);
    anonymous.set_token("not-a-token".into());
    let (status, message) = code(anonymous.execute("SELECT 1".into(), None).await.unwrap_err());
    assert_eq!(status, Code::Unauthenticated);
    assert!(message.contains("expired"), "{message}");

    let mut client = signed_in().await;
    let cases = [
        ("SELEC region FROM sales", Code::InvalidArgument, "selec"),
        ("SELECT nope FROM sales", Code::NotFound, "nope"),
        ("SELECT * FROM no_such_view", Code::NotFound, "no_such_view"),
        ("DELETE FROM sales", Code::PermissionDenied, "read-only"),
    ];
    for (sql, expected, words) in cases {
        let (status, message) = code(client.execute(sql.into(), None).await.unwrap_err());
        assert_eq!(status, expected, "{sql}: {message}");
        assert!(message.to_lowercase().contains(words), "{sql}: {message}");
    }
    let (status, message) = code(
        client
            .execute_update("DELETE FROM sales".into(), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(status, Code::PermissionDenied, "{message}");

    // A ticket is bound to its user's credentials; after all these errors the session still works.
    let info = client.execute("SELECT 1 AS one".into(), None).await.unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let stolen = anonymous.do_get(ticket.clone()).await.err().map(code);
    assert_eq!(stolen.map(|(c, _)| c), Some(Code::Unauthenticated));
    let rows = common::batch_rows(
        &client
            .do_get(ticket)
            .await
            .unwrap()
            .try_collect::<Vec<_>>()
            .await
            .unwrap(),
    );
    assert_eq!(rows, [["1"]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_settings_persist_for_a_token() {
    let mut client = signed_in().await;
    let info = client
        .execute("SET statement_timeout = '200ms'".into(), None)
        .await
        .unwrap();
    assert!(fetch(&mut client, info).await.iter().all(|b| b.num_rows() == 0));
    let info = client.execute("SHOW statement_timeout".into(), None).await.unwrap();
    assert_eq!(common::batch_rows(&fetch(&mut client, info).await), [["200ms"]]);
    let info = client
        // Only the timeout can end this query, so the outcome never depends on the machine's speed.
        .execute(common::NEVER_FINISHING_QUERY.into(), None)
        .await
        .unwrap();
    let ticket = info.endpoint[0].ticket.clone().unwrap();
    let timed_out = match client.do_get(ticket).await {
        Ok(stream) => stream.try_collect::<Vec<_>>().await.err().map(code),
        Err(e) => Some(code(e)),
    };
    let (status, message) = timed_out.expect("the statement times out");
    assert_eq!(status, Code::Cancelled, "{message}");
    assert!(message.contains("statement timeout"), "{message}");
}
