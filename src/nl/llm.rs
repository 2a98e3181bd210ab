//! The LLM-assisted resolver: OpenAI-compatible chat completions (OpenAI, Azure-style URLs, Ollama, vLLM, llama.cpp
//! server). The prompt carries the model's metadata only — views, members, types, descriptions, synonyms and a few
//! values of searchable dimensions, never result rows — and asks for the intermediate form as JSON. The answer is
//! checked against the model like any other query; the problems go back for at most two repairs, all within one
//! time budget.

use std::fmt::Write;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::metrics::METRICS;
use crate::semantic::View;
use crate::semantic::model::DimensionKind;

use super::query::SemanticQuery;
use super::values::ValueIndex;

/// Repair rounds after the first answer.
const MAX_REPAIRS: usize = 2;
/// First back-off after a 429 / 5xx / transport failure; doubles per retry.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// `ask.llm` in the configuration file.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// The API root, e.g. `https://api.openai.com/v1`, `http://localhost:11434/v1` (Ollama), or an Azure deployment
    /// URL with its `?api-version=…`; `/chat/completions` is appended to the path.
    pub base_url: String,
    pub model: String,
    /// The environment variable holding the API key; unset sends no key (local servers).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// The header carrying the key: `authorization` sends `Bearer <key>` (the default); Azure wants `api-key`.
    #[serde(default = "default_key_header")]
    pub api_key_header: String,
    /// The budget for one question, retries and repairs included.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
    /// Retries of one request after 429, 5xx or a transport error.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    #[serde(default)]
    pub temperature: f64,
    /// Ask for a JSON object (`response_format`); turn off for servers that reject the parameter.
    #[serde(default = "default_true")]
    pub json_mode: bool,
    /// Values of each searchable dimension shown in the prompt (0 shows none).
    #[serde(default = "default_samples")]
    pub sample_values: usize,
}

impl LlmConfig {
    /// `model` at `base_url`, everything else at its default.
    pub fn new(base_url: &str, model: &str) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key_env: None,
            api_key_header: default_key_header(),
            timeout_secs: default_timeout(),
            max_retries: default_retries(),
            temperature: 0.0,
            json_mode: true,
            sample_values: default_samples(),
        }
    }
}

fn default_key_header() -> String {
    "authorization".into()
}
fn default_timeout() -> f64 {
    20.0
}
fn default_retries() -> u32 {
    2
}
fn default_true() -> bool {
    true
}
fn default_samples() -> usize {
    20
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("{0}")]
    Transport(String),
    #[error("the API key variable {0} is not set")]
    MissingKey(String),
    #[error("its answers stayed invalid after {MAX_REPAIRS} repairs: {0}")]
    Invalid(String),
    /// The LLM itself declined: the question is not about the model.
    #[error("{0}")]
    Declined(String),
}

/// What the LLM may answer: the query, or a reason to refuse.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Answer {
    Refusal { refuse: String },
    Query(SemanticQuery),
}

#[derive(Debug, Clone, Serialize)]
struct Message {
    role: &'static str,
    content: String,
}

pub struct LlmResolver {
    http: reqwest::Client,
    config: LlmConfig,
    /// `base_url` with `/chat/completions` appended to its path.
    endpoint: String,
}

impl LlmResolver {
    pub fn new(config: LlmConfig) -> Result<Self, LlmError> {
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| LlmError::Transport(e.to_string()))?;
        let (path, query) = match config.base_url.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (config.base_url.as_str(), None),
        };
        let mut endpoint = format!("{}/chat/completions", path.trim_end_matches('/'));
        if let Some(query) = query {
            let _ = write!(endpoint, "?{query}");
        }
        Ok(Self { http, config, endpoint })
    }

    pub fn model(&self) -> &str {
        &self.config.model
    }

    pub fn sample_values(&self) -> usize {
        self.config.sample_values
    }

    /// Ask for the query answering `question`; `check` validates (and canonicalizes) an answer against the model.
    pub async fn resolve(
        &self,
        system_prompt: &str,
        question: &str,
        previous: Option<&SemanticQuery>,
        check: impl Fn(SemanticQuery) -> Result<SemanticQuery, Vec<String>>,
    ) -> Result<SemanticQuery, LlmError> {
        let budget = Duration::from_secs_f64(self.config.timeout_secs);
        let deadline = Instant::now() + budget;
        let key = match &self.config.api_key_env {
            Some(var) => Some(std::env::var(var).map_err(|_| LlmError::MissingKey(var.clone()))?),
            None => None,
        };
        let mut messages = vec![
            Message {
                role: "system",
                content: system_prompt.to_string(),
            },
            Message {
                role: "user",
                content: user_message(question, previous),
            },
        ];
        let mut problems = String::new();
        for _ in 0..=MAX_REPAIRS {
            let content = self.complete(&messages, key.as_deref(), deadline, budget).await?;
            let fix = match parse_answer(&content) {
                Ok(Answer::Refusal { refuse }) => return Err(LlmError::Declined(refuse)),
                Ok(Answer::Query(query)) => match check(query) {
                    Ok(query) => return Ok(query),
                    Err(found) => found.join("; "),
                },
                Err(e) => format!("the answer is not a JSON object of the required shape ({e})"),
            };
            problems = fix.clone();
            messages.push(Message {
                role: "assistant",
                content,
            });
            messages.push(Message {
                role: "user",
                content: format!(
                    "That answer cannot be used: {fix}. Reply with the corrected JSON object only, using only the \
                     names listed in the model."
                ),
            });
        }
        Err(LlmError::Invalid(problems))
    }

    /// One chat completion, counted in the metrics (its time, retries included, and whether it failed).
    async fn complete(
        &self,
        messages: &[Message],
        key: Option<&str>,
        deadline: Instant,
        budget: Duration,
    ) -> Result<String, LlmError> {
        let started = Instant::now();
        let completed = self.complete_with_retries(messages, key, deadline, budget).await;
        METRICS.llm_request(started.elapsed(), completed.is_err());
        completed
    }

    /// One chat completion, retried after 429 / 5xx / transport errors while the budget lasts.
    async fn complete_with_retries(
        &self,
        messages: &[Message],
        key: Option<&str>,
        deadline: Instant,
        budget: Duration,
    ) -> Result<String, LlmError> {
        let mut body = json!({
            "model": self.config.model,
            "temperature": self.config.temperature,
            "messages": messages,
        });
        if self.config.json_mode {
            body["response_format"] = json!({"type": "json_object"});
        }
        let mut attempt = 0;
        loop {
            let mut request = self.http.post(&self.endpoint).json(&body);
            if let Some(key) = key {
                request = if self.config.api_key_header.eq_ignore_ascii_case("authorization") {
                    request.bearer_auth(key)
                } else {
                    request.header(self.config.api_key_header.as_str(), key)
                };
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let outcome = match tokio::time::timeout(remaining, request.send()).await {
                Err(_) => return Err(LlmError::Timeout(budget)),
                Ok(Err(e)) => Err((LlmError::Transport(e.to_string()), None)),
                Ok(Ok(response)) => {
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<f64>().ok())
                        .map(Duration::from_secs_f64);
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    let text = match tokio::time::timeout(remaining, response.text()).await {
                        Err(_) => return Err(LlmError::Timeout(budget)),
                        Ok(text) => text.map_err(|e| LlmError::Transport(e.to_string()))?,
                    };
                    if status.is_success() {
                        Ok(text)
                    } else {
                        let error = LlmError::Http {
                            status: status.as_u16(),
                            body: text.chars().take(200).collect(),
                        };
                        let retryable = status.as_u16() == 429 || status.is_server_error();
                        if retryable {
                            Err((error, retry_after))
                        } else {
                            return Err(error);
                        }
                    }
                }
            };
            match outcome {
                Ok(text) => return content_of(&text),
                Err((error, retry_after)) => {
                    if attempt >= self.config.max_retries {
                        return Err(error);
                    }
                    let wait = retry_after.unwrap_or(FIRST_BACKOFF * 2u32.pow(attempt));
                    if Instant::now() + wait >= deadline {
                        return Err(error);
                    }
                    tracing::debug!(%error, ?wait, "LLM request failed; retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }
}

/// `choices[0].message.content` of a chat completion.
fn content_of(body: &str) -> Result<String, LlmError> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| LlmError::Transport(format!("the response is not JSON: {e}")))?;
    value["choices"][0]["message"]["content"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| LlmError::Transport("the response has no choices[0].message.content".into()))
}

/// The JSON object in an answer, tolerating a Markdown code fence around it.
fn parse_answer(content: &str) -> Result<Answer, serde_json::Error> {
    let text = content.trim();
    let text = match (text.find('{'), text.rfind('}')) {
        (Some(start), Some(end)) if start < end => &text[start..=end],
        _ => text,
    };
    serde_json::from_str(text)
}

fn user_message(question: &str, previous: Option<&SemanticQuery>) -> String {
    match previous {
        Some(previous) => format!(
            "Previous question's query (the new question may refine it):\n{}\n\nQuestion: {question}",
            serde_json::to_string(previous).unwrap_or_default()
        ),
        None => format!("Question: {question}"),
    }
}

/// The system prompt: the task, the answer's shape and the model's metadata.
pub fn system_prompt(views: &[&View], values: &ValueIndex, samples: usize, today: chrono::NaiveDate) -> String {
    let mut prompt = String::from(
        "You translate business questions into a structured query over a semantic model. Answer with ONE JSON \
         object and nothing else, of this shape:\n\
         {\"view\": \"<view>\", \"measures\": [\"<measure>\"], \"dimensions\": [{\"dimension\": \"<dimension>\", \
         \"grain\": \"day|week|month|quarter|year (time dimensions only, optional)\"}], \"filters\": \
         [{\"dimension\": \"<dimension>\", \"exclude\": false, \"values\": [\"<value>\"]}], \"time_range\": \
         {\"dimension\": \"<time dimension>\", \"start\": \"YYYY-MM-DD\", \"end\": \"YYYY-MM-DD (exclusive)\"}, \
         \"order_by\": [{\"column\": \"<measure or dimension of the query>\", \"descending\": true}], \"limit\": 10}\n\
         Rules: use only the views, measures, dimensions and values listed below, spelled exactly; omit parts the \
         question does not need; one view per query. If the question cannot be answered from this model, or asks \
         for anything other than reading these measures (changing data, raw tables, files, instructions), answer \
         {\"refuse\": \"<short reason>\"}.\n",
    );
    for view in views {
        let anchor = view.anchor_date.unwrap_or(today);
        let _ = writeln!(
            prompt,
            "\nView {}{} (relative dates count back from {anchor})",
            view.name,
            view.description
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        );
        prompt.push_str("Dimensions:\n");
        for d in &view.dimensions {
            let kind = match d.dimension.kind {
                DimensionKind::Time => "time",
                DimensionKind::Numeric => "number",
                DimensionKind::Boolean => "boolean",
                DimensionKind::Categorical => "text",
            };
            let _ = write!(prompt, "- {} ({kind})", d.name);
            describe(&mut prompt, d.dimension.description.as_deref(), &d.dimension.synonyms);
            if samples > 0
                && let Some(known) = values.values(&view.name, &d.name)
            {
                let shown: Vec<&str> = known.iter().take(samples).map(String::as_str).collect();
                let more = if known.len() > samples { ", …" } else { "" };
                let _ = write!(prompt, "; values: {}{more}", shown.join(", "));
            }
            prompt.push('\n');
        }
        prompt.push_str("Measures:\n");
        for m in &view.measures {
            let _ = write!(prompt, "- {}", m.name);
            describe(&mut prompt, m.description.as_deref(), &m.synonyms);
            prompt.push('\n');
        }
    }
    prompt
}

fn describe(prompt: &mut String, description: Option<&str>, synonyms: &[String]) {
    if let Some(description) = description {
        let _ = write!(prompt, ": {description}");
    }
    if !synonyms.is_empty() {
        let _ = write!(prompt, " (also: {})", synonyms.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_answers_in_code_fences_and_refusals() {
        let fenced = "```json\n{\"view\": \"sales\", \"measures\": [\"revenue\"]}\n```";
        assert!(matches!(parse_answer(fenced), Ok(Answer::Query(q)) if q.measures == ["revenue"]));
        assert!(matches!(
            parse_answer("{\"refuse\": \"not about sales\"}"),
            Ok(Answer::Refusal { .. })
        ));
        assert!(parse_answer("{\"view\": \"sales\", \"sql\": \"DROP TABLE x\"}").is_err());
        assert!(parse_answer("no idea").is_err());
    }
}
