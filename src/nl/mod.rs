//! Natural-language questions (`ASK …`) turned into semantic queries. Two resolvers produce one intermediate form
//! ([`query::SemanticQuery`]): the offline resolver ([`offline`], built from the model's own vocabulary and values,
//! the default) and, when configured, an OpenAI-compatible LLM ([`llm`]) consulted only when the offline resolver is
//! not confident. The intermediate form is checked against the model and rendered as semantic SQL
//! deterministically; that SQL then takes the same path as any client's.

pub mod dates;
pub mod llm;
pub mod offline;
pub mod query;
pub mod values;

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use moka::sync::Cache;
use tokio::sync::OnceCell;

use crate::metrics::METRICS;
use crate::semantic::SemanticModel;

pub use llm::LlmConfig;
pub use query::SemanticQuery;

/// LLM translations kept, and for how long: the same question from the same user on the same model version.
const CACHED_TRANSLATIONS: u64 = 10_000;
const TRANSLATION_TTL: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum NlError {
    #[error("ASK needs a question, e.g. ASK revenue by region in 1996")]
    Empty,
    /// The question cannot be answered from the model; the message lists what can be asked.
    #[error("{0}")]
    NotUnderstood(String),
    /// A time phrase with two plausible readings; the message names both as the user can ask them.
    #[error("{0}")]
    Ambiguous(Box<dates::Ambiguity>),
    #[error("cannot read the values of searchable dimensions: {0}")]
    Values(#[from] DataFusionError),
    #[error("the LLM resolver is misconfigured: {0}")]
    Llm(#[from] llm::LlmError),
}

/// A question translated.
#[derive(Debug, Clone)]
pub struct Translation {
    pub query: SemanticQuery,
    /// The semantic SQL that answers it.
    pub sql: String,
    /// Which resolver answered: `offline`, `LLM <model>`, or `LLM <model> (cached)`.
    pub resolver: String,
    /// What the user should know about the reading: corrected spellings, an LLM that failed.
    pub notes: Vec<String>,
    pub elapsed: Duration,
}

/// What both resolvers read: the model's vocabulary, built on the first question (it reads distinct values).
struct Vocabulary {
    values: values::ValueIndex,
    lexicons: Vec<offline::Lexicon>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TranslationKey {
    /// The question's words, lower case: spacing and punctuation do not make a new question.
    question: String,
    model_version: u64,
    /// Until roles exist, what a user may read is decided by who they are.
    user: String,
    previous: Option<SemanticQuery>,
}

pub struct Asker {
    model: Arc<SemanticModel>,
    /// Where the distinct values of searchable dimensions are read.
    ctx: SessionContext,
    vocabulary: OnceCell<Vocabulary>,
    llm: Option<llm::LlmResolver>,
    /// LLM translations (the offline resolver is faster than a lookup's bookkeeping is worth).
    translations: Cache<TranslationKey, SemanticQuery>,
}

impl Asker {
    pub fn new(model: Arc<SemanticModel>, ctx: SessionContext, llm: Option<LlmConfig>) -> Result<Self, NlError> {
        Ok(Self {
            model,
            ctx,
            vocabulary: OnceCell::new(),
            llm: llm.map(llm::LlmResolver::new).transpose()?,
            translations: Cache::builder()
                .max_capacity(CACHED_TRANSLATIONS)
                .time_to_live(TRANSLATION_TTL)
                .build(),
        })
    }

    async fn vocabulary(&self) -> Result<&Vocabulary, NlError> {
        self.vocabulary
            .get_or_try_init(|| async {
                let started = Instant::now();
                let values = values::ValueIndex::build(&self.model, &self.ctx).await?;
                let lexicons = self
                    .model
                    .views
                    .values()
                    .map(|view| offline::Lexicon::new(view.clone(), &values))
                    .collect();
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "ASK vocabulary built"
                );
                Ok(Vocabulary { values, lexicons })
            })
            .await
    }

    /// Translate `question`; `previous` is the session's last question, which a follow-up refines.
    pub async fn translate(
        &self,
        question: &str,
        previous: Option<&SemanticQuery>,
        user: &str,
    ) -> Result<Translation, NlError> {
        let translated = self.resolve(question, previous, user).await;
        // The LLM is consulted whenever the offline resolver refuses a question it is given.
        let resolver = match &translated {
            Ok(translation) if translation.resolver == "offline" => "offline",
            Ok(_) => "llm",
            Err(_) if self.llm.is_some() => "llm",
            Err(_) => "offline",
        };
        if !matches!(translated, Err(NlError::Empty)) {
            METRICS.ask(resolver, translated.is_ok());
        }
        translated
    }

    async fn resolve(
        &self,
        question: &str,
        previous: Option<&SemanticQuery>,
        user: &str,
    ) -> Result<Translation, NlError> {
        let started = Instant::now();
        let vocabulary = self.vocabulary().await?;
        let today = chrono::Utc::now().date_naive();
        let check = |query: SemanticQuery| match self.model.views.get(&query.view.to_lowercase()) {
            Some(view) => query.check(view, &vocabulary.values),
            None => Err(vec![format!(
                "\"{}\" is not a view; the views are: {}",
                query.view,
                self.model.views.keys().cloned().collect::<Vec<_>>().join(", ")
            )]),
        };
        let translation = |query: SemanticQuery, resolver: String, notes: Vec<String>| Translation {
            sql: query.to_sql(),
            query,
            resolver,
            notes,
            elapsed: started.elapsed(),
        };
        let refusal = match offline::resolve(&vocabulary.lexicons, question, previous, today) {
            Ok(reading) => match check(reading.query) {
                Ok(query) => {
                    let notes = reading
                        .corrections
                        .iter()
                        .map(|(typed, read)| format!("read \"{typed}\" as \"{read}\""))
                        .collect();
                    return Ok(translation(query, "offline".into(), notes));
                }
                Err(problems) => NlError::NotUnderstood(problems.join("; ")),
            },
            Err(NlError::Empty) => return Err(NlError::Empty),
            Err(refusal) => refusal,
        };
        let Some(llm) = &self.llm else {
            return Err(refusal);
        };
        let key = TranslationKey {
            question: offline::tokenize(question).join(" "),
            model_version: self.model.version,
            user: user.to_string(),
            previous: previous.cloned(),
        };
        if let Some(query) = self.translations.get(&key) {
            let notes = reading_chosen(&refusal, &query);
            return Ok(translation(query, format!("LLM {} (cached)", llm.model()), notes));
        }
        let views: Vec<_> = self.model.views.values().map(|v| v.as_ref()).collect();
        let prompt = llm::system_prompt(&views, &vocabulary.values, llm.sample_values(), today);
        // The LLM may choose between the readings of an ambiguous time phrase: it is told both, and a note says
        // which one ran.
        let asked = match &refusal {
            NlError::Ambiguous(ambiguity) => {
                let [a, b] = &ambiguity.readings;
                format!(
                    "{question}\nNote: '{}' can mean {} or {}; choose the reading the asker more likely means.",
                    ambiguity.phrase, a.meaning, b.meaning
                )
            }
            _ => question.to_string(),
        };
        match llm.resolve(&prompt, &asked, previous, check).await {
            Ok(query) => {
                self.translations.insert(key, query.clone());
                let notes = reading_chosen(&refusal, &query);
                Ok(translation(query, format!("LLM {}", llm.model()), notes))
            }
            Err(llm::LlmError::Declined(reason)) => Err(NlError::NotUnderstood(format!(
                "{refusal} (the LLM {} declined too: {reason})",
                llm.model()
            ))),
            Err(failure) => {
                tracing::warn!(%failure, "LLM resolver failed; the offline resolver's answer stands");
                Err(NlError::NotUnderstood(format!(
                    "{refusal} (the LLM {} could not help: {failure}; answered by the offline resolver)",
                    llm.model()
                )))
            }
        }
    }
}

/// Where the offline resolver refused an ambiguous time phrase and the LLM answered, which reading ran.
fn reading_chosen(refusal: &NlError, query: &SemanticQuery) -> Vec<String> {
    let NlError::Ambiguous(ambiguity) = refusal else {
        return vec![];
    };
    let range = query.time_range.as_ref().map(|t| dates::DateRange {
        start: t.start,
        end: t.end,
    });
    let [a, b] = &ambiguity.readings;
    let note = match range.as_ref().and_then(|r| ambiguity.reading(r)) {
        Some(chosen) => {
            let other = if chosen == a { b } else { a };
            format!(
                "read '{}' as {}; it can also mean {} (ask '{}')",
                ambiguity.phrase, chosen.meaning, other.meaning, other.ask
            )
        }
        None => format!(
            "'{}' can mean {} or {}; the LLM read it as neither: {}",
            ambiguity.phrase,
            a.meaning,
            b.meaning,
            match &query.time_range {
                Some(t) => format!(
                    "{} from {} to {} (exclusive)",
                    t.dimension,
                    t.start.map_or("the start".into(), |d| d.to_string()),
                    t.end.map_or("the end".into(), |d| d.to_string())
                ),
                None => "all dates".into(),
            }
        ),
    };
    vec![note]
}
