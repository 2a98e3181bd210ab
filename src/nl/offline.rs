//! The offline resolver: questions read with the model's own vocabulary (member names, synonyms, the values of
//! searchable dimensions), a date grammar and a few patterns ("M by D", "top N D by M", "which D has the most M",
//! "monthly M", "M in EUROPE excluding …"). No network, no key. When a word is left that it cannot place, it refuses
//! and names the closest members rather than guess.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;

use crate::semantic::View;
use crate::semantic::model::{Aggregation, DimensionKind, MeasureDefinition};

use super::NlError;
use super::dates::{self, Ambiguity, DateRange, Phrase};
use super::query::{Filter, Grain, Grouping, Ordering, SemanticQuery, TimeRange};
use super::values::ValueIndex;

/// Longest phrase looked up, in words.
const LONGEST_PHRASE: usize = 6;
/// `top` / `bottom` without a number.
const DEFAULT_TOP: u64 = 10;

/// Words that carry no meaning for the query: skipped. Kept short on purpose: a word that is not here and not in the
/// model makes the resolver refuse, which is what protects against silent guesses.
#[rustfmt::skip]
const STOPWORDS: &[&str] = &[
    "a", "about", "all", "amount", "an", "are", "as", "at", "be", "been", "breakdown", "broken", "calculate",
    "came", "can", "come", "comes", "compute", "could", "count", "did", "display", "do", "does", "down", "find",
    "for", "from", "get", "give", "goods", "group", "grouped", "had", "has", "have", "how", "i", "in", "into", "is",
    "it", "item", "items", "its", "list", "many", "me", "much", "my", "number", "of", "on", "our", "overall", "place",
    "placed", "please", "sell", "sells", "shipment", "shipments", "show", "sold", "split", "sum", "tell", "that",
    "the", "their", "there", "this", "to", "total", "was", "we", "were", "what", "where", "with",
];

/// Everyday words for an amount of money ("how much did EUROPE bring in", "what did we make", "the most money").
/// When the question names an amount of its own ("how much revenue did we make") or counts ("how many orders did we
/// make") they are fillers; otherwise they stand for the one measure the view calls by a money word
/// ([`MONEY_TERMS`]), and for none (a refusal) when several or none are called so: the vocabulary says how business
/// users ask, not which measure to guess.
#[rustfmt::skip]
const AMOUNT_WORDS: &[&str] = &[
    "bring", "brings", "brought", "earn", "earned", "earns", "generate", "generated", "generates", "make", "made",
    "makes", "money",
];

/// The names and synonyms a measure of money is called by in a model.
const MONEY_TERMS: &[&str] = &["revenue", "sales", "turnover", "income"];

/// Everyday words for a word of the model's vocabulary: "what was the average order worth" is its value.
const EVERYDAY_WORDS: &[(&str, &str)] = &[("worth", "value")];

/// Words that make two periods a comparison ("compare 1996 versus 1997": one row per period).
const COMPARE_WORDS: &[&str] = &["compare", "compared", "comparing", "versus", "vs"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Measure(String),
    Dimension(String),
    Value { dimension: String, value: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    /// by, per, each, every, across: dimensions follow.
    Group,
    /// which, what: "which nation has the most revenue".
    Which,
    Top,
    Bottom,
    Most,
    Least,
    And,
    /// excluding, except, not, without.
    Not,
    /// now, only, instead, just, then: the question refines the previous one.
    FollowUp,
    /// also: a follow-up that adds dimensions rather than replacing them.
    Also,
    /// list, show: dimensions alone make a question ("list the regions").
    List,
}

/// How a measure was named, when by one word of a count measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Noun {
    /// A phrase, or a measure that is not a count.
    No,
    /// One plural word ("orders", "customers"): often just the thing being described ("revenue of urgent orders")
    /// rather than a measure asked for.
    Plural,
    /// One singular word ("order", "customer"): before another measure it qualifies that one ("order lines").
    Singular,
}

#[derive(Debug, Clone, PartialEq)]
enum Item {
    Measure {
        name: String,
        noun: Noun,
    },
    Dimension(String),
    Value {
        dimension: String,
        value: String,
    },
    Grain(Grain),
    Range {
        range: DateRange,
        /// The grain of a range that is one named period ("1996").
        period: Option<Grain>,
    },
    Ambiguous(Ambiguity),
    /// A word of [`AMOUNT_WORDS`].
    Amount,
    Number(u64),
    Keyword(Keyword),
    /// A stopword: no meaning, but it ends a list of dimensions ("by ship mode for items shipped in 1997").
    Filler,
}

/// One view's vocabulary.
pub struct Lexicon {
    pub view: Arc<View>,
    /// Stemmed word sequences → what they name.
    phrases: HashMap<Vec<String>, Vec<Term>>,
    /// Every word of every phrase: what a misspelled word may be corrected to.
    vocabulary: BTreeSet<String>,
    /// Per dimension, all its values by lower case: "status F" names a value too short to stand alone.
    values_by_dimension: HashMap<String, HashMap<String, String>>,
    /// The one measure called by a money word ([`MONEY_TERMS`]), if exactly one is.
    money_measure: Option<String>,
}

impl Lexicon {
    pub fn new(view: Arc<View>, values: &ValueIndex) -> Self {
        let mut lexicon = Self {
            view: view.clone(),
            phrases: HashMap::new(),
            vocabulary: BTreeSet::new(),
            values_by_dimension: HashMap::new(),
            money_measure: None,
        };
        for measure in &view.measures {
            let term = Term::Measure(measure.name.clone());
            let name = measure.name.replace('_', " ");
            for spelling in [
                name.clone(),
                name.replace("avg ", "average "),
                name.replace("avg ", "mean "),
            ] {
                lexicon.add(&spelling, term.clone());
            }
            for synonym in &measure.synonyms {
                lexicon.add(synonym, term.clone());
            }
        }
        for dimension in &view.dimensions {
            let term = Term::Dimension(dimension.name.clone());
            lexicon.add(&dimension.name.replace('_', " "), term.clone());
            for synonym in &dimension.dimension.synonyms {
                lexicon.add(synonym, term.clone());
            }
        }
        for dimension in &view.dimensions {
            for (value, words) in &dimension.dimension.value_synonyms {
                match values.canonical(&view.name, &dimension.name, value) {
                    Ok(Some(stored)) => {
                        for word in words {
                            let term = Term::Value {
                                dimension: dimension.name.clone(),
                                value: stored.clone(),
                            };
                            lexicon.add(word, term);
                        }
                    }
                    _ => tracing::warn!(
                        view = %view.name,
                        dimension = %dimension.name,
                        %value,
                        "value_synonyms names a value the data does not have"
                    ),
                }
            }
        }
        for (dimension, value) in values.entries(&view.name) {
            let term = Term::Value {
                dimension: dimension.to_string(),
                value: value.to_string(),
            };
            lexicon
                .values_by_dimension
                .entry(dimension.to_string())
                .or_default()
                .insert(value.to_lowercase(), value.to_string());
            // One- and two-letter codes (F, O, R) would match ordinary words; they count only after their dimension.
            if value.chars().count() >= 3 {
                lexicon.add(value, term.clone());
            }
            // `1-URGENT` is also "urgent".
            if let Some((rank, word)) = value.split_once('-')
                && rank.chars().all(|c| c.is_ascii_digit())
                && word.chars().count() >= 3
            {
                lexicon.add(word, term);
            }
        }
        let money: BTreeSet<&String> = MONEY_TERMS
            .iter()
            .filter_map(|term| lexicon.phrases.get(&vec![stem(term)]))
            .flatten()
            .filter_map(|t| match t {
                Term::Measure(name) => Some(name),
                _ => None,
            })
            .collect();
        lexicon.money_measure = match money.into_iter().collect::<Vec<_>>().as_slice() {
            [one] => Some((*one).clone()),
            _ => None,
        };
        lexicon
    }

    fn add(&mut self, text: &str, term: Term) {
        let words: Vec<String> = tokenize(text).iter().map(|w| stem(w)).collect();
        if words.is_empty() || words.len() > LONGEST_PHRASE {
            return;
        }
        self.vocabulary.extend(words.iter().cloned());
        let terms = self.phrases.entry(words).or_default();
        if !terms.contains(&term) {
            terms.push(term);
        }
    }

    fn is_count_measure(&self, name: &str) -> bool {
        self.view.measure(name).is_some_and(|m| {
            matches!(&m.definition, MeasureDefinition::Base { measure, .. }
                if matches!(measure.aggregation, Aggregation::Count | Aggregation::CountDistinct))
        })
    }

    /// Whether the view's root model owns this measure (the measure is at the view's grain).
    fn owns(&self, measure: &str) -> bool {
        self.view
            .measure(measure)
            .is_some_and(|m| matches!(&m.definition, MeasureDefinition::Base { path, .. } if path.is_empty()))
    }

    fn default_time_dimension(&self) -> Option<&str> {
        self.view
            .dimensions
            .iter()
            .find(|d| d.dimension.kind == DimensionKind::Time)
            .map(|d| d.name.as_str())
    }

    fn is_time(&self, dimension: &str) -> bool {
        self.view
            .dimension(dimension)
            .is_some_and(|d| d.dimension.kind == DimensionKind::Time)
    }
}

/// What the offline resolver made of a question.
#[derive(Debug)]
pub struct Reading {
    pub query: SemanticQuery,
    /// Misspellings it corrected, for the interpretation shown to the user.
    pub corrections: Vec<(String, String)>,
}

/// Resolve `question` over the views' lexicons; `previous` is the session's last question, which a follow-up
/// ("now by month", "only EUROPE", "top 3") refines.
pub fn resolve(
    lexicons: &[Lexicon],
    question: &str,
    previous: Option<&SemanticQuery>,
    today: NaiveDate,
) -> Result<Reading, NlError> {
    let words = tokenize(question);
    if words.is_empty() {
        return Err(NlError::Empty);
    }
    if let Some(previous) = previous
        && let Some(lexicon) = lexicons.iter().find(|l| l.view.name == previous.view)
    {
        let scan = Scan::read(lexicon, &words, today);
        if scan.is_follow_up() && scan.unknown.is_empty() {
            return scan.interpret(Some(previous));
        }
    }
    let scans: Vec<Scan> = lexicons.iter().map(|l| Scan::read(l, &words, today)).collect();
    let mut answers: Vec<(usize, Reading)> = Vec::new();
    let mut refusals: Vec<(usize, usize, NlError)> = Vec::new();
    for (i, scan) in scans.iter().enumerate() {
        match scan.interpret(None) {
            Ok(reading) => answers.push((i, reading)),
            Err(e) => refusals.push((i, scan.unknown.len(), e)),
        }
    }
    // Prefer the view whose own grain carries the measures (customer counts from customers, not from order lines),
    // then the larger view (the one with more to ask about).
    let size = |i: usize| lexicons[i].view.measures.len() + lexicons[i].view.dimensions.len();
    let best = answers.into_iter().max_by_key(|(i, reading)| {
        let own = reading.query.measures.iter().all(|m| lexicons[*i].owns(m));
        (own, size(*i), std::cmp::Reverse(*i))
    });
    match best {
        Some((_, reading)) => Ok(reading),
        // The refusal of the view that understood most, so its members are the ones suggested.
        None => refusals
            .into_iter()
            .min_by_key(|(i, unknown, _)| (*unknown, std::cmp::Reverse(size(*i)), *i))
            .map(|(_, _, e)| e)
            .map_or(Err(NlError::Empty), Err),
    }
}

/// A question read with one view's lexicon.
struct Scan<'a> {
    lexicon: &'a Lexicon,
    items: Vec<Item>,
    unknown: Vec<String>,
    corrections: Vec<(String, String)>,
    /// A comparison word was used: two adjacent periods are compared, one row each.
    compares: bool,
    /// "how many", "number of": the question counts, so money words are not its amount.
    counts: bool,
    /// The item of the measure named right after "how many" / "number of".
    counted: Option<usize>,
}

impl<'a> Scan<'a> {
    fn read(lexicon: &'a Lexicon, words: &[String], today: NaiveDate) -> Self {
        let anchor = lexicon.view.anchor_date.unwrap_or(today);
        let mut corrections = Vec::new();
        let stems: Vec<String> = words
            .iter()
            .map(|w| {
                let model_word = EVERYDAY_WORDS
                    .iter()
                    .find(|(everyday, _)| everyday == w)
                    .map_or(w.as_str(), |(_, model)| model);
                let s = stem(model_word);
                if lexicon.vocabulary.contains(&s) || is_structural(w) {
                    return s;
                }
                match correct(&s, &lexicon.vocabulary) {
                    Some(fixed) => {
                        corrections.push((w.clone(), fixed.clone()));
                        fixed
                    }
                    None => s,
                }
            })
            .collect();
        let raw: Vec<&str> = words.iter().map(String::as_str).collect();
        let mut scan = Self {
            lexicon,
            items: Vec::new(),
            unknown: Vec::new(),
            corrections,
            compares: raw.iter().any(|w| COMPARE_WORDS.contains(w)),
            counts: raw.iter().any(|w| matches!(*w, "many" | "number")),
            counted: None,
        };
        let mut i = 0;
        while i < words.len() {
            if let Some((n, phrase)) = dates::parse(&raw, i, anchor) {
                scan.items.push(match phrase {
                    Phrase::Clear { range, period } => Item::Range { range, period },
                    Phrase::Ambiguous(ambiguity) => Item::Ambiguous(ambiguity),
                });
                i += n;
                continue;
            }
            if let Some(n) = scan.phrase(&stems, &raw, i) {
                i += n;
                continue;
            }
            let word = raw[i];
            if let Some(keyword) = keyword(word) {
                scan.items.push(Item::Keyword(keyword));
            } else if let Some(grain) = grain(word) {
                scan.items.push(Item::Grain(grain));
            } else if let Ok(n) = word.parse::<u64>() {
                scan.items.push(Item::Number(n));
            } else if AMOUNT_WORDS.contains(&word) {
                scan.items.push(Item::Amount);
            } else if STOPWORDS.contains(&word) || COMPARE_WORDS.contains(&word) || scan.describes_value(word) {
                scan.items.push(Item::Filler);
            } else {
                scan.unknown.push(word.to_string());
            }
            i += 1;
        }
        scan
    }

    /// The longest phrase of the lexicon at `i`; a dimension may be followed by one of its short values.
    fn phrase(&mut self, stems: &[String], raw: &[&str], i: usize) -> Option<usize> {
        let longest = LONGEST_PHRASE.min(stems.len() - i);
        for n in (1..=longest).rev() {
            let Some(terms) = self.lexicon.phrases.get(&stems[i..i + n]) else {
                continue;
            };
            // Members win over values; values of two dimensions are told apart by the dimension named just before
            // ("line status open"), else the word is ambiguous and left unknown.
            let named_before = match self.items.last() {
                Some(Item::Dimension(d)) => Some(d.clone()),
                _ => None,
            };
            let value_dimensions: BTreeSet<&str> = terms
                .iter()
                .filter_map(|t| match t {
                    Term::Value { dimension, .. } => Some(dimension.as_str()),
                    _ => None,
                })
                .collect();
            let term = terms
                .iter()
                .find(|t| matches!(t, Term::Measure(_)))
                .or_else(|| terms.iter().find(|t| matches!(t, Term::Dimension(_))))
                .or_else(|| {
                    terms.iter().find(
                        |t| matches!(t, Term::Value { dimension, .. } if Some(dimension) == named_before.as_ref()),
                    )
                })
                .or_else(|| terms.first().filter(|_| value_dimensions.len() == 1))?;
            if matches!(term, Term::Measure(_))
                && (raw[..i].ends_with(&["many"]) || raw[..i].ends_with(&["number", "of"]))
            {
                self.counted = Some(self.items.len());
            }
            let item = match term.clone() {
                Term::Measure(name) => Item::Measure {
                    noun: match (n, self.lexicon.is_count_measure(&name)) {
                        (1, true) if raw[i].ends_with('s') => Noun::Plural,
                        (1, true) => Noun::Singular,
                        _ => Noun::No,
                    },
                    name,
                },
                Term::Dimension(name) => {
                    // "status F", "line status is O", "return flag = R".
                    let linked = usize::from(matches!(raw.get(i + n), Some(&("is" | "equals" | "of" | "="))));
                    let short = raw.get(i + n + linked).and_then(|next| {
                        self.lexicon
                            .values_by_dimension
                            .get(&name)
                            .and_then(|values| values.get(*next))
                            .cloned()
                    });
                    self.items.push(Item::Dimension(name.clone()));
                    if let Some(value) = short {
                        self.items.push(Item::Value { dimension: name, value });
                        return Some(n + linked + 1);
                    }
                    return Some(n);
                }
                Term::Value { dimension, value } => Item::Value { dimension, value },
            };
            self.items.push(item);
            return Some(n);
        }
        None
    }

    /// "ECONOMY ANODIZED STEEL parts": after a value, a word of its dimension's name only says what the value is.
    fn describes_value(&self, word: &str) -> bool {
        let Some(Item::Value { dimension, .. }) = self.items.last() else {
            return false;
        };
        let word = stem(word);
        dimension.split('_').any(|w| w == word)
    }

    fn is_follow_up(&self) -> bool {
        let has_measure = self
            .items
            .iter()
            .any(|i| matches!(i, Item::Measure { .. } | Item::Amount));
        let marked = self
            .items
            .first()
            .is_some_and(|i| matches!(i, Item::Keyword(Keyword::FollowUp | Keyword::Also | Keyword::And)));
        marked || !has_measure
    }

    fn interpret(&self, previous: Option<&SemanticQuery>) -> Result<Reading, NlError> {
        let lexicon = self.lexicon;
        let view = &lexicon.view;
        if !self.unknown.is_empty() {
            return Err(NlError::NotUnderstood(not_understood(view, &self.unknown)));
        }
        if let Some(ambiguity) = self.items.iter().find_map(|i| match i {
            Item::Ambiguous(a) => Some(a),
            _ => None,
        }) {
            return Err(NlError::Ambiguous(Box::new(ambiguity.clone())));
        }
        let items = &self.items;
        let mut query = SemanticQuery::new(&view.name);
        let mut grains: Vec<(usize, Grain)> = Vec::new();
        let mut dimensions: Vec<(usize, String)> = Vec::new();
        let mut ranges: Vec<(usize, DateRange, Option<Grain>)> = Vec::new();
        // Time dimensions named after "by": with a grain ("monthly revenue by ship date") they say which dimension
        // the grain truncates, else they group by their days.
        let mut time_groups: Vec<(usize, String)> = Vec::new();
        let mut time_dimensions: BTreeSet<String> = BTreeSet::new();
        let (mut grouping, mut negated) = (false, false);
        let value_of =
            |k: usize, d: &str| matches!(items.get(k), Some(Item::Value { dimension, .. }) if dimension == d);
        for (k, item) in items.iter().enumerate() {
            match item {
                Item::Keyword(Keyword::Group | Keyword::Which | Keyword::Top | Keyword::Bottom) => grouping = true,
                Item::Keyword(Keyword::And) | Item::Number(_) => {}
                Item::Keyword(Keyword::Not) => negated = true,
                Item::Dimension(d) => {
                    // The name of a filter ("the FURNITURE segment", "status F"), not a grouping.
                    let names_filter = !grouping && (value_of(k + 1, d) || (k > 0 && value_of(k - 1, d)));
                    if names_filter {
                        continue;
                    }
                    if lexicon.is_time(d) {
                        // "shipped in 1995", "monthly quantity shipped": which time dimension dates refer to.
                        time_dimensions.insert(d.clone());
                        if grouping {
                            time_groups.push((k, d.clone()));
                        }
                    } else {
                        dimensions.push((k, d.clone()));
                    }
                }
                Item::Grain(g) => grains.push((k, *g)),
                Item::Value { dimension, value } => {
                    match query
                        .filters
                        .iter_mut()
                        .find(|f| f.dimension == *dimension && f.exclude == negated)
                    {
                        Some(filter) if !filter.values.contains(value) => filter.values.push(value.clone()),
                        Some(_) => {}
                        None => query.filters.push(Filter {
                            dimension: dimension.clone(),
                            exclude: negated,
                            values: vec![value.clone()],
                        }),
                    }
                    grouping = false;
                    continue;
                }
                Item::Range { range, period } => {
                    ranges.push((k, *range, *period));
                    grouping = false;
                }
                Item::Measure { .. } | Item::Keyword(_) | Item::Filler | Item::Amount | Item::Ambiguous(_) => {
                    grouping = false
                }
            }
            if !matches!(item, Item::Keyword(Keyword::Not | Keyword::And)) {
                negated = false;
            }
        }
        query.measures = self.measures()?;
        let range = self.range(ranges, &mut grains)?;
        if time_dimensions.len() > 1 && (range.is_some() || !grains.is_empty()) {
            return Err(NlError::NotUnderstood(format!(
                "the question names {} time dimensions; ask about one of them",
                member_list(time_dimensions.iter().map(String::as_str))
            )));
        }
        if grains.is_empty() {
            dimensions.extend(time_groups);
        }
        let time_dimension = time_dimensions
            .into_iter()
            .next()
            .or_else(|| lexicon.default_time_dimension().map(String::from));
        let mut groups: Vec<(usize, Grouping)> = dimensions
            .into_iter()
            .map(|(k, dimension)| (k, Grouping { dimension, grain: None }))
            .collect();
        for (k, grain) in grains {
            let Some(dimension) = &time_dimension else {
                return Err(NlError::NotUnderstood(format!(
                    "view {} has no time dimension to group by {}",
                    view.name,
                    grain.name()
                )));
            };
            groups.push((
                k,
                Grouping {
                    dimension: dimension.clone(),
                    grain: Some(grain),
                },
            ));
        }
        groups.sort_by_key(|(k, _)| *k);
        for (_, grouping) in groups {
            if !query.dimensions.contains(&grouping) {
                query.dimensions.push(grouping);
            }
        }
        if let Some(r) = range {
            let Some(dimension) = time_dimension else {
                return Err(NlError::NotUnderstood(format!(
                    "view {} has no time dimension for a date range",
                    view.name
                )));
            };
            query.time_range = Some(TimeRange {
                dimension,
                start: r.start,
                end: r.end,
            });
        }
        if let Some(previous) = previous {
            query = self.refine(previous, query);
        }
        self.rank(&mut query)?;
        // Dimensions alone answer only a listing ("list the regions", "which nations are in EUROPE").
        let listing = self
            .items
            .iter()
            .any(|i| matches!(i, Item::Keyword(Keyword::List | Keyword::Which)));
        if query.measures.is_empty() && (query.dimensions.is_empty() || !listing) {
            return Err(NlError::NotUnderstood(not_understood(view, &[])));
        }
        if !query.order_by.is_empty() && query.measures.is_empty() {
            return Err(NlError::NotUnderstood(format!(
                "a ranking needs a measure to rank by; the measures of {} are: {}",
                view.name,
                member_list(view.measures.iter().map(|m| m.name.as_str()))
            )));
        }
        Ok(Reading {
            query,
            corrections: self.corrections.clone(),
        })
    }

    /// The measures asked for, dropping count nouns that only describe what another measure is about ("revenue of
    /// urgent orders", "order lines"), unless joined to a measure by "and". A money word ("what did we make") asks for
    /// the view's money measure unless the question names its own amount or counts ("how many orders did we make").
    fn measures(&self) -> Result<Vec<String>, NlError> {
        let is_measure = |k: usize| matches!(self.items.get(k), Some(Item::Measure { .. }));
        // In a compound the head noun is the last: "order lines" are lines, "customer revenue" is revenue.
        let qualifies = |k: usize| {
            matches!(
                self.items.get(k),
                Some(Item::Measure {
                    noun: Noun::Singular,
                    ..
                })
            ) && is_measure(k + 1)
        };
        // "how many orders did customers in JAPAN place": what is counted (past a qualifier: "how many order lines")
        // is asked for; other count nouns describe it.
        let counted = self.counted.map(|k| if qualifies(k) { k + 1 } else { k });
        let describes = |k: usize, noun: Noun| noun == Noun::Plural && Some(k) != counted;
        let real = |asked: &dyn Fn(usize, Noun) -> bool| {
            self.items
                .iter()
                .enumerate()
                .any(|(k, i)| matches!(i, Item::Measure { noun, .. } if asked(k, *noun)) && !qualifies(k))
        };
        let money = self.items.contains(&Item::Amount) && !self.counts && !real(&|_, noun| noun == Noun::No);
        let has_real = money || real(&|k, noun| !describes(k, noun));
        let mut measures = Vec::new();
        for (k, item) in self.items.iter().enumerate() {
            let name = match item {
                Item::Measure { name, noun } => {
                    let joined = (k >= 2 && self.items[k - 1] == Item::Keyword(Keyword::And) && is_measure(k - 2))
                        || (self.items.get(k + 1) == Some(&Item::Keyword(Keyword::And)) && is_measure(k + 2));
                    if qualifies(k) || (describes(k, *noun) && has_real && !joined) {
                        continue;
                    }
                    name
                }
                Item::Amount if money => self.lexicon.money_measure.as_ref().ok_or_else(|| {
                    NlError::NotUnderstood(format!(
                        "the question asks for an amount without naming it, and view {} has no single measure of \
                         money; name one of: {}",
                        self.lexicon.view.name,
                        member_list(self.lexicon.view.measures.iter().map(|m| m.name.as_str()))
                    ))
                })?,
                _ => continue,
            };
            if !measures.contains(name) {
                measures.push(name.clone());
            }
        }
        Ok(measures)
    }

    /// The question's one time range. Two adjacent named periods of one grain with a comparison word ("compare
    /// revenue, 1996 versus 1997") span both and add a grouping by their grain, so each has its row; other pairs are
    /// refused, since one range cannot hold them.
    fn range(
        &self,
        ranges: Vec<(usize, DateRange, Option<Grain>)>,
        grains: &mut Vec<(usize, Grain)>,
    ) -> Result<Option<DateRange>, NlError> {
        match ranges.as_slice() {
            [] => Ok(None),
            [(_, range, _)] => Ok(Some(*range)),
            [(k, a, Some(g1)), (_, b, Some(g2))] if self.compares && g1 == g2 => {
                let (a, b) = if a.start <= b.start { (a, b) } else { (b, a) };
                if a.end != b.start {
                    return Err(NlError::NotUnderstood(
                        "a comparison in one result needs adjacent periods (\"1996 versus 1997\"); for periods \
                         apart, ask each on its own"
                            .into(),
                    ));
                }
                grains.push((*k, *g1));
                Ok(Some(DateRange {
                    start: a.start,
                    end: b.end,
                }))
            }
            _ => Err(NlError::NotUnderstood(
                "the question names two time ranges; ask with one (\"between 1995 and 1997\"), or compare two \
                 adjacent periods (\"revenue by region, 1996 versus 1997\")"
                    .into(),
            )),
        }
    }

    /// "top 5 …", "bottom 3 …", "which … has the most …", "… with the lowest …": order by the first measure.
    fn rank(&self, query: &mut SemanticQuery) -> Result<(), NlError> {
        let keywords: Vec<Keyword> = self
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Keyword(k) => Some(*k),
                _ => None,
            })
            .collect();
        let numbers: Vec<u64> = self
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Number(n) => Some(*n),
                _ => None,
            })
            .collect();
        let has = |k: Keyword| keywords.contains(&k);
        let descending = if has(Keyword::Top) || has(Keyword::Most) {
            true
        } else if has(Keyword::Bottom) || has(Keyword::Least) {
            false
        } else {
            if let Some(n) = numbers.first() {
                return Err(NlError::NotUnderstood(format!(
                    "the number {n} does not belong to a date or a \"top {n}\"; say what it counts"
                )));
            }
            return Ok(());
        };
        if numbers.len() > 1 {
            return Err(NlError::NotUnderstood(
                "the question has more than one count of rows to keep".into(),
            ));
        }
        query.limit = match numbers.first() {
            Some(n) => Some(*n),
            None if has(Keyword::Top) || has(Keyword::Bottom) => Some(DEFAULT_TOP),
            None if has(Keyword::Which) => Some(1),
            None => None,
        };
        if let Some(measure) = query.measures.first() {
            query.order_by = vec![Ordering {
                column: measure.clone(),
                descending,
            }];
        }
        Ok(())
    }

    /// A follow-up keeps what it does not change: measures, dimensions (replaced, or extended with "also"),
    /// filters of other dimensions, the time range, the ranking.
    fn refine(&self, previous: &SemanticQuery, mut query: SemanticQuery) -> SemanticQuery {
        let also = self.items.contains(&Item::Keyword(Keyword::Also))
            || self.items.first() == Some(&Item::Keyword(Keyword::And));
        if query.measures.is_empty() {
            query.measures = previous.measures.clone();
        }
        if query.dimensions.is_empty() {
            query.dimensions = previous.dimensions.clone();
        } else if also {
            let mut dimensions = previous.dimensions.clone();
            dimensions.extend(
                query
                    .dimensions
                    .into_iter()
                    .filter(|g| !previous.dimensions.contains(g)),
            );
            query.dimensions = dimensions;
        }
        let replaced: Vec<String> = query.filters.iter().map(|f| f.dimension.clone()).collect();
        let mut filters: Vec<Filter> = previous
            .filters
            .iter()
            .filter(|f| !replaced.contains(&f.dimension))
            .cloned()
            .collect();
        filters.append(&mut query.filters);
        query.filters = filters;
        if query.time_range.is_none() {
            query.time_range = previous.time_range.clone();
        }
        if !self.ranks() {
            query.order_by = previous.order_by.clone();
            query.limit = previous.limit;
        }
        // A ranking by something the refined query no longer has is dropped, with its limit.
        query
            .order_by
            .retain(|o| query.measures.contains(&o.column) || query.dimensions.iter().any(|g| g.dimension == o.column));
        if query.order_by.is_empty() {
            query.limit = None;
        }
        query
    }

    fn ranks(&self) -> bool {
        self.items.iter().any(|i| {
            matches!(
                i,
                Item::Keyword(Keyword::Top | Keyword::Bottom | Keyword::Most | Keyword::Least)
            )
        })
    }
}

fn keyword(word: &str) -> Option<Keyword> {
    Some(match word {
        "by" | "per" | "each" | "every" | "across" => Keyword::Group,
        "which" => Keyword::Which,
        "top" | "best" => Keyword::Top,
        "bottom" | "worst" => Keyword::Bottom,
        "most" | "highest" | "largest" | "biggest" | "greatest" | "max" | "maximum" => Keyword::Most,
        "least" | "lowest" | "smallest" | "fewest" | "min" | "minimum" => Keyword::Least,
        "and" | "or" | "," | "&" | "plus" | "vs" | "versus" => Keyword::And,
        "not" | "excluding" | "except" | "without" | "exclude" | "non" => Keyword::Not,
        "now" | "only" | "instead" | "just" | "then" | "but" => Keyword::FollowUp,
        "also" => Keyword::Also,
        "list" | "show" | "display" | "enumerate" => Keyword::List,
        _ => return None,
    })
}

fn grain(word: &str) -> Option<Grain> {
    Some(match word {
        "daily" | "day" | "days" => Grain::Day,
        "weekly" | "week" | "weeks" => Grain::Week,
        "monthly" | "month" | "months" => Grain::Month,
        "quarterly" | "quarter" | "quarters" => Grain::Quarter,
        "yearly" | "annual" | "annually" | "year" | "years" => Grain::Year,
        _ => None?,
    })
}

/// Words the grammar reads itself; never "corrected" into model vocabulary.
fn is_structural(word: &str) -> bool {
    keyword(word).is_some()
        || grain(word).is_some()
        || STOPWORDS.contains(&word)
        || AMOUNT_WORDS.contains(&word)
        || COMPARE_WORDS.contains(&word)
        || word.chars().any(|c| c.is_ascii_digit())
        || dates::is_date_word(word)
}

/// Lower-case words: letters, digits and `#-./` inside a word (`Brand#12`, `1-URGENT`, `1995-03-01`); `_` separates
/// (`order_count`), `'s` is dropped, a comma is a word of its own (a list separator).
pub fn tokenize(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    let flush = |word: &mut String, words: &mut Vec<String>| {
        let trimmed = word.trim_matches(|c| matches!(c, '.' | '-' | '/'));
        if !trimmed.is_empty() {
            words.push(trimmed.to_lowercase());
        }
        word.clear();
    };
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || matches!(c, '#' | '-' | '.' | '/') {
            word.push(c);
        } else if c == '\'' || c == '’' {
            // "what's" → "what"; "o'brien" keeps its letters together.
            if matches!(chars.peek(), Some('s' | 'S')) {
                chars.next();
                if chars.peek().is_some_and(|n| n.is_alphanumeric()) {
                    word.push('s');
                }
            }
        } else {
            flush(&mut word, &mut words);
            if c == ',' {
                words.push(",".into());
            }
        }
    }
    flush(&mut word, &mut words);
    words
}

/// A crude English singular, applied alike to questions and to the model's names: "nations" → "nation",
/// "countries" → "country"; words with digits or symbols stay as they are.
pub fn stem(word: &str) -> String {
    if !word.chars().all(|c| c.is_alphabetic()) || word.chars().count() <= 3 {
        return word.to_string();
    }
    if let Some(base) = word.strip_suffix("ies") {
        return format!("{base}y");
    }
    if word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") {
        return word.to_string();
    }
    word.strip_suffix('s').unwrap_or(word).to_string()
}

/// The one vocabulary word within a small edit distance of `word` (one edit up to 7 letters, two beyond).
fn correct(word: &str, vocabulary: &BTreeSet<String>) -> Option<String> {
    let length = word.chars().count();
    if length < 4 || !word.chars().all(char::is_alphabetic) {
        return None;
    }
    let allowed = if length >= 8 { 2 } else { 1 };
    let mut best: Vec<(usize, &String)> = vocabulary
        .iter()
        .filter(|v| v.chars().count() >= 3)
        .map(|v| (strsim::damerau_levenshtein(word, v), v))
        .filter(|(d, _)| *d <= allowed)
        .collect();
    best.sort();
    match best.as_slice() {
        [(d, v)] => Some((*v).clone()).filter(|_| *d > 0),
        [(d1, v), (d2, _), ..] if d1 < d2 => Some((*v).clone()),
        _ => None,
    }
}

/// A refusal naming what the view offers, with the members closest to the unknown words first.
fn not_understood(view: &View, unknown: &[String]) -> String {
    let measures = member_list(view.measures.iter().map(|m| m.name.as_str()));
    let dimensions = member_list(view.dimensions.iter().map(|d| d.name.as_str()));
    if unknown.is_empty() {
        return format!(
            "the question names no measure or dimension. ASK answers from the semantic model only: measures \
             {measures}; dimensions {dimensions}; e.g. ASK revenue by region in 1996"
        );
    }
    let closeness = |name: &str| {
        unknown
            .iter()
            .map(|u| strsim::jaro_winkler(u, &name.replace('_', " ")))
            .fold(0.0, f64::max)
    };
    let mut closest: Vec<(f64, &str)> = view
        .measures
        .iter()
        .map(|m| m.name.as_str())
        .chain(view.dimensions.iter().map(|d| d.name.as_str()))
        .map(|name| (closeness(name), name))
        .filter(|(score, _)| *score >= 0.75)
        .collect();
    closest.sort_by(|a, b| b.0.total_cmp(&a.0));
    let words = unknown
        .iter()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let hint = match closest.as_slice() {
        [] => String::new(),
        some => format!(" (closest: {})", member_list(some.iter().take(3).map(|(_, n)| *n))),
    };
    format!(
        "cannot tell what {words} means in view {}{hint}. ASK answers from the semantic model only: measures \
         {measures}; dimensions {dimensions}; e.g. ASK revenue by region in 1996",
        view.name
    )
}

fn member_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_like_people_type() {
        assert_eq!(
            tokenize("What's the AOV for Brand#12, 1-URGENT orders (1995-03-01)?"),
            vec![
                "what",
                "the",
                "aov",
                "for",
                "brand#12",
                ",",
                "1-urgent",
                "orders",
                "1995-03-01"
            ]
        );
        assert_eq!(
            tokenize("order_count by region."),
            vec!["order", "count", "by", "region"]
        );
    }

    #[test]
    fn stems_plurals_only() {
        assert_eq!(stem("nations"), "nation");
        assert_eq!(stem("countries"), "country");
        assert_eq!(stem("status"), "status");
        assert_eq!(stem("this"), "this");
        assert_eq!(stem("brand#12"), "brand#12");
    }

    #[test]
    fn corrects_small_misspellings_to_one_word() {
        let vocabulary: BTreeSet<String> = ["revenue", "region", "nation", "order"].map(String::from).into();
        assert_eq!(correct("revenu", &vocabulary).as_deref(), Some("revenue"));
        assert_eq!(correct("regoin", &vocabulary).as_deref(), Some("region"));
        assert_eq!(correct("color", &vocabulary), None);
        assert_eq!(correct("drop", &vocabulary), None);
    }
}
