//! Plans of statements already prepared, shared by the sessions of one backend: what makes the extended protocol's
//! Parse of a known statement (every JDBC/Npgsql dashboard query, every pgbench `-M extended` round) cost a lookup
//! instead of a parse, a compatibility rewrite, a semantic compilation and DataFusion's analysis.
//!
//! A backend is one deployment generation (model version and configuration) as one policy context may read it, so a
//! reload or a narrowed policy starts from an empty cache. Within it the key is the statement's text, how its
//! parameters are written, and the user: a plan holds the user's `current_user` as a function, so two users never
//! share one. Plans that hold one session's own state (`current_setting`, `set_config`: the session's parameters) are
//! not kept at all.

use std::sync::Arc;

use crate::metrics::METRICS;
use crate::router::ParameterStyle;
use crate::statement::PlannedQuery;

/// How many plans one backend keeps (least recently used go first). A plan is a few kB to a few hundred kB.
const PLANS: u64 = 2_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PlanKey {
    user: String,
    style: ParameterStyle,
    text: String,
}

pub struct PlanCache {
    plans: moka::sync::Cache<PlanKey, Arc<PlannedQuery>>,
}

impl Default for PlanCache {
    fn default() -> Self {
        Self {
            plans: moka::sync::Cache::new(PLANS),
        }
    }
}

impl std::fmt::Debug for PlanCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanCache")
            .field("plans", &self.plans.entry_count())
            .finish()
    }
}

impl PlanCache {
    /// The plan `user` made of `text` before, if it is still kept.
    pub fn get(&self, user: &str, style: ParameterStyle, text: &str) -> Option<Arc<PlannedQuery>> {
        let plan = self.plans.get(&PlanKey {
            user: user.to_string(),
            style,
            text: text.to_string(),
        });
        METRICS.plan_cache(plan.is_some());
        plan
    }

    /// Keep `query`, planned by `user` from `text`, unless it holds a session's own state.
    pub fn keep(&self, user: &str, style: ParameterStyle, text: &str, query: &Arc<PlannedQuery>) {
        if crate::pg_compat::functions::reads_session_settings(&query.plan) {
            return;
        }
        let key = PlanKey {
            user: user.to_string(),
            style,
            text: text.to_string(),
        };
        self.plans.insert(key, query.clone());
    }
}
