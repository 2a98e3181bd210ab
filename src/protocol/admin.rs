//! The admin HTTP port (`admin_addr`): `GET /metrics` (Prometheus; OpenMetrics text), `GET /healthz` (the process
//! answers), `GET /readyz` (the model is loaded and every source answers; 503 naming what does not). For probes
//! and scrapers on a private network: it serves no data and takes no credentials.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::deployment::CurrentDeployment;
use crate::metrics::METRICS;

/// Serve until `stopping` fires.
pub async fn serve(listener: TcpListener, deployment: CurrentDeployment, stopping: CancellationToken) {
    let routes = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(deployment);
    let served = axum::serve(listener, routes)
        .with_graceful_shutdown(stopping.cancelled_owned())
        .await;
    if let Err(e) = served {
        tracing::error!(error = %e, "the admin HTTP server stopped");
    }
}

async fn metrics(State(deployment): State<CurrentDeployment>) -> impl IntoResponse {
    let (entries, bytes) = deployment.load_full().cache_usage().await;
    METRICS.cache_size(entries, bytes);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        METRICS.encode(),
    )
}

async fn ready(State(deployment): State<CurrentDeployment>) -> (StatusCode, String) {
    let unready = deployment.load_full().unready().await;
    if unready.is_empty() {
        return (StatusCode::OK, "ready\n".into());
    }
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("not ready:\n{}\n", unready.join("\n")),
    )
}
