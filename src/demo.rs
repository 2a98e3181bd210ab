//! The embedded demo: TPC-H data generated in-process (identical to dbgen) and written once as Parquet.
//!
//! tpchgen formats rows as CSV; DataFusion reads that CSV with the TPC-H column types and writes Parquet, so the demo
//! needs no network and no external tool. The output directory is keyed by scale factor and a marker file is written
//! last, so an interrupted generation is redone rather than served half-written.

use std::fmt::Display;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::{CsvReadOptions, SessionContext};
use tpchgen::csv::{CustomerCsv, LineItemCsv, NationCsv, OrderCsv, PartCsv, PartSuppCsv, RegionCsv, SupplierCsv};
use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator, PartSuppGenerator,
    RegionGenerator, SupplierGenerator,
};

use crate::config::Users;

/// The demo's semantic model — its models and views, then where its tables live — embedded so the binary serves the
/// demo from any working directory.
pub const DEMO_MODEL: [(&str, &str); 2] = [
    ("semantic/tpch.yml", include_str!("../semantic/tpch.yml")),
    ("semantic/tpch_files.yml", include_str!("../semantic/tpch_files.yml")),
];

/// Names of the eight TPC-H tables, as the demo model's source lists them.
pub const TABLES: [&str; 8] = [
    "region", "nation", "part", "supplier", "partsupp", "customer", "orders", "lineitem",
];

const READY_MARKER: &str = "_READY";

/// The demo's users, one per world the demo model's access policies draw: `analyst` reads everything (group
/// `admin`); `emea` only the rows of region EUROPE, without gross sales (group `regional`); `marketing` no finance
/// members and nations masked. Each one's password is their name.
pub fn users() -> Users {
    let mut users = Users::default();
    users.add("analyst", "analyst", &["admin"]);
    users.add("emea", "emea", &["regional"]);
    users.set_attribute("emea", "region", &["EUROPE"]);
    users.add("marketing", "marketing", &["marketing"]);
    users
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo scale factor must be a positive number, got {0}")]
    BadScale(f64),
    #[error("cannot write demo data under {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot convert demo data to Parquet: {0}")]
    Convert(#[from] datafusion::error::DataFusionError),
}

/// The directory holding the demo's Parquet files for `scale`, generating them first when absent.
pub async fn ensure_tpch(data_dir: &Path, scale: f64) -> Result<PathBuf, DemoError> {
    if !(scale > 0.0 && scale.is_finite()) {
        return Err(DemoError::BadScale(scale));
    }
    let dir = data_dir.join(format!("tpch-sf{scale}"));
    if dir.join(READY_MARKER).exists() {
        return Ok(dir);
    }
    let started = Instant::now();
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DemoError::Io { path, source }
    };
    tracing::info!(dir = %dir.display(), scale, "generating TPC-H demo data (once)");
    // Build in a private directory and rename it into place, so concurrent starts never see half-written files.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let building = data_dir.join(format!(".tpch-sf{scale}-{}-{nonce}", std::process::id()));
    let staging = building.join("_csv");
    std::fs::create_dir_all(&staging).map_err(io_err(&staging))?;
    let staging_for_gen = staging.clone();
    tokio::task::spawn_blocking(move || write_all_csv(&staging_for_gen, scale))
        .await
        .expect("demo generation task panicked")?;

    let ctx = SessionContext::new();
    for table in TABLES {
        let csv = staging.join(format!("{table}.csv"));
        let schema = tpch_schema(table);
        let options = CsvReadOptions::new()
            .schema(&schema)
            .has_header(true)
            .file_extension(".csv");
        let frame = ctx.read_csv(csv.to_string_lossy().as_ref(), options).await?;
        let parquet = building.join(format!("{table}.parquet"));
        let options = DataFrameWriteOptions::new().with_single_file_output(true);
        frame
            .write_parquet(parquet.to_string_lossy().as_ref(), options, None)
            .await?;
    }
    std::fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
    let marker = building.join(READY_MARKER);
    std::fs::write(&marker, format!("scale={scale}\n")).map_err(io_err(&marker))?;
    if std::fs::rename(&building, &dir).is_err() {
        // Another process finished first; its copy is as good as ours.
        let _ = std::fs::remove_dir_all(&building);
        if !dir.join(READY_MARKER).exists() {
            return Err(DemoError::Io {
                path: dir,
                source: std::io::Error::other("could not move generated data into place"),
            });
        }
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "TPC-H demo data ready"
    );
    Ok(dir)
}

/// CSV copies of the demo's tables, under `<tpch dir>/csv/<table>.csv` with a header line, written once: what
/// `examples/federated` loads into PostgreSQL, MariaDB and SQLite.
pub async fn export_csv(tpch_dir: &Path) -> Result<PathBuf, DemoError> {
    let out = tpch_dir.join("csv");
    if out.join(READY_MARKER).exists() {
        return Ok(out);
    }
    std::fs::create_dir_all(&out).map_err(|source| DemoError::Io {
        path: out.clone(),
        source,
    })?;
    let ctx = SessionContext::new();
    for table in TABLES {
        let parquet = tpch_dir.join(format!("{table}.parquet"));
        let frame = ctx
            .read_parquet(parquet.to_string_lossy().as_ref(), Default::default())
            .await?;
        let csv = out.join(format!("{table}.csv"));
        let options = DataFrameWriteOptions::new().with_single_file_output(true);
        frame.write_csv(csv.to_string_lossy().as_ref(), options, None).await?;
    }
    let marker = out.join(READY_MARKER);
    std::fs::write(&marker, "").map_err(|source| DemoError::Io { path: marker, source })?;
    Ok(out)
}

fn write_all_csv(dir: &Path, scale: f64) -> Result<(), DemoError> {
    write_csv(
        dir,
        "region",
        RegionCsv::header(),
        RegionGenerator::new(scale, 1, 1).iter().map(RegionCsv::new),
    )?;
    write_csv(
        dir,
        "nation",
        NationCsv::header(),
        NationGenerator::new(scale, 1, 1).iter().map(NationCsv::new),
    )?;
    write_csv(
        dir,
        "part",
        PartCsv::header(),
        PartGenerator::new(scale, 1, 1).iter().map(PartCsv::new),
    )?;
    write_csv(
        dir,
        "supplier",
        SupplierCsv::header(),
        SupplierGenerator::new(scale, 1, 1).iter().map(SupplierCsv::new),
    )?;
    write_csv(
        dir,
        "partsupp",
        PartSuppCsv::header(),
        PartSuppGenerator::new(scale, 1, 1).iter().map(PartSuppCsv::new),
    )?;
    write_csv(
        dir,
        "customer",
        CustomerCsv::header(),
        CustomerGenerator::new(scale, 1, 1).iter().map(CustomerCsv::new),
    )?;
    write_csv(
        dir,
        "orders",
        OrderCsv::header(),
        OrderGenerator::new(scale, 1, 1).iter().map(OrderCsv::new),
    )?;
    write_csv(
        dir,
        "lineitem",
        LineItemCsv::header(),
        LineItemGenerator::new(scale, 1, 1).iter().map(LineItemCsv::new),
    )
}

fn write_csv<R: Display>(
    dir: &Path,
    table: &str,
    header: &str,
    rows: impl Iterator<Item = R>,
) -> Result<(), DemoError> {
    let path = dir.join(format!("{table}.csv"));
    let to_err = |source| DemoError::Io {
        path: path.clone(),
        source,
    };
    let file = std::fs::File::create(&path).map_err(to_err)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    writeln!(out, "{header}").map_err(to_err)?;
    for row in rows {
        writeln!(out, "{row}").map_err(to_err)?;
    }
    out.flush().map_err(to_err)
}

/// The TPC-H column types (keys as BIGINT, money as DECIMAL(15,2), dates as DATE).
pub fn tpch_schema(table: &str) -> Schema {
    use DataType::{Date32, Int32, Int64, Utf8};
    let money = DataType::Decimal128(15, 2);
    let columns: Vec<(&str, DataType)> = match table {
        "region" => vec![("r_regionkey", Int64), ("r_name", Utf8), ("r_comment", Utf8)],
        "nation" => vec![
            ("n_nationkey", Int64),
            ("n_name", Utf8),
            ("n_regionkey", Int64),
            ("n_comment", Utf8),
        ],
        "part" => vec![
            ("p_partkey", Int64),
            ("p_name", Utf8),
            ("p_mfgr", Utf8),
            ("p_brand", Utf8),
            ("p_type", Utf8),
            ("p_size", Int32),
            ("p_container", Utf8),
            ("p_retailprice", money),
            ("p_comment", Utf8),
        ],
        "supplier" => vec![
            ("s_suppkey", Int64),
            ("s_name", Utf8),
            ("s_address", Utf8),
            ("s_nationkey", Int64),
            ("s_phone", Utf8),
            ("s_acctbal", money),
            ("s_comment", Utf8),
        ],
        "partsupp" => vec![
            ("ps_partkey", Int64),
            ("ps_suppkey", Int64),
            ("ps_availqty", Int32),
            ("ps_supplycost", money),
            ("ps_comment", Utf8),
        ],
        "customer" => vec![
            ("c_custkey", Int64),
            ("c_name", Utf8),
            ("c_address", Utf8),
            ("c_nationkey", Int64),
            ("c_phone", Utf8),
            ("c_acctbal", money),
            ("c_mktsegment", Utf8),
            ("c_comment", Utf8),
        ],
        "orders" => vec![
            ("o_orderkey", Int64),
            ("o_custkey", Int64),
            ("o_orderstatus", Utf8),
            ("o_totalprice", money),
            ("o_orderdate", Date32),
            ("o_orderpriority", Utf8),
            ("o_clerk", Utf8),
            ("o_shippriority", Int32),
            ("o_comment", Utf8),
        ],
        "lineitem" => vec![
            ("l_orderkey", Int64),
            ("l_partkey", Int64),
            ("l_suppkey", Int64),
            ("l_linenumber", Int32),
            ("l_quantity", money.clone()),
            ("l_extendedprice", money.clone()),
            ("l_discount", money.clone()),
            ("l_tax", money),
            ("l_returnflag", Utf8),
            ("l_linestatus", Utf8),
            ("l_shipdate", Date32),
            ("l_commitdate", Date32),
            ("l_receiptdate", Date32),
            ("l_shipinstruct", Utf8),
            ("l_shipmode", Utf8),
            ("l_comment", Utf8),
        ],
        other => unreachable!("not a TPC-H table: {other}"),
    };
    Schema::new(
        columns
            .into_iter()
            .map(|(name, ty)| Field::new(name, ty, false))
            .collect::<Vec<_>>(),
    )
}
