//! The wire between the coordinator and its workers: datafusion-distributed's gRPC worker service, served by
//! `semgate worker` and by the coordinator (for the stages that stay on it), and the channels that call it. Every
//! call carries the cluster's shared secret and a worker refuses calls without it, so an open worker port is no way
//! around the gateway's policies.

use std::net::SocketAddr;

use async_trait::async_trait;
use datafusion::error::{DataFusionError, Result};
use datafusion_distributed::grpc::{BoxCloneSyncChannel, DefaultChannelResolver, create_worker_client};
use datafusion_distributed::{ChannelResolver, Worker, WorkerChannel};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::constant_time_eq;

/// The header the secret travels in.
const SECRET_HEADER: &str = "authorization";

/// What the header holds: `Bearer <secret>`.
fn bearer(secret: &str) -> String {
    format!("Bearer {secret}")
}

/// Channels to workers (one per worker, reused), each call carrying the cluster's secret.
#[derive(Clone)]
pub struct SecretChannels {
    /// Connects once per URL and keeps the channel (datafusion-distributed's own cache).
    inner: DefaultChannelResolver,
    /// `Bearer <secret>`, ready to send.
    token: http::HeaderValue,
}

impl SecretChannels {
    pub fn new(secret: &str) -> Result<Self> {
        let token = http::HeaderValue::from_str(&bearer(secret))
            .map_err(|_| DataFusionError::Configuration("the cluster secret must be printable ASCII".into()))?;
        Ok(Self {
            inner: DefaultChannelResolver::default(),
            token,
        })
    }
}

#[async_trait]
impl ChannelResolver for SecretChannels {
    async fn get_worker_client_for_url(&self, url: &Url) -> Result<Box<dyn WorkerChannel>> {
        let channel = self.inner.get_channel(url).await?;
        let token = self.token.clone();
        let with_secret = tower::ServiceBuilder::new()
            .map_request(move |mut request: http::Request<tonic::body::Body>| {
                request.headers_mut().insert(SECRET_HEADER, token.clone());
                request
            })
            .service(channel);
        Ok(create_worker_client(BoxCloneSyncChannel::new(with_secret)))
    }
}

/// Serve `worker` on `listener` until `stopping` fires; calls without the secret are refused (UNAUTHENTICATED).
pub async fn serve(listener: TcpListener, worker: Worker, secret: &str, stopping: CancellationToken) {
    let expected = bearer(secret);
    let check = move |request: tonic::Request<()>| match request.metadata().get(SECRET_HEADER) {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(request),
        _ => {
            tracing::warn!("a call to the worker without the cluster secret was refused");
            Err(tonic::Status::unauthenticated(
                "this semgate worker serves only its coordinator: the call did not carry the cluster secret",
            ))
        }
    };
    let service = tonic::service::interceptor::InterceptedService::new(worker.into_worker_server(), check);
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let served = tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, stopping.cancelled())
        .await;
    if let Err(e) = served {
        tracing::error!(error = %e, "the worker service stopped");
    }
}

/// The URL workers reach a listener at: `advertise` if given, else `http://<bound address>`.
pub fn url_of(bound: SocketAddr, advertise: Option<&Url>) -> Result<Url> {
    match advertise {
        Some(url) => Ok(url.clone()),
        None => Url::parse(&format!("http://{bound}"))
            .map_err(|e| DataFusionError::Configuration(format!("worker address {bound}: {e}"))),
    }
}
