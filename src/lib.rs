//! semgate: a PostgreSQL-wire gateway over a YAML semantic layer, on Apache DataFusion.
//!
//! # Layout
//!
//! One pipeline, several front ends; data flows one way:
//!
//! - [`protocol`]: wire front ends ([`protocol::pg`]: PostgreSQL via pgwire; [`protocol::flight`]: Arrow Flight SQL
//!   via tonic; [`protocol::worker`]: the gRPC between coordinator and workers, with the cluster's secret; [`protocol::admin`]: HTTP `/metrics`, `/healthz`, `/readyz`; [`protocol::tls`]: one rustls
//!   configuration for both SQL wires, reloadable). They translate messages into calls of the statement core and outcomes into messages, nothing else;
//!   only they name pgwire, tonic or arrow-flight (`tests/layering.rs` fails otherwise).
//! - [`statement`]: the statement core every wire calls: text → routed → [`statement::Planned`] (planned once, run
//!   many times) → [`statement::Outcome`] (rows, COPY rows, or a command tag and what it changed). Session
//!   commands, cursors, ASK and the result cache are applied here once for every wire; a panic fails one statement.
//! - [`deployment`]: the users and the model being served; each user's sessions run on the backend of their policy
//!   context (the model as their access policies let them read it: [`semantic::access`]), decided here once for
//!   every wire.
//! - [`session`]: who is connected, their settings and DataFusion context; their open [`cursor`]s.
//! - [`router`]: splits client strings into statements; SQL queries go on, session commands (SET, SHOW, BEGIN, …)
//!   are answered by the session, `ASK` goes to the session's resolver, writes are refused (read-only).
//! - [`semantic`]: the YAML model ([`semantic::spec`]) loaded and checked ([`semantic::load`]) into views; queries
//!   over views are compiled inside DataFusion's planner by an analyzer rule ([`semantic::rewrite`] →
//!   [`semantic::compile`]), never by editing SQL text.
//! - [`nl`]: `ASK` questions → a structured semantic query (offline resolver from the model's vocabulary; an
//!   OpenAI-compatible LLM when configured) → semantic SQL, which then takes the path of any query.
//! - [`engine`]: DataFusion with the views registered as `public.<view>`; plans and streams results.
//! - [`source`]: database sources (PostgreSQL, MySQL/MariaDB, SQLite) read in place; the optimizer rule that hands
//!   the largest single-database sub-plans to their database as SQL ([`source::pushdown`]); file locations in S3
//!   ([`source::object_store`]).
//! - [`distributed`]: scale-out: heavy queries' physical plans cut into stages that `semgate worker` processes run
//!   (datafusion-distributed); what cannot ship stays here. `SET semgate.distributed` chooses per session.
//! - [`plan_cache`]: statements prepared before, planned, shared by the sessions of a backend (a known statement's
//!   Parse is a lookup).
//! - [`cache`]: answers of semantic queries kept by optimized plan, user and model version (moka; single flight);
//!   `SET semgate.cache = off` bypasses it, `semgate_cache_stats()` shows it.
//! - [`pg_compat`]: what PostgreSQL clients' catalog SQL needs beyond DataFusion and `datafusion-pg-catalog`:
//!   statement rewrites, functions, parameter types, and catalog relations reshaped to PostgreSQL 15 (`catalog`).
//! - [`audit`]: one JSON line per statement (who, from where, what it read, which row filters applied, rows, time,
//!   cache, SQLSTATE) and per failed login, written by the statement core.
//! - [`metrics`]: the Prometheus metrics, counted where things happen (statements where their audit line is written).
//! - [`error`]: every module's error meets here and is mapped once to a SQLSTATE.
//! - [`config`], [`demo`], [`server`]: configuration, the embedded TPC-H demo, and the running gateway
//!   ([`server::Application::build`] → [`server::Application::run_until_stopped`]).

// Client bytes reach most of the library: an unwrap there would turn bad input into a failed statement instead of an
// error that says what to do. Tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod audit;
pub mod cache;
pub mod config;
pub mod cursor;
pub mod demo;
pub mod deployment;
pub mod distributed;
pub mod engine;
pub mod error;
pub mod metrics;
pub mod nl;
pub mod pg_compat;
pub mod plan_cache;
pub mod protocol;
pub mod router;
pub mod semantic;
pub mod server;
pub mod session;
pub mod source;
pub mod statement;

pub use config::Config;
pub use server::Application;
