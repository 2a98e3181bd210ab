//! The date grammar of questions: years, quarters, months and days ("in 1995", "Q1 1996", "March 1995",
//! "1995-03-01"), ranges ("between … and …", "from … to …", "since …", "before …"), and periods relative to an anchor
//! day ("last year", "last 3 months", "this quarter", "year to date"). Relative periods are whole periods before the
//! anchor's own: with the anchor 1998-08-02, "last 3 months" is May, June and July 1998.

use chrono::{Datelike, Days, Months, NaiveDate};

/// `start <= day < end`; an open side is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
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
    start: NaiveDate,
    end: NaiveDate,
}

impl Period {
    fn of(unit: Unit, start: NaiveDate) -> Option<Self> {
        Some(Self {
            start,
            end: unit.shift(start, 1)?,
        })
    }
}

/// Read a date expression at `tokens[at..]` (lower-case words): how many tokens it takes and the range it means.
pub fn parse(tokens: &[&str], at: usize, anchor: NaiveDate) -> Option<(usize, DateRange)> {
    let word = |i: usize| tokens.get(i).copied().unwrap_or("");
    let range = |start: Option<NaiveDate>, end: Option<NaiveDate>| DateRange { start, end };
    match word(at) {
        "between" => {
            let (n1, from) = period(tokens, at + 1)?;
            if word(at + 1 + n1) != "and" {
                return None;
            }
            let (n2, to) = period(tokens, at + 2 + n1)?;
            Some((2 + n1 + n2, range(Some(from.start), Some(to.end))))
        }
        "from" => {
            let (n1, from) = period(tokens, at + 1)?;
            if matches!(word(at + 1 + n1), "to" | "until" | "through" | "till" | "thru") {
                let (n2, to) = period(tokens, at + 2 + n1)?;
                Some((2 + n1 + n2, range(Some(from.start), Some(to.end))))
            } else {
                Some((1 + n1, range(Some(from.start), None)))
            }
        }
        "since" => period(tokens, at + 1).map(|(n, p)| (1 + n, range(Some(p.start), None))),
        "after" => period(tokens, at + 1).map(|(n, p)| (1 + n, range(Some(p.end), None))),
        "before" => period(tokens, at + 1).map(|(n, p)| (1 + n, range(None, Some(p.start)))),
        "until" | "through" | "till" => period(tokens, at + 1).map(|(n, p)| (1 + n, range(None, Some(p.end)))),
        "in" | "during" | "for" | "of" | "on" | "within" | "over" => {
            let skip = 1 + usize::from(word(at + 1) == "the");
            let (n, found) = core(tokens, at + skip, anchor)?;
            Some((skip + n, found))
        }
        _ => core(tokens, at, anchor),
    }
}

/// A period named absolutely, or one relative to the anchor.
fn core(tokens: &[&str], at: usize, anchor: NaiveDate) -> Option<(usize, DateRange)> {
    if let Some(found) = relative(tokens, at, anchor) {
        return Some(found);
    }
    let (n, p) = period(tokens, at)?;
    Some((
        n,
        DateRange {
            start: Some(p.start),
            end: Some(p.end),
        },
    ))
}

fn relative(tokens: &[&str], at: usize, anchor: NaiveDate) -> Option<(usize, DateRange)> {
    let word = |i: usize| tokens.get(i).copied().unwrap_or("");
    let to_date = |unit: Unit| DateRange {
        start: Some(unit.start_of(anchor)),
        end: anchor.checked_add_days(Days::new(1)),
    };
    match word(at) {
        "ytd" => Some((1, to_date(Unit::Year))),
        "year" if word(at + 1) == "to" && word(at + 2) == "date" => Some((3, to_date(Unit::Year))),
        "this" | "current" => Unit::parse(word(at + 1)).map(|unit| (2, to_date(unit))),
        "today" => Some((1, to_date(Unit::Day))),
        "yesterday" => {
            let day = anchor.checked_sub_days(Days::new(1))?;
            Some((
                1,
                DateRange {
                    start: Some(day),
                    end: Some(anchor),
                },
            ))
        }
        "last" | "past" | "previous" | "prior" => {
            let (count, unit_at) = match word(at + 1).parse::<u32>() {
                Ok(n) if n > 0 => (n, at + 2),
                Ok(_) => return None,
                Err(_) => (1, at + 1),
            };
            let unit = Unit::parse(word(unit_at))?;
            let end = unit.start_of(anchor);
            let start = unit.shift(end, -i64::from(count))?;
            Some((
                unit_at + 1 - at,
                DateRange {
                    start: Some(start),
                    end: Some(end),
                },
            ))
        }
        _ => None,
    }
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
    const WORDS: [&str; 21] = [
        "between",
        "from",
        "since",
        "after",
        "before",
        "until",
        "through",
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

    fn read(text: &str) -> Option<(usize, DateRange)> {
        let tokens: Vec<&str> = text.split_whitespace().collect();
        parse(&tokens, 0, NaiveDate::from_ymd_opt(1998, 8, 2).unwrap())
    }

    fn days(text: &str) -> (Option<String>, Option<String>) {
        let (_, r) = read(text).unwrap_or_else(|| panic!("{text} is a date"));
        (r.start.map(|d| d.to_string()), r.end.map(|d| d.to_string()))
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
    }
}
