//! PostgreSQL's `format(formatstr, args…)`: Metabase names every column's type with `format('%I.%I', schema, type)`,
//! and scripts build identifiers and literals with `%I` / `%L`.
//!
//! Specifiers are `%[position$][-][width]type` with type `s` (text; NULL is empty), `I` (identifier, quoted when
//! PostgreSQL would quote it; NULL is an error), `L` (literal, quoted; NULL is `NULL`), and `%%`. Width may be `*` or
//! `*n$`, taken from the arguments as PostgreSQL does.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

use super::scalar_if_scalar;

/// PostgreSQL 15's keywords that are not unreserved (reserved, column-name and type/function-name keywords in its
/// grammar): `quote_ident` quotes them even when they are plain lower-case names.
const QUOTED_KEYWORDS: [&str; 155] = [
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json_array",
    "json_arrayagg",
    "json_object",
    "json_objectagg",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Format {
    signature: Signature,
}

impl Format {
    pub fn new() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Stable),
        }
    }
}

impl ScalarUDFImpl for Format {
    fn name(&self) -> &str {
        "format"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let columns = ColumnarValue::values_to_arrays(&args.args)?;
        let texts = columns.iter().map(as_text).collect::<Result<Vec<_>>>()?;
        let len = columns.first().map_or(1, |c| c.len());
        let mut result = Vec::with_capacity(len);
        for row in 0..len {
            let value = |index: usize| {
                let column = texts[index].as_string::<i32>();
                (!column.is_null(row)).then(|| column.value(row))
            };
            result.push(match value(0) {
                None => None,
                Some(template) => Some(format_row(template, texts.len() - 1, value)?),
            });
        }
        scalar_if_scalar(&args.args, Arc::new(StringArray::from(result)))
    }
}

/// A column as PostgreSQL's text output of it (booleans as `t`/`f`).
fn as_text(column: &ArrayRef) -> Result<ArrayRef> {
    if column.data_type() == &DataType::Boolean {
        let text: StringArray = column
            .as_boolean()
            .iter()
            .map(|b| b.map(|b| if b { "t" } else { "f" }))
            .collect();
        return Ok(Arc::new(text));
    }
    Ok(datafusion::arrow::compute::cast(column, &DataType::Utf8)?)
}

/// Expand one template; `arg(n)` is the n-th argument (1-based) of this row, `None` for NULL.
fn format_row<'a>(template: &str, arg_count: usize, arg: impl Fn(usize) -> Option<&'a str>) -> Result<String> {
    let mut out = String::with_capacity(template.len());
    let mut chars = template.chars().peekable();
    let mut next_arg = 1;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        // `n$` before the flags picks the argument; the width may itself come from an argument (`*` or `*n$`).
        let mut position = None;
        let mut number = digits(&mut chars);
        if number.is_some() && chars.peek() == Some(&'$') {
            chars.next();
            position = number.take();
        }
        let mut left_align = false;
        if number.is_none() {
            while chars.peek() == Some(&'-') {
                chars.next();
                left_align = true;
            }
            number = digits(&mut chars);
        }
        let mut width = number;
        if width.is_none() && chars.peek() == Some(&'*') {
            chars.next();
            let index = match digits(&mut chars) {
                Some(n) if chars.next_if_eq(&'$').is_some() => n,
                Some(_) => return exec_err!("unterminated format() type specifier"),
                None => take(&mut next_arg),
            };
            let given = argument(index, arg_count, &arg)?.unwrap_or("0");
            let given: i64 = given
                .trim()
                .parse()
                .map_err(|_| DataFusionError::Execution(format!("format() width must be an integer, not {given}")))?;
            left_align |= given < 0;
            width = Some(given.unsigned_abs() as usize);
        }
        let index = position.unwrap_or_else(|| take(&mut next_arg));
        next_arg = index + 1;
        let Some(kind) = chars.next() else {
            return exec_err!("unterminated format() type specifier");
        };
        let value = argument(index, arg_count, &arg)?;
        let rendered = match kind {
            's' => value.unwrap_or_default().to_string(),
            'I' => match value {
                Some(name) => quote_ident(name),
                None => return exec_err!("null values cannot be formatted as an SQL identifier"),
            },
            'L' => value.map_or_else(|| "NULL".to_string(), quote_literal),
            other => return exec_err!("unrecognized format() type specifier \"{other}\""),
        };
        let pad = width.unwrap_or(0).saturating_sub(rendered.chars().count());
        if left_align {
            out.push_str(&rendered);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&rendered);
        }
    }
    Ok(out)
}

fn take(next_arg: &mut usize) -> usize {
    let index = *next_arg;
    *next_arg += 1;
    index
}

fn digits(chars: &mut std::iter::Peekable<std::str::Chars>) -> Option<usize> {
    let mut number = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        chars.next();
        number = Some(number.unwrap_or(0) * 10 + d as usize);
    }
    number
}

fn argument<'a>(index: usize, count: usize, arg: &impl Fn(usize) -> Option<&'a str>) -> Result<Option<&'a str>> {
    if index == 0 {
        return exec_err!("format() argument positions start at 1");
    }
    if index > count {
        return exec_err!("too few arguments for format()");
    }
    Ok(arg(index))
}

/// PostgreSQL's `quote_ident`: unquoted only when it is a lower-case identifier and not a keyword it must quote.
pub fn quote_ident(name: &str) -> String {
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && QUOTED_KEYWORDS.binary_search(&name).is_err();
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// PostgreSQL's `quote_literal`: a backslash makes it an `E''` string.
fn quote_literal(value: &str) -> String {
    let quoted = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(template: &str, args: &[Option<&'static str>]) -> Result<String> {
        format_row(template, args.len(), |n| args[n - 1])
    }

    #[test]
    fn specifiers_follow_postgresql() {
        // Expected strings are what PostgreSQL 15 returns for the same calls.
        let cases: [(&str, &[Option<&str>], &str); 10] = [
            ("%I.%I", &[Some("public"), Some("sales")], "public.sales"),
            (
                "%I.%I",
                &[Some("My Schema"), Some("select")],
                "\"My Schema\".\"select\"",
            ),
            (
                "\"%s\".\"%s\"",
                &[Some("pg_catalog"), Some("int4")],
                "\"pg_catalog\".\"int4\"",
            ),
            (
                "%I %I %I",
                &[Some("time"), Some("left"), Some("name")],
                "\"time\" \"left\" name",
            ),
            ("%L and %L", &[Some("O'Reilly"), None], "'O''Reilly' and NULL"),
            ("%s|%s", &[None, Some("x")], "|x"),
            ("%2$s %1$s %s", &[Some("a"), Some("b")], "b a b"),
            ("[%5s][%-5s]", &[Some("ab"), Some("cd")], "[   ab][cd   ]"),
            ("[%*s]", &[Some("-4"), Some("x")], "[x   ]"),
            ("100%%", &[], "100%"),
        ];
        for (template, args, expected) in cases {
            assert_eq!(format(template, args).unwrap(), expected, "format('{template}', …)");
        }
    }

    #[test]
    fn bad_templates_are_errors() {
        assert!(
            format("%s %s", &[Some("a")])
                .unwrap_err()
                .to_string()
                .contains("too few arguments")
        );
        assert!(format("%I", &[None]).unwrap_err().to_string().contains("identifier"));
        assert!(format("%x", &[Some("a")]).unwrap_err().to_string().contains("\"x\""));
        assert!(format("%", &[]).unwrap_err().to_string().contains("unterminated"));
    }
}
