//! The date grammar of questions: years, quarters, months and days ("in 1995", "Q1 1996", "March 1995",
//! "1995-03-01"), ranges ("between … and …", "from … to …", "between March and June 1997", "since …", "before …"),
//! and periods relative to an anchor day ("last year", "last 3 months", "this quarter", "year to date"). Relative
//! periods are whole periods before the anchor's own: with the anchor 1998-08-02, "last 3 months" is May, June and
//! July 1998. The anchor is the view's `anchor_date` (data that stops in the past), else today.
//!
//! Phrases with a dominant everyday reading are read that way: "in/during 1996" (that year), "since 1996",
//! "before 1997", "after 1996", "between 1995 and 1997" (both years whole), "last year" (the previous calendar
//! year). Phrases with two plausible readings are [`Phrase::Ambiguous`], refused with both readings named as they
//! can be asked: "from 1996" without an end (during or since), "through / until 1997" without a start (during, or
//! up to its start or its end), "as of 1997" (up to its end, or since), "the past year" / "the last year" without a
//! count (the previous calendar year, or the trailing twelve months), "last March" (the latest March, or last
//! year's) when those differ.

use std::fmt;

use chrono::{Datelike, Days, Months, NaiveDate};

use super::query::Grain;

/// `start <= day < end`; an open side is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
}

/// What a time phrase means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phrase {
    /// One reading; `period` is the grain when the range is exactly one named period ("1996", "Q1 1996"), which a
    /// comparison of two periods groups by.
    Clear {
        range: DateRange,
        period: Option<Grain>,
    },
    Ambiguous(Ambiguity),
}

/// A time phrase with two plausible readings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ambiguity {
    /// The words as typed.
    pub phrase: String,
    pub readings: [Alternative; 2],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative {
    /// What the reading means, e.g. "during 1996".
    pub meaning: String,
    /// A phrase the grammar reads this way only, e.g. "in 1996": what the user can ask instead.
    pub ask: String,
    pub range: DateRange,
}

impl Ambiguity {
    /// The reading whose range is `range`, if any.
    pub fn reading(&self, range: &DateRange) -> Option<&Alternative> {
        self.readings.iter().find(|r| r.range == *range)
    }
}

impl fmt::Display for Ambiguity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b] = &self.readings;
        write!(
            f,
            "'{}' can mean {} or {}: ask '{}' or '{}'",
            self.phrase, a.meaning, b.meaning, a.ask, b.ask
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Unit {
    fn parse(word: &str) -> Option<Self> {
        match word.strip_suffix('s').unwrap_or(word) {
            "day" => Some(Unit::Day),
            "week" => Some(Unit::Week),
            "month" => Some(Unit::Month),
            "quarter" => Some(Unit::Quarter),
            "year" => Some(Unit::Year),
            _ => None,
        }
    }

    fn grain(self) -> Grain {
        match self {
            Unit::Day => Grain::Day,
            Unit::Week => Grain::Week,
            Unit::Month => Grain::Month,
            Unit::Quarter => Grain::Quarter,
            Unit::Year => Grain::Year,
        }
    }

    /// The same span in a smaller unit, for the trailing reading of "the past year" ("the last 12 months").
    fn trailing(self) -> Option<(u32, Unit)> {
        match self {
            Unit::Year => Some((12, Unit::Month)),
            Unit::Quarter => Some((3, Unit::Month)),
            Unit::Month => Some((30, Unit::Day)),
            Unit::Week => Some((7, Unit::Day)),
            Unit::Day => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
            Unit::Quarter => "quarter",
            Unit::Year => "year",
        }
    }

    /// The first day of the period containing `day`.
    fn start_of(self, day: NaiveDate) -> NaiveDate {
        let ymd = |y, m| NaiveDate::from_ymd_opt(y, m, 1).expect("valid date");
        match self {
            Unit::Day => day,
            Unit::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            Unit::Month => ymd(day.year(), day.month()),
            Unit::Quarter => ymd(day.year(), (day.month() - 1) / 3 * 3 + 1),
            Unit::Year => ymd(day.year(), 1),
        }
    }

    /// `day` moved by `n` periods (backwards when negative).
    fn shift(self, day: NaiveDate, n: i64) -> Option<NaiveDate> {
        let months = |m: i64| {
            let magnitude = Months::new(u32::try_from(m.unsigned_abs()).ok()?);
            if m >= 0 {
                day.checked_add_months(magnitude)
            } else {
                day.checked_sub_months(magnitude)
            }
        };
        match self {
            Unit::Day | Unit::Week => {
                let days = Days::new(n.unsigned_abs() * if self == Unit::Week { 7 } else { 1 });
                if n >= 0 {
                    day.checked_add_days(days)
                } else {
                    day.checked_sub_days(days)
                }
            }
            Unit::Month => months(n),
            Unit::Quarter => months(3 * n),
            Unit::Year => months(12 * n),
        }
    }
}

/// A named period: a day, month, quarter or year.
#[derive(Debug, Clone, Copy)]
struct Period {
    unit: Unit,
    start: NaiveDate,
    end: NaiveDate,
}

impl Period {
    fn of(unit: Unit, start: NaiveDate) -> Option<Self> {
        Some(Self {
            unit,
            start,
            end: unit.shift(start, 1)?,
        })
    }

    /// The period of the same unit that follows.
    fn next(self) -> Option<Self> {
        Self::of(self.unit, self.end)
    }

    fn range(self) -> DateRange {
        DateRange {
            start: Some(self.start),
            end: Some(self.end),
        }
    }

    /// As the grammar reads it back: "1996", "Q3 1995", "March 1997", "1995-03-01".
    fn name(self) -> String {
        let year = self.start.year();
        match self.unit {
            Unit::Year => year.to_string(),
            Unit::Quarter => format!("Q{} {year}", (self.start.month() - 1) / 3 + 1),
            Unit::Month => self.start.format("%B %Y").to_string(),
            Unit::Day | Unit::Week => self.start.to_string(),
        }
    }
}

fn clear(range: DateRange, period: Option<Unit>) -> Phrase {
    Phrase::Clear {
        range,
        period: period.map(Unit::grain),
    }
}

fn ambiguous(tokens: &[&str], at: usize, n: usize, readings: [(String, String, DateRange); 2]) -> Phrase {
    Phrase::Ambiguous(Ambiguity {
        phrase: tokens[at..at + n].join(" "),
        readings: readings.map(|(meaning, ask, range)| Alternative { meaning, ask, range }),
    })
}

/// Read a date expression at `tokens[at..]` (lower-case words): how many tokens it takes and what it means.
pub fn parse(tokens: &[&str], at: usize, anchor: NaiveDate) -> Option<(usize, Phrase)> {
    let word = |i: usize| tokens.get(i).copied().unwrap_or("");
    let open = |start: Option<NaiveDate>, end: Option<NaiveDate>| clear(DateRange { start, end }, None);
    let during = |p: Period| (format!("during {}", p.name()), format!("in {}", p.name()), p.range());
    let since = |p: Period| {
        let range = DateRange {
            start: Some(p.start),
            end: None,
        };
        (format!("since {}", p.name()), format!("since {}", p.name()), range)
    };
    // "Up to the end of 1997" is asked as "before 1998".
    let to_end = |p: Period| {
        let next = p.next()?;
        let range = DateRange {
            start: None,
            end: Some(p.end),
        };
        Some((
            format!("up to the end of {}", p.name()),
            format!("before {}", next.name()),
            range,
        ))
    };
    match word(at) {
        "between" => span(tokens, at + 1, &["and"]).map(|(n, from, to)| (1 + n, open(Some(from.start), Some(to.end)))),
        "from" => {
            if let Some((n, from, to)) = span(tokens, at + 1, &["to", "until", "through", "till", "thru"]) {
                return Some((1 + n, open(Some(from.start), Some(to.end))));
            }
            let (n, p) = period(tokens, at + 1)?;
            Some((1 + n, ambiguous(tokens, at, 1 + n, [during(p), since(p)])))
        }
        "since" => period(tokens, at + 1).map(|(n, p)| (1 + n, open(Some(p.start), None))),
        "after" => period(tokens, at + 1).map(|(n, p)| (1 + n, open(Some(p.end), None))),
        "before" => period(tokens, at + 1).map(|(n, p)| (1 + n, open(None, Some(p.start)))),
        "through" | "thru" => {
            let (n, p) = period(tokens, at + 1)?;
            Some((1 + n, ambiguous(tokens, at, 1 + n, [during(p), to_end(p)?])))
        }
        "until" | "till" => {
            let (n, p) = period(tokens, at + 1)?;
            let before = (
                format!("before {}", p.name()),
                format!("before {}", p.name()),
                DateRange {
                    start: None,
                    end: Some(p.start),
                },
            );
            Some((1 + n, ambiguous(tokens, at, 1 + n, [before, to_end(p)?])))
        }
        "as" if word(at + 1) == "of" => {
            let (n, p) = period(tokens, at + 2)?;
            Some((2 + n, ambiguous(tokens, at, 2 + n, [to_end(p)?, since(p)])))
        }
        "in" | "during" | "for" | "of" | "on" | "within" | "over" => {
            let skip = 1 + usize::from(word(at + 1) == "the");
            let (n, found) = core(tokens, at + skip, anchor)?;
            let found = match found {
                // The phrase named is the whole of it: "over the past year", not "past year".
                Phrase::Ambiguous(a) => {
                    ambiguous(tokens, at, skip + n, a.readings.map(|r| (r.meaning, r.ask, r.range)))
                }
                other => other,
            };
            Some((skip + n, found))
        }
        _ => core(tokens, at, anchor),
    }
}

/// Two periods joined by one of `joins` ("1995 and 1997", "March and June 1997"): a month or quarter without its
/// year takes the year of the other end, the year before when it would otherwise come after it ("between November
/// and February 1997" starts in November 1996).
fn span(tokens: &[&str], at: usize, joins: &[&str]) -> Option<(usize, Period, Period)> {
    let word = |i: usize| tokens.get(i).copied().unwrap_or("");
    if let Some((n1, from)) = period(tokens, at)
        && joins.contains(&word(at + n1))
    {
        let (n2, to) = period(tokens, at + 1 + n1)?;
        return Some((1 + n1 + n2, from, to));
    }
    let (n1, unit, first_month) = yearless(tokens, at)?;
    if !joins.contains(&word(at + n1)) {
        return None;
    }
    let (n2, to) = period(tokens, at + 1 + n1)?;
    if to.unit != unit {
        return None;
    }
    let in_year = |y: i32| Period::of(unit, NaiveDate::from_ymd_opt(y, first_month, 1)?);
    let mut from = in_year(to.start.year())?;
    if from.start > to.start {
        from = in_year(to.start.year() - 1)?;
    }
    Some((1 + n1 + n2, from, to))
}

/// A month or quarter named without its year ("March", "Q1", "the first quarter"): its unit and first month.
fn yearless(tokens: &[&str], at: usize) -> Option<(usize, Unit, u32)> {
    let word = |i: usize| tokens.get(i).copied().unwrap_or("");
    let skip = usize::from(word(at) == "the");
    let first = word(at + skip);
    if let Some(q) = quarter_number(first) {
        return Some((skip + 1, Unit::Quarter, 3 * (q - 1) + 1));
    }
    if let Some(q) = ordinal(first)
        && word(at + skip + 1) == "quarter"
    {
        return Some((skip + 2, Unit::Quarter, 3 * (q - 1) + 1));
    }
    month_number(first).map(|m| (skip + 1, Unit::Month, m))
}

/// A period named absolutely, or one relative to the anchor.
fn core(tokens: &[&str], at: usize, anchor: NaiveDate) -> Option<(usize, Phrase)> {
    if let Some(found) = relative(tokens, at, anchor) {
        return Some(found);
    }
    let (n, p) = period(tokens, at)?;
    Some((n, clear(p.range(), Some(p.unit))))
}

fn relative(tokens: &[&str], at: usize, anchor: NaiveDate) -> Option<(usize, Phrase)> {
    let word = |i: usize| tokens.get(i).copied().unwrap_or("");
    let to_date = |unit: Unit| DateRange {
        start: Some(unit.start_of(anchor)),
        end: anchor.checked_add_days(Days::new(1)),
    };
    // The whole periods of `unit` before the anchor's own.
    let trailing = |count: u32, unit: Unit| -> Option<DateRange> {
        let end = unit.start_of(anchor);
        Some(DateRange {
            start: Some(unit.shift(end, -i64::from(count))?),
            end: Some(end),
        })
    };
    match word(at) {
        "ytd" => Some((1, clear(to_date(Unit::Year), None))),
        "year" if word(at + 1) == "to" && word(at + 2) == "date" => Some((3, clear(to_date(Unit::Year), None))),
        "this" | "current" => Unit::parse(word(at + 1)).map(|unit| (2, clear(to_date(unit), None))),
        "today" => Some((1, clear(to_date(Unit::Day), Some(Unit::Day)))),
        "yesterday" => Some((1, clear(trailing(1, Unit::Day)?, Some(Unit::Day)))),
        "last" | "past" | "previous" | "prior" => {
            if let Some(month) = month_number(word(at + 1)) {
                return last_month_named(tokens, at, month, anchor);
            }
            let (count, unit_at) = match word(at + 1).parse::<u32>() {
                Ok(n) if n > 0 => (Some(n), at + 2),
                Ok(_) => return None,
                Err(_) => (None, at + 1),
            };
            let unit = Unit::parse(word(unit_at))?;
            let n = unit_at + 1 - at;
            let Some(count) = count else {
                let calendar = trailing(1, unit)?;
                // "The past year" / "the last year" also reads as the trailing twelve months; "last year" does not.
                let definite = word(at) == "past" || (at > 0 && tokens[at - 1] == "the");
                if let (true, Some((count, smaller))) = (definite, unit.trailing()) {
                    let rolling = trailing(count, smaller)?;
                    let until = Period::of(smaller, smaller.start_of(anchor))?.name();
                    let readings = [
                        (
                            format!("the previous calendar {}", unit.name()),
                            format!("last {}", unit.name()),
                            calendar,
                        ),
                        (
                            format!("the {count} {}s before {until}", smaller.name()),
                            format!("in the last {count} {}s", smaller.name()),
                            rolling,
                        ),
                    ];
                    return Some((n, ambiguous(tokens, at, n, readings)));
                }
                return Some((n, clear(calendar, Some(unit))));
            };
            Some((n, clear(trailing(count, unit)?, None)))
        }
        _ => None,
    }
}

/// "last March": the latest whole March before the anchor, or March of last year. When they are the same month
/// (the anchor is in January to March) it is clear; otherwise both are named.
fn last_month_named(tokens: &[&str], at: usize, month: u32, anchor: NaiveDate) -> Option<(usize, Phrase)> {
    let in_year = |y: i32| Period::of(Unit::Month, NaiveDate::from_ymd_opt(y, month, 1)?);
    let latest = in_year(if month < anchor.month() {
        anchor.year()
    } else {
        anchor.year() - 1
    })?;
    let last_years = in_year(anchor.year() - 1)?;
    if latest.start == last_years.start {
        return Some((2, clear(latest.range(), Some(Unit::Month))));
    }
    let name = |p: Period| p.start.format("%B").to_string();
    let readings = [
        (
            format!("the latest {} ({})", name(latest), latest.name()),
            format!("in {}", latest.name()),
            latest.range(),
        ),
        (
            format!("{} of last year ({})", name(last_years), last_years.name()),
            format!("in {}", last_years.name()),
            last_years.range(),
        ),
    ];
    Some((2, ambiguous(tokens, at, 2, readings)))
}

/// A day (`1995-03-01`), month (`1995-03`, `March 1995`), quarter (`Q1 1996`, `first quarter of 1996`) or year.
fn period(tokens: &[&str], at: usize) -> Option<(usize, Period)> {
    let word = |i: usize| tokens.get(i).copied().unwrap_or("");
    let first = word(at);
    if let Ok(day) = NaiveDate::parse_from_str(first, "%Y-%m-%d") {
        return Some((1, Period::of(Unit::Day, day)?));
    }
    if let Some((y, m)) = first.split_once('-')
        && let (Some(year), Ok(month)) = (year(y), m.parse::<u32>())
        && m.len() == 2
    {
        return Some((1, Period::of(Unit::Month, NaiveDate::from_ymd_opt(year, month, 1)?)?));
    }
    // `of` / `,` may sit between a quarter or month and its year.
    let year_after = |i: usize| -> Option<(usize, i32)> {
        let skip = usize::from(matches!(word(i), "of" | ","));
        year(word(i + skip)).map(|y| (skip + 1, y))
    };
    if let Some(y) = year(first) {
        if let Some(q) = quarter_number(word(at + 1)) {
            return Some((2, quarter(y, q)?));
        }
        return Some((1, Period::of(Unit::Year, NaiveDate::from_ymd_opt(y, 1, 1)?)?));
    }
    if let Some(q) = quarter_number(first) {
        let (n, y) = year_after(at + 1)?;
        return Some((1 + n, quarter(y, q)?));
    }
    if let Some(q) = ordinal(first)
        && word(at + 1) == "quarter"
    {
        let (n, y) = year_after(at + 2)?;
        return Some((2 + n, quarter(y, q)?));
    }
    if first == "year" {
        let y = year(word(at + 1))?;
        return Some((2, Period::of(Unit::Year, NaiveDate::from_ymd_opt(y, 1, 1)?)?));
    }
    let month = month_number(first)?;
    let (n, y) = year_after(at + 1)?;
    Some((1 + n, Period::of(Unit::Month, NaiveDate::from_ymd_opt(y, month, 1)?)?))
}

/// Words that belong to the date grammar (so they are never taken for misspelled model words).
pub fn is_date_word(word: &str) -> bool {
    const WORDS: &[&str] = &[
        "between",
        "from",
        "since",
        "after",
        "before",
        "until",
        "through",
        "thru",
        "till",
        "during",
        "within",
        "last",
        "past",
        "previous",
        "prior",
        "this",
        "current",
        "ytd",
        "today",
        "yesterday",
        "first",
        "second",
    ];
    WORDS.contains(&word) || month_number(word).is_some() || quarter_number(word).is_some() || ordinal(word).is_some()
}

fn quarter(year: i32, q: u32) -> Option<Period> {
    Period::of(Unit::Quarter, NaiveDate::from_ymd_opt(year, 3 * (q - 1) + 1, 1)?)
}

/// A four-digit year in a plausible span (so that "top 1000" is not a year).
fn year(word: &str) -> Option<i32> {
    (word.len() == 4)
        .then(|| word.parse::<i32>().ok())
        .flatten()
        .filter(|y| (1900..=2100).contains(y))
}

fn quarter_number(word: &str) -> Option<u32> {
    let n = word.strip_prefix('q')?.parse::<u32>().ok()?;
    (1..=4).contains(&n).then_some(n)
}

fn ordinal(word: &str) -> Option<u32> {
    match word {
        "first" | "1st" => Some(1),
        "second" | "2nd" => Some(2),
        "third" | "3rd" => Some(3),
        "fourth" | "4th" | "last" => Some(4),
        _ => None,
    }
}

fn month_number(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    MONTHS
        .iter()
        .position(|m| word.len() >= 3 && m.starts_with(word))
        .map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Option<(usize, Phrase)> {
        let tokens: Vec<&str> = text.split_whitespace().collect();
        parse(&tokens, 0, NaiveDate::from_ymd_opt(1998, 8, 2).unwrap())
    }

    fn days(text: &str) -> (Option<String>, Option<String>) {
        match read(text) {
            Some((_, Phrase::Clear { range, .. })) => {
                (range.start.map(|d| d.to_string()), range.end.map(|d| d.to_string()))
            }
            other => panic!("{text} is one date range: {other:?}"),
        }
    }

    /// The refusal of an ambiguous phrase.
    fn refusal(text: &str) -> String {
        match read(text) {
            Some((_, Phrase::Ambiguous(ambiguity))) => ambiguity.to_string(),
            other => panic!("{text} is ambiguous: {other:?}"),
        }
    }

    fn both(start: &str, end: &str) -> (Option<String>, Option<String>) {
        (Some(start.into()), Some(end.into()))
    }

    #[test]
    fn reads_absolute_periods() {
        assert_eq!(days("in 1996"), both("1996-01-01", "1997-01-01"));
        assert_eq!(days("q1 1996"), both("1996-01-01", "1996-04-01"));
        assert_eq!(days("in the first quarter of 1996"), both("1996-01-01", "1996-04-01"));
        assert_eq!(days("1996 q4"), both("1996-10-01", "1997-01-01"));
        assert_eq!(days("march 1995"), both("1995-03-01", "1995-04-01"));
        assert_eq!(days("in dec , 1995"), both("1995-12-01", "1996-01-01"));
        assert_eq!(days("1995-03"), both("1995-03-01", "1995-04-01"));
        assert_eq!(days("on 1995-03-01"), both("1995-03-01", "1995-03-02"));
        assert_eq!(
            days("between 1995-03-01 and 1995-03-07"),
            both("1995-03-01", "1995-03-08")
        );
        assert_eq!(days("from 1994 to 1996"), both("1994-01-01", "1997-01-01"));
        assert_eq!(days("since 1997"), (Some("1997-01-01".into()), None));
        assert_eq!(days("after 1996"), (Some("1997-01-01".into()), None));
        assert_eq!(days("before 1995"), (None, Some("1995-01-01".into())));
    }

    #[test]
    fn reads_periods_relative_to_the_anchor() {
        assert_eq!(days("last year"), both("1997-01-01", "1998-01-01"));
        assert_eq!(days("in the last 3 months"), both("1998-05-01", "1998-08-01"));
        assert_eq!(days("last 2 quarters"), both("1998-01-01", "1998-07-01"));
        assert_eq!(days("this year"), both("1998-01-01", "1998-08-03"));
        assert_eq!(days("year to date"), both("1998-01-01", "1998-08-03"));
        assert_eq!(days("past 7 days"), both("1998-07-26", "1998-08-02"));
        assert_eq!(days("last week"), both("1998-07-20", "1998-07-27"));
    }

    #[test]
    fn leaves_other_words_alone() {
        for text in ["in europe", "top 1000", "may", "last", "by month", "for each region"] {
            assert_eq!(read(text), None, "{text}");
        }
        assert_eq!(read("in 1996 by region").map(|(n, _)| n), Some(2));
        assert_eq!(read("from the united states"), None);
    }

    #[test]
    fn months_and_quarters_without_a_year_take_the_other_end_s() {
        assert_eq!(days("between march and june 1997"), both("1997-03-01", "1997-07-01"));
        assert_eq!(days("from mar to jun 1997"), both("1997-03-01", "1997-07-01"));
        assert_eq!(days("between q1 and q3 1996"), both("1996-01-01", "1996-10-01"));
        assert_eq!(
            days("between november and february 1997"),
            both("1996-11-01", "1997-03-01")
        );
        assert_eq!(read("between march and 1997"), None);
    }

    #[test]
    fn names_both_readings_of_an_ambiguous_phrase() {
        assert_eq!(
            refusal("from 1996"),
            "'from 1996' can mean during 1996 or since 1996: ask 'in 1996' or 'since 1996'"
        );
        assert_eq!(
            refusal("through 1997"),
            "'through 1997' can mean during 1997 or up to the end of 1997: ask 'in 1997' or 'before 1998'"
        );
        assert_eq!(
            refusal("until march 1997"),
            "'until march 1997' can mean before March 1997 or up to the end of March 1997: ask 'before March \
             1997' or 'before April 1997'"
        );
        assert_eq!(
            refusal("as of 1997"),
            "'as of 1997' can mean up to the end of 1997 or since 1997: ask 'before 1998' or 'since 1997'"
        );
        assert_eq!(
            refusal("over the past year"),
            "'over the past year' can mean the previous calendar year or the 12 months before August 1998: ask \
             'last year' or 'in the last 12 months'"
        );
        assert_eq!(
            refusal("last march"),
            "'last march' can mean the latest March (March 1998) or March of last year (March 1997): ask 'in March \
             1998' or 'in March 1997'"
        );
        // Each reading, asked as suggested, is clear and means what the refusal said.
        for phrase in [
            "from 1996",
            "through q3 1997",
            "until march 1997",
            "as of 1997",
            "in the past year",
            "last march",
        ] {
            let Some((_, Phrase::Ambiguous(ambiguity))) = read(phrase) else {
                panic!("{phrase} is ambiguous")
            };
            for reading in &ambiguity.readings {
                let asked = reading.ask.to_lowercase();
                let Some((n, Phrase::Clear { range, .. })) = read(&asked) else {
                    panic!("{asked} is clear")
                };
                assert_eq!(n, asked.split_whitespace().count(), "{asked}");
                assert_eq!(range, reading.range, "{asked}");
            }
        }
    }

    #[test]
    fn reads_the_dominant_reading_where_there_is_one() {
        assert_eq!(days("last year"), both("1997-01-01", "1998-01-01"));
        assert_eq!(days("previous quarter"), both("1998-04-01", "1998-07-01"));
        assert_eq!(days("past 12 months"), both("1997-08-01", "1998-08-01"));
        // With the anchor in August, the latest September is last year's.
        assert_eq!(days("last september"), both("1997-09-01", "1997-10-01"));
        assert_eq!(days("last august"), both("1997-08-01", "1997-09-01"));
    }
}
