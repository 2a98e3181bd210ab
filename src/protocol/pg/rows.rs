//! Arrow batches as PostgreSQL rows: DataRow messages and COPY's text, CSV and binary rows, written from the arrays
//! straight into one buffer that the rows are split from.
//!
//! The columns BI tools and bulk readers fetch most (integers, text, dates, numerics, booleans, binary floats) are
//! written here without a per-value allocation or a format string; every other type, and any column whose metadata
//! gives it a PostgreSQL type of its own (`oid`, `"char"`), is written by arrow-pg's encoder, value by value, into the
//! same buffer. Either way the value's bytes are then framed as the wire wants them: length-prefixed (DataRow, binary
//! COPY), escaped (COPY text) or quoted (CSV).

use bytes::{BufMut, Bytes, BytesMut};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int16Array, Int32Array,
    Int64Array, LargeStringArray, RecordBatch, StringArray, StringViewArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use pgwire::api::Type;
use pgwire::api::results::{FieldFormat, FieldInfo};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::copy::CopyData;
use pgwire::messages::data::DataRow;
use pgwire::types::{ToSqlText, format::FormatOptions};
use tokio_postgres::types::{IsNull, ToSql};

/// Rows are split off a buffer of this size, so that one allocation holds many rows.
const BUFFER_BYTES: usize = 64 * 1024;

/// Days from 0001-01-01 (chrono's day 1 of the common era) to 1970-01-01, Arrow's day 0.
const UNIX_EPOCH_FROM_CE: i32 = 719_163;
/// Days from 1970-01-01 to 2000-01-01, PostgreSQL's day 0.
const POSTGRES_EPOCH_FROM_UNIX: i32 = 10_957;

/// How COPY lays out a row's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyLayout {
    /// `FORMAT text`: values escaped with backslashes, `null` for NULL.
    Text { delimiter: u8, null: String },
    /// `FORMAT csv`: values quoted when they must be, `null` for NULL.
    Csv { delimiter: u8, null: String },
    /// `FORMAT binary`: the file header before the first row, each row its field count and length-prefixed values.
    Binary,
}

/// The DataRow messages of `batch`, described to the client by `fields`.
pub fn data_rows(batch: &RecordBatch, fields: &[FieldInfo]) -> PgWireResult<Vec<DataRow>> {
    let mut writer = RowWriter::new(batch, fields)?;
    let count = fields.len() as i16;
    (0..batch.num_rows())
        .map(|row| {
            writer.data_row(row)?;
            Ok(DataRow::new(writer.take(), count))
        })
        .collect()
}

/// The CopyData messages of `batch`, one per row as PostgreSQL sends them (tokio-postgres' binary reader expects
/// that); `before_first`, when given, goes in the first row's message (a CSV header, the binary file header).
pub fn copy_rows(
    batch: &RecordBatch,
    fields: &[FieldInfo],
    layout: &CopyLayout,
    mut before_first: Option<Bytes>,
) -> PgWireResult<Vec<CopyData>> {
    let mut writer = RowWriter::new(batch, fields)?;
    (0..batch.num_rows())
        .map(|row| {
            if let Some(bytes) = before_first.take() {
                writer.buffer.put_slice(&bytes);
            }
            writer.copy_row(row, layout)?;
            Ok(CopyData::new(writer.take().freeze()))
        })
        .collect()
}

/// The binary COPY file header (signature, flags, extension length), which precedes the first row.
pub fn binary_copy_header() -> Bytes {
    let mut header = BytesMut::with_capacity(19);
    header.put_slice(b"PGCOPY\n\xff\r\n\0");
    header.put_i32(0);
    header.put_i32(0);
    header.freeze()
}

/// Writes the rows of one batch.
struct RowWriter {
    columns: Vec<Column>,
    /// Where rows are written and split off.
    buffer: BytesMut,
    /// A COPY value that must be escaped or quoted, copied aside while it is rewritten (values are written straight
    /// into `buffer`, and few need it).
    scratch: BytesMut,
}

impl RowWriter {
    fn new(batch: &RecordBatch, fields: &[FieldInfo]) -> PgWireResult<Self> {
        if batch.num_columns() != fields.len() {
            return Err(PgWireError::ApiError(
                format!("{} columns to send, {} described", batch.num_columns(), fields.len()).into(),
            ));
        }
        let schema = batch.schema();
        let columns = batch
            .columns()
            .iter()
            .zip(schema.fields())
            .zip(fields)
            .map(|((array, field), info)| Column::new(array, field, info))
            .collect();
        Ok(Self {
            columns,
            buffer: BytesMut::with_capacity(BUFFER_BYTES),
            scratch: BytesMut::new(),
        })
    }

    /// The row just written, split off the buffer (which is renewed when it runs out).
    fn take(&mut self) -> BytesMut {
        let row = self.buffer.split();
        if self.buffer.capacity() < BUFFER_BYTES / 8 {
            self.buffer = BytesMut::with_capacity(BUFFER_BYTES);
        }
        row
    }

    /// Each value length-prefixed, -1 for NULL (a DataRow's body, and a binary COPY row's after its field count).
    fn data_row(&mut self, row: usize) -> PgWireResult<()> {
        for column in &self.columns {
            let at = self.buffer.len();
            self.buffer.put_i32(-1);
            if column.write(row, &mut self.buffer)? {
                let length = (self.buffer.len() - at - 4) as i32;
                self.buffer[at..at + 4].copy_from_slice(&length.to_be_bytes());
            }
        }
        Ok(())
    }

    fn copy_row(&mut self, row: usize, layout: &CopyLayout) -> PgWireResult<()> {
        let (delimiter, null, csv) = match layout {
            CopyLayout::Binary => {
                self.buffer.put_i16(self.columns.len() as i16);
                return self.data_row(row);
            }
            CopyLayout::Text { delimiter, null } => (*delimiter, null, false),
            CopyLayout::Csv { delimiter, null } => (*delimiter, null, true),
        };
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                self.buffer.put_u8(delimiter);
            }
            let start = self.buffer.len();
            if !column.write(row, &mut self.buffer)? {
                self.buffer.put_slice(null.as_bytes());
                continue;
            }
            let value = &self.buffer[start..];
            let rewrite = match csv {
                true => csv_needs_quotes(value, delimiter, null),
                false => text_needs_escapes(value, delimiter),
            };
            if rewrite {
                self.scratch.clear();
                self.scratch.extend_from_slice(value);
                self.buffer.truncate(start);
                match csv {
                    true => csv_quoted(&self.scratch, &mut self.buffer),
                    false => text_escaped(&self.scratch, delimiter, &mut self.buffer),
                }
            }
        }
        self.buffer.put_u8(b'\n');
        Ok(())
    }
}

/// Whether a value in COPY's text format needs backslashes: it holds a backslash, newline, carriage return, tab or
/// the delimiter.
fn text_needs_escapes(value: &[u8], delimiter: u8) -> bool {
    value
        .iter()
        .any(|b| matches!(b, b'\\' | b'\n' | b'\r' | b'\t') || *b == delimiter)
}

/// A value in COPY's text format with those bytes escaped.
fn text_escaped(value: &[u8], delimiter: u8, out: &mut BytesMut) {
    for &byte in value {
        match byte {
            b'\n' => out.put_slice(b"\\n"),
            b'\r' => out.put_slice(b"\\r"),
            b'\t' => out.put_slice(b"\\t"),
            b'\\' => out.put_slice(b"\\\\"),
            b if b == delimiter => out.put_slice(&[b'\\', b]),
            b => out.put_u8(b),
        }
    }
}

/// Whether a value in CSV is quoted, as PostgreSQL quotes it: when it holds the delimiter, a quote, a line break, or
/// reads as the NULL string (so `''` stays apart from NULL under the default empty NULL string).
fn csv_needs_quotes(value: &[u8], delimiter: u8, null: &str) -> bool {
    value == null.as_bytes()
        || value
            .iter()
            .any(|b| matches!(b, b'"' | b'\n' | b'\r') || *b == delimiter)
}

/// A value in CSV, quoted (its quotes doubled).
fn csv_quoted(value: &[u8], out: &mut BytesMut) {
    out.put_u8(b'"');
    for &byte in value {
        if byte == b'"' {
            out.put_u8(b'"');
        }
        out.put_u8(byte);
    }
    out.put_u8(b'"');
}

/// One column of a batch: its array downcast once, and what arrow-pg needs for the values it writes.
struct Column {
    values: Values,
    /// The array's validity, asked once per value without a call through `dyn Array`.
    nulls: Option<NullBuffer>,
    array: ArrayRef,
    field: FieldRef,
    info: FieldInfo,
}

/// The column's array as the type its values are written from, with their format.
enum Values {
    Int16(Int16Array, FieldFormat),
    Int32(Int32Array, FieldFormat),
    Int64(Int64Array, FieldFormat),
    Boolean(BooleanArray, FieldFormat),
    Utf8(StringArray),
    LargeUtf8(LargeStringArray),
    Utf8View(StringViewArray),
    Date32(Date32Array, FieldFormat),
    /// With its scale.
    Decimal(Decimal128Array, u32, FieldFormat),
    /// Binary only (PostgreSQL's text form of floats depends on `extra_float_digits`).
    Float64Binary(Float64Array),
    /// Any other type, written by arrow-pg.
    Other,
}

impl Column {
    fn new(array: &ArrayRef, field: &FieldRef, info: &FieldInfo) -> Self {
        let format = info.format();
        let text = format == FieldFormat::Text;
        // Metadata gives a column a PostgreSQL type its Arrow type does not say (`oid`, `"char"`): arrow-pg knows.
        let plain = field.metadata().is_empty();
        let pg_type = info.datatype();
        let values = match array.data_type() {
            DataType::Int16 if plain && *pg_type == Type::INT2 => Values::Int16(array.as_primitive().clone(), format),
            DataType::Int32 if plain && *pg_type == Type::INT4 => Values::Int32(array.as_primitive().clone(), format),
            DataType::Int64 if plain && *pg_type == Type::INT8 => Values::Int64(array.as_primitive().clone(), format),
            DataType::Boolean if plain && *pg_type == Type::BOOL => Values::Boolean(array.as_boolean().clone(), format),
            DataType::Utf8 if plain && is_text(pg_type) => Values::Utf8(array.as_string().clone()),
            DataType::LargeUtf8 if plain && is_text(pg_type) => Values::LargeUtf8(array.as_string().clone()),
            DataType::Utf8View if plain && is_text(pg_type) => Values::Utf8View(array.as_string_view().clone()),
            DataType::Date32 if plain && *pg_type == Type::DATE && (!text || iso_dates(info.format_options())) => {
                Values::Date32(array.as_primitive().clone(), format)
            }
            DataType::Decimal128(_, scale) if plain && *scale >= 0 && *pg_type == Type::NUMERIC => {
                Values::Decimal(array.as_primitive().clone(), *scale as u32, format)
            }
            DataType::Float64 if plain && !text && *pg_type == Type::FLOAT8 => {
                Values::Float64Binary(array.as_primitive().clone())
            }
            _ => Values::Other,
        };
        Self {
            values,
            nulls: array.nulls().cloned(),
            array: array.clone(),
            field: field.clone(),
            info: info.clone(),
        }
    }

    /// Write the value at `row` (text or binary, as its field says); false for NULL (nothing written).
    fn write(&self, row: usize, out: &mut BytesMut) -> PgWireResult<bool> {
        if self.nulls.as_ref().is_some_and(|nulls| nulls.is_null(row)) {
            return Ok(false);
        }
        let binary = |format: &FieldFormat| *format == FieldFormat::Binary;
        match &self.values {
            Values::Int16(array, format) => match binary(format) {
                true => out.put_i16(array.value(row)),
                false => put_integer(out, array.value(row)),
            },
            Values::Int32(array, format) => match binary(format) {
                true => out.put_i32(array.value(row)),
                false => put_integer(out, array.value(row)),
            },
            Values::Int64(array, format) => match binary(format) {
                true => out.put_i64(array.value(row)),
                false => put_integer(out, array.value(row)),
            },
            Values::Boolean(array, format) => {
                let value = array.value(row);
                match binary(format) {
                    true => out.put_u8(value as u8),
                    false => out.put_u8(if value { b't' } else { b'f' }),
                }
            }
            Values::Utf8(array) => out.put_slice(array.value(row).as_bytes()),
            Values::LargeUtf8(array) => out.put_slice(array.value(row).as_bytes()),
            Values::Utf8View(array) => out.put_slice(array.value(row).as_bytes()),
            Values::Date32(array, format) => {
                let days = array.value(row);
                match (binary(format), iso_date(days)) {
                    (true, _) => out.put_i32(days - POSTGRES_EPOCH_FROM_UNIX),
                    (false, Some(date)) => out.put_slice(&date),
                    // Years before 1 or after 9999 (`BC`, five digits): PostgreSQL's own spelling, by arrow-pg.
                    (false, None) => return self.by_arrow_pg(row, out),
                }
            }
            Values::Decimal(array, scale, format) => match binary(format) {
                true => put_numeric(out, array.value(row), *scale),
                false => put_decimal(out, array.value(row), *scale),
            },
            Values::Float64Binary(array) => out.put_f64(array.value(row)),
            Values::Other => return self.by_arrow_pg(row, out),
        }
        Ok(true)
    }

    /// The value at `row` written by arrow-pg (its text or binary form as the field says); false for NULL.
    fn by_arrow_pg(&self, row: usize, out: &mut BytesMut) -> PgWireResult<bool> {
        let mut value = OneValue { out, null: true };
        arrow_pg::encoder::encode_value(&mut value, &self.array, row, &self.field, &self.info)?;
        Ok(!value.null)
    }
}

fn is_text(pg_type: &Type) -> bool {
    matches!(*pg_type, Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME)
}

/// Whether dates are written as `YYYY-MM-DD` (PostgreSQL's `ISO` date style, the default).
fn iso_dates(options: &FormatOptions) -> bool {
    options.date_style.trim_start().to_ascii_uppercase().starts_with("ISO")
}

fn put_integer(out: &mut BytesMut, value: impl itoa::Integer) {
    out.put_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// A Decimal128 as PostgreSQL writes a numeric: every digit of its scale, `-0.50`.
fn put_decimal(out: &mut BytesMut, value: i128, scale: u32) {
    if value < 0 {
        out.put_u8(b'-');
    }
    let magnitude = value.unsigned_abs();
    if scale == 0 {
        put_integer(out, magnitude);
        return;
    }
    let unit = 10u128.pow(scale);
    put_integer(out, magnitude / unit);
    out.put_u8(b'.');
    let mut digits = itoa::Buffer::new();
    let fraction = digits.format(magnitude % unit);
    out.put_bytes(b'0', scale as usize - fraction.len());
    out.put_slice(fraction.as_bytes());
}

/// A Decimal128 as PostgreSQL's binary numeric: base-10000 digits (most significant first, none of them leading or
/// trailing zeros), the weight of the first, the sign and the display scale.
fn put_numeric(out: &mut BytesMut, value: i128, scale: u32) {
    const BASE: u128 = 10_000;
    let magnitude = value.unsigned_abs();
    let unit = 10u128.pow(scale);
    let (mut integer, mut fraction) = (magnitude / unit, magnitude % unit);
    // Least significant first: the fraction's groups (the last padded with zeros on its right), then the integer's.
    // 39 decimal digits each side at most: 10 groups each.
    let mut digits = [0i16; 20];
    let mut count = 0;
    let fraction_groups = scale.div_ceil(4);
    if fraction_groups > 0 {
        let pad = fraction_groups * 4 - scale;
        let last = 10u128.pow(4 - pad);
        digits[count] = ((fraction % last) * 10u128.pow(pad)) as i16;
        count += 1;
        fraction /= last;
        for _ in 1..fraction_groups {
            digits[count] = (fraction % BASE) as i16;
            count += 1;
            fraction /= BASE;
        }
    }
    let mut weight = -1i16;
    while integer > 0 {
        digits[count] = (integer % BASE) as i16;
        count += 1;
        integer /= BASE;
        weight += 1;
    }
    let mut high = count;
    while high > 0 && digits[high - 1] == 0 {
        high -= 1;
        weight -= 1;
    }
    let low = digits[..high].iter().take_while(|d| **d == 0).count();
    let used = &digits[low..high];
    out.put_i16(used.len() as i16);
    out.put_i16(if used.is_empty() { 0 } else { weight });
    out.put_u16(if value < 0 { 0x4000 } else { 0 });
    out.put_u16(scale as u16);
    for digit in used.iter().rev() {
        out.put_i16(*digit);
    }
}

/// `YYYY-MM-DD` of a day since 1970-01-01, for years 1 to 9999.
fn iso_date(days: i32) -> Option<[u8; 10]> {
    use chrono::Datelike;
    let date = chrono::NaiveDate::from_num_days_from_ce_opt(days.checked_add(UNIX_EPOCH_FROM_CE)?)?;
    let (year, month, day) = (date.year(), date.month(), date.day());
    if !(1..=9999).contains(&year) {
        return None;
    }
    let digit = |value: u32| b'0' + value as u8;
    let year = year as u32;
    Some([
        digit(year / 1000),
        digit(year / 100 % 10),
        digit(year / 10 % 10),
        digit(year % 10),
        b'-',
        digit(month / 10),
        digit(month % 10),
        b'-',
        digit(day / 10),
        digit(day % 10),
    ])
}

/// arrow-pg's encoder writing one value's bytes, unframed.
struct OneValue<'a> {
    out: &'a mut BytesMut,
    null: bool,
}

impl arrow_pg::encoder::Encoder for OneValue<'_> {
    type Item = ();

    fn encode_field<T>(&mut self, value: &T, info: &FieldInfo) -> PgWireResult<()>
    where
        T: ToSql + ToSqlText + Sized,
    {
        let is_null = match info.format() {
            FieldFormat::Text => value.to_sql_text(info.datatype(), self.out, info.format_options())?,
            FieldFormat::Binary => value.to_sql(info.datatype(), self.out)?,
        };
        self.null = matches!(is_null, IsNull::Yes);
        Ok(())
    }

    fn take_row(&mut self) -> Self::Item {}
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ListArray, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::{Field, Int32Type, Schema};
    use pgwire::api::portal::Format;
    use pgwire::api::results::{CopyEncoder, CopyTextOptions};

    use super::*;

    /// Every type with a path of its own, nulls, and the values that test the edges of each (negative and small
    /// numerics, dates before 1970 and past 9999, strings holding what COPY escapes), plus types arrow-pg writes.
    fn batch() -> RecordBatch {
        let columns: Vec<(&str, ArrayRef)> = vec![
            (
                "i16",
                Arc::new(Int16Array::from(vec![Some(-32768), None, Some(7), Some(0)])),
            ),
            (
                "i32",
                Arc::new(Int32Array::from(vec![Some(i32::MIN), Some(42), None, Some(-1)])),
            ),
            (
                "i64",
                Arc::new(Int64Array::from(vec![Some(i64::MAX), Some(-5), Some(0), None])),
            ),
            (
                "flag",
                Arc::new(BooleanArray::from(vec![Some(true), Some(false), None, Some(true)])),
            ),
            (
                "text",
                Arc::new(StringArray::from(vec![
                    Some("plain"),
                    Some("tab\there\nline\\slash"),
                    None,
                    Some(""),
                ])),
            ),
            (
                "view",
                Arc::new(StringViewArray::from(vec![
                    Some("a,b"),
                    Some("quote \" here"),
                    Some("é"),
                    None,
                ])),
            ),
            (
                "day",
                Arc::new(Date32Array::from(vec![
                    Some(0),
                    Some(-719_162),
                    Some(9_496),
                    Some(2_932_897),
                ])),
            ),
            (
                "amount",
                Arc::new(
                    Decimal128Array::from(vec![Some(4_279_852_114_070), Some(-50), Some(7), None])
                        .with_precision_and_scale(38, 4)
                        .unwrap(),
                ),
            ),
            (
                "whole",
                Arc::new(
                    Decimal128Array::from(vec![Some(-12), Some(0), None, Some(i128::from(i64::MAX))])
                        .with_precision_and_scale(38, 0)
                        .unwrap(),
                ),
            ),
            (
                "ratio",
                Arc::new(Float64Array::from(vec![
                    Some(0.1),
                    Some(-2.5e300),
                    None,
                    Some(f64::NAN),
                ])),
            ),
            (
                "at",
                Arc::new(TimestampMicrosecondArray::from(vec![
                    Some(0),
                    None,
                    Some(1_700_000_000_123_456),
                    Some(-1),
                ])),
            ),
            (
                "list",
                Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
                    Some(vec![Some(1), None]),
                    None,
                    Some(vec![]),
                    Some(vec![Some(3)]),
                ])),
            ),
        ];
        let schema = Schema::new(
            columns
                .iter()
                .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
                .collect::<Vec<_>>(),
        );
        RecordBatch::try_new(Arc::new(schema), columns.into_iter().map(|(_, a)| a).collect()).unwrap()
    }

    fn fields(batch: &RecordBatch, format: &Format) -> Vec<FieldInfo> {
        arrow_pg::datatypes::arrow_schema_to_pg_fields(batch.schema_ref(), format, None).unwrap()
    }

    #[test]
    fn data_rows_are_what_arrow_pg_writes() {
        let batch = batch();
        for format in [Format::UnifiedText, Format::UnifiedBinary] {
            let fields = fields(&batch, &format);
            let ours: Vec<DataRow> = data_rows(&batch, &fields).unwrap();
            let theirs: Vec<DataRow> = arrow_pg::datatypes::encode_recordbatch(Arc::new(fields), batch.clone())
                .map(Result::unwrap)
                .collect();
            assert_eq!(ours.len(), theirs.len());
            for (ours, theirs) in ours.iter().zip(&theirs) {
                assert_eq!(ours.field_count, theirs.field_count);
                assert_eq!(ours.data, theirs.data, "{format:?}");
            }
        }
    }

    #[test]
    fn copy_text_and_binary_rows_are_what_pgwire_writes() {
        // arrow-pg refuses dates past 9999 in binary; the rest of the batch is the reference.
        let batch = batch();
        let cases = [
            (CopyLayout::Binary, Format::UnifiedBinary),
            (
                CopyLayout::Text {
                    delimiter: b'\t',
                    null: "\\N".into(),
                },
                Format::UnifiedText,
            ),
            (
                CopyLayout::Text {
                    delimiter: b',',
                    null: "NULL".into(),
                },
                Format::UnifiedText,
            ),
        ];
        for (layout, format) in cases {
            let fields = fields(&batch, &format);
            let mut reference = match &layout {
                CopyLayout::Binary => CopyEncoder::new_binary(Arc::new(fields.clone())),
                CopyLayout::Text { delimiter, null } => CopyEncoder::new_text(
                    Arc::new(fields.clone()),
                    CopyTextOptions {
                        delimiter: (*delimiter as char).to_string().into(),
                        null_string: null.as_str().into(),
                    },
                ),
                CopyLayout::Csv { .. } => unreachable!(),
            };
            let header = (layout == CopyLayout::Binary).then(binary_copy_header);
            let ours = copy_rows(&batch, &fields, &layout, header).unwrap();
            for (row, ours) in ours.iter().enumerate() {
                for (col, field) in fields.iter().enumerate() {
                    let column = batch.column(col);
                    arrow_pg::encoder::encode_value(&mut reference, column, row, batch.schema().field(col), field)
                        .unwrap();
                }
                assert_eq!(ours.data, reference.take_copy().data, "{layout:?} row {row}");
            }
        }
    }

    #[test]
    fn csv_quotes_as_postgres_does() {
        let batch = RecordBatch::try_from_iter([(
            "s",
            Arc::new(StringArray::from(vec![
                Some("a,b"),
                Some("say \"hi\""),
                Some(""),
                None,
                Some("two\nlines"),
                Some("x"),
            ])) as ArrayRef,
        )])
        .unwrap();
        let fields = fields(&batch, &Format::UnifiedText);
        let layout = CopyLayout::Csv {
            delimiter: b',',
            null: String::new(),
        };
        let rows: Vec<Bytes> = copy_rows(&batch, &fields, &layout, Some(Bytes::from_static(b"s\n")))
            .unwrap()
            .into_iter()
            .map(|row| row.data)
            .collect();
        // The empty string is quoted so that it reads back apart from NULL (PostgreSQL's `COPY … CSV` does the same).
        let expected: [&[u8]; 6] = [
            b"s\n\"a,b\"\n",
            b"\"say \"\"hi\"\"\"\n",
            b"\"\"\n",
            b"\n",
            b"\"two\nlines\"\n",
            b"x\n",
        ];
        assert_eq!(rows, expected.map(Bytes::from_static));
    }

    #[test]
    fn numerics_keep_their_scale() {
        let mut out = BytesMut::new();
        for (value, scale, text) in [
            (12_340, 2, "123.40"),
            (-5, 3, "-0.005"),
            (0, 2, "0.00"),
            (-42, 0, "-42"),
            (i128::MAX, 38, "1.70141183460469231731687303715884105727"),
            (i128::MIN + 1, 0, "-170141183460469231731687303715884105727"),
        ] {
            out.clear();
            put_decimal(&mut out, value, scale);
            assert_eq!(std::str::from_utf8(&out).unwrap(), text);
        }
    }

    #[test]
    fn binary_numerics_as_postgres_sends_them() {
        let numeric = |value, scale| {
            let mut out = BytesMut::new();
            put_numeric(&mut out, value, scale);
            out.chunks(2)
                .map(|pair| i16::from_be_bytes([pair[0], pair[1]]))
                .collect::<Vec<_>>()
        };
        // [ndigits, weight, sign, dscale, digits…]: 1000000.00 is 100 × 10000¹; -0.0105 is 105 × 10000⁻¹ (no trailing
        // zero group); 0.00 has no digits; zero groups inside stay; a number past rust_decimal's 96 bits still fits.
        assert_eq!(numeric(100_000_000, 2), [1, 1, 0, 2, 100]);
        assert_eq!(numeric(-105, 4), [1, -1, 0x4000, 4, 105]);
        assert_eq!(numeric(0, 2), [0, 0, 0, 2]);
        assert_eq!(numeric(-1_000_000_001, 1), [4, 2, 0x4000, 1, 1, 0, 0, 1000]);
        assert_eq!(numeric(10i128.pow(37), 0), [1, 9, 0, 0, 10]);
    }

    #[test]
    fn dates_past_9999_and_before_year_1_are_written_by_arrow_pg() {
        assert_eq!(iso_date(0).as_ref().map(|d| &d[..]), Some(&b"1970-01-01"[..]));
        assert_eq!(iso_date(-719_162).as_ref().map(|d| &d[..]), Some(&b"0001-01-01"[..]));
        assert_eq!(iso_date(2_932_896).as_ref().map(|d| &d[..]), Some(&b"9999-12-31"[..]));
        assert_eq!(iso_date(2_932_897), None);
        assert_eq!(iso_date(-719_163), None);
    }
}
