//! sqllogictest files (`tests/slt/*.slt`) run over the PostgreSQL wire against the demo at test scale.
//! Expected results were computed independently with DuckDB over the raw TPC-H Parquet files (the SQL is in each
//! file's comments).

mod common;

use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};
use tokio_postgres::SimpleQueryMessage;

struct Wire(tokio_postgres::Client);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct WireError(String);

#[async_trait::async_trait]
impl AsyncDB for Wire {
    type Error = WireError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, WireError> {
        let messages = self.0.simple_query(sql).await.map_err(|e| match e.as_db_error() {
            Some(db) => WireError(format!("{}: {}", db.code().code(), db.message())),
            None => WireError(e.to_string()),
        })?;
        let mut columns = None;
        let mut rows = Vec::new();
        let mut affected = 0;
        for message in messages {
            match message {
                SimpleQueryMessage::RowDescription(description) => columns = Some(description.len()),
                SimpleQueryMessage::Row(row) => rows.push(
                    (0..row.len())
                        .map(|i| row.get(i).unwrap_or("NULL").to_string())
                        .collect(),
                ),
                SimpleQueryMessage::CommandComplete(n) => affected = n,
                _ => {}
            }
        }
        Ok(match columns {
            Some(n) => DBOutput::Rows {
                types: vec![DefaultColumnType::Any; n],
                rows,
            },
            None => DBOutput::StatementComplete(affected),
        })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "semgate"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_files() {
    let mut files: Vec<_> = std::fs::read_dir("tests/slt")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let mut runner = sqllogictest::Runner::new(|| async { Ok(Wire(common::connect().await)) });
        runner
            .run_file_async(&file)
            .await
            .unwrap_or_else(|e| panic!("{}: {}", file.display(), e.display(false)));
    }
}
