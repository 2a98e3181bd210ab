//! PostgreSQL's datetime template functions — `to_date(text, text)`, `to_timestamp(text, text)`,
//! `to_timestamp(double precision)` and `to_char(date | timestamp | timestamptz, text)` — in place of DataFusion's
//! functions of these names, which read chrono formats (`%Y-%m-%d`) where PostgreSQL clients send templates
//! (`YYYY-MM-DD`): Superset's time-range filter is `order_date >= TO_DATE('1996-01-01', 'YYYY-MM-DD')`, and BI tools
//! bucket months with `to_char(order_date, 'YYYY-MM')`.
//!
//! The rules are PostgreSQL 15's (`formatting.c`), leniency included: when reading, a separator in the template
//! matches any one separator or none, a number may be shorter than its field when a non-digit follows, missing fields
//! take their defaults (January 1 of 1 BC, midnight), text after the template is ignored; a template character that
//! is no pattern is printed as is. The tests hold PostgreSQL 15's answers. The session time zone is always UTC here,
//! so `timestamptz` is `Timestamp(Microsecond, "+00:00")` and `TZ` prints `UTC`.
//!
//! The forms PostgreSQL does not have (`to_date(text)`, `to_timestamp(text)`, several chrono formats, `to_char` of a
//! time or a duration) still reach DataFusion's own functions.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Date32Array, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use datafusion::common::{Result, exec_err};
use datafusion::error::DataFusionError;
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature};
use datafusion::prelude::SessionContext;

/// Replace DataFusion's `to_date`, `to_timestamp` and `to_char` by PostgreSQL's; the forms PostgreSQL does not have
/// are still answered by DataFusion's.
pub fn register(ctx: &SessionContext) -> Result<()> {
    for function in [Function::Date, Function::Timestamp, Function::Char] {
        let datafusion = FunctionRegistry::udf(ctx, function.name())?;
        ctx.register_udf(ScalarUDF::from(TemplateFunction { function, datafusion }));
    }
    Ok(())
}

/// Why an input string or a template could not be used, with PostgreSQL's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatetimeFormatError {
    /// The input does not fit the template.
    #[error("{0}")]
    InvalidFormat(String),
    /// A field, or the result, is out of range.
    #[error("{0}")]
    OutOfRange(String),
    /// A `TZH`/`TZM` offset beyond ±15:59.
    #[error("time zone displacement out of range: \"{0}\"")]
    TimeZoneDisplacement(String),
    /// `TZ`, `tz` and `OF` only print: PostgreSQL 15 cannot read them.
    #[error("formatting field \"{0}\" is only supported in to_char")]
    OnlyInToChar(&'static str),
}

impl DatetimeFormatError {
    pub fn sqlstate(&self) -> &'static str {
        match self {
            Self::InvalidFormat(_) => "22007",
            Self::OutOfRange(_) => "22008",
            Self::TimeZoneDisplacement(_) => "22009",
            Self::OnlyInToChar(_) => "0A000",
        }
    }

    fn field_overflow(input: &str) -> Self {
        Self::OutOfRange(format!("date/time field value out of range: \"{input}\""))
    }

    fn invalid_value(value: &[u8], name: &str) -> Self {
        Self::InvalidFormat(format!(
            "invalid value \"{}\" for \"{name}\"",
            String::from_utf8_lossy(value)
        ))
    }
}

type Outcome<T> = std::result::Result<T, DatetimeFormatError>;

// ---------------------------------------------------------------------------------------------------------------
// Calendar: proleptic Gregorian days as Julian day numbers, years astronomical (0 is 1 BC) as PostgreSQL keeps them.

const UNIX_EPOCH_JULIAN: i64 = 2_440_588;
const POSTGRES_EPOCH_JULIAN: i64 = 2_451_545;
const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;
/// PostgreSQL counts timestamps in microseconds from 2000-01-01; this is that day in Unix microseconds.
const POSTGRES_EPOCH_MICROS: i64 = (POSTGRES_EPOCH_JULIAN - UNIX_EPOCH_JULIAN) * MICROS_PER_DAY;
/// PostgreSQL's first day (4714-11-24 BC) and the days just after its last date and its last timestamp.
const FIRST_JULIAN: i64 = 0;
const DATE_END_JULIAN: i64 = 2_147_483_494;
const TIMESTAMP_END_JULIAN: i64 = 109_203_528;
/// PostgreSQL's timestamp range in its own microseconds.
const MIN_TIMESTAMP: i64 = (FIRST_JULIAN - POSTGRES_EPOCH_JULIAN) * MICROS_PER_DAY;
const END_TIMESTAMP: i64 = (TIMESTAMP_END_JULIAN - POSTGRES_EPOCH_JULIAN) * MICROS_PER_DAY;
/// What a `timestamptz` prints for `TZ`: the session time zone, always UTC in semgate.
const SESSION_ZONE: &str = "UTC";
/// Arrow's spelling of that zone for `timestamptz` results.
const SESSION_OFFSET: &str = "+00:00";

/// Julian day of a date; days past the end of the month run on into the next one, as in PostgreSQL's `date2j`.
/// `month` is 1 to 12.
fn julian_day(year: i64, month: i64, day: i64) -> i64 {
    // Howard Hinnant's days_from_civil: years start in March, so that February's length does not matter.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468 + UNIX_EPOCH_JULIAN
}

/// (year, month, day) of a Julian day.
fn civil_date(julian: i64) -> (i64, i64, i64) {
    let days = julian - UNIX_EPOCH_JULIAN + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_based_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_based_month + 2) / 5 + 1;
    let month = if march_based_month < 10 {
        march_based_month + 3
    } else {
        march_based_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days before each month, and in the year (index 12), for common and leap years.
const DAYS_BEFORE_MONTH: [[i64; 13]; 2] = [
    [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365],
    [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366],
];

fn days_before_month(year: i64) -> &'static [i64; 13] {
    &DAYS_BEFORE_MONTH[usize::from(is_leap(year))]
}

/// Day of the week, 0 for Sunday.
fn weekday(julian: i64) -> i64 {
    (julian + 1).rem_euclid(7)
}

/// The Monday that starts ISO week `week` of ISO year `year` (week 1 holds January 4).
fn iso_week_start(year: i64, week: i64) -> i64 {
    let january_4 = julian_day(year, 1, 4);
    january_4 - january_4.rem_euclid(7) + (week - 1) * 7
}

/// The ISO year a day belongs to, given its calendar year.
fn iso_year(julian: i64, year: i64) -> i64 {
    if julian < iso_week_start(year, 1) {
        year - 1
    } else if julian >= iso_week_start(year + 1, 1) {
        year + 1
    } else {
        year
    }
}

/// Whether PostgreSQL's Julian-day arithmetic accepts the year and month (4714-11 BC to 5874898-05).
fn is_valid_julian(year: i64, month: i64) -> bool {
    (year > -4713 || (year == -4713 && month >= 11)) && (year < 5_874_898 || (year == 5_874_898 && month < 6))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTH_ABBREVIATIONS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const DAY_ABBREVIATIONS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
/// Months in Roman numerals from December back, so that reading tries `viii` before `v`.
const ROMAN_MONTHS: [&str; 12] = ["xii", "xi", "x", "ix", "viii", "vii", "vi", "v", "iv", "iii", "ii", "i"];

// ---------------------------------------------------------------------------------------------------------------
// Templates.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Upper,
    Capitalized,
    Lower,
}

impl Case {
    /// `word`, written in its capitalized form, in this case.
    fn apply(self, word: &str) -> String {
        match self {
            Case::Upper => word.to_ascii_uppercase(),
            Case::Capitalized => word.to_string(),
            Case::Lower => word.to_ascii_lowercase(),
        }
    }
}

/// What a template pattern stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// AM, PM, A.M., P.M. (either spelling prints the right one).
    Meridiem {
        dotted: bool,
        case: Case,
    },
    /// AD, BC, A.D., B.C.
    Era {
        dotted: bool,
        case: Case,
    },
    Century,
    DayName {
        case: Case,
        abbreviated: bool,
    },
    DayOfYear,
    IsoDayOfYear,
    DayOfMonth,
    /// 1 (Sunday) to 7.
    DayOfWeek,
    /// 1 (Monday) to 7.
    IsoDayOfWeek,
    /// FF1 to FF6: that many digits of the second's fraction.
    Fraction(u8),
    /// FX: from here on, read the input exactly as the template lays it out.
    FixedFormat,
    Hour12,
    Hour24,
    IsoWeek,
    /// IYYY, IYY, IY, I: the last digits of the ISO year.
    IsoYear(u8),
    Julian,
    Minute,
    Month,
    MonthName {
        case: Case,
        abbreviated: bool,
    },
    Millisecond,
    Microsecond,
    /// OF: the offset from UTC, `+00`.
    UtcOffset,
    Quarter,
    RomanMonth {
        case: Case,
    },
    SecondOfDay,
    Second,
    TimeZoneHours,
    TimeZoneMinutes,
    TimeZoneName {
        case: Case,
    },
    WeekOfYear,
    WeekOfMonth,
    /// Y,YYY
    YearWithComma,
    /// YYYY, YYY, YY, Y: the last digits of the year.
    Year(u8),
}

/// Which calendar a date field belongs to: a template may not mix ISO week dates with Gregorian ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Convention {
    #[default]
    Either,
    Gregorian,
    IsoWeek,
}

impl Field {
    /// Whether the field reads digits, so that a field before it must keep to its width.
    fn reads_digits(self) -> bool {
        !matches!(
            self,
            Field::Meridiem { .. }
                | Field::Era { .. }
                | Field::DayName { .. }
                | Field::MonthName { .. }
                | Field::RomanMonth { .. }
                | Field::FixedFormat
                | Field::UtcOffset
                | Field::TimeZoneHours
                | Field::TimeZoneName { .. }
        )
    }

    /// Whether a TH/th suffix applies: to numbers, except the time zone's minutes, as in PostgreSQL.
    fn takes_ordinal(self) -> bool {
        self.reads_digits() && self != Field::TimeZoneMinutes
    }

    fn convention(self) -> Convention {
        match self {
            Field::DayOfYear
            | Field::DayOfMonth
            | Field::DayOfWeek
            | Field::Month
            | Field::MonthName { .. }
            | Field::RomanMonth { .. }
            | Field::WeekOfYear
            | Field::WeekOfMonth
            | Field::YearWithComma
            | Field::Year(_) => Convention::Gregorian,
            Field::IsoDayOfYear | Field::IsoDayOfWeek | Field::IsoWeek | Field::IsoYear(_) => Convention::IsoWeek,
            _ => Convention::Either,
        }
    }
}

/// PostgreSQL's patterns in its order of preference: the first that starts the template wins (`HH24` before `HH`,
/// `DDD` before `DD`). Case matters only where the table says so (`Month`, `MONTH`, `month`).
#[rustfmt::skip]
const PATTERNS: &[(&str, Field)] = {
    use Case::{Capitalized, Lower, Upper};
    use Field::*;
    &[
        ("A.D.", Era { dotted: true, case: Upper }),
        ("A.M.", Meridiem { dotted: true, case: Upper }),
        ("AD", Era { dotted: false, case: Upper }),
        ("AM", Meridiem { dotted: false, case: Upper }),
        ("B.C.", Era { dotted: true, case: Upper }),
        ("BC", Era { dotted: false, case: Upper }),
        ("CC", Century),
        ("DAY", DayName { case: Upper, abbreviated: false }),
        ("DDD", DayOfYear),
        ("DD", DayOfMonth),
        ("DY", DayName { case: Upper, abbreviated: true }),
        ("Day", DayName { case: Capitalized, abbreviated: false }),
        ("Dy", DayName { case: Capitalized, abbreviated: true }),
        ("D", DayOfWeek),
        ("FF1", Fraction(1)),
        ("FF2", Fraction(2)),
        ("FF3", Fraction(3)),
        ("FF4", Fraction(4)),
        ("FF5", Fraction(5)),
        ("FF6", Fraction(6)),
        ("FX", FixedFormat),
        ("HH24", Hour24),
        ("HH12", Hour12),
        ("HH", Hour12),
        ("IDDD", IsoDayOfYear),
        ("ID", IsoDayOfWeek),
        ("IW", IsoWeek),
        ("IYYY", IsoYear(4)),
        ("IYY", IsoYear(3)),
        ("IY", IsoYear(2)),
        ("I", IsoYear(1)),
        ("J", Julian),
        ("MI", Minute),
        ("MM", Month),
        ("MONTH", MonthName { case: Upper, abbreviated: false }),
        ("MON", MonthName { case: Upper, abbreviated: true }),
        ("MS", Millisecond),
        ("Month", MonthName { case: Capitalized, abbreviated: false }),
        ("Mon", MonthName { case: Capitalized, abbreviated: true }),
        ("OF", UtcOffset),
        ("P.M.", Meridiem { dotted: true, case: Upper }),
        ("PM", Meridiem { dotted: false, case: Upper }),
        ("Q", Quarter),
        ("RM", RomanMonth { case: Upper }),
        ("SSSSS", SecondOfDay),
        ("SSSS", SecondOfDay),
        ("SS", Second),
        ("TZH", TimeZoneHours),
        ("TZM", TimeZoneMinutes),
        ("TZ", TimeZoneName { case: Upper }),
        ("US", Microsecond),
        ("WW", WeekOfYear),
        ("W", WeekOfMonth),
        ("Y,YYY", YearWithComma),
        ("YYYY", Year(4)),
        ("YYY", Year(3)),
        ("YY", Year(2)),
        ("Y", Year(1)),
        ("a.d.", Era { dotted: true, case: Lower }),
        ("a.m.", Meridiem { dotted: true, case: Lower }),
        ("ad", Era { dotted: false, case: Lower }),
        ("am", Meridiem { dotted: false, case: Lower }),
        ("b.c.", Era { dotted: true, case: Lower }),
        ("bc", Era { dotted: false, case: Lower }),
        ("cc", Century),
        ("day", DayName { case: Lower, abbreviated: false }),
        ("ddd", DayOfYear),
        ("dd", DayOfMonth),
        ("dy", DayName { case: Lower, abbreviated: true }),
        ("d", DayOfWeek),
        ("ff1", Fraction(1)),
        ("ff2", Fraction(2)),
        ("ff3", Fraction(3)),
        ("ff4", Fraction(4)),
        ("ff5", Fraction(5)),
        ("ff6", Fraction(6)),
        ("fx", FixedFormat),
        ("hh24", Hour24),
        ("hh12", Hour12),
        ("hh", Hour12),
        ("iddd", IsoDayOfYear),
        ("id", IsoDayOfWeek),
        ("iw", IsoWeek),
        ("iyyy", IsoYear(4)),
        ("iyy", IsoYear(3)),
        ("iy", IsoYear(2)),
        ("i", IsoYear(1)),
        ("j", Julian),
        ("mi", Minute),
        ("mm", Month),
        ("month", MonthName { case: Lower, abbreviated: false }),
        ("mon", MonthName { case: Lower, abbreviated: true }),
        ("ms", Millisecond),
        ("of", UtcOffset),
        ("p.m.", Meridiem { dotted: true, case: Lower }),
        ("pm", Meridiem { dotted: false, case: Lower }),
        ("q", Quarter),
        ("rm", RomanMonth { case: Lower }),
        ("sssss", SecondOfDay),
        ("ssss", SecondOfDay),
        ("ss", Second),
        ("tzh", TimeZoneHours),
        ("tzm", TimeZoneMinutes),
        ("tz", TimeZoneName { case: Lower }),
        ("us", Microsecond),
        ("ww", WeekOfYear),
        ("w", WeekOfMonth),
        ("y,yyy", YearWithComma),
        ("yyyy", Year(4)),
        ("yyy", Year(3)),
        ("yy", Year(2)),
        ("y", Year(1)),
    ]
};

/// A pattern of a template with its modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pattern {
    /// As the pattern table spells it; errors name it so.
    name: &'static str,
    field: Field,
    /// FM: numbers without leading zeros, names without trailing blanks; when reading, numbers of any width.
    fill_mode: bool,
    /// TM: month and day names as the locale spells them, which for semgate is English without padding.
    translate: bool,
    /// TH or th: an ordinal suffix after a number (`1st`, `22ND`).
    ordinal: Option<Case>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Pattern(Pattern),
    /// An ASCII punctuation character or a space, outside quotes: printed; when reading, it matches one separator
    /// or space of the input, or nothing.
    Separator(char),
    /// Any other character (letters that start no pattern, quoted text): printed; when reading, it skips one
    /// character of the input whatever that is.
    Text(char),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template {
    nodes: Vec<Node>,
}

impl Template {
    /// Read a template as PostgreSQL does; no template is invalid (what is not a pattern is text).
    fn new(text: &str) -> Self {
        let mut nodes = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            // One prefix modifier; it is dropped when no pattern follows, as in PostgreSQL.
            let (fill_mode, translate) = match rest.get(..2) {
                Some("FM" | "fm") => (true, false),
                Some("TM" | "tm") => (false, true),
                _ => (false, false),
            };
            if fill_mode || translate {
                rest = rest.get(2..).unwrap_or_default();
            }
            if let Some((name, field)) = PATTERNS.iter().find(|(name, _)| rest.starts_with(*name)) {
                rest = rest.get(name.len()..).unwrap_or_default();
                let ordinal = match rest.get(..2) {
                    Some("TH") => Some(Case::Upper),
                    Some("th") => Some(Case::Lower),
                    _ => None,
                };
                // SP (spell mode) is accepted and, as in PostgreSQL, does nothing.
                if ordinal.is_some() || rest.get(..2) == Some("SP") {
                    rest = rest.get(2..).unwrap_or_default();
                }
                nodes.push(Node::Pattern(Pattern {
                    name,
                    field: *field,
                    fill_mode,
                    translate,
                    ordinal,
                }));
            } else if let Some(quoted) = rest.strip_prefix('"') {
                // Quoted text; a backslash takes the next character literally.
                let mut chars = quoted.chars();
                rest = "";
                while let Some(c) = chars.next() {
                    match c {
                        '"' => {
                            rest = chars.as_str();
                            break;
                        }
                        '\\' => nodes.push(Node::Text(chars.next().unwrap_or('\\'))),
                        c => nodes.push(Node::Text(c)),
                    }
                }
            } else {
                // Outside quotes a backslash only escapes a double quote.
                let unescaped = rest.strip_prefix('\\').filter(|r| r.starts_with('"')).unwrap_or(rest);
                let mut chars = unescaped.chars();
                let Some(c) = chars.next() else { break };
                rest = chars.as_str();
                nodes.push(if c.is_ascii() && (is_separator(c as u8) || is_c_space(c as u8)) {
                    Node::Separator(c)
                } else {
                    Node::Text(c)
                });
            }
        }
        Self { nodes }
    }

    /// Whether the number at `index` may be read to its end rather than to its width: what follows it cannot be a
    /// digit.
    fn is_followed_by_non_digit(&self, index: usize) -> bool {
        if let Some(Node::Pattern(Pattern { ordinal: Some(_), .. })) = self.nodes.get(index) {
            return true;
        }
        match self.nodes.get(index + 1) {
            None => true,
            Some(Node::Pattern(pattern)) => !pattern.field.reads_digits(),
            Some(Node::Separator(c) | Node::Text(c)) => !c.is_ascii_digit(),
        }
    }
}

/// C's `isspace`, which PostgreSQL uses to skip blanks.
fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// ASCII punctuation: what a template separator matches.
fn is_separator(byte: u8) -> bool {
    byte.is_ascii_graphic() && !byte.is_ascii_alphanumeric()
}

// ---------------------------------------------------------------------------------------------------------------
// to_char

/// A date or timestamp to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Moment {
    julian: i64,
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micros: i64,
    /// What `TZ` prints: the session zone for `timestamptz` (and `date`, which PostgreSQL prints as one), nothing
    /// for `timestamp`.
    zone: Option<&'static str>,
}

impl Moment {
    /// Microseconds since 1970-01-01 00:00 (UTC for `timestamptz`).
    fn from_micros(micros: i64, zone: Option<&'static str>) -> Self {
        let julian = micros.div_euclid(MICROS_PER_DAY) + UNIX_EPOCH_JULIAN;
        let of_day = micros.rem_euclid(MICROS_PER_DAY);
        let (year, month, day) = civil_date(julian);
        let seconds = of_day / MICROS_PER_SECOND;
        Self {
            julian,
            year,
            month,
            day,
            hour: seconds / 3600,
            minute: seconds / 60 % 60,
            second: seconds % 60,
            micros: of_day % MICROS_PER_SECOND,
            zone,
        }
    }

    /// The year as printed, counting BC years up from 1.
    fn year_of_era(year: i64) -> i64 {
        if year <= 0 { 1 - year } else { year }
    }

    fn day_of_year(&self) -> i64 {
        self.julian - julian_day(self.year, 1, 1) + 1
    }

    fn iso_year(&self) -> i64 {
        iso_year(self.julian, self.year)
    }
}

impl Template {
    /// `to_char`: the moment printed by this template.
    fn format(&self, moment: &Moment) -> String {
        let mut out = String::new();
        for node in &self.nodes {
            match node {
                Node::Pattern(pattern) => pattern.format(moment, &mut out),
                Node::Separator(c) | Node::Text(c) => out.push(*c),
            }
        }
        out
    }
}

impl Pattern {
    fn format(&self, m: &Moment, out: &mut String) {
        let number = |value: i64, width: usize| {
            if self.fill_mode {
                value.to_string()
            } else {
                format!("{value:0width$}")
            }
        };
        let pad = |text: String, width: usize| {
            if self.fill_mode {
                text
            } else {
                format!("{text:<width$}")
            }
        };
        // Full names are blank-padded to the longest one, unless FM or TM.
        let full_name = |name: &str, case: Case| {
            if self.translate {
                case.apply(name)
            } else {
                pad(case.apply(name), 9)
            }
        };
        let fraction = |digits: u32| format!("{:0width$}", m.micros / 10_i64.pow(6 - digits), width = digits as usize);
        let text = match self.field {
            Field::Meridiem { dotted, case } => case.apply(match (m.hour >= 12, dotted) {
                (false, false) => "am",
                (true, false) => "pm",
                (false, true) => "a.m.",
                (true, true) => "p.m.",
            }),
            Field::Era { dotted, case } => case.apply(match (m.year <= 0, dotted) {
                (false, false) => "ad",
                (true, false) => "bc",
                (false, true) => "a.d.",
                (true, true) => "b.c.",
            }),
            Field::Century => {
                let century = if m.year > 0 {
                    (m.year - 1) / 100 + 1
                } else {
                    m.year / 100 - 1
                };
                match century {
                    -99..=-1 => number(century, 3),
                    0..=99 => number(century, 2),
                    _ => century.to_string(),
                }
            }
            Field::DayName {
                case,
                abbreviated: true,
            } => case.apply(DAY_ABBREVIATIONS[weekday(m.julian) as usize]),
            Field::DayName {
                case,
                abbreviated: false,
            } => full_name(DAYS[weekday(m.julian) as usize], case),
            Field::DayOfYear => number(m.day_of_year(), 3),
            Field::IsoDayOfYear => number(m.julian - iso_week_start(m.iso_year(), 1) + 1, 3),
            Field::DayOfMonth => number(m.day, 2),
            Field::DayOfWeek => (weekday(m.julian) + 1).to_string(),
            Field::IsoDayOfWeek => (m.julian.rem_euclid(7) + 1).to_string(),
            Field::Fraction(digits) => fraction(u32::from(digits)),
            Field::Millisecond => fraction(3),
            Field::Microsecond => fraction(6),
            Field::FixedFormat => String::new(),
            Field::Hour12 => number(if m.hour % 12 == 0 { 12 } else { m.hour % 12 }, 2),
            Field::Hour24 => number(m.hour, 2),
            Field::IsoWeek => number((m.julian - iso_week_start(m.iso_year(), 1)) / 7 + 1, 2),
            Field::IsoYear(digits) => last_digits(Moment::year_of_era(m.iso_year()), digits, &number),
            Field::Julian => m.julian.to_string(),
            Field::Minute => number(m.minute, 2),
            Field::Month => number(m.month, 2),
            Field::MonthName {
                case,
                abbreviated: true,
            } => case.apply(MONTH_ABBREVIATIONS[(m.month - 1) as usize]),
            Field::MonthName {
                case,
                abbreviated: false,
            } => full_name(MONTHS[(m.month - 1) as usize], case),
            // The offset from UTC is always 0: timestamptz values print in the session zone, UTC.
            Field::UtcOffset => format!("+{}", number(0, 2)),
            Field::TimeZoneHours => "+00".to_string(),
            Field::TimeZoneMinutes => "00".to_string(),
            Field::TimeZoneName { case } => m.zone.map(|zone| case.apply(zone)).unwrap_or_default(),
            Field::Quarter => ((m.month - 1) / 3 + 1).to_string(),
            Field::RomanMonth { case } => pad(case.apply(ROMAN_MONTHS[(12 - m.month) as usize]), 4),
            Field::SecondOfDay => (m.hour * 3600 + m.minute * 60 + m.second).to_string(),
            Field::Second => number(m.second, 2),
            Field::WeekOfYear => number((m.day_of_year() - 1) / 7 + 1, 2),
            Field::WeekOfMonth => ((m.day - 1) / 7 + 1).to_string(),
            Field::YearWithComma => {
                let year = Moment::year_of_era(m.year);
                format!("{},{:03}", year / 1000, year % 1000)
            }
            Field::Year(digits) => last_digits(Moment::year_of_era(m.year), digits, &number),
        };
        out.push_str(&text);
        if self.field.takes_ordinal()
            && let Some(case) = self.ordinal
        {
            out.push_str(&case.apply(ordinal_suffix(&text)));
        }
    }
}

/// YYYY prints the whole year (at least 4 digits), YYY, YY and Y its last digits.
fn last_digits(year: i64, digits: u8, number: &dyn Fn(i64, usize) -> String) -> String {
    match digits {
        4 => number(year, 4),
        3 => number(year % 1000, 3),
        2 => number(year % 100, 2),
        _ => (year % 10).to_string(),
    }
}

/// English ordinal suffix of a printed number: 1st, 2nd, 3rd, but 11th to 13th.
fn ordinal_suffix(number: &str) -> &'static str {
    let mut digits = number.bytes().rev();
    match (digits.next(), digits.next()) {
        (_, Some(b'1')) => "th",
        (Some(b'1'), _) => "st",
        (Some(b'2'), _) => "nd",
        (Some(b'3'), _) => "rd",
        _ => "th",
    }
}

// ---------------------------------------------------------------------------------------------------------------
// to_date, to_timestamp

/// The fields read from an input string (PostgreSQL's `TmFromChar`): 0 means "not given", as there.
#[derive(Debug, Default)]
struct ReadFields {
    convention: Convention,
    hour: i64,
    pm: i64,
    twelve_hour_clock: bool,
    minute: i64,
    second: i64,
    second_of_day: i64,
    millisecond: i64,
    microsecond: i64,
    /// The precision FFn asked for, to round to.
    fraction_digits: u8,
    /// 1 (Sunday) to 7.
    weekday: i64,
    day: i64,
    day_of_year: i64,
    week: i64,
    week_of_month: i64,
    month: i64,
    year: i64,
    /// How many digits the year pattern had (YY and Y years are completed with CC when given).
    year_digits: u8,
    century: i64,
    bc: i64,
    julian: i64,
    tz_sign: i64,
    tz_hours: i64,
    tz_minutes: i64,
}

/// Store a field, refusing a second different value for it.
fn set(slot: &mut i64, value: i64, name: &str) -> Outcome<()> {
    if *slot != 0 && *slot != value {
        return Err(DatetimeFormatError::InvalidFormat(format!(
            "conflicting values for \"{name}\" field in formatting string"
        )));
    }
    *slot = value;
    Ok(())
}

/// The input string, read from left to right.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.at..).unwrap_or_default()
    }

    /// Skip blanks; how many.
    fn skip_spaces(&mut self) -> i64 {
        let start = self.at;
        while self.peek().is_some_and(is_c_space) {
            self.at += 1;
        }
        (self.at - start) as i64
    }

    /// Skip one character, whatever it is.
    fn skip_char(&mut self) {
        let width = match self.peek() {
            None => 0,
            Some(byte) if byte < 0x80 => 1,
            Some(byte) if byte >= 0xf0 => 4,
            Some(byte) if byte >= 0xe0 => 3,
            Some(_) => 2,
        };
        self.at = (self.at + width).min(self.bytes.len());
    }

    /// Skip a TH/th suffix after a number.
    fn skip_ordinal(&mut self, pattern: &Pattern) {
        if pattern.ordinal.is_some() {
            self.skip_char();
            self.skip_char();
        }
    }

    /// Read an integer for `pattern`: at most `width` digits, unless the pattern is in fill mode or followed by a
    /// non-digit, when it runs to the first non-digit. Returns it and how many bytes it took, blanks before it
    /// included.
    fn number(&mut self, width: usize, to_end: bool, name: &str) -> Outcome<(i64, usize)> {
        let start = self.at;
        self.skip_spaces();
        let shown = &self.rest()[..self.rest().len().min(width)];
        let value = if to_end {
            let (value, end) = strtol(self.bytes, start, self.bytes.len());
            self.at = end;
            value
        } else {
            if self.rest().len() < width {
                return Err(DatetimeFormatError::InvalidFormat(format!(
                    "source string too short for \"{name}\" formatting field"
                )));
            }
            let (value, end) = strtol(self.bytes, self.at, self.at + width);
            if end > self.at && end < self.at + width {
                return Err(DatetimeFormatError::invalid_value(shown, name));
            }
            self.at = end;
            value
        };
        if self.at == start {
            return Err(DatetimeFormatError::invalid_value(shown, name));
        }
        match value.filter(|value| i32::try_from(*value).is_ok()) {
            Some(value) => Ok((value, self.at - start)),
            None => Err(DatetimeFormatError::OutOfRange(format!(
                "value for \"{name}\" in source string is out of range"
            ))),
        }
    }

    /// Read a number into a field; how many bytes it took (see [`Reader::number`]).
    fn read_into(&mut self, slot: &mut i64, width: usize, to_end: bool, name: &str) -> Outcome<usize> {
        let (value, taken) = self.number(width, to_end, name)?;
        set(slot, value, name)?;
        Ok(taken)
    }

    /// Which of `words` the input starts with, ignoring ASCII case.
    fn word(&mut self, words: &[&str], name: &str) -> Outcome<i64> {
        let rest = self.rest();
        for (index, word) in words.iter().enumerate() {
            if rest
                .get(..word.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(word.as_bytes()))
            {
                self.at += word.len();
                return Ok(index as i64);
            }
        }
        // The error shows the input up to the next blank.
        let end = rest
            .iter()
            .position(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c))
            .unwrap_or(rest.len());
        Err(DatetimeFormatError::invalid_value(&rest[..end], name))
    }

    /// `Y,YYY`: thousands, a comma, then up to three digits (C's `sscanf("%d,%03d")`).
    fn year_with_comma(&mut self) -> Outcome<i64> {
        let invalid = || DatetimeFormatError::InvalidFormat("invalid input string for \"Y,YYY\"".to_string());
        let out_of_range =
            || DatetimeFormatError::OutOfRange("value for \"Y,YYY\" in source string is out of range".to_string());
        let (thousands, comma) = strtol(self.bytes, self.at, self.bytes.len());
        if comma == self.at || self.bytes.get(comma) != Some(&b',') {
            return Err(invalid());
        }
        let mut units_start = comma + 1;
        while self.bytes.get(units_start).copied().is_some_and(is_c_space) {
            units_start += 1;
        }
        let (units, end) = strtol(self.bytes, units_start, (units_start + 3).min(self.bytes.len()));
        if end == units_start {
            return Err(invalid());
        }
        self.at = end;
        let thousands = thousands
            .filter(|t| i32::try_from(*t).is_ok())
            .ok_or_else(out_of_range)?;
        let year = thousands * 1000 + units.unwrap_or_default();
        i32::try_from(year).map(i64::from).map_err(|_| out_of_range())
    }
}

/// C's `strtol` in base 10 over `bytes[start..end]`: blanks, a sign, digits. Returns the value (`None` when it does
/// not fit) and where it ends — `start` itself when there are no digits.
fn strtol(bytes: &[u8], start: usize, end: usize) -> (Option<i64>, usize) {
    let byte = |i: usize| if i < end { bytes.get(i).copied() } else { None };
    let mut i = start;
    while byte(i).is_some_and(is_c_space) {
        i += 1;
    }
    let negative = byte(i) == Some(b'-');
    if matches!(byte(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits = i;
    let mut value = Some(0_i64);
    while let Some(digit) = byte(i).filter(u8::is_ascii_digit) {
        value = value
            .and_then(|v| v.checked_mul(10))
            .and_then(|v| v.checked_add(i64::from(digit - b'0')));
        i += 1;
    }
    if i == digits {
        return (Some(0), start);
    }
    (value.map(|v| if negative { -v } else { v }), i)
}

/// A date and time read from an input string, before it becomes a `date` or a `timestamptz`.
#[derive(Debug)]
struct Parsed {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micros: i64,
    /// The offset TZH/TZM gave, in seconds west of UTC (PostgreSQL's sign).
    seconds_west: Option<i64>,
    fraction_digits: u8,
}

impl Template {
    /// `to_date`: days since 1970-01-01.
    fn to_date(&self, input: &str) -> Outcome<i32> {
        let parsed = self.parse(input)?;
        let out_of_range = || DatetimeFormatError::OutOfRange(format!("date out of range: \"{input}\""));
        if !is_valid_julian(parsed.year, parsed.month) {
            return Err(out_of_range());
        }
        let julian = julian_day(parsed.year, parsed.month, parsed.day);
        if !(FIRST_JULIAN..DATE_END_JULIAN).contains(&julian) {
            return Err(out_of_range());
        }
        i32::try_from(julian - UNIX_EPOCH_JULIAN).map_err(|_| out_of_range())
    }

    /// `to_timestamp`: microseconds since 1970-01-01 00:00 UTC. Without TZH/TZM the input is in the session time
    /// zone, UTC.
    fn to_timestamp(&self, input: &str) -> Outcome<i64> {
        let parsed = self.parse(input)?;
        let out_of_range = || DatetimeFormatError::OutOfRange("timestamp out of range".to_string());
        if !is_valid_julian(parsed.year, parsed.month) {
            return Err(out_of_range());
        }
        let days = julian_day(parsed.year, parsed.month, parsed.day) - POSTGRES_EPOCH_JULIAN;
        let time = ((parsed.hour * 60 + parsed.minute) * 60 + parsed.second) * MICROS_PER_SECOND + parsed.micros;
        let timestamp = days
            .checked_mul(MICROS_PER_DAY)
            .and_then(|t| t.checked_add(time))
            .and_then(|t| t.checked_add(parsed.seconds_west.unwrap_or(0) * MICROS_PER_SECOND))
            .filter(|t| (MIN_TIMESTAMP..END_TIMESTAMP).contains(t))
            .ok_or_else(out_of_range)?;
        round_to_digits(timestamp, parsed.fraction_digits)
            .checked_add(POSTGRES_EPOCH_MICROS)
            .ok_or_else(out_of_range)
    }

    /// Read the input's fields by this template, then settle the date and time they give (PostgreSQL's
    /// `do_to_timestamp`).
    fn parse(&self, input: &str) -> Outcome<Parsed> {
        let fields = self.read(input)?;
        settle(fields, input)
    }

    /// Read the input's fields by this template (PostgreSQL's `DCH_from_char`).
    fn read(&self, input: &str) -> Outcome<ReadFields> {
        let mut out = ReadFields::default();
        let mut reader = Reader {
            bytes: input.as_bytes(),
            at: 0,
        };
        let mut fixed = false;
        // Blanks skipped beyond what the template asked for: a later text character consumes one of them instead
        // of an input character.
        let mut extra_skip: i64 = 0;
        for (index, node) in self.nodes.iter().enumerate() {
            if reader.peek().is_none() {
                break;
            }
            let is_fx = matches!(
                node,
                Node::Pattern(Pattern {
                    field: Field::FixedFormat,
                    ..
                })
            );
            if !fixed && !is_fx && (matches!(node, Node::Pattern(_)) || index == 0) {
                extra_skip += reader.skip_spaces();
            }
            let pattern = match node {
                Node::Separator(_) => {
                    if fixed {
                        reader.skip_char();
                    } else {
                        extra_skip -= 1;
                        if reader.peek().is_some_and(|b| is_c_space(b) || is_separator(b)) {
                            reader.at += 1;
                            extra_skip += 1;
                        }
                    }
                    continue;
                }
                Node::Text(_) => {
                    if !fixed && extra_skip > 0 {
                        extra_skip -= 1;
                    } else {
                        reader.skip_char();
                    }
                    continue;
                }
                Node::Pattern(pattern) => pattern,
            };
            let convention = pattern.field.convention();
            if convention != Convention::Either {
                if out.convention == Convention::Either {
                    out.convention = convention;
                } else if out.convention != convention {
                    return Err(DatetimeFormatError::InvalidFormat(
                        "invalid combination of date conventions".to_string(),
                    ));
                }
            }
            let name = pattern.name;
            let to_end = pattern.fill_mode || self.is_followed_by_non_digit(index);
            match pattern.field {
                Field::FixedFormat => fixed = true,
                Field::Meridiem { dotted, .. } => {
                    let words: &[&str] = if dotted { &["a.m.", "p.m."] } else { &["am", "pm"] };
                    let pm = reader.word(words, name)?;
                    set(&mut out.pm, pm, name)?;
                    out.twelve_hour_clock = true;
                }
                Field::Era { dotted, .. } => {
                    let words: &[&str] = if dotted { &["a.d.", "b.c."] } else { &["ad", "bc"] };
                    let bc = reader.word(words, name)?;
                    set(&mut out.bc, bc, name)?;
                }
                Field::Hour12 => {
                    reader.read_into(&mut out.hour, 2, to_end, name)?;
                    out.twelve_hour_clock = true;
                }
                Field::Hour24 => _ = reader.read_into(&mut out.hour, 2, to_end, name)?,
                Field::Minute => _ = reader.read_into(&mut out.minute, 2, to_end, name)?,
                Field::Second => _ = reader.read_into(&mut out.second, 2, to_end, name)?,
                Field::Millisecond => {
                    // Digits of a fraction: 5 is 500 milliseconds, 05 is 50.
                    let taken = reader.read_into(&mut out.millisecond, 3, to_end, name)?;
                    out.millisecond *= 10_i64.pow(3_u32.saturating_sub(digits_taken(taken)).min(2));
                }
                Field::Fraction(_) | Field::Microsecond => {
                    let width = match pattern.field {
                        Field::Fraction(digits) => {
                            out.fraction_digits = digits;
                            usize::from(digits)
                        }
                        _ => 6,
                    };
                    let taken = reader.read_into(&mut out.microsecond, width, to_end, name)?;
                    out.microsecond *= 10_i64.pow(6_u32.saturating_sub(digits_taken(taken)).min(5));
                }
                Field::SecondOfDay => _ = reader.read_into(&mut out.second_of_day, name.len(), to_end, name)?,
                Field::TimeZoneName { .. } | Field::UtcOffset => {
                    return Err(DatetimeFormatError::OnlyInToChar(name));
                }
                Field::TimeZoneHours => {
                    // A minus sign may have been taken for a separator: one just skipped counts as the sign.
                    out.tz_sign = match reader.peek() {
                        Some(sign @ (b'+' | b'-' | b' ')) => {
                            reader.at += 1;
                            if sign == b'-' { -1 } else { 1 }
                        }
                        _ if extra_skip > 0 && reader.bytes.get(reader.at.wrapping_sub(1)) == Some(&b'-') => -1,
                        _ => 1,
                    };
                    reader.read_into(&mut out.tz_hours, 2, to_end, name)?;
                }
                Field::TimeZoneMinutes => {
                    if out.tz_sign == 0 {
                        out.tz_sign = 1;
                    }
                    reader.read_into(&mut out.tz_minutes, 2, to_end, name)?;
                }
                Field::MonthName { abbreviated, .. } => {
                    let names: &[&str] = if abbreviated { &MONTH_ABBREVIATIONS } else { &MONTHS };
                    let month = reader.word(names, name)?;
                    set(&mut out.month, month + 1, name)?;
                }
                Field::Month => _ = reader.read_into(&mut out.month, 2, to_end, name)?,
                Field::DayName { abbreviated, .. } => {
                    let names: &[&str] = if abbreviated { &DAY_ABBREVIATIONS } else { &DAYS };
                    let day = reader.word(names, name)?;
                    set(&mut out.weekday, day, name)?;
                    out.weekday += 1;
                }
                Field::DayOfYear | Field::IsoDayOfYear => {
                    _ = reader.read_into(&mut out.day_of_year, 3, to_end, name)?
                }
                Field::DayOfMonth => _ = reader.read_into(&mut out.day, 2, to_end, name)?,
                Field::DayOfWeek => _ = reader.read_into(&mut out.weekday, 1, to_end, name)?,
                Field::IsoDayOfWeek => {
                    reader.read_into(&mut out.weekday, 1, to_end, name)?;
                    // Shift to the Gregorian numbering, where Sunday is 1.
                    out.weekday = if out.weekday >= 7 { 1 } else { out.weekday + 1 };
                }
                Field::WeekOfYear | Field::IsoWeek => _ = reader.read_into(&mut out.week, 2, to_end, name)?,
                // Read and ignored, as in PostgreSQL: which day of the quarter would it be?
                Field::Quarter => _ = reader.number(1, to_end, name)?,
                Field::Century => _ = reader.read_into(&mut out.century, 2, to_end, name)?,
                Field::YearWithComma => {
                    let year = reader.year_with_comma()?;
                    set(&mut out.year, year, name)?;
                    out.year_digits = 4;
                }
                Field::Year(digits) | Field::IsoYear(digits) => {
                    let taken = reader.read_into(&mut out.year, usize::from(digits), to_end, name)?;
                    if digits < 4 && taken < 4 {
                        out.year = nearest_2020(out.year);
                    }
                    out.year_digits = digits;
                }
                Field::RomanMonth { .. } => {
                    let month = reader.word(&ROMAN_MONTHS, name)?;
                    set(&mut out.month, 12 - month, name)?;
                }
                Field::WeekOfMonth => _ = reader.read_into(&mut out.week_of_month, 1, to_end, name)?,
                Field::Julian => _ = reader.read_into(&mut out.julian, 1, to_end, name)?,
            }
            if pattern.field.takes_ordinal() {
                reader.skip_ordinal(pattern);
            }
            if !fixed {
                extra_skip = reader.skip_spaces();
            }
        }
        Ok(out)
    }
}

fn digits_taken(taken: usize) -> u32 {
    u32::try_from(taken).unwrap_or(u32::MAX)
}

/// A year given with fewer than four digits, taken as the one nearest 2020 (`69` is 2069, `70` is 1970).
fn nearest_2020(year: i64) -> i64 {
    match year {
        ..70 => year + 2000,
        70..100 => year + 1900,
        100..520 => year + 2000,
        520..1000 => year + 1000,
        _ => year,
    }
}

/// The date and time the fields give, checked (PostgreSQL's `do_to_timestamp` after reading).
fn settle(mut f: ReadFields, input: &str) -> Outcome<Parsed> {
    let overflow = || DatetimeFormatError::field_overflow(input);
    let (mut year, mut month, mut day) = (0, 1, 1);
    let (mut hour, mut minute, mut second) = (0, 0, 0);
    let (mut has_year, mut has_month, mut has_day) = (false, false, false);
    if f.second_of_day != 0 {
        hour = f.second_of_day / 3600;
        minute = f.second_of_day % 3600 / 60;
        second = f.second_of_day % 60;
    }
    if f.second != 0 {
        second = f.second;
    }
    if f.minute != 0 {
        minute = f.minute;
    }
    if f.hour != 0 {
        hour = f.hour;
    }
    if f.twelve_hour_clock {
        if !(1..=12).contains(&hour) {
            return Err(DatetimeFormatError::InvalidFormat(format!(
                "hour \"{hour}\" is invalid for the 12-hour clock"
            )));
        }
        if f.pm != 0 && hour < 12 {
            hour += 12;
        } else if f.pm == 0 && hour == 12 {
            hour = 0;
        }
    }
    if f.year != 0 {
        if f.century != 0 && f.year_digits <= 2 {
            // YY or Y within the given century (the 21st runs from 2001 to 2100).
            let century = if f.bc != 0 { -f.century } else { f.century };
            let in_century = f.year % 100;
            year = match (in_century, century >= 0) {
                (0, true) => century * 100,
                (0, false) => century * 100 + 1,
                (_, true) => in_century + (century - 1) * 100,
                (_, false) => (century + 1) * 100 - in_century + 1,
            };
        } else {
            year = if f.bc != 0 { -f.year } else { f.year };
            // 1 BC is year 0.
            if year < 0 {
                year += 1;
            }
        }
        has_year = true;
    } else if f.century != 0 {
        // The first year of the century.
        let century = if f.bc != 0 { -f.century } else { f.century };
        year = if century >= 0 {
            (century - 1) * 100 + 1
        } else {
            century * 100 + 1
        };
        has_year = true;
    }
    if i32::try_from(year).is_err() {
        return Err(overflow());
    }
    if f.julian != 0 {
        (year, month, day) = civil_date(f.julian);
        (has_year, has_month, has_day) = (true, true, true);
    }
    if f.week != 0 {
        if f.convention == Convention::IsoWeek {
            let monday = iso_week_start(year, f.week);
            // Without a day of the week, the week's Monday.
            let julian = match f.weekday {
                0 => monday,
                weekday if weekday > 1 => monday + weekday - 2,
                _ => monday + 6,
            };
            (year, month, day) = civil_date(julian);
            (has_year, has_month, has_day) = (true, true, true);
        } else {
            f.day_of_year = (f.week - 1) * 7 + 1;
        }
    }
    if f.week_of_month != 0 {
        f.day = (f.week_of_month - 1) * 7 + 1;
    }
    if f.day != 0 {
        day = f.day;
        has_day = true;
    }
    if f.month != 0 {
        month = f.month;
        has_month = true;
    }
    if f.day_of_year != 0 && (month <= 1 || day <= 1) {
        if year == 0 && f.bc == 0 {
            return Err(DatetimeFormatError::InvalidFormat(
                "cannot calculate day of year without year information".to_string(),
            ));
        }
        if f.convention == Convention::IsoWeek {
            (year, month, day) = civil_date(iso_week_start(year, 1) - 1 + f.day_of_year);
            (has_year, has_month, has_day) = (true, true, true);
        } else {
            let before = days_before_month(year);
            let found = (1..=12).find(|&m| f.day_of_year <= before[m]).unwrap_or(13);
            if month <= 1 {
                month = found as i64;
            }
            if day <= 1 {
                day = f.day_of_year - before[found - 1];
            }
            (has_month, has_day) = (true, true);
        }
    }
    let micros = f.millisecond * 1000 + f.microsecond;
    if (has_month && !(1..=12).contains(&month)) || (has_day && !(1..=31).contains(&day)) {
        return Err(overflow());
    }
    // A day beyond its month is refused only when year, month and day were all given, as in PostgreSQL.
    if has_year && has_month && has_day {
        let before = days_before_month(year);
        if day > before[month as usize] - before[month as usize - 1] {
            return Err(overflow());
        }
    }
    if !(0..24).contains(&hour)
        || !(0..60).contains(&minute)
        || !(0..60).contains(&second)
        || !(0..MICROS_PER_SECOND).contains(&micros)
    {
        return Err(overflow());
    }
    let seconds_west = match f.tz_sign {
        0 => None,
        sign => {
            if !(0..=15).contains(&f.tz_hours) || !(0..60).contains(&f.tz_minutes) {
                return Err(DatetimeFormatError::TimeZoneDisplacement(input.to_string()));
            }
            Some(-sign * (f.tz_hours * 60 + f.tz_minutes) * 60)
        }
    };
    Ok(Parsed {
        year,
        month,
        day,
        hour,
        minute,
        second,
        micros,
        seconds_west,
        fraction_digits: f.fraction_digits,
    })
}

/// Round a PostgreSQL timestamp to `digits` fractional digits (none: as is), halves away from 2000-01-01.
fn round_to_digits(timestamp: i64, digits: u8) -> i64 {
    if digits == 0 || digits >= 6 {
        return timestamp;
    }
    let scale = 10_i64.pow(6 - u32::from(digits));
    let rounded = (timestamp.abs() + scale / 2) / scale * scale;
    if timestamp < 0 { -rounded } else { rounded }
}

/// `to_timestamp(double precision)`: seconds since 1970-01-01 UTC, to microseconds since then.
fn from_epoch_seconds(seconds: f64) -> Outcome<i64> {
    if seconds.is_nan() {
        return Err(DatetimeFormatError::OutOfRange("timestamp cannot be NaN".to_string()));
    }
    // PostgreSQL gives ±infinity for infinite input; Arrow's timestamps have no infinity, so it is out of range.
    let out_of_range = || DatetimeFormatError::OutOfRange(format!("timestamp out of range: \"{}\"", c_g(seconds)));
    const SECONDS_PER_DAY: f64 = 86_400.0;
    let first = SECONDS_PER_DAY * (FIRST_JULIAN - UNIX_EPOCH_JULIAN) as f64;
    let end = SECONDS_PER_DAY * (TIMESTAMP_END_JULIAN - UNIX_EPOCH_JULIAN) as f64;
    if !(first..end).contains(&seconds) {
        return Err(out_of_range());
    }
    // Rounded as PostgreSQL rounds: on its own epoch, halves to even.
    let since_2000 =
        (seconds - (POSTGRES_EPOCH_JULIAN - UNIX_EPOCH_JULIAN) as f64 * SECONDS_PER_DAY) * MICROS_PER_SECOND as f64;
    let timestamp = since_2000.round_ties_even() as i64;
    if !(MIN_TIMESTAMP..END_TIMESTAMP).contains(&timestamp) {
        return Err(out_of_range());
    }
    timestamp.checked_add(POSTGRES_EPOCH_MICROS).ok_or_else(out_of_range)
}

/// A number as C's `%g` prints it (PostgreSQL's messages do): six significant digits, no trailing zeros, an exponent
/// outside 1e-4 to 1e6.
fn c_g(value: f64) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "nan".to_string()
        } else if value > 0.0 {
            "inf".to_string()
        } else {
            "-inf".to_string()
        };
    }
    let scientific = format!("{value:.5e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or_default();
    let trim = |digits: &str| {
        if digits.contains('.') {
            digits.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            digits.to_string()
        }
    };
    if (-4..6).contains(&exponent) {
        trim(&format!("{value:.*}", (5 - exponent) as usize))
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exponent.abs())
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The functions.

/// `to_date`, `to_timestamp`, `to_char`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Function {
    Date,
    Timestamp,
    Char,
}

impl Function {
    fn name(self) -> &'static str {
        match self {
            Function::Date => "to_date",
            Function::Timestamp => "to_timestamp",
            Function::Char => "to_char",
        }
    }

    fn result_type(self) -> DataType {
        match self {
            Function::Date => DataType::Date32,
            Function::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some(SESSION_OFFSET.into())),
            Function::Char => DataType::Utf8,
        }
    }
}

/// Which implementation answers a call, by its argument types.
enum Form {
    /// (text, text) for to_date and to_timestamp, (date or timestamp, text) for to_char: PostgreSQL's templates.
    Template,
    /// to_timestamp(number): PostgreSQL's Unix epoch seconds.
    EpochSeconds,
    /// Anything else: DataFusion's function.
    DataFusion,
}

/// One of PostgreSQL's template functions, over DataFusion's function of the same name.
#[derive(Debug, PartialEq, Eq, Hash)]
struct TemplateFunction {
    function: Function,
    /// DataFusion's own function, for the forms PostgreSQL does not have; its signature is kept, so that every call
    /// DataFusion accepted is still accepted.
    datafusion: Arc<ScalarUDF>,
}

impl TemplateFunction {
    fn form(&self, types: &[DataType]) -> Form {
        let is_text = |t: &DataType| {
            matches!(
                t,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
            )
        };
        match (self.function, types) {
            (Function::Date | Function::Timestamp, [value, template]) if is_text(value) && is_text(template) => {
                Form::Template
            }
            (Function::Timestamp, [seconds]) if seconds.is_numeric() || seconds == &DataType::Null => {
                Form::EpochSeconds
            }
            (Function::Char, [DataType::Date32 | DataType::Date64 | DataType::Timestamp(..), template])
                if is_text(template) =>
            {
                Form::Template
            }
            _ => Form::DataFusion,
        }
    }
}

impl ScalarUDFImpl for TemplateFunction {
    fn name(&self) -> &str {
        self.function.name()
    }

    fn signature(&self) -> &Signature {
        self.datafusion.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match self.form(arg_types) {
            Form::Template | Form::EpochSeconds => Ok(self.function.result_type()),
            Form::DataFusion => self.datafusion.return_type(arg_types),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let types: Vec<DataType> = args.args.iter().map(ColumnarValue::data_type).collect();
        let form = self.form(&types);
        if let Form::DataFusion = form {
            return self.datafusion.invoke_with_args(args);
        }
        let columns = ColumnarValue::values_to_arrays(&args.args)?;
        let result = match (form, self.function, columns.as_slice()) {
            (Form::EpochSeconds, _, [seconds]) => epoch_seconds(seconds)?,
            (Form::Template, Function::Date, [values, templates]) => {
                let days = read_each(values, templates, Template::to_date)?;
                Arc::new(Date32Array::from(days)) as ArrayRef
            }
            (Form::Template, Function::Timestamp, [values, templates]) => {
                let micros = read_each(values, templates, Template::to_timestamp)?;
                Arc::new(TimestampMicrosecondArray::from(micros).with_timezone(SESSION_OFFSET))
            }
            (Form::Template, Function::Char, [values, templates]) => to_char(values, templates)?,
            _ => return exec_err!("{} got unexpected arguments {types:?}", self.name()),
        };
        super::scalar_if_scalar(&args.args, result)
    }
}

/// The template of the previous row, parsed once: a column's template is nearly always one constant.
#[derive(Default)]
struct LastTemplate(Option<(String, Template)>);

impl LastTemplate {
    fn get(&mut self, text: &str) -> &Template {
        if self.0.as_ref().is_some_and(|(last, _)| last != text) {
            self.0 = None;
        }
        &self.0.get_or_insert_with(|| (text.to_string(), Template::new(text))).1
    }
}

/// The strings of a text column in any of Arrow's string layouts.
fn texts(column: &ArrayRef) -> Result<Box<dyn Iterator<Item = Option<&str>> + '_>> {
    Ok(match column.data_type() {
        DataType::Utf8 => Box::new(column.as_string::<i32>().iter()),
        DataType::LargeUtf8 => Box::new(column.as_string::<i64>().iter()),
        DataType::Utf8View => Box::new(column.as_string_view().iter()),
        DataType::Null => Box::new(std::iter::repeat_n(None, column.len())),
        other => return exec_err!("expected text, got {other}"),
    })
}

fn external(error: DatetimeFormatError) -> DataFusionError {
    DataFusionError::External(Box::new(error))
}

/// `to_date` or `to_timestamp` over each (value, template) row; NULL in, NULL out.
fn read_each<T>(
    values: &ArrayRef,
    templates: &ArrayRef,
    read: impl Fn(&Template, &str) -> Outcome<T>,
) -> Result<Vec<Option<T>>> {
    let mut template = LastTemplate::default();
    texts(values)?
        .zip(texts(templates)?)
        .map(|row| match row {
            (Some(value), Some(text)) => read(template.get(text), value).map(Some).map_err(external),
            _ => Ok(None),
        })
        .collect()
}

/// Whole units since 1970 of a date or timestamp column, to microseconds (`None`: beyond Arrow's range).
type ToMicros = fn(i64) -> Option<i64>;

fn to_char(values: &ArrayRef, templates: &ArrayRef) -> Result<ArrayRef> {
    // Every input type as whole units since 1970 (reinterpreted, or widened for Date32).
    let units = cast(values, &DataType::Int64)?;
    let units = units.as_primitive::<Int64Type>();
    let (to_micros, zone): (ToMicros, Option<&'static str>) = match values.data_type() {
        DataType::Date32 => (|days| days.checked_mul(MICROS_PER_DAY), Some(SESSION_ZONE)),
        DataType::Date64 => (
            |ms| ms.div_euclid(86_400_000).checked_mul(MICROS_PER_DAY),
            Some(SESSION_ZONE),
        ),
        DataType::Timestamp(unit, zone) => {
            let to_micros: ToMicros = match unit {
                TimeUnit::Second => |s| s.checked_mul(MICROS_PER_SECOND),
                TimeUnit::Millisecond => |ms| ms.checked_mul(1000),
                TimeUnit::Microsecond => Some,
                TimeUnit::Nanosecond => |ns| Some(ns.div_euclid(1000)),
            };
            (to_micros, zone.as_ref().map(|_| SESSION_ZONE))
        }
        other => return exec_err!("to_char of {other} is not supported"),
    };
    let mut template = LastTemplate::default();
    let printed = units
        .iter()
        .zip(texts(templates)?)
        .map(|row| match row {
            // An empty template gives NULL, as in PostgreSQL.
            (Some(value), Some(text)) if !text.is_empty() => {
                let micros = to_micros(value)
                    .ok_or_else(|| external(DatetimeFormatError::OutOfRange("timestamp out of range".to_string())))?;
                Ok(Some(template.get(text).format(&Moment::from_micros(micros, zone))))
            }
            _ => Ok(None),
        })
        .collect::<Result<StringArray>>()?;
    Ok(Arc::new(printed))
}

fn epoch_seconds(seconds: &ArrayRef) -> Result<ArrayRef> {
    let seconds = cast(seconds, &DataType::Float64)?;
    let micros = seconds
        .as_primitive::<Float64Type>()
        .iter()
        .map(|s| s.map(from_epoch_seconds).transpose().map_err(external))
        .collect::<Result<TimestampMicrosecondArray>>()?;
    Ok(Arc::new(micros.with_timezone(SESSION_OFFSET)))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The expected values below are PostgreSQL 15.18's answers (session time zone UTC), written down from
    // `SELECT to_date(…)`, `to_timestamp(…)` and `to_char(…)` against a real server: days and microseconds since
    // 1970 from `d - date '1970-01-01'` and `extract(epoch from t) * 1000000`, errors as SQLSTATE and message.

    type Expected = std::result::Result<i64, (&'static str, &'static str)>;

    fn answer<T: Into<i64>>(outcome: Outcome<T>) -> std::result::Result<i64, (&'static str, String)> {
        outcome.map(Into::into).map_err(|e| (e.sqlstate(), e.to_string()))
    }

    /// Every case that differs from PostgreSQL, so that one run shows them all.
    fn differences<'a>(
        cases: &'a [(&'a str, &'a str, Expected)],
        read: impl Fn(&Template, &str) -> std::result::Result<i64, (&'static str, String)>,
    ) -> Vec<String> {
        cases
            .iter()
            .filter_map(|(input, template, expected)| {
                let got = read(&Template::new(template), input);
                let expected = expected.map_err(|(code, message)| (code, message.to_string()));
                (got != expected).then(|| format!("({input:?}, {template:?}): got {got:?}, PostgreSQL {expected:?}"))
            })
            .collect()
    }

    #[test]
    fn to_date_reads_like_postgres() {
        let differences = differences(TO_DATE, |t, input| answer(t.to_date(input)));
        assert!(differences.is_empty(), "{}", differences.join("\n"));
    }

    #[test]
    fn to_timestamp_reads_like_postgres() {
        let differences = differences(TO_TIMESTAMP, |t, input| answer(t.to_timestamp(input)));
        assert!(differences.is_empty(), "{}", differences.join("\n"));
    }

    #[derive(Debug, Clone, Copy)]
    enum Kind {
        Timestamp,
        Timestamptz,
        Date,
    }

    #[test]
    fn to_char_prints_like_postgres() {
        let differences: Vec<String> = TO_CHAR
            .iter()
            .filter_map(|&(micros, kind, template, expected)| {
                let zone = match kind {
                    Kind::Timestamp => None,
                    Kind::Timestamptz | Kind::Date => Some(SESSION_ZONE),
                };
                let got = Template::new(template).format(&Moment::from_micros(micros, zone));
                (got != expected)
                    .then(|| format!("({micros}, {kind:?}, {template:?}): got {got:?}, PostgreSQL {expected:?}"))
            })
            .collect();
        assert!(differences.is_empty(), "{}", differences.join("\n"));
    }

    #[test]
    fn epoch_seconds_convert_like_postgres() {
        assert_eq!(from_epoch_seconds(0.0), Ok(0));
        assert_eq!(from_epoch_seconds(1.5), Ok(1_500_000));
        // 2009-02-13 23:31:30.123457: rounded to the microsecond.
        assert_eq!(from_epoch_seconds(1_234_567_890.123_456_7), Ok(1_234_567_890_123_457));
        // Halves round to even on PostgreSQL's epoch: 0.0000015 s is 2 µs, 0.0000005 s is 0.
        assert_eq!(from_epoch_seconds(0.000_001_5), Ok(2));
        assert_eq!(from_epoch_seconds(0.000_000_5), Ok(0));
        assert_eq!(from_epoch_seconds(-0.000_000_5), Ok(0));
        // 1200-02-15 14:13:20 BC and PostgreSQL's first timestamp, 4714-11-24 00:00 BC.
        assert_eq!(from_epoch_seconds(-1e11), Ok(-100_000_000_000_000_000));
        assert_eq!(from_epoch_seconds(-210_866_803_200.0), Ok(-210_866_803_200_000_000));
        let error = |seconds: f64| from_epoch_seconds(seconds).map_err(|e| (e.sqlstate(), e.to_string()));
        assert_eq!(error(f64::NAN), Err(("22008", "timestamp cannot be NaN".to_string())));
        assert_eq!(
            error(1e20),
            Err(("22008", "timestamp out of range: \"1e+20\"".to_string()))
        );
        assert_eq!(
            error(9_224_318_016_000.0),
            Err(("22008", "timestamp out of range: \"9.22432e+12\"".to_string()))
        );
        assert_eq!(
            error(1.234_567_890_123_456_8e19),
            Err(("22008", "timestamp out of range: \"1.23457e+19\"".to_string()))
        );
    }

    #[test]
    fn what_arrow_cannot_hold_is_out_of_range() {
        // PostgreSQL answers these; Arrow's microsecond timestamps end in 294247 and have no infinity.
        let t = Template::new("YYYY-MM-DD HH24:MI:SS.US");
        assert_eq!(
            answer(t.to_timestamp("294276-12-31 23:59:59.999999")),
            Err(("22008", "timestamp out of range".to_string()))
        );
        assert_eq!(
            from_epoch_seconds(f64::INFINITY).map_err(|e| e.to_string()),
            Err("timestamp out of range: \"inf\"".to_string())
        );
    }

    #[test]
    fn numbers_print_like_c() {
        assert_eq!(c_g(1e20), "1e+20");
        assert_eq!(c_g(-1e20), "-1e+20");
        assert_eq!(c_g(123.456), "123.456");
        assert_eq!(c_g(0.0001), "0.0001");
        assert_eq!(c_g(0.00001), "1e-05");
        assert_eq!(c_g(999_999.5), "1e+06");
        assert_eq!(c_g(100_000.0), "100000");
    }

    #[test]
    fn calendar_agrees_with_postgres_julian_days() {
        assert_eq!(julian_day(2000, 1, 1), POSTGRES_EPOCH_JULIAN);
        assert_eq!(julian_day(1970, 1, 1), UNIX_EPOCH_JULIAN);
        assert_eq!(julian_day(-4713, 11, 24), FIRST_JULIAN);
        assert_eq!(julian_day(294_277, 1, 1), TIMESTAMP_END_JULIAN);
        assert_eq!(julian_day(5_874_898, 1, 1), DATE_END_JULIAN);
        for julian in [-1_000_000, 0, 1_721_426, 2_440_588, 2_451_604, 5_373_484, 109_203_528] {
            let (year, month, day) = civil_date(julian);
            assert_eq!(julian_day(year, month, day), julian);
        }
    }

    /// No input or template, however odd, makes the functions panic: random strings built from pattern pieces,
    /// quotes, backslashes, digits, signs, blanks and multi-byte characters.
    #[test]
    fn random_strings_never_panic() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        const PIECES: &[&str] = &[
            "YYYY",
            "YY",
            "Y,YYY",
            "IYYY",
            "MM",
            "DD",
            "DDD",
            "IDDD",
            "D",
            "ID",
            "IW",
            "WW",
            "W",
            "Q",
            "CC",
            "J",
            "HH",
            "HH24",
            "HH12",
            "MI",
            "SS",
            "SSSS",
            "MS",
            "US",
            "FF3",
            "AM",
            "p.m.",
            "BC",
            "a.d.",
            "Month",
            "MON",
            "Day",
            "dy",
            "RM",
            "TZH",
            "TZM",
            "TZ",
            "OF",
            "FM",
            "FX",
            "TM",
            "TH",
            "th",
            "SP",
            "\"",
            "\\",
            "\\\"",
            "-",
            "/",
            ":",
            ".",
            ",",
            " ",
            "  ",
            "\t",
            "0",
            "1",
            "9",
            "12",
            "2020",
            "99999999999",
            "-",
            "+",
            "x",
            "é",
            "年",
            "😀",
            "January",
            "Sunday",
            "xii",
            "am",
            "bc",
            "",
            "\u{0}",
        ];
        let mut rng = StdRng::seed_from_u64(19);
        let random = |rng: &mut StdRng| -> String {
            (0..rng.random_range(0..12))
                .map(|_| PIECES[rng.random_range(0..PIECES.len())])
                .collect()
        };
        for _ in 0..5000 {
            let (text, input) = (random(&mut rng), random(&mut rng));
            let template = Template::new(&text);
            let _ = template.to_date(&input);
            let _ = template.to_timestamp(&input);
            for micros in [i64::MIN, -210_866_803_200_000_000, 0, 1_582_981_509_123_456, i64::MAX] {
                let _ = template.format(&Moment::from_micros(micros, Some(SESSION_ZONE)));
            }
        }
        for seconds in [f64::MIN, f64::MAX, -0.0, f64::EPSILON, f64::NEG_INFINITY] {
            let _ = from_epoch_seconds(seconds);
        }
    }

    /// The first column of a query's result: its type and its values as text.
    async fn column(ctx: &SessionContext, sql: &str) -> Result<(DataType, Vec<String>)> {
        let batches = ctx.sql(sql).await?.collect().await?;
        let mut values = Vec::new();
        let mut data_type = DataType::Null;
        for batch in &batches {
            let column = batch.column(0);
            data_type = column.data_type().clone();
            for row in 0..column.len() {
                values.push(if column.is_null(row) {
                    "NULL".to_string()
                } else {
                    datafusion::arrow::util::display::array_value_to_string(column, row)?
                });
            }
        }
        Ok((data_type, values))
    }

    #[tokio::test]
    async fn sql_calls_read_postgres_templates_and_keep_datafusion_forms() -> Result<()> {
        let ctx = SessionContext::new();
        register(&ctx)?;
        let timestamptz = DataType::Timestamp(TimeUnit::Microsecond, Some(SESSION_OFFSET.into()));
        // A template per row, NULLs.
        assert_eq!(
            column(
                &ctx,
                "SELECT to_date(s, t) FROM (VALUES ('1996-01-01', 'YYYY-MM-DD'), ('05 Feb 2020', 'DD Mon YYYY'), \
                 (NULL, 'YYYY'), ('2020', NULL)) v(s, t)"
            )
            .await?,
            (
                DataType::Date32,
                vec!["1996-01-01".into(), "2020-02-05".into(), "NULL".into(), "NULL".into()]
            )
        );
        assert_eq!(
            column(
                &ctx,
                "SELECT to_timestamp('1996-01-01 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US')"
            )
            .await?,
            (timestamptz.clone(), vec!["1996-01-01T00:00:00Z".into()])
        );
        // Unix epoch seconds of any numeric type.
        assert_eq!(
            column(
                &ctx,
                "SELECT to_timestamp(x) FROM (VALUES (CAST(1.5 AS DOUBLE)), (CAST(2 AS DOUBLE)), (NULL)) v(x)"
            )
            .await?,
            (
                timestamptz.clone(),
                vec![
                    "1970-01-01T00:00:01.500Z".into(),
                    "1970-01-01T00:00:02Z".into(),
                    "NULL".into()
                ]
            )
        );
        assert_eq!(
            column(&ctx, "SELECT to_timestamp(1)").await?.1,
            vec!["1970-01-01T00:00:01Z".to_string()]
        );
        assert_eq!(
            column(&ctx, "SELECT to_timestamp(CAST(1.25 AS DECIMAL(5, 2)))")
                .await?
                .1,
            vec!["1970-01-01T00:00:01.250Z".to_string()]
        );
        // Dates print as timestamptz (TZ is UTC), timestamps without a zone print no TZ, an empty template is NULL.
        assert_eq!(
            column(
                &ctx,
                "SELECT to_char(d, 'YYYY-MM Dy TZ') FROM (VALUES (DATE '2020-02-29'), (NULL)) v(d) \
                 UNION ALL SELECT to_char(CAST('2020-02-29 13:05:09.123456789' AS TIMESTAMP), 'HH12:MI:SS.US AM TZ') \
                 UNION ALL SELECT to_char(to_timestamp(0), 'TZ OF') UNION ALL SELECT to_char(DATE '2020-02-29', '')"
            )
            .await?,
            (
                DataType::Utf8,
                vec![
                    "2020-02 Sat UTC".into(),
                    "NULL".into(),
                    "01:05:09.123456 PM ".into(),
                    "UTC +00".into(),
                    "NULL".into()
                ]
            )
        );
        // The forms PostgreSQL does not have are DataFusion's.
        assert_eq!(
            column(&ctx, "SELECT to_date('2020-01-05')").await?,
            (DataType::Date32, vec!["2020-01-05".into()])
        );
        assert_eq!(
            column(&ctx, "SELECT to_timestamp('2020-01-05T10:00:00')").await?,
            (
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                vec!["2020-01-05T10:00:00".into()]
            )
        );
        assert_eq!(
            column(&ctx, "SELECT to_char(CAST('10:30:00' AS TIME), '%H:%M')")
                .await?
                .1,
            vec!["10:30".to_string()]
        );
        Ok(())
    }

    #[tokio::test]
    async fn errors_carry_postgres_sqlstates() -> Result<()> {
        let ctx = SessionContext::new();
        register(&ctx)?;
        for (sql, sqlstate, message) in [
            (
                "SELECT to_date('2020-x1-01', 'YYYY-MM-DD')",
                "22007",
                "invalid value \"x1\" for \"MM\"",
            ),
            (
                "SELECT to_date(s, 'YYYY-MM-DD') FROM (VALUES ('2020-01-01'), ('2023-02-30')) v(s)",
                "22008",
                "date/time field value out of range: \"2023-02-30\"",
            ),
            (
                "SELECT to_timestamp(CAST('NaN' AS DOUBLE))",
                "22008",
                "timestamp cannot be NaN",
            ),
        ] {
            let error = match ctx.sql(sql).await {
                Ok(frame) => frame.collect().await.expect_err(sql),
                Err(error) => error,
            };
            let error = crate::error::Error::from(error);
            assert_eq!(
                (error.sqlstate(), error.to_string().as_str()),
                (sqlstate, message),
                "{sql}"
            );
        }
        Ok(())
    }

    /// to_date(input, template).
    #[rustfmt::skip]
    const TO_DATE: &[(&str, &str, Expected)] = &[
        ("1996-01-01", "YYYY-MM-DD", Ok(9496)), // 1996-01-01
        ("2020-x1-01", "YYYY-MM-DD", Err(("22007", "invalid value \"x1\" for \"MM\""))),
        ("12-25", "MM-DD", Ok(-719169)), // 0001-12-25 BC
        ("", "", Ok(-719528)), // 0001-01-01 BC
        ("0000-02-03", "YYYY-MM-DD", Ok(-719495)), // 0001-02-03 BC
        ("2020-00-10", "YYYY-MM-DD", Ok(18271)), // 2020-01-10
        ("2020-01-00", "YYYY-MM-DD", Ok(18262)), // 2020-01-01
        ("02-30", "MM-DD", Ok(-719468)), // 0001-03-01 BC
        ("2023-02-30", "YYYY-MM-DD", Err(("22008", "date/time field value out of range: \"2023-02-30\""))),
        ("2020-13-01", "YYYY-MM-DD", Err(("22008", "date/time field value out of range: \"2020-13-01\""))),
        ("2020-1-5", "YYYY-MM-DD", Ok(18266)), // 2020-01-05
        ("20200105", "YYYYMMDD", Ok(18266)), // 2020-01-05
        ("2020105", "YYYYMMDD", Ok(18540)), // 2020-10-05
        ("2020/01/05", "YYYY-MM-DD", Ok(18266)), // 2020-01-05
        ("2020 Jan 05", "YYYY Mon DD", Ok(18266)), // 2020-01-05
        ("2020 JANUARY 05", "YYYY Month DD", Ok(18266)), // 2020-01-05
        ("2020 january05", "YYYY MonthDD", Ok(18266)), // 2020-01-05
        ("05 Feb 2020", "DD Mon YYYY", Ok(18297)), // 2020-02-05
        ("Feb 5, 2020", "Mon DD, YYYY", Ok(18297)), // 2020-02-05
        ("2020-366", "YYYY-DDD", Ok(18627)), // 2020-12-31
        ("2019-366", "YYYY-DDD", Err(("22008", "date/time field value out of range: \"2019-366\""))),
        ("2020-10", "IYYY-IW", Ok(18323)), // 2020-03-02
        ("2020-10-3", "IYYY-IW-ID", Ok(18325)), // 2020-03-04
        ("2020-100", "IYYY-IDDD", Ok(18359)), // 2020-04-07
        ("2020-10", "YYYY-WW", Ok(18325)), // 2020-03-04
        ("2020-03-2", "YYYY-MM-W", Ok(18329)), // 2020-03-08
        ("2451545", "J", Ok(10957)), // 2000-01-01
        ("21", "CC", Ok(11323)), // 2001-01-01
        ("21 05", "CC YY", Ok(12784)), // 2005-01-01
        ("20 00", "CC YY", Ok(10957)), // 2000-01-01
        ("0044-03-15 BC", "YYYY-MM-DD BC", Ok(-735160)), // 0044-03-15 BC
        ("44-03-15 B.C.", "YYYY-MM-DD B.C.", Ok(-735160)), // 0044-03-15 BC
        ("99-01-01", "YY-MM-DD", Ok(10592)), // 1999-01-01
        ("69-01-01", "YY-MM-DD", Ok(36160)), // 2069-01-01
        ("5-01-01", "Y-MM-DD", Ok(12784)), // 2005-01-01
        ("150-01-01", "YYY-MM-DD", Ok(65744)), // 2150-01-01
        ("600-01-01", "YYY-MM-DD", Ok(-135140)), // 1600-01-01
        ("2,020-01-01", "Y,YYY-MM-DD", Ok(18262)), // 2020-01-01
        ("XII 2020", "RM YYYY", Ok(18597)), // 2020-12-01
        ("iv 2020", "rm YYYY", Ok(18353)), // 2020-04-01
        ("2020-01-01 Monday", "YYYY-MM-DD Day", Ok(18262)), // 2020-01-01
        ("2020-01-01 Xyz", "YYYY-MM-DD Day", Err(("22007", "invalid value \"Xyz\" for \"Day\""))),
        ("2020-01-01", "YYYY-MM-DD-HH24", Ok(18262)), // 2020-01-01
        ("2020-01-01 trailing", "YYYY-MM-DD", Ok(18262)), // 2020-01-01
        ("2020-01-01", "FXYYYY-MM-DD", Ok(18262)), // 2020-01-01
        ("2020 01 01", "FXYYYY-MM-DD", Ok(18262)), // 2020-01-01
        ("2020--01-01", "FXYYYY-MM-DD", Err(("22008", "date/time field value out of range: \"2020--01-01\""))),
        ("2020--01-01", "YYYY-MM-DD", Err(("22008", "date/time field value out of range: \"2020--01-01\""))),
        ("  2020-01-01", "YYYY-MM-DD", Ok(18262)), // 2020-01-01
        ("2020-01-01", "YYYY MM DD", Ok(18262)), // 2020-01-01
        ("2020年01月01日", "YYYY\"年\"MM\"月\"DD\"日\"", Ok(18262)), // 2020-01-01
        ("x2020", "YYYY", Err(("22007", "invalid value \"x202\" for \"YYYY\""))),
        ("99999999999", "YYYY", Err(("22008", "value for \"YYYY\" in source string is out of range"))),
        ("2020 2021", "YYYY YYYY", Err(("22007", "conflicting values for \"YYYY\" field in formatting string"))),
        ("2020-01", "IYYY-MM", Err(("22007", "invalid combination of date conventions"))),
        ("20-01-01", "YYYY-MM-DD", Ok(-712223)), // 0020-01-01
        ("202-01-01", "YYYY-MM-DD", Ok(-645749)), // 0202-01-01
        ("1st Jan 2020", "DDth Mon YYYY", Ok(18262)), // 2020-01-01
        ("-2020-01-01", "YYYY-MM-DD", Ok(-1456952)), // 2020-01-01 BC
        ("Feb", "Mon", Ok(-719497)), // 0001-02-01 BC
        ("", "YYYY", Ok(-719528)), // 0001-01-01 BC
        ("2020-01-01", "TZ", Err(("0A000", "formatting field \"TZ\" is only supported in to_char"))),
        ("2020-01-01 25:00", "YYYY-MM-DD HH24:MI", Err(("22008", "date/time field value out of range: \"2020-01-01 25:00\""))),
        ("2020x01x01", "YYYYxMMxDD", Ok(18262)), // 2020-01-01
        ("2020-01-01", "YYYY\"-\"MM\"-\"DD", Ok(18262)), // 2020-01-01
        ("2020-1-01", "FXYYYY-MM-DD", Ok(18262)), // 2020-01-01
        ("100", "DDD", Err(("22007", "cannot calculate day of year without year information"))),
        ("2020", "Y,YYY", Err(("22007", "invalid input string for \"Y,YYY\""))),
        ("+2020-01-01", "YYYY-MM-DD", Ok(18262)), // 2020-01-01
        ("2020- 1-01", "YYYY-MM-DD", Ok(18262)), // 2020-01-01
        ("January 05 2020", "Mon DD YYYY", Err(("22007", "invalid value \"ua\" for \"DD\""))),
        ("jAnUaRy 05 2020", "Month DD YYYY", Ok(18266)), // 2020-01-05
        ("5874898-01-01", "YYYY-MM-DD", Err(("22008", "date out of range: \"5874898-01-01\""))),
        ("5874897-12-31", "YYYY-MM-DD", Ok(2145042905)), // 5874897-12-31
        ("4714-11-23 BC", "YYYY-MM-DD BC", Err(("22008", "date out of range: \"4714-11-23 BC\""))),
        ("4714-11-24 BC", "YYYY-MM-DD BC", Ok(-2440588)), // 4714-11-24 BC
        ("2020-01-01", "YYYY-MM-DD OF", Ok(18262)), // 2020-01-01
        ("2020-01-01", "", Ok(-719528)), // 0001-01-01 BC
        ("2020", "YYYYMMDD", Ok(18262)), // 2020-01-01
        ("202001", "YYYYMMDD", Ok(18262)), // 2020-01-01
        ("2020-01-0x", "YYYY-MM-DD", Ok(18262)), // 2020-01-01
        ("2020 -01-01", "YYYY-MM-DD", Ok(18262)), // 2020-01-01
        ("2020-01-01", "YYYY--MM-DD", Ok(18262)), // 2020-01-01
        ("2020-01-01", "YYYY MM-DD", Ok(18262)), // 2020-01-01
        ("2020 - 01 - 01", "YYYY-MM-DD", Ok(18262)), // 2020-01-01
        ("2020   01   01", "YYYY MM DD", Ok(18262)), // 2020-01-01
        ("2020-02-01", "YYYY-MM-DD-Q", Ok(18293)), // 2020-02-01
        ("2020-4", "YYYY-Q", Ok(18262)), // 2020-01-01
        ("2020 13", "YYYY MM", Err(("22008", "date/time field value out of range: \"2020 13\""))),
        ("20201301", "YYYYMMDD", Err(("22008", "date/time field value out of range: \"20201301\""))),
        ("2020-01-01", "yyyy-mm-dd", Ok(18262)), // 2020-01-01
        ("2020-01-01 am", "YYYY-MM-DD am", Err(("22007", "hour \"0\" is invalid for the 12-hour clock"))),
        ("2020-01-01", "YYYY-MM-DDSP", Ok(18262)), // 2020-01-01
        ("10 2020", "MM\\\"YYYY", Ok(18536)), // 2020-10-01
        ("mon 2020", "Dy YYYY", Ok(18262)), // 2020-01-01
        ("2020-01-01", "Y-MM-DD", Ok(18262)), // 2020-01-01
        ("2020-01-01", "YY-MM-DD", Ok(18262)), // 2020-01-01
        ("3000000000", "J", Err(("22008", "value for \"J\" in source string is out of range"))),
        ("-1", "J", Err(("22008", "date out of range: \"-1\""))),
    ];

    /// to_timestamp(input, template), in microseconds since 1970 UTC.
    #[rustfmt::skip]
    const TO_TIMESTAMP: &[(&str, &str, Expected)] = &[
        ("1996-01-01 00:00:00.000000", "YYYY-MM-DD HH24:MI:SS.US", Ok(820454400000000)), // 1996-01-01 00:00:00+00
        ("2020-01-01 13:00", "YYYY-MM-DD HH:MI", Err(("22007", "hour \"13\" is invalid for the 12-hour clock"))),
        ("2020-01-01 01:30 PM", "YYYY-MM-DD HH12:MI AM", Ok(1577885400000000)), // 2020-01-01 13:30:00+00
        ("2020-01-01 12:00 AM", "YYYY-MM-DD HH12:MI PM", Ok(1577836800000000)), // 2020-01-01 00:00:00+00
        ("2020-01-01 12:00 p.m.", "YYYY-MM-DD HH:MI A.M.", Ok(1577880000000000)), // 2020-01-01 12:00:00+00
        ("2020-01-01 12:00 P.M.", "YYYY-MM-DD HH:MI a.m.", Ok(1577880000000000)), // 2020-01-01 12:00:00+00
        ("2020-01-01 24:00:00", "YYYY-MM-DD HH24:MI:SS", Err(("22008", "date/time field value out of range: \"2020-01-01 24:00:00\""))),
        ("2020-01-01 23:59:60", "YYYY-MM-DD HH24:MI:SS", Err(("22008", "date/time field value out of range: \"2020-01-01 23:59:60\""))),
        ("2020-01-01 23:60:00", "YYYY-MM-DD HH24:MI:SS", Err(("22008", "date/time field value out of range: \"2020-01-01 23:60:00\""))),
        ("2020-01-01 10:00:00.5", "YYYY-MM-DD HH24:MI:SS.MS", Ok(1577872800500000)), // 2020-01-01 10:00:00.5+00
        ("2020-01-01 10:00:00.05", "YYYY-MM-DD HH24:MI:SS.MS", Ok(1577872800050000)), // 2020-01-01 10:00:00.05+00
        ("2020-01-01 10:00:00.005", "YYYY-MM-DD HH24:MI:SS.MS", Ok(1577872800005000)), // 2020-01-01 10:00:00.005+00
        ("2020-01-01 10:00:00.5", "YYYY-MM-DD HH24:MI:SS.US", Ok(1577872800500000)), // 2020-01-01 10:00:00.5+00
        ("2020-01-01 10:00:00.000001", "YYYY-MM-DD HH24:MI:SS.US", Ok(1577872800000001)), // 2020-01-01 10:00:00.000001+00
        ("10:00:00.123 456", "HH24:MI:SS.MS US", Ok(-62167183199421000)), // 0001-01-01 10:00:00.579+00 BC
        ("1996-01-01 00:00:00.15", "YYYY-MM-DD HH24:MI:SS.FF1", Ok(820454400100000)), // 1996-01-01 00:00:00.1+00
        ("1996-01-01 00:00:00.25", "YYYY-MM-DD HH24:MI:SS.FF1", Ok(820454400200000)), // 1996-01-01 00:00:00.2+00
        ("2020-01-01 00:00:00.15", "YYYY-MM-DD HH24:MI:SS.FF1", Ok(1577836800200000)), // 2020-01-01 00:00:00.2+00
        ("2020-01-01 00:00:00.25", "YYYY-MM-DD HH24:MI:SS.FF1", Ok(1577836800300000)), // 2020-01-01 00:00:00.3+00
        ("2020-01-01 00:00:00.123456", "YYYY-MM-DD HH24:MI:SS.FF3", Ok(1577836800123000)), // 2020-01-01 00:00:00.123+00
        ("2020-01-01 00:00:00.1", "YYYY-MM-DD HH24:MI:SS.FF6", Ok(1577836800100000)), // 2020-01-01 00:00:00.1+00
        ("2020-01-01 00:00:00.1234567", "YYYY-MM-DD HH24:MI:SS.US", Err(("22008", "date/time field value out of range: \"2020-01-01 00:00:00.1234567\""))),
        ("2020-01-01 00:00:00.1234567", "YYYY-MM-DD HH24:MI:SS.FF6", Err(("22008", "date/time field value out of range: \"2020-01-01 00:00:00.1234567\""))),
        ("2020-01-01 00:00:00.1234", "YYYY-MM-DD HH24:MI:SS.MS", Err(("22008", "date/time field value out of range: \"2020-01-01 00:00:00.1234\""))),
        ("3661", "SSSS", Ok(-62167215539000000)), // 0001-01-01 01:01:01+00 BC
        ("86400", "SSSS", Err(("22008", "date/time field value out of range: \"86400\""))),
        ("2020-01-01 3661", "YYYY-MM-DD SSSSS", Ok(1577840461000000)), // 2020-01-01 01:01:01+00
        ("2020-01-01 10:00 +05:30", "YYYY-MM-DD HH24:MI TZH:TZM", Ok(1577853000000000)), // 2020-01-01 04:30:00+00
        ("2020-01-01 10:00 -05", "YYYY-MM-DD HH24:MI TZH", Ok(1577890800000000)), // 2020-01-01 15:00:00+00
        ("2020-01-01 10:00 30", "YYYY-MM-DD HH24:MI TZM", Ok(1577871000000000)), // 2020-01-01 09:30:00+00
        ("2020-01-01 10:00 +16", "YYYY-MM-DD HH24:MI TZH", Err(("22009", "time zone displacement out of range: \"2020-01-01 10:00 +16\""))),
        ("2020-01-01 10:00 +15:59", "YYYY-MM-DD HH24:MI TZH:TZM", Ok(1577815260000000)), // 2019-12-31 18:01:00+00
        ("2020-01-01 10:00 05:60", "YYYY-MM-DD HH24:MI TZH:TZM", Err(("22009", "time zone displacement out of range: \"2020-01-01 10:00 05:60\""))),
        ("2020-01-01 10:00-05", "YYYY-MM-DD HH24:MITZH", Ok(1577890800000000)), // 2020-01-01 15:00:00+00
        ("2020-01-01 10:00 -05", "YYYY-MM-DD HH24:MI-TZH", Ok(1577890800000000)), // 2020-01-01 15:00:00+00
        ("2020", "YYYY", Ok(1577836800000000)), // 2020-01-01 00:00:00+00
        ("", "", Ok(-62167219200000000)), // 0001-01-01 00:00:00+00 BC
        ("294277-01-01", "YYYY-MM-DD", Err(("22008", "timestamp out of range"))),
        ("4714-11-24 00:00 BC", "YYYY-MM-DD HH24:MI BC", Ok(-210866803200000000)), // 4714-11-24 00:00:00+00 BC
        ("4714-11-23 23:59 BC", "YYYY-MM-DD HH24:MI BC", Err(("22008", "timestamp out of range"))),
        ("2020-01-01 10:00", "YYYY-MM-DD HH24:MI OF", Ok(1577872800000000)), // 2020-01-01 10:00:00+00
        ("2020-01-01 10:00 UTC", "YYYY-MM-DD HH24:MI tz", Err(("0A000", "formatting field \"tz\" is only supported in to_char"))),
        ("2020-01-01T10:11:12", "YYYY-MM-DD\"T\"HH24:MI:SS", Ok(1577873472000000)), // 2020-01-01 10:11:12+00
        ("2020-01-01T10:11:12", "YYYY-MM-DDTHH24:MI:SS", Ok(1577836872000000)), // 2020-01-01 00:01:12+00
        ("2020-01-01 10:11:12", "YYYY-MM-DD HH24:MI:SS", Ok(1577873472000000)), // 2020-01-01 10:11:12+00
        ("20200101101112", "YYYYMMDDHH24MISS", Ok(1577873472000000)), // 2020-01-01 10:11:12+00
        ("2020-01-01 9:5:3", "YYYY-MM-DD HH24:MI:SS", Ok(1577869503000000)), // 2020-01-01 09:05:03+00
        ("2020-01-01 10:11:12 Wednesday", "YYYY-MM-DD HH24:MI:SS Day", Ok(1577873472000000)), // 2020-01-01 10:11:12+00
        ("2020-01-01 10", "YYYY-MM-DD HH", Ok(1577872800000000)), // 2020-01-01 10:00:00+00
        ("2020-01-01 12", "YYYY-MM-DD HH", Ok(1577836800000000)), // 2020-01-01 00:00:00+00
        ("2020-01-01 00:00:00.1", "YYYY-MM-DD HH24:MI:SS.MS.US", Ok(1577836800100000)), // 2020-01-01 00:00:00.1+00
        ("2020-01-01 -1:00", "YYYY-MM-DD HH24:MI", Ok(1577840400000000)), // 2020-01-01 01:00:00+00
        ("2020-01-01 10:00:00.9999999", "YYYY-MM-DD HH24:MI:SS.US", Err(("22008", "date/time field value out of range: \"2020-01-01 10:00:00.9999999\""))),
        ("2020-01-01 10:00:00.1234567", "YYYY-MM-DD HH24:MI:SS.FF1", Err(("22008", "date/time field value out of range: \"2020-01-01 10:00:00.1234567\""))),
        ("2020-01-01 10:00:00.999", "YYYY-MM-DD HH24:MI:SS.MS.MS", Ok(1577872800999000)), // 2020-01-01 10:00:00.999+00
        ("2020-01-01 10:00:00.9999", "YYYY-MM-DD HH24:MI:SS.MS", Err(("22008", "date/time field value out of range: \"2020-01-01 10:00:00.9999\""))),
        ("1999-12-31 23:59:59.95", "YYYY-MM-DD HH24:MI:SS.FF1", Ok(946684799900000)), // 1999-12-31 23:59:59.9+00
        ("1969-12-31 23:59:59.95", "YYYY-MM-DD HH24:MI:SS.FF1", Ok(-100000)), // 1969-12-31 23:59:59.9+00
        ("1969-12-31 23:59:59.95", "YYYY-MM-DD HH24:MI:SS.US", Ok(-50000)), // 1969-12-31 23:59:59.95+00
    ];

    /// Templates used by several cases of [`TO_CHAR`].
    const EVERY_PATTERN: &str = "YYYY|YYY|YY|Y|Y,YYY|IYYY|IYY|IY|I|MM|DD|DDD|D|ID|IDDD|HH|HH12|HH24|MI|SS|MS|US|FF1|FF2|FF3|FF4|FF5|FF6|SSSS|SSSSS|AM|PM|am|pm|A.M.|P.M.|a.m.|p.m.|AD|BC|ad|bc|A.D.|B.C.|a.d.|b.c.|Mon|MON|mon|Month|MONTH|month|Dy|DY|dy|Day|DAY|day|Q|WW|IW|W|CC|J|RM|rm|TZ|tz|OF|TZH|TZM";
    const LOWER_CASE: &str = "yyyy|yyy|yy|y|y,yyy|iyyy|iyy|iy|i|mm|dd|ddd|d|id|iddd|hh|hh12|hh24|mi|ss|ms|us|ff1|ff6|ssss|sssss|am|pm|a.m.|p.m.|ad|bc|a.d.|b.c.|mon|month|dy|day|q|ww|iw|w|cc|j|rm|tz|of|tzh|tzm|fx";
    const FILL_MODE: &str = "FMMonth|FMDay|FMDD|FMMM|FMHH|FMHH24|FMYYYY|FMRM|FMDDD|FMMI|FMSS|FMCC|FMWW|FMIW|FMOF|FMUS|FMMS|FMY,YYY|FMYY|FMIYYY|FMJ|FMD|FMHH12|FMmonth|FMMONTH|FMDAY|FMday|FMMon|FMFF3|FMrm|FMIDDD|FMID|FMQ|FMW|FMSSSS|FMY|FMTZH";
    const ORDINALS: &str = "DDTH|DDth|MMth|YYYYth|HH24TH|Dth|DDDth|Qth|CCth|Jth|WWth|IWth|FMDDth|MonthTH|HHth|MIth|SSth|USth|Yth|IDth|Wth|SSSSth|RMth|MSth|FF2th|Y,YYYth|IDDDth|IYYYth|TZMth|TZHth|OFth|AMth|DDSP|DDTHSP|DDspth|FMDDTH";
    const EDGES: &str = "YYYY-MM-DD HH24:MI:SS.US BC|CC|Y,YYY|IYYY|IW|ID|J|WW|DDD|IDDD|Q|RM|D|W";

    /// to_char(value, template), the value in microseconds since 1970.
    #[rustfmt::skip]
    const TO_CHAR: &[(i64, Kind, &str, &str)] = &[
        (1582981509123456, Kind::Timestamp, EVERY_PATTERN, "2020|020|20|0|2,020|2020|020|20|0|02|29|060|7|6|062|01|01|13|05|09|123|123456|1|12|123|1234|12345|123456|47109|47109|PM|PM|pm|pm|P.M.|P.M.|p.m.|p.m.|AD|AD|ad|ad|A.D.|A.D.|a.d.|a.d.|Feb|FEB|feb|February |FEBRUARY |february |Sat|SAT|sat|Saturday |SATURDAY |saturday |1|09|09|5|21|2458909|II  |ii  |||+00|+00|00"),
        (820454400000000, Kind::Timestamp, EVERY_PATTERN, "1996|996|96|6|1,996|1996|996|96|6|01|01|001|2|1|001|12|12|00|00|00|000|000000|0|00|000|0000|00000|000000|0|0|AM|AM|am|am|A.M.|A.M.|a.m.|a.m.|AD|AD|ad|ad|A.D.|A.D.|a.d.|a.d.|Jan|JAN|jan|January  |JANUARY  |january  |Mon|MON|mon|Monday   |MONDAY   |monday   |1|01|01|1|20|2450084|I   |i   |||+00|+00|00"),
        (1609675200500000, Kind::Timestamp, EVERY_PATTERN, "2021|021|21|1|2,021|2020|020|20|0|01|03|003|1|7|371|12|12|12|00|00|500|500000|5|50|500|5000|50000|500000|43200|43200|PM|PM|pm|pm|P.M.|P.M.|p.m.|p.m.|AD|AD|ad|ad|A.D.|A.D.|a.d.|a.d.|Jan|JAN|jan|January  |JANUARY  |january  |Sun|SUN|sun|Sunday   |SUNDAY   |sunday   |1|01|53|1|21|2459218|I   |i   |||+00|+00|00"),
        (-63517824000000000, Kind::Timestamp, EVERY_PATTERN, "0044|044|44|4|0,044|0044|044|44|4|03|15|074|6|5|075|12|12|00|00|00|000|000000|0|00|000|0000|00000|000000|0|0|AM|AM|am|am|A.M.|A.M.|a.m.|a.m.|BC|BC|bc|bc|B.C.|B.C.|b.c.|b.c.|Mar|MAR|mar|March    |MARCH    |march    |Fri|FRI|fri|Friday   |FRIDAY   |friday   |1|11|11|3|-01|1705428|III |iii |||+00|+00|00"),
        (1230767999999999, Kind::Timestamp, EVERY_PATTERN, "2008|008|08|8|2,008|2009|009|09|9|12|31|366|4|3|003|11|11|23|59|59|999|999999|9|99|999|9999|99999|999999|86399|86399|PM|PM|pm|pm|P.M.|P.M.|p.m.|p.m.|AD|AD|ad|ad|A.D.|A.D.|a.d.|a.d.|Dec|DEC|dec|December |DECEMBER |december |Wed|WED|wed|Wednesday|WEDNESDAY|wednesday|4|53|01|5|21|2454832|XII |xii |||+00|+00|00"),
        (327416976550000000, Kind::Timestamp, EVERY_PATTERN, "12345|345|45|5|12,345|12345|345|45|5|06|07|158|5|4|158|08|08|08|09|10|000|000000|0|00|000|0000|00000|000000|29350|29350|AM|AM|am|am|A.M.|A.M.|a.m.|a.m.|AD|AD|ad|ad|A.D.|A.D.|a.d.|a.d.|Jun|JUN|jun|June     |JUNE     |june     |Thu|THU|thu|Thursday |THURSDAY |thursday |2|23|23|1|124|6230136|VI  |vi  |||+00|+00|00"),
        (-62135596800000000, Kind::Timestamp, EVERY_PATTERN, "0001|001|01|1|0,001|0001|001|01|1|01|01|001|2|1|001|12|12|00|00|00|000|000000|0|00|000|0000|00000|000000|0|0|AM|AM|am|am|A.M.|A.M.|a.m.|a.m.|AD|AD|ad|ad|A.D.|A.D.|a.d.|a.d.|Jan|JAN|jan|January  |JANUARY  |january  |Mon|MON|mon|Monday   |MONDAY   |monday   |1|01|01|1|01|1721426|I   |i   |||+00|+00|00"),
        (971953871000000, Kind::Timestamp, EVERY_PATTERN, "2000|000|00|0|2,000|2000|000|00|0|10|19|293|5|4|291|11|11|11|11|11|000|000000|0|00|000|0000|00000|000000|40271|40271|AM|AM|am|am|A.M.|A.M.|a.m.|a.m.|AD|AD|ad|ad|A.D.|A.D.|a.d.|a.d.|Oct|OCT|oct|October  |OCTOBER  |october  |Thu|THU|thu|Thursday |THURSDAY |thursday |4|42|42|3|20|2451837|X   |x   |||+00|+00|00"),
        (1582981509123456, Kind::Timestamptz, EVERY_PATTERN, "2020|020|20|0|2,020|2020|020|20|0|02|29|060|7|6|062|01|01|13|05|09|123|123456|1|12|123|1234|12345|123456|47109|47109|PM|PM|pm|pm|P.M.|P.M.|p.m.|p.m.|AD|AD|ad|ad|A.D.|A.D.|a.d.|a.d.|Feb|FEB|feb|February |FEBRUARY |february |Sat|SAT|sat|Saturday |SATURDAY |saturday |1|09|09|5|21|2458909|II  |ii  |UTC|utc|+00|+00|00"),
        (-63517824000000000, Kind::Timestamptz, EVERY_PATTERN, "0044|044|44|4|0,044|0044|044|44|4|03|15|074|6|5|075|12|12|00|00|00|000|000000|0|00|000|0000|00000|000000|0|0|AM|AM|am|am|A.M.|A.M.|a.m.|a.m.|BC|BC|bc|bc|B.C.|B.C.|b.c.|b.c.|Mar|MAR|mar|March    |MARCH    |march    |Fri|FRI|fri|Friday   |FRIDAY   |friday   |1|11|11|3|-01|1705428|III |iii |UTC|utc|+00|+00|00"),
        (0, Kind::Date, EVERY_PATTERN, "1970|970|70|0|1,970|1970|970|70|0|01|01|001|5|4|004|12|12|00|00|00|000|000000|0|00|000|0000|00000|000000|0|0|AM|AM|am|am|A.M.|A.M.|a.m.|a.m.|AD|AD|ad|ad|A.D.|A.D.|a.d.|a.d.|Jan|JAN|jan|January  |JANUARY  |january  |Thu|THU|thu|Thursday |THURSDAY |thursday |1|01|01|1|20|2440588|I   |i   |UTC|utc|+00|+00|00"),
        (1230768000000000, Kind::Date, EVERY_PATTERN, "2009|009|09|9|2,009|2009|009|09|9|01|01|001|5|4|004|12|12|00|00|00|000|000000|0|00|000|0000|00000|000000|0|0|AM|AM|am|am|A.M.|A.M.|a.m.|a.m.|AD|AD|ad|ad|A.D.|A.D.|a.d.|a.d.|Jan|JAN|jan|January  |JANUARY  |january  |Thu|THU|thu|Thursday |THURSDAY |thursday |1|01|01|1|21|2454833|I   |i   |UTC|utc|+00|+00|00"),
        (-62167219200000000, Kind::Date, EVERY_PATTERN, "0001|001|01|1|0,001|0002|002|02|2|01|01|001|7|6|363|12|12|00|00|00|000|000000|0|00|000|0000|00000|000000|0|0|AM|AM|am|am|A.M.|A.M.|a.m.|a.m.|BC|BC|bc|bc|B.C.|B.C.|b.c.|b.c.|Jan|JAN|jan|January  |JANUARY  |january  |Sat|SAT|sat|Saturday |SATURDAY |saturday |1|01|52|1|-01|1721060|I   |i   |UTC|utc|+00|+00|00"),
        (1582981509123456, Kind::Timestamptz, LOWER_CASE, "2020|020|20|0|2,020|2020|020|20|0|02|29|060|7|6|062|01|01|13|05|09|123|123456|1|123456|47109|47109|pm|pm|p.m.|p.m.|ad|ad|a.d.|a.d.|feb|february |sat|saturday |1|09|09|5|21|2458909|ii  |utc|+00|+00|00|"),
        (1582981509123456, Kind::Timestamp, LOWER_CASE, "2020|020|20|0|2,020|2020|020|20|0|02|29|060|7|6|062|01|01|13|05|09|123|123456|1|123456|47109|47109|pm|pm|p.m.|p.m.|ad|ad|a.d.|a.d.|feb|february |sat|saturday |1|09|09|5|21|2458909|ii  ||+00|+00|00|"),
        (1580702706007000, Kind::Timestamp, FILL_MODE, "February|Monday|3|2|4|4|2020|II|34|5|6|21|5|6|+0|007000|007|2,020|20|2020|2458883|2|4|february|FEBRUARY|MONDAY|monday|Feb|007|ii|36|1|1|1|14706|0|+00"),
        (-63517824000000000, Kind::Timestamp, FILL_MODE, "March|Friday|15|3|12|0|44|III|74|0|0|-1|11|11|+0|000000|000|0,044|44|44|1705428|6|12|march|MARCH|FRIDAY|friday|Mar|000|iii|75|5|1|3|0|4|+00"),
        (327416976550000000, Kind::Timestamp, FILL_MODE, "June|Thursday|7|6|8|8|12345|VI|158|9|10|124|23|23|+0|000000|000|12,345|45|12345|6230136|5|8|june|JUNE|THURSDAY|thursday|Jun|000|vi|158|4|2|1|29350|5|+00"),
        (1577841081000000, Kind::Timestamp, ORDINALS, "01ST|01st|01st|2020th|01ST|4th|001st|1st|21st|2458850th|01st|01st|1st|January  |01st|11th|21st|000000th|0th|3rd|1st|4281st|I   |000th|00th|2,020th|003rd|2020th|00|+00|+00|AM|01|01STSP|01spth|1ST"),
        (1577931142000000, Kind::Timestamp, ORDINALS, "02ND|02nd|01st|2020th|02ND|5th|002nd|1st|21st|2458851st|01st|01st|2nd|January  |02nd|12th|22nd|000000th|0th|4th|1st|7942nd|I   |000th|00th|2,020th|004th|2020th|00|+00|+00|AM|02|02NDSP|02spth|2ND"),
        (1578021203000000, Kind::Timestamp, ORDINALS, "03RD|03rd|01st|2020th|03RD|6th|003rd|1st|21st|2458852nd|01st|01st|3rd|January  |03rd|13th|23rd|000000th|0th|5th|1st|11603rd|I   |000th|00th|2,020th|005th|2020th|00|+00|+00|AM|03|03RDSP|03spth|3RD"),
        (1578111264000000, Kind::Timestamp, ORDINALS, "04TH|04th|01st|2020th|04TH|7th|004th|1st|21st|2458853rd|01st|01st|4th|January  |04th|14th|24th|000000th|0th|6th|1st|15264th|I   |000th|00th|2,020th|006th|2020th|00|+00|+00|AM|04|04THSP|04spth|4TH"),
        (1578741691000000, Kind::Timestamp, ORDINALS, "11TH|11th|01st|2020th|11TH|7th|011th|1st|21st|2458860th|02nd|02nd|11th|January  |11th|21st|31st|000000th|0th|6th|2nd|40891st|I   |000th|00th|2,020th|013th|2020th|00|+00|+00|AM|11|11THSP|11spth|11TH"),
        (1578831752000000, Kind::Timestamp, ORDINALS, "12TH|12th|01st|2020th|12TH|1st|012th|1st|21st|2458861st|02nd|02nd|12th|January  |12th|22nd|32nd|000000th|0th|7th|2nd|44552nd|I   |000th|00th|2,020th|014th|2020th|00|+00|+00|PM|12|12THSP|12spth|12TH"),
        (1578921813000000, Kind::Timestamp, ORDINALS, "13TH|13th|01st|2020th|13TH|2nd|013th|1st|21st|2458862nd|02nd|03rd|13th|January  |01st|23rd|33rd|000000th|0th|1st|2nd|48213th|I   |000th|00th|2,020th|015th|2020th|00|+00|+00|PM|13|13THSP|13spth|13TH"),
        (1579642301000000, Kind::Timestamp, ORDINALS, "21ST|21st|01st|2020th|21ST|3rd|021st|1st|21st|2458870th|03rd|04th|21st|January  |09th|31st|41st|000000th|0th|2nd|3rd|77501st|I   |000th|00th|2,020th|023rd|2020th|00|+00|+00|PM|21|21STSP|21spth|21ST"),
        (1579732362000000, Kind::Timestamp, ORDINALS, "22ND|22nd|01st|2020th|22ND|4th|022nd|1st|21st|2458871st|04th|04th|22nd|January  |10th|32nd|42nd|000000th|0th|3rd|4th|81162nd|I   |000th|00th|2,020th|024th|2020th|00|+00|+00|PM|22|22NDSP|22spth|22ND"),
        (1579822423000000, Kind::Timestamp, ORDINALS, "23RD|23rd|01st|2020th|23RD|5th|023rd|1st|21st|2458872nd|04th|04th|23rd|January  |11th|33rd|43rd|000000th|0th|4th|4th|84823rd|I   |000th|00th|2,020th|025th|2020th|00|+00|+00|PM|23|23RDSP|23spth|23RD"),
        (1580456511000000, Kind::Timestamp, ORDINALS, "31ST|31st|01st|2020th|07TH|6th|031st|1st|21st|2458880th|05th|05th|31st|January  |07th|41st|51st|000000th|0th|5th|5th|27711th|I   |000th|00th|2,020th|033rd|2020th|00|+00|+00|AM|31|31STSP|31spth|31ST"),
        (1580702706007000, Kind::Timestamp, "TMMonth|TMDay|TMmon|TMDY|TMMONTH|TMday|tmMonth|FMTMMonth|TMFMMonth|TMRM|TMDD|FM|TM|FMx|TMJ", "February|Monday|feb|MON|FEBRUARY|monday|February|T02onth|F02onth|II  |03|||x|2458883"),
        (1580702706007000, Kind::Timestamp, "\"Year \"YYYY", "Year 2020"),
        (1580702706007000, Kind::Timestamp, "\"in \\\" quote\" YYYY", "in \" quote 2020"),
        (1580702706007000, Kind::Timestamp, "YYYY\\\"MM\\\"", "2020\"02\""),
        (1580702706007000, Kind::Timestamp, "a\\b\\\\c", "a\\b\\\\c"),
        (1580702706007000, Kind::Timestamp, "\"a\\b\\\\c\\MM\"", "ab\\cMM"),
        (1580702706007000, Kind::Timestamp, "\"ends with backslash\\", "ends with backslash\\"),
        (1580702706007000, Kind::Timestamp, "\\\\\"MM\"", "\\\"02"),
        (1580702706007000, Kind::Timestamp, "\"", ""),
        (1580702706007000, Kind::Timestamp, "MM\\", "02\\"),
        (1580702706007000, Kind::Timestamp, "\"\"MM\"\"", "02"),
        (1580702706007000, Kind::Timestamp, "YYYY-MM-DDTHH24:MI:SS", "2020-02-03RDH24:05:06"),
        (1580702706007000, Kind::Timestamp, "YYYY-MM-DD\"T\"HH24:MI:SS", "2020-02-03T04:05:06"),
        (1580702706007000, Kind::Timestamp, "yyyy-mm-dd hh24:mi:ss.ms.us am", "2020-02-03 04:05:06.007.007000 am"),
        (1580702706007000, Kind::Timestamp, "Yyyy Mm Dd Hh24 Mi", "0020 Mm 22 Hh24 M0"),
        (1580702706007000, Kind::Timestamp, "FX YYYY fx x E ü 😀 \"ü\"", " 2020  x E ü 😀 ü"),
        (1580702706007000, Kind::Timestamp, "YYYY-MM", "2020-02"),
        (1580702706007000, Kind::Timestamp, "YYYY\"Q\"Q", "2020Q1"),
        (1580702706007000, Kind::Timestamp, "Mon DD, YYYY HH12:MI AM", "Feb 03, 2020 04:05 AM"),
        (1580702706007000, Kind::Timestamp, "Day, DD Month YYYY", "Monday   , 03 February  2020"),
        (1580702706007000, Kind::Timestamp, "YYYYMMDDHH24MISSUS", "20200203040506007000"),
        (1580702706007000, Kind::Timestamp, "IYYY-\"W\"IW-ID", "2020-W06-1"),
        (1580702706007000, Kind::Timestamp, "SP", "SP"),
        (1580702706007000, Kind::Timestamp, "THth", "THth"),
        (1580702706007000, Kind::Timestamp, "H12HH2", "H12042"),
        (1580702706007000, Kind::Timestamp, "MONTHMONMonthMonmonthmon", "FEBRUARY FEBFebruary Febfebruary feb"),
        (1580702706007000, Kind::Timestamp, "DAYDYDayDydaydy", "MONDAY   MONMonday   Monmonday   mon"),
        (1580702706007000, Kind::Timestamp, "\\\"", "\""),
        (1580702706007000, Kind::Timestamp, "A", "A"),
        (1580702706007000, Kind::Timestamp, "Q\"Q\"\\Q", "1Q\\1"),
        (-62198755200000000, Kind::Timestamp, EDGES, "0002-01-01 00:00:00.000000 BC|-01|0,002|0003|53|5|1720695|01|001|369|1|I   |6|1"),
        (-210866803200000000, Kind::Timestamp, EDGES, "4714-11-24 00:00:00.000000 BC|-48|4,714|4714|48|1|0|47|328|330|4|XI  |2|4"),
        (-210866803199999999, Kind::Timestamp, EDGES, "4714-11-24 00:00:00.000001 BC|-48|4,714|4714|48|1|0|47|328|330|4|XI  |2|4"),
        (9223372036854775807, Kind::Timestamp, EDGES, "294247-01-10 04:00:54.775807 AD|2943|294,247|294247|01|7|109192579|02|010|007|1|I   |1|2"),
        (253402300799999999, Kind::Timestamp, EDGES, "9999-12-31 23:59:59.999999 AD|100|9,999|9999|52|5|5373484|53|365|362|4|XII |6|5"),
    ];
}
