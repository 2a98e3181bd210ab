//! Wire protocols. Each front end only translates between its wire and the shared pipeline
//! (router → session → engine), so a fix or a policy applies to every face at once.

pub mod flight;
pub mod pg;
pub mod tls;
