//! A session's cursors (`DECLARE … CURSOR`, `FETCH`, `CLOSE`). psqlODBC — the driver under Tableau's and Power
//! BI's ODBC path — reads large results this way when `UseDeclareFetch` is on: one FETCH of n rows at a time. A
//! cursor keeps the running query's stream, so rows are computed as they are fetched and never all held.

use std::collections::HashMap;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    #[error("cursor \"{0}\" already exists: CLOSE it first, or declare another name")]
    Exists(String),
    #[error("cursor \"{0}\" does not exist: DECLARE it first (cursors without HOLD close at COMMIT or ROLLBACK)")]
    Missing(String),
    /// The query under the cursor failed while rows were fetched.
    #[error(transparent)]
    Query(#[from] datafusion::error::DataFusionError),
}

/// Open cursors by name.
#[derive(Default)]
pub struct Cursors(Mutex<HashMap<String, Cursor>>);

struct Cursor {
    /// The rows the query has not yet given to a FETCH.
    rows: SendableRecordBatchStream,
    /// Rows read from `rows` beyond what the last FETCH asked for; the next FETCH starts with them.
    held: Option<RecordBatch>,
    /// `WITH HOLD`: outlives the transaction that declared it, as psqlODBC's cursors in autocommit mode must.
    hold: bool,
}

impl Cursors {
    pub async fn declare(&self, name: &str, rows: SendableRecordBatchStream, hold: bool) -> Result<(), CursorError> {
        let mut cursors = self.0.lock().await;
        if cursors.contains_key(name) {
            return Err(CursorError::Exists(name.to_string()));
        }
        cursors.insert(name.to_string(), Cursor { rows, held: None, hold });
        Ok(())
    }

    /// The columns of a cursor's rows.
    pub async fn schema(&self, name: &str) -> Result<SchemaRef, CursorError> {
        let cursors = self.0.lock().await;
        let cursor = cursors
            .get(name)
            .ok_or_else(|| CursorError::Missing(name.to_string()))?;
        Ok(cursor.rows.schema())
    }

    /// The next `count` rows (all that are left when `None`), as a stream; fewer at the end of the result.
    pub async fn fetch(&self, name: &str, count: Option<usize>) -> Result<SendableRecordBatchStream, CursorError> {
        let mut cursors = self.0.lock().await;
        let cursor = cursors
            .get_mut(name)
            .ok_or_else(|| CursorError::Missing(name.to_string()))?;
        let schema = cursor.rows.schema();
        let Some(mut wanted) = count else {
            let rest = std::mem::replace(
                &mut cursor.rows,
                Box::pin(MemoryStream::try_new(vec![], schema.clone(), None)?),
            );
            let held = futures::stream::iter(cursor.held.take().map(Ok));
            return Ok(Box::pin(RecordBatchStreamAdapter::new(schema, held.chain(rest))));
        };
        let mut batches = Vec::new();
        while wanted > 0 {
            let batch = match cursor.held.take() {
                Some(batch) => batch,
                None => match cursor.rows.next().await {
                    Some(batch) => batch?,
                    None => break,
                },
            };
            if batch.num_rows() > wanted {
                cursor.held = Some(batch.slice(wanted, batch.num_rows() - wanted));
                batches.push(batch.slice(0, wanted));
                break;
            }
            wanted -= batch.num_rows();
            batches.push(batch);
        }
        Ok(Box::pin(MemoryStream::try_new(batches, schema, None)?))
    }

    pub async fn close(&self, name: &str) -> Result<(), CursorError> {
        let mut cursors = self.0.lock().await;
        cursors
            .remove(name)
            .map(drop)
            .ok_or_else(|| CursorError::Missing(name.to_string()))
    }

    /// `CLOSE ALL`, `DISCARD ALL`.
    pub async fn close_all(&self) {
        self.0.lock().await.clear();
    }

    /// The transaction ended: cursors declared without HOLD close with it.
    pub async fn end_transaction(&self) {
        self.0.lock().await.retain(|_, cursor| cursor.hold);
    }
}
