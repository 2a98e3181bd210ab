//! Routing: one client string → statements, each either a query for the engine or a session command.
//! Writes are refused here, before anything is planned, because semgate is read-only.

use datafusion::sql::sqlparser::ast::{
    CloseCursor, CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, Declare, DeclareType,
    FetchDirection, Statement, Value, ValueWithSpan,
};

use crate::pg_compat;

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("{0}")]
    Syntax(String),
    #[error("cannot execute {0} in a read-only transaction: semgate serves semantic views and never writes")]
    ReadOnly(String),
    #[error("{0} is not supported by semgate")]
    Unsupported(String),
}

/// A statement of a client string, routed.
#[derive(Debug, Clone, PartialEq)]
pub enum Routed {
    Query(Box<Statement>),
    /// `COPY (query) TO STDOUT` or `COPY view TO STDOUT`: the query's rows in a COPY format.
    CopyOut {
        query: Box<Statement>,
        format: CopyFormat,
    },
    Command(SessionCommand),
    /// `ASK <question>`, `EXPLAIN ASK <question>`, `ASK RESET`: for the session's resolver.
    Ask(Ask),
    /// `DECLARE … CURSOR`, `FETCH`, `CLOSE`: for the session's cursors.
    Cursor(CursorCommand),
}

/// A statement about a cursor.
#[derive(Debug, Clone, PartialEq)]
pub enum CursorCommand {
    Declare {
        name: String,
        query: Box<Statement>,
        /// `WITH HOLD`: the cursor outlives its transaction.
        hold: bool,
    },
    /// `FETCH [FORWARD] n | NEXT | ALL`: `count` is `None` for ALL.
    Fetch { name: String, count: Option<usize> },
    /// `CLOSE name`, or `CLOSE ALL` (`None`).
    Close(Option<String>),
}

/// A natural-language statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// `explain`: show the interpretation and its SQL instead of running it.
    Question { text: String, explain: bool },
    /// Forget the previous question, so the next one is not read as a follow-up.
    Reset,
}

/// How `COPY … TO STDOUT` writes rows, as PostgreSQL's options say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyFormat {
    Text {
        delimiter: char,
        null: String,
    },
    Csv {
        delimiter: char,
        null: String,
        header: bool,
    },
    Binary,
}

/// Commands a session answers by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCommand {
    Set {
        name: String,
        value: String,
    },
    Show(String),
    Reset(String),
    ResetAll,
    Begin,
    Commit,
    Rollback,
    DiscardAll,
    Deallocate(Option<String>),
    /// Commands about things semgate never has (notification channels), accepted as PostgreSQL would with none
    /// open; connection pools send them on release (asyncpg: `UNLISTEN *`). Holds the command tag.
    NothingToDo(&'static str),
}

/// How a wire's clients write statement parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParameterStyle {
    /// `$1, $2, …` only; a `?` is PostgreSQL's operator character (the PostgreSQL wire).
    Numbered,
    /// `?` in order of appearance, or `$n` (Flight SQL: ADBC, the Flight SQL JDBC and ODBC drivers send `?`).
    Positional,
}

/// The statement with positional `?` parameters numbered `$1, $2, …` in order of appearance (under
/// [`ParameterStyle::Positional`]). Only the `?` tokens change: quotes, comments and all other text stay as sent.
pub fn number_parameters(sql: &str, style: ParameterStyle) -> Result<std::borrow::Cow<'_, str>, RouteError> {
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
    if style == ParameterStyle::Numbered || !sql.contains('?') {
        return Ok(sql.into());
    }
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .map_err(|e| RouteError::Syntax(format!("syntax error: {}", e.message)))?;
    let numbered_too = tokens
        .iter()
        .any(|t| matches!(&t.token, Token::Placeholder(p) if p.starts_with('$')));
    let questions: Vec<usize> = tokens
        .iter()
        .filter(|t| t.token == Token::Question)
        .filter_map(|t| byte_offset(sql, t.span.start.line, t.span.start.column))
        .collect();
    if questions.is_empty() {
        return Ok(sql.into());
    }
    if numbered_too {
        return Err(RouteError::Syntax(
            "a statement's parameters are either all `?` or all `$n`, not both: number them $1, $2, … or use ? \
             throughout"
                .into(),
        ));
    }
    let mut numbered = String::with_capacity(sql.len() + questions.len() * 2);
    let mut copied = 0;
    for (i, at) in questions.into_iter().enumerate() {
        numbered.push_str(&sql[copied..at]);
        numbered.push_str(&format!("${}", i + 1));
        copied = at + 1;
    }
    numbered.push_str(&sql[copied..]);
    Ok(numbered.into())
}

/// The byte offset of a tokenizer location (1-based line and character column).
fn byte_offset(sql: &str, line: u64, column: u64) -> Option<usize> {
    let line_start = match line {
        0 => return None,
        1 => 0,
        _ => sql.match_indices('\n').nth(usize::try_from(line).ok()? - 2)?.0 + 1,
    };
    let column = usize::try_from(column).ok()?.checked_sub(1)?;
    sql[line_start..]
        .char_indices()
        .nth(column)
        .map(|(offset, _)| line_start + offset)
}

/// Split a client string into statements (respecting quotes, dollar quotes and comments) and route each.
pub fn route(sql: &str) -> Result<Vec<Routed>, RouteError> {
    split_statements(sql).into_iter().map(route_one).collect()
}

/// Route one statement (no top-level semicolons).
pub fn route_one(sql: &str) -> Result<Routed, RouteError> {
    if let Some(ask) = ask(sql) {
        return Ok(Routed::Ask(ask));
    }
    if let Some(command) = session_command(sql)? {
        return Ok(Routed::Command(command));
    }
    let mut statements = pg_compat::parse(sql).map_err(|e| RouteError::Syntax(syntax_message(e)))?;
    if statements.len() != 1 {
        return Err(RouteError::Syntax("expected exactly one statement".into()));
    }
    let statement = statements.remove(0);
    match &statement {
        Statement::Query(_) => Ok(Routed::Query(Box::new(statement))),
        Statement::Explain { statement: inner, .. } if matches!(inner.as_ref(), Statement::Query(_)) => {
            Ok(Routed::Query(Box::new(statement)))
        }
        Statement::Copy {
            source,
            to: true,
            target: CopyTarget::Stdout,
            options,
            legacy_options,
            ..
        } => {
            let query = match source {
                CopySource::Query(query) => Statement::Query(query.clone()),
                CopySource::Table { table_name, columns } => {
                    let columns = if columns.is_empty() {
                        "*".to_string()
                    } else {
                        columns.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                    };
                    let select = format!("SELECT {columns} FROM {table_name}");
                    pg_compat::parse(&select)
                        .map_err(|e| RouteError::Syntax(syntax_message(e)))?
                        .remove(0)
                }
            };
            Ok(Routed::CopyOut {
                query: Box::new(query),
                format: copy_format(options, legacy_options)?,
            })
        }
        Statement::Copy { to: true, .. } => Err(RouteError::Unsupported("COPY TO a file or program".into())),
        Statement::Declare { stmts } => match stmts.as_slice() {
            [
                Declare {
                    names,
                    declare_type: Some(DeclareType::Cursor),
                    for_query: Some(query),
                    hold,
                    scroll,
                    ..
                },
            ] if names.len() == 1 => {
                if *scroll == Some(true) {
                    return Err(RouteError::Unsupported(
                        "DECLARE … SCROLL CURSOR (cursors only move forward: declare it NO SCROLL)".into(),
                    ));
                }
                Ok(Routed::Cursor(CursorCommand::Declare {
                    name: names[0].value.clone(),
                    query: Box::new(Statement::Query(query.clone())),
                    hold: hold.unwrap_or(false),
                }))
            }
            _ => Err(RouteError::Unsupported("DECLARE other than one cursor".into())),
        },
        Statement::Fetch {
            name,
            direction,
            into: None,
            ..
        } => Ok(Routed::Cursor(CursorCommand::Fetch {
            name: name.value.clone(),
            count: fetch_count(direction)?,
        })),
        Statement::Close { cursor } => Ok(Routed::Cursor(CursorCommand::Close(match cursor {
            CloseCursor::All => None,
            CloseCursor::Specific { name } => Some(name.value.clone()),
        }))),
        other => {
            let keyword = first_words(&other.to_string());
            if is_write(&keyword) {
                Err(RouteError::ReadOnly(keyword))
            } else {
                Err(RouteError::Unsupported(keyword))
            }
        }
    }
}

/// How many rows a FETCH direction asks for (`None`: all); cursors only move forward.
fn fetch_count(direction: &FetchDirection) -> Result<Option<usize>, RouteError> {
    let number = |limit: &ValueWithSpan| match &limit.value {
        Value::Number(n, _) => n
            .parse::<usize>()
            .map_err(|_| RouteError::Syntax(format!("FETCH count must be a whole number of rows, not {n}"))),
        other => Err(RouteError::Syntax(format!("FETCH count must be a number, not {other}"))),
    };
    match direction {
        FetchDirection::Next | FetchDirection::Forward { limit: None } => Ok(Some(1)),
        FetchDirection::Count { limit } | FetchDirection::Forward { limit: Some(limit) } => number(limit).map(Some),
        FetchDirection::All | FetchDirection::ForwardAll => Ok(None),
        other => Err(RouteError::Unsupported(format!(
            "FETCH {other} (cursors only move forward: FETCH n, NEXT or ALL)"
        ))),
    }
}

fn copy_format(options: &[CopyOption], legacy: &[CopyLegacyOption]) -> Result<CopyFormat, RouteError> {
    let (mut kind, mut delimiter, mut null, mut header) = ("text".to_string(), None, None, false);
    for option in options {
        match option {
            CopyOption::Format(name) => kind = name.value.to_lowercase(),
            CopyOption::Delimiter(c) => delimiter = Some(*c),
            CopyOption::Null(text) => null = Some(text.clone()),
            CopyOption::Header(on) => header = *on,
            other => return Err(RouteError::Unsupported(format!("COPY option {other}"))),
        }
    }
    for option in legacy {
        match option {
            CopyLegacyOption::Binary => kind = "binary".into(),
            CopyLegacyOption::Csv(csv) => {
                kind = "csv".into();
                header |= csv.iter().any(|o| matches!(o, CopyLegacyCsvOption::Header));
            }
            CopyLegacyOption::Delimiter(c) => delimiter = Some(*c),
            CopyLegacyOption::Null(text) => null = Some(text.clone()),
            CopyLegacyOption::Header => header = true,
            other => return Err(RouteError::Unsupported(format!("COPY option {other}"))),
        }
    }
    match kind.as_str() {
        "text" => Ok(CopyFormat::Text {
            delimiter: delimiter.unwrap_or('\t'),
            null: null.unwrap_or_else(|| "\\N".into()),
        }),
        "csv" => Ok(CopyFormat::Csv {
            delimiter: delimiter.unwrap_or(','),
            null: null.unwrap_or_default(),
            header,
        }),
        "binary" => Ok(CopyFormat::Binary),
        other => Err(RouteError::Syntax(format!(
            "COPY format \"{other}\" not recognized; use text, csv or binary"
        ))),
    }
}

fn syntax_message(error: datafusion::sql::sqlparser::parser::ParserError) -> String {
    let text = error.to_string();
    let text = text.strip_prefix("sql parser error: ").unwrap_or(&text);
    format!("syntax error: {text}")
}

fn first_words(statement: &str) -> String {
    statement
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

fn is_write(keyword: &str) -> bool {
    const WRITES: [&str; 14] = [
        "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE", "COPY", "GRANT", "REVOKE",
        "VACUUM", "COMMENT", "REFRESH",
    ];
    WRITES.iter().any(|w| keyword.starts_with(w))
}

/// `[EXPLAIN] ASK question`, the question bare, in single quotes or in dollar quotes (psql needs those for an
/// apostrophe); the marker in any case.
fn ask(sql: &str) -> Option<Ask> {
    let (explain, rest) = match strip_keyword(sql, "explain") {
        Some(rest) => (true, rest),
        None => (false, sql),
    };
    let question = strip_keyword(rest, "ask")?.trim();
    if !explain && question.eq_ignore_ascii_case("reset") {
        return Some(Ask::Reset);
    }
    let tag = question.starts_with('$').then(|| dollar_tag(question)).flatten();
    let text = match tag {
        Some(n) if question.len() >= 2 * n && question.ends_with(&question[..n]) => &question[n..question.len() - n],
        _ if question.len() >= 2 && question.starts_with('\'') && question.ends_with('\'') => {
            return Some(Ask::Question {
                text: question[1..question.len() - 1].replace("''", "'"),
                explain,
            });
        }
        _ => question,
    };
    Some(Ask::Question {
        text: text.trim().to_string(),
        explain,
    })
}

/// `text` after a leading keyword (any case) that ends at whitespace, a quote or the end.
fn strip_keyword<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let text = text.trim_start();
    let head = text.get(..keyword.len())?;
    let rest = &text[keyword.len()..];
    let ends = rest.is_empty() || rest.starts_with(|c: char| c.is_whitespace() || c == '\'' || c == '$');
    (head.eq_ignore_ascii_case(keyword) && ends).then_some(rest)
}

/// Session commands have simple shapes; parsing them by hand accepts every spelling clients send.
fn session_command(sql: &str) -> Result<Option<SessionCommand>, RouteError> {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let Some(first) = words.first() else { return Ok(None) };
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let command = match first.to_lowercase().as_str() {
        "begin" | "start" => SessionCommand::Begin,
        "commit" | "end" => SessionCommand::Commit,
        "rollback" | "abort" => SessionCommand::Rollback,
        "discard" => SessionCommand::DiscardAll,
        "unlisten" => SessionCommand::NothingToDo("UNLISTEN"),
        "deallocate" => {
            let rest: Vec<&str> = words[1..]
                .iter()
                .copied()
                .filter(|w| !w.eq_ignore_ascii_case("prepare"))
                .collect();
            match rest.as_slice() {
                [] => return Err(RouteError::Syntax("DEALLOCATE needs a statement name or ALL".into())),
                [all] if all.eq_ignore_ascii_case("all") => SessionCommand::Deallocate(None),
                [name] => SessionCommand::Deallocate(Some(unquote(name))),
                _ => return Err(RouteError::Syntax("DEALLOCATE takes one name".into())),
            }
        }
        "show" => match lower.get(1).map(String::as_str) {
            None => return Err(RouteError::Syntax("SHOW needs a parameter name".into())),
            Some("all") => SessionCommand::Show("all".into()),
            Some("transaction") if lower.get(2).map(String::as_str) == Some("isolation") => {
                SessionCommand::Show("transaction_isolation".into())
            }
            Some("time") if lower.get(2).map(String::as_str) == Some("zone") => SessionCommand::Show("timezone".into()),
            Some(_) => SessionCommand::Show(unquote(words[1]).to_lowercase()),
        },
        "reset" => match lower.get(1).map(String::as_str) {
            None => return Err(RouteError::Syntax("RESET needs a parameter name or ALL".into())),
            Some("all") => SessionCommand::ResetAll,
            Some(_) => SessionCommand::Reset(unquote(words[1]).to_lowercase()),
        },
        "set" => return parse_set(&words[1..]).map(Some),
        _ => return Ok(None),
    };
    Ok(Some(command))
}

fn parse_set(words: &[&str]) -> Result<SessionCommand, RouteError> {
    let mut words = words;
    if let Some(scope) = words.first()
        && (scope.eq_ignore_ascii_case("session") || scope.eq_ignore_ascii_case("local"))
    {
        words = &words[1..];
    }
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    let (name, value_words) = match lower.as_slice() {
        ["time", "zone", ..] => ("timezone".to_string(), &words[2..]),
        ["names", ..] => ("client_encoding".to_string(), &words[1..]),
        ["transaction" | "characteristics", ..] | ["session", "characteristics", ..] => {
            return Ok(SessionCommand::Set {
                name: "transaction".into(),
                value: words[1..].join(" "),
            });
        }
        [] => return Err(RouteError::Syntax("SET needs a parameter name".into())),
        _ => {
            // `name = value`, `name TO value`, and `name=value` without spaces.
            let joined = words.join(" ");
            let (name, value) = match joined.split_once('=') {
                Some((n, v)) if !n.trim().contains(' ') => (n.trim().to_string(), v.trim().to_string()),
                _ => match words {
                    [n, to, rest @ ..] if to.eq_ignore_ascii_case("to") => (n.to_string(), rest.join(" ")),
                    _ => return Err(RouteError::Syntax(format!("syntax error in SET: {joined}"))),
                },
            };
            return Ok(SessionCommand::Set {
                name: unquote(&name).to_lowercase(),
                value: set_value(&value),
            });
        }
    };
    Ok(SessionCommand::Set {
        name,
        value: set_value(&value_words.join(" ")),
    })
}

/// `'a', 'b'` → `a, b`; `DEFAULT` stays as it is (the session resets it).
fn set_value(value: &str) -> String {
    value
        .split(',')
        .map(|v| unquote(v.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unquote(text: &str) -> String {
    let text = text.trim();
    for quote in ['\'', '"'] {
        if text.len() >= 2 && text.starts_with(quote) && text.ends_with(quote) {
            return text[1..text.len() - 1].replace(&format!("{quote}{quote}"), &quote.to_string());
        }
    }
    text.to_string()
}

/// Split at top-level semicolons; empty statements are dropped.
pub fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                let quote = bytes[i];
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == quote {
                        if bytes.get(i + 1) == Some(&quote) {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'$' => {
                if let Some(tag_len) = dollar_tag(&sql[i..]) {
                    let tag = &sql[i..i + tag_len];
                    match sql[i + tag_len..].find(tag) {
                        Some(end) => i += tag_len + end + tag_len - 1,
                        None => i = bytes.len(),
                    }
                }
            }
            b';' => {
                statements.push(&sql[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    statements.push(&sql[start.min(sql.len())..]);
    statements.into_iter().filter(|s| !is_blank(s)).map(str::trim).collect()
}

/// The length of a `$tag$` opening at the start of `text`, if any.
fn dollar_tag(text: &str) -> Option<usize> {
    let rest = &text[1..];
    let end = rest.find('$')?;
    let tag = &rest[..end];
    (tag.chars().all(|c| c.is_alphanumeric() || c == '_') && !tag.starts_with(|c: char| c.is_ascii_digit()))
        .then_some(end + 2)
}

/// Only whitespace and comments.
fn is_blank(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map(|(_, r)| r).unwrap_or("").trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map(|(_, r)| r).unwrap_or("").trim_start();
        } else {
            return rest.is_empty();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_positional_parameters_only_where_asked() {
        let positional = |sql| number_parameters(sql, ParameterStyle::Positional).map(|s| s.into_owned());
        assert_eq!(
            positional("SELECT a FROM t WHERE b = ? AND c > ?").unwrap(),
            "SELECT a FROM t WHERE b = $1 AND c > $2"
        );
        // Inside strings, quoted names and comments a `?` is text; line breaks and multi-byte text keep offsets.
        assert_eq!(
            positional("SELECT '?', \"a?\" -- why?\n, ? /* ? */ FROM t WHERE x = 'é' AND y = ?").unwrap(),
            "SELECT '?', \"a?\" -- why?\n, $1 /* ? */ FROM t WHERE x = 'é' AND y = $2"
        );
        assert_eq!(positional("SELECT $1").unwrap(), "SELECT $1");
        assert!(matches!(positional("SELECT ?, $1"), Err(RouteError::Syntax(_))));
        assert_eq!(
            number_parameters("SELECT ?", ParameterStyle::Numbered).unwrap(),
            "SELECT ?"
        );
    }

    #[test]
    fn copy_formats_as_postgres_reads_them() {
        let format = |sql: &str| match route_one(sql) {
            Ok(Routed::CopyOut { format, .. }) => Ok(format),
            Ok(other) => panic!("{sql} routed as {other:?}"),
            Err(e) => Err(e),
        };
        assert_eq!(
            format("COPY (SELECT 1) TO STDOUT WITH (FORMAT csv, DELIMITER '|', HEADER)").unwrap(),
            CopyFormat::Csv {
                delimiter: '|',
                null: String::new(),
                header: true
            }
        );
        assert_eq!(
            format("COPY sales TO STDOUT").unwrap(),
            CopyFormat::Text {
                delimiter: '\t',
                null: "\\N".into()
            }
        );
        // The parser takes one byte only, as PostgreSQL does (the wire writes the delimiter as that byte).
        let multibyte = format("COPY sales TO STDOUT WITH (DELIMITER 'é')").unwrap_err();
        assert!(matches!(multibyte, RouteError::Syntax(_)), "{multibyte}");
    }

    #[test]
    fn splits_outside_quotes_and_comments() {
        let parts = split_statements("SELECT ';'; -- a;b\nSELECT $$x;y$$ ; /* c;d */ SELECT \"a;b\";;");
        assert_eq!(
            parts,
            vec!["SELECT ';'", "-- a;b\nSELECT $$x;y$$", "/* c;d */ SELECT \"a;b\""]
        );
    }

    #[test]
    fn parses_set_spellings() {
        let set = |sql: &str| session_command(sql).unwrap().unwrap();
        assert_eq!(
            set("SET extra_float_digits = 3"),
            SessionCommand::Set {
                name: "extra_float_digits".into(),
                value: "3".into()
            }
        );
        assert_eq!(
            set("SET application_name TO 'psql'"),
            SessionCommand::Set {
                name: "application_name".into(),
                value: "psql".into()
            }
        );
        assert_eq!(
            set("set TIME ZONE 'UTC'"),
            SessionCommand::Set {
                name: "timezone".into(),
                value: "UTC".into()
            }
        );
        assert_eq!(
            set("SET SESSION search_path='public'"),
            SessionCommand::Set {
                name: "search_path".into(),
                value: "public".into()
            }
        );
        assert_eq!(
            set("SHOW TRANSACTION ISOLATION LEVEL"),
            SessionCommand::Show("transaction_isolation".into())
        );
        assert_eq!(
            set("DEALLOCATE PREPARE s1"),
            SessionCommand::Deallocate(Some("s1".into()))
        );
    }

    #[test]
    fn reads_ask_in_every_quoting() {
        let question = |text: &str, explain| {
            Routed::Ask(Ask::Question {
                text: text.into(),
                explain,
            })
        };
        let routed = |sql: &str| route_one(sql).unwrap();
        assert_eq!(routed("ASK revenue by region"), question("revenue by region", false));
        assert_eq!(routed("ask 'what''s up'"), question("what's up", false));
        assert_eq!(routed("Ask $$what's the aov?$$"), question("what's the aov?", false));
        assert_eq!(routed("ASK $q$top 5$q$"), question("top 5", false));
        assert_eq!(routed("explain ASK top 5 nations"), question("top 5 nations", true));
        assert_eq!(routed("ASK reset"), Routed::Ask(Ask::Reset));
        assert!(matches!(routed("SELECT 1 AS ask"), Routed::Query(_)));
        assert!(matches!(routed("EXPLAIN SELECT 1"), Routed::Query(_)));
        assert!(route_one("ASKING 1").is_err());
    }

    #[test]
    fn routes_cursor_statements() {
        let declare = route_one(r#"declare "SQL_CUR1" cursor with hold for SELECT region FROM sales"#).unwrap();
        assert!(
            matches!(&declare, Routed::Cursor(CursorCommand::Declare { name, hold: true, .. }) if name == "SQL_CUR1"),
            "{declare:?}"
        );
        let fetch = |sql| match route_one(sql) {
            Ok(Routed::Cursor(CursorCommand::Fetch { count, .. })) => Ok(count),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e.to_string()),
        };
        assert_eq!(fetch(r#"fetch 100 in "SQL_CUR1""#), Ok(Some(100)));
        assert_eq!(fetch("FETCH FORWARD 5 FROM c"), Ok(Some(5)));
        assert_eq!(fetch("FETCH NEXT FROM c"), Ok(Some(1)));
        assert_eq!(fetch("FETCH ALL FROM c"), Ok(None));
        assert!(
            fetch("FETCH BACKWARD 1 FROM c")
                .unwrap_err()
                .contains("only move forward")
        );
        assert_eq!(
            route_one("CLOSE ALL").unwrap(),
            Routed::Cursor(CursorCommand::Close(None))
        );
        assert_eq!(
            route_one("close c").unwrap(),
            Routed::Cursor(CursorCommand::Close(Some("c".into())))
        );
    }

    #[test]
    fn refuses_writes_as_read_only() {
        for sql in [
            "INSERT INTO sales VALUES (1)",
            "DROP TABLE sales",
            "CREATE TABLE t (a int)",
            "UPDATE sales SET a = 1",
        ] {
            assert!(matches!(route_one(sql), Err(RouteError::ReadOnly(_))), "{sql}");
        }
        assert!(matches!(route_one("SELEC 1"), Err(RouteError::Syntax(_))));
    }
}
