//! The same statements over the PostgreSQL wire and over Flight SQL give the same outcome: the same columns, the
//! same values, the same SQLSTATE. Both wires hand statements to one core; this is what keeps them from drifting.

mod common;

use arrow_flight::sql::client::FlightSqlServiceClient;
use futures::TryStreamExt;
use tokio_postgres::{Client, SimpleQueryMessage};
use tonic::transport::Channel;

/// What a statement gave: its columns and rows as text, or its SQLSTATE.
type Outcome = Result<(Vec<String>, Vec<Vec<String>>), String>;

async fn over_pg(client: &Client, sql: &str) -> Outcome {
    if sql.starts_with("COPY") {
        let data: Vec<_> = match client.copy_out(sql).await {
            Ok(stream) => stream.try_collect().await.map_err(|e| sqlstate_of(&e))?,
            Err(e) => return Err(sqlstate_of(&e)),
        };
        let text = String::from_utf8(data.concat()).unwrap();
        let rows = text
            .lines()
            .map(|line| line.split('\t').map(str::to_string).collect())
            .collect();
        return Ok((vec![], rows));
    }
    let messages = client.simple_query(sql).await.map_err(|e| sqlstate_of(&e))?;
    let columns = messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::RowDescription(columns) => Some(columns.iter().map(|c| c.name().to_string()).collect()),
            _ => None,
        })
        .unwrap_or_default();
    Ok((columns, common::message_rows(messages)))
}

fn sqlstate_of(error: &tokio_postgres::Error) -> String {
    error
        .code()
        .map(|c| c.code().to_string())
        .unwrap_or_else(|| format!("no SQLSTATE: {error}"))
}

async fn over_flight(client: &mut FlightSqlServiceClient<Channel>, sql: &str) -> Outcome {
    let sqlstate = |e: arrow_flight::error::FlightError| match e {
        arrow_flight::error::FlightError::Tonic(status) => status
            .metadata()
            .get("x-sqlstate")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| format!("no SQLSTATE: {status}")),
        other => format!("no SQLSTATE: {other}"),
    };
    let info = client.execute(sql.to_string(), None).await.map_err(sqlstate)?;
    let schema = info.clone().try_decode_schema().unwrap();
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let stream = client.do_get(endpoint.ticket.unwrap()).await.map_err(sqlstate)?;
        batches.extend(stream.try_collect::<Vec<_>>().await.map_err(sqlstate)?);
    }
    let columns = schema.fields().iter().map(|f| f.name().clone()).collect();
    Ok((columns, common::batch_rows(&batches)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_statements_give_the_same_outcomes_on_both_wires() {
    let pg = common::connect().await;
    let mut flight = common::flight_client(common::flight_addr(), "analyst", "analyst").await;

    let script: &[(&str, Option<&str>)] = &[
        // (statement, the SQLSTATE it must fail with on both wires, if it fails)
        ("SET statement_timeout = '30s'", None),
        ("SHOW statement_timeout", None),
        ("SET statement_timeout = 'soon'", Some("22023")),
        ("SHOW statement_timeout", None),
        ("RESET statement_timeout", None),
        ("SHOW statement_timeout", None),
        ("SHOW no_such_setting", Some("42704")),
        ("SET server_version = '16'", Some("55P02")),
        (
            "SELECT region, MEASURE(revenue), MEASURE(order_count) FROM sales GROUP BY region ORDER BY region",
            None,
        ),
        (
            "COPY (SELECT region, MEASURE(order_count) FROM sales GROUP BY region ORDER BY region) TO STDOUT",
            None,
        ),
        ("BEGIN", None),
        (
            "DECLARE nations CURSOR FOR SELECT nation, MEASURE(order_count) FROM sales GROUP BY nation ORDER BY nation",
            None,
        ),
        ("FETCH 3 FROM nations", None),
        ("FETCH 2 FROM nations", None),
        ("CLOSE nations", None),
        ("FETCH 1 FROM nations", Some("34000")),
        ("COMMIT", None),
        ("ASK revenue by region in 1996", None),
        ("SELECT no_such_column FROM sales", Some("42703")),
        ("SELECT * FROM no_such_view", Some("42P01")),
        ("INSERT INTO sales (region) VALUES ('MARS')", Some("25006")),
        ("SELEC 1", Some("42601")),
    ];
    let mut compared_rows = 0;
    for (sql, failure) in script {
        let (on_pg, on_flight) = (over_pg(&pg, sql).await, over_flight(&mut flight, sql).await);
        match failure {
            Some(code) => {
                assert_eq!(on_pg.as_ref().err(), Some(&code.to_string()), "{sql} over PostgreSQL");
                assert_eq!(
                    on_flight.as_ref().err(),
                    Some(&code.to_string()),
                    "{sql} over Flight SQL"
                );
            }
            None => {
                let (pg_columns, pg_rows) = on_pg.unwrap_or_else(|e| panic!("{sql} over PostgreSQL: {e}"));
                let (flight_columns, flight_rows) = on_flight.unwrap_or_else(|e| panic!("{sql} over Flight SQL: {e}"));
                // COPY sends no column names on the PostgreSQL wire.
                if !sql.starts_with("COPY") {
                    assert_eq!(pg_columns, flight_columns, "{sql}: columns");
                }
                if pg_rows.is_empty() {
                    assert!(flight_rows.is_empty(), "{sql}: rows over Flight only: {flight_rows:?}");
                } else {
                    common::assert_same(sql, &flight_rows, &pg_rows);
                    compared_rows += pg_rows.len();
                }
            }
        }
    }
    // The script's queries return rows: 5 regions twice, 3 + 2 fetched nations, 1 setting three times, 5 asked.
    assert_eq!(compared_rows, 5 + 5 + 3 + 2 + 3 + 5);
}
