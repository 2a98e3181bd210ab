//! PostgreSQL functions that drivers and BI tools call while connecting or reading the catalog, beyond those
//! `datafusion-pg-catalog` ships. semgate stores no relations of its own, so most answer what PostgreSQL answers for a
//! view: no size, no index, no sequence, always visible.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{ScalarValue, cast::as_int64_array};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion::prelude::SessionContext;
use datafusion_pg_catalog::pg_catalog::PgCatalogStaticTables;

use crate::semantic::SemanticModel;

/// The function a `regproc` column names, by its name; `-` is PostgreSQL's display of "no function" (oid 0).
pub const TO_REGPROC: &str = "to_regproc";
/// A PostgreSQL type by name (`numeric`, `integer`, `pg_catalog.text`), as its oid.
pub const TO_REGTYPE: &str = "to_regtype";
/// The description the semantic model gives a view (column 0) or one of its columns (1-based, as `attnum`).
pub const VIEW_DESCRIPTION: &str = "semgate_view_description";

/// Functions with one answer whatever their arguments, for questions whose answer is the same for every view: all
/// are visible, none has a size, and semgate defines no functions, sequences or indexes of its own (a view's
/// definition is the semantic model). Their arguments are dropped before planning.
pub const CONSTANT_FUNCTIONS: [(&str, ScalarValue); 14] = [
    ("pg_type_is_visible", ScalarValue::Boolean(Some(true))),
    ("pg_function_is_visible", ScalarValue::Boolean(Some(true))),
    ("pg_collation_is_visible", ScalarValue::Boolean(Some(true))),
    ("pg_opclass_is_visible", ScalarValue::Boolean(Some(true))),
    ("pg_table_size", ScalarValue::Int64(Some(0))),
    ("pg_relation_size", ScalarValue::Int64(Some(0))),
    ("pg_total_relation_size", ScalarValue::Int64(Some(0))),
    ("pg_indexes_size", ScalarValue::Int64(Some(0))),
    ("pg_get_serial_sequence", ScalarValue::Utf8(None)),
    ("pg_get_indexdef", ScalarValue::Utf8(None)),
    ("pg_get_viewdef", ScalarValue::Utf8(None)),
    ("pg_get_function_result", ScalarValue::Utf8(None)),
    ("pg_get_function_arguments", ScalarValue::Utf8(None)),
    ("pg_advisory_unlock_all", ScalarValue::Utf8(None)),
];

/// Register the engine-wide functions: name lookups over the static catalog, descriptions from the model, the
/// constant answers PostgreSQL gives for views, and PostgreSQL's datetime templates.
pub fn register(ctx: &SessionContext, model: &SemanticModel) -> Result<()> {
    super::datetime_format::register(ctx)?;
    let catalog = PgCatalogStaticTables::try_new()?;
    ctx.register_udf(lookup_udf(TO_REGPROC, proc_oids(&catalog)?));
    ctx.register_udf(lookup_udf(TO_REGTYPE, type_oids(&catalog)?));
    if let Ok(crate_format_type) = datafusion::execution::FunctionRegistry::udf(ctx, "format_type") {
        ctx.register_udf(ScalarUDF::from(FormatType {
            spelled: crate_format_type,
            names: Arc::new(type_names(&catalog)?),
        }));
    }
    ctx.register_udf(view_description(model));
    for (name, answer) in CONSTANT_FUNCTIONS {
        ctx.register_udf(constant(name, answer));
    }
    ctx.register_udf(constant("pg_my_temp_schema", ScalarValue::Int32(Some(0))));
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or_default();
    ctx.register_udf(constant(
        "pg_postmaster_start_time",
        ScalarValue::TimestampMicrosecond(Some(started), Some("UTC".into())),
    ));
    ctx.register_udf(ScalarUDF::from(SizePretty::new()));
    ctx.register_udf(ScalarUDF::from(super::format::Format::new()));
    ctx.register_udf(ScalarUDF::from(JsonBuildObject {
        signature: Signature::variadic_any(Volatility::Immutable),
    }));
    Ok(())
}

/// The session's parameters, shared with `SET`/`SHOW`: what `current_setting` reads and `set_config` writes.
pub type Settings = Arc<Mutex<BTreeMap<String, String>>>;

/// Register `current_setting(name [, missing_ok])` and `set_config(name, value, is_local)` over one session's
/// parameters (asyncpg and Grafana read `jit`, `search_path`, `server_version_num` this way).
pub fn register_session(ctx: &SessionContext, settings: Settings) {
    ctx.register_udf(ScalarUDF::from(SessionSetting {
        name: "current_setting",
        signature: Signature::one_of(
            vec![
                TypeSignature::Exact(vec![DataType::Utf8]),
                TypeSignature::Exact(vec![DataType::Utf8, DataType::Boolean]),
            ],
            Volatility::Stable,
        ),
        settings: settings.clone(),
    }));
    ctx.register_udf(ScalarUDF::from(SessionSetting {
        name: "set_config",
        signature: Signature::exact(
            vec![DataType::Utf8, DataType::Utf8, DataType::Boolean],
            Volatility::Volatile,
        ),
        settings,
    }));
}

/// `proname` → lowest oid of that name (overloads of the `*recv`/`*in` functions a `regproc` column names do not
/// exist), plus `-` → 0.
fn proc_oids(catalog: &PgCatalogStaticTables) -> Result<HashMap<String, i32>> {
    let mut oids = name_oids(catalog.pg_proc.data(), "proname")?;
    oids.insert("-".into(), 0);
    Ok(oids)
}

/// `typname` → oid, plus the SQL spellings PostgreSQL's type parser accepts (`integer`, `character varying`, …) and
/// `name[]` for array types.
fn type_oids(catalog: &PgCatalogStaticTables) -> Result<HashMap<String, i32>> {
    let mut oids = name_oids(catalog.pg_type.data(), "typname")?;
    const SPELLINGS: [(&str, &str); 20] = [
        ("integer", "int4"),
        ("int", "int4"),
        ("smallint", "int2"),
        ("bigint", "int8"),
        ("boolean", "bool"),
        ("real", "float4"),
        ("double precision", "float8"),
        ("float", "float8"),
        ("decimal", "numeric"),
        ("character varying", "varchar"),
        ("character", "bpchar"),
        ("char", "bpchar"),
        ("\"char\"", "char"),
        ("timestamp without time zone", "timestamp"),
        ("timestamp with time zone", "timestamptz"),
        ("time without time zone", "time"),
        ("time with time zone", "timetz"),
        ("bit varying", "varbit"),
        ("interval", "interval"),
        ("json", "json"),
    ];
    for (spelling, typname) in SPELLINGS {
        if let Some(oid) = oids.get(typname).copied() {
            oids.insert(spelling.to_string(), oid);
        }
    }
    let arrays: Vec<(String, i32)> = oids
        .keys()
        .filter_map(|name| oids.get(&format!("_{name}")).map(|oid| (format!("{name}[]"), *oid)))
        .collect();
    oids.extend(arrays);
    Ok(oids)
}

fn name_oids(
    batches: &[datafusion::arrow::record_batch::RecordBatch],
    name_column: &str,
) -> Result<HashMap<String, i32>> {
    let mut oids = HashMap::new();
    for batch in batches {
        let names =
            datafusion::arrow::compute::cast(batch.column_by_name(name_column).expect(name_column), &DataType::Utf8)?;
        let ids = datafusion::arrow::compute::cast(batch.column_by_name("oid").expect("oid"), &DataType::Int32)?;
        let (names, ids) = (
            names.as_string::<i32>(),
            ids.as_primitive::<datafusion::arrow::datatypes::Int32Type>(),
        );
        for row in 0..batch.num_rows() {
            if names.is_valid(row) && ids.is_valid(row) {
                let oid = ids.value(row);
                oids.entry(names.value(row).to_string())
                    .and_modify(|o: &mut i32| *o = (*o).min(oid))
                    .or_insert(oid);
            }
        }
    }
    Ok(oids)
}

/// A text → oid lookup the way PostgreSQL's `to_regproc`/`to_regtype` read names: case-insensitive unless quoted,
/// an optional `pg_catalog.` qualifier and (for functions) an argument list ignored; an unknown name is NULL.
fn lookup_udf(name: &'static str, oids: HashMap<String, i32>) -> ScalarUDF {
    let oids = Arc::new(oids);
    datafusion::logical_expr::create_udf(
        name,
        vec![DataType::Utf8],
        DataType::Int32,
        Volatility::Immutable,
        Arc::new(move |args: &[ColumnarValue]| {
            let rows = ColumnarValue::values_to_arrays(args)?;
            let names = rows[0].as_string::<i32>();
            let result: Int32Array = names
                .iter()
                .map(|n| n.and_then(|n| oids.get(&normalize_name(n)).copied()))
                .collect();
            super::scalar_if_scalar(args, Arc::new(result))
        }),
    )
}

fn normalize_name(name: &str) -> String {
    let name = name.trim();
    let name = name.split_once('(').map_or(name, |(head, _)| head).trim();
    let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(quoted) if quoted != "char" => quoted.to_string(),
        _ => name.to_lowercase(),
    }
}

/// A function of any arguments with one answer, for questions whose answer is the same for every view.
fn constant(name: &'static str, value: ScalarValue) -> ScalarUDF {
    ScalarUDF::from(Constant {
        name,
        signature: Signature::one_of(
            vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
            Volatility::Stable,
        ),
        value,
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Constant {
    name: &'static str,
    signature: Signature,
    value: ScalarValue,
}

impl ScalarUDFImpl for Constant {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.value.data_type())
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(self.value.clone()))
    }
}

/// `pg_size_pretty(bigint)`: PostgreSQL's rounding (half up at each unit) and units.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SizePretty {
    signature: Signature,
}

impl SizePretty {
    fn new() -> Self {
        Self {
            signature: Signature::coercible(
                vec![datafusion::logical_expr::Coercion::new_exact(
                    datafusion::logical_expr::TypeSignatureClass::Native(datafusion::common::types::logical_int64()),
                )],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for SizePretty {
    fn name(&self) -> &str {
        "pg_size_pretty"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = ColumnarValue::values_to_arrays(&args.args)?;
        let sizes = datafusion::arrow::compute::cast(&rows[0], &DataType::Int64)?;
        let result: StringArray = as_int64_array(&sizes)?.iter().map(|s| s.map(size_pretty)).collect();
        super::scalar_if_scalar(&args.args, Arc::new(result))
    }
}

fn size_pretty(bytes: i64) -> String {
    const LIMIT: i64 = 10 * 1024;
    if bytes.abs() < LIMIT {
        return format!("{bytes} bytes");
    }
    // PostgreSQL keeps one extra bit until the last step so that it can round half up.
    let mut size = bytes >> 9;
    for unit in ["kB", "MB", "GB", "TB"] {
        if size.abs() < LIMIT * 2 - 1 || unit == "TB" {
            return format!("{} {unit}", (size + 1) / 2);
        }
        size >>= 10;
    }
    unreachable!("the last unit always returns")
}

/// PostgreSQL's `format_type`: the catalog crate's, which spells the built-in types with their modifiers, completed
/// where the crate falls back to `oid(N)`: oid 0 is `-`, any other type in `pg_type` is its name (an array type its
/// element's name with `[]`), and an oid that is no type is `???`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FormatType {
    /// The crate's `format_type`, registered under the same name before this one replaces it.
    spelled: Arc<ScalarUDF>,
    /// oid → name, for every type in the static `pg_type`.
    names: Arc<BTreeMap<i32, String>>,
}

impl ScalarUDFImpl for FormatType {
    fn name(&self) -> &str {
        "format_type"
    }

    fn signature(&self) -> &Signature {
        self.spelled.signature()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let oids = ColumnarValue::values_to_arrays(&args.args[..1])?;
        let oids = datafusion::arrow::compute::cast(&oids[0], &DataType::Int32)?;
        let oids = oids.as_primitive::<datafusion::arrow::datatypes::Int32Type>();
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let spelled = self.spelled.invoke_with_args(args)?.into_array(oids.len())?;
        let spelled = spelled.as_string::<i32>();
        let result: StringArray = oids
            .iter()
            .zip(spelled.iter())
            .map(|(oid, spelled)| match (oid, spelled) {
                (Some(0), _) => Some("-".to_string()),
                (Some(oid), Some(spelled)) if spelled == format!("oid({oid})") => {
                    Some(self.names.get(&oid).cloned().unwrap_or_else(|| "???".to_string()))
                }
                (_, spelled) => spelled.map(str::to_string),
            })
            .collect();
        let result: ArrayRef = Arc::new(result);
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&result, 0)?)
        } else {
            ColumnarValue::Array(result)
        })
    }
}

/// oid → the name `format_type` gives the type: its `typname`, or for an array type (`_int4range`, element
/// `int4range`) its element's name with `[]`.
fn type_names(catalog: &PgCatalogStaticTables) -> Result<BTreeMap<i32, String>> {
    let mut names = BTreeMap::new();
    let mut elements = Vec::new();
    for batch in catalog.pg_type.data() {
        let column = |name: &str, data_type: &DataType| {
            datafusion::arrow::compute::cast(batch.column_by_name(name).expect(name), data_type)
        };
        let (oids, typnames, typelems) = (
            column("oid", &DataType::Int32)?,
            column("typname", &DataType::Utf8)?,
            column("typelem", &DataType::Int32)?,
        );
        let oids = oids.as_primitive::<datafusion::arrow::datatypes::Int32Type>();
        let typelems = typelems.as_primitive::<datafusion::arrow::datatypes::Int32Type>();
        for (row, typname) in typnames.as_string::<i32>().iter().enumerate() {
            let (Some(typname), false) = (typname, oids.is_null(row)) else {
                continue;
            };
            names.insert(oids.value(row), typname.to_string());
            if typname.starts_with('_') && typelems.is_valid(row) && typelems.value(row) != 0 {
                elements.push((oids.value(row), typelems.value(row)));
            }
        }
    }
    for (array, element) in elements {
        if let Some(element) = names.get(&element).cloned() {
            names.insert(array, format!("{element}[]"));
        }
    }
    Ok(names)
}

/// `json_build_object(key, value, …)` as JSON text (SQLAlchemy reads identity and collation options with it).
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonBuildObject {
    signature: Signature,
}

impl ScalarUDFImpl for JsonBuildObject {
    fn name(&self) -> &str {
        "json_build_object"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if !args.args.len().is_multiple_of(2) {
            return datafusion::common::plan_err!("json_build_object takes key/value pairs");
        }
        let rows = ColumnarValue::values_to_arrays(&args.args)?;
        let texts = rows
            .iter()
            .map(|column| datafusion::arrow::compute::cast(column, &DataType::Utf8))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let object = |row: usize| {
            let members: Vec<String> = texts
                .chunks(2)
                .zip(rows.chunks(2))
                .map(|(text, column)| {
                    let (key, value) = (text[0].as_string::<i32>(), text[1].as_string::<i32>());
                    let value = if value.is_null(row) {
                        "null".to_string()
                    } else if column[1].data_type().is_numeric() || column[1].data_type() == &DataType::Boolean {
                        value.value(row).to_string()
                    } else {
                        json_string(value.value(row))
                    };
                    format!("{} : {value}", json_string(key.value(row)))
                })
                .collect();
            format!("{{{}}}", members.join(", "))
        };
        let len = rows.first().map_or(1, |c| c.len());
        let result: StringArray = (0..len).map(|row| Some(object(row))).collect();
        super::scalar_if_scalar(&args.args, Arc::new(result))
    }
}

fn json_string(text: &str) -> String {
    let mut quoted = String::from('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            c if (c as u32) < 0x20 => quoted.push_str(&format!("\\u{:04x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Whether `plan` calls `current_setting` / `set_config`: they hold the planning session's own parameters, so such a
/// plan must not run in another session.
pub fn reads_session_settings(plan: &LogicalPlan) -> bool {
    let mut found = false;
    let _ = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                found |=
                    matches!(e, Expr::ScalarFunction(f) if f.func.inner().downcast_ref::<SessionSetting>().is_some());
                Ok(if found {
                    TreeNodeRecursion::Stop
                } else {
                    TreeNodeRecursion::Continue
                })
            })
        })
    });
    found
}

/// `current_setting` / `set_config` over the session's parameters. An unknown parameter reads as NULL (PostgreSQL's
/// `missing_ok`), so a probe such as asyncpg's `current_setting('jit')` does not fail the connection.
#[derive(Debug)]
struct SessionSetting {
    name: &'static str,
    signature: Signature,
    settings: Settings,
}

impl PartialEq for SessionSetting {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.settings, &other.settings)
    }
}

impl Eq for SessionSetting {}

impl std::hash::Hash for SessionSetting {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for SessionSetting {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = ColumnarValue::values_to_arrays(&args.args)?;
        let names = rows[0].as_string::<i32>();
        let mut settings = self.settings.lock().expect("settings lock");
        let result: StringArray = if self.name == "set_config" {
            let values = rows[1].as_string::<i32>();
            names
                .iter()
                .zip(values.iter())
                .map(|(name, value)| {
                    let (name, value) = (name?, value.unwrap_or_default());
                    settings.insert(name.to_lowercase(), value.to_string());
                    Some(value.to_string())
                })
                .collect()
        } else {
            names
                .iter()
                .map(|name| settings.get(&name?.to_lowercase()).cloned())
                .collect()
        };
        super::scalar_if_scalar(&args.args, Arc::new(result))
    }
}

/// [`VIEW_DESCRIPTION`] over `model`'s descriptions.
pub fn view_description(model: &SemanticModel) -> ScalarUDF {
    ScalarUDF::from(ViewDescription::new(model))
}

/// Descriptions of the semantic model's views and columns, for `obj_description`/`col_description` (psql `\d+`,
/// DBeaver, Metabase show them as comments). Keyed by view name and column number (0 = the view itself).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ViewDescription {
    signature: Signature,
    descriptions: BTreeMap<(String, i64), String>,
}

impl ViewDescription {
    fn new(model: &SemanticModel) -> Self {
        let mut descriptions = BTreeMap::new();
        for (name, view) in &model.views {
            let columns = view
                .dimensions
                .iter()
                .map(|d| d.dimension.description.clone())
                .chain(view.measures.iter().map(|m| m.description.clone()));
            for (attnum, description) in std::iter::once(view.description.clone()).chain(columns).enumerate() {
                if let Some(description) = description {
                    descriptions.insert((name.clone(), attnum as i64), description);
                }
            }
        }
        Self {
            signature: Signature::exact(vec![DataType::Utf8, DataType::Int64], Volatility::Stable),
            descriptions,
        }
    }
}

impl ScalarUDFImpl for ViewDescription {
    fn name(&self) -> &str {
        VIEW_DESCRIPTION
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = ColumnarValue::values_to_arrays(&args.args)?;
        let (views, columns) = (rows[0].as_string::<i32>(), rows[1].as_primitive::<Int64Type>());
        let result: StringArray = views
            .iter()
            .zip(columns.iter())
            .map(|(view, column)| self.descriptions.get(&(view?.to_string(), column?)).cloned())
            .collect();
        super::scalar_if_scalar(&args.args, Arc::new(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_like_postgres() {
        assert_eq!(size_pretty(0), "0 bytes");
        assert_eq!(size_pretty(10239), "10239 bytes");
        assert_eq!(size_pretty(10240), "10 kB");
        assert_eq!(size_pretty(1_500_000), "1465 kB");
        assert_eq!(size_pretty(123_456_789), "118 MB");
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }

    #[test]
    fn names_are_read_like_postgres() {
        assert_eq!(normalize_name("pg_catalog.array_in"), "array_in");
        assert_eq!(normalize_name("Numeric"), "numeric");
        assert_eq!(normalize_name("\"char\""), "\"char\"");
        assert_eq!(normalize_name("array_recv(internal)"), "array_recv");
    }
}
