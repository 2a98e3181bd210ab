//! Wire protocols. Each front end only translates between its wire and the shared pipeline
//! (router → session → engine), so a fix or a policy applies to every face at once.

pub mod admin;
pub mod flight;
pub mod pg;
pub mod tls;
pub mod worker;

/// The first wait after a failed accept (out of file descriptors, say); doubled on each failure in a row, up to
/// [`ACCEPT_BACKOFF_MAX`], so a persistent failure does not spin a core.
const ACCEPT_BACKOFF_MIN: std::time::Duration = std::time::Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: std::time::Duration = std::time::Duration::from_secs(1);
