//! The extended protocol's replies written in one go at Sync, as PostgreSQL writes them.
//!
//! pgwire flushes the socket after ParseComplete, BindComplete, a Describe's answer and CommandComplete: with
//! TCP_NODELAY each of them is its own `sendto` and TCP segment, five per `Parse/Bind/Describe/Execute/Sync` round
//! where PostgreSQL sends one, and the client wakes up for each. [`UntilSync`] runs the wrapped handler's message
//! handlers on a [`Held`] client whose flush does nothing; the bytes go out at Sync or Flush (the wrapped handler's
//! own, on the real client), when an error is reported (pgwire flushes it), or when the connection's write buffer is
//! full (the codec's backpressure still writes, so a large result never piles up in memory).

use std::collections::HashMap;
use std::fmt::Debug;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;
use futures::Sink;
use pgwire::api::portal::Portal;
use pgwire::api::query::ExtendedQueryHandler;
use pgwire::api::results::{DescribePortalResponse, DescribeStatementResponse, Response};
use pgwire::api::stmt::StoredStatement;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState, SessionExtensions};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::extendedquery::{Bind, Close, Describe, Execute, Parse};
use pgwire::messages::response::TransactionStatus;
use pgwire::messages::startup::SecretKey;
use pgwire::messages::{PgWireBackendMessage, ProtocolVersion};
use rustls_pki_types::CertificateDer;

/// `H`'s extended-protocol handling, its replies held until the client's Sync or Flush.
pub struct UntilSync<H>(pub Arc<H>);

/// A client whose flush waits for the real one's (see the module's documentation).
struct Held<'a, C>(&'a mut C);

/// The impl: each method the wrapped handler's, the message handlers (`held`) given a [`Held`] client, the rest
/// (`plain`) the client as it is. Written out by a macro because async_trait must see the methods expanded.
macro_rules! delegate {
    (@client held $client:ident) => { &mut Held($client) };
    (@client plain $client:ident) => { $client };
    ($($how:ident $method:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        #[async_trait]
        impl<H: ExtendedQueryHandler> ExtendedQueryHandler for UntilSync<H> {
            type Statement = H::Statement;
            type QueryParser = H::QueryParser;

            fn query_parser(&self) -> Arc<Self::QueryParser> {
                self.0.query_parser()
            }

            $(
            async fn $method<C>(&self, client: &mut C, $($arg: $ty),*) -> PgWireResult<$ret>
            where
                C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
                C::PortalStore: PortalStore<Statement = Self::Statement>,
                C::Error: Debug,
                PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
            {
                self.0.$method(delegate!(@client $how client), $($arg),*).await
            }
            )*
        }
    };
}

delegate! {
    held on_parse(message: Parse) -> ();
    held on_bind(message: Bind) -> ();
    held on_execute(message: Execute) -> ();
    held on_describe(message: Describe) -> ();
    held on_close(message: Close) -> ();
    plain do_describe_statement(statement: &StoredStatement<Self::Statement>) -> DescribeStatementResponse;
    plain do_describe_portal(portal: &Portal<Self::Statement>) -> DescribePortalResponse;
    plain do_query(portal: &Portal<Self::Statement>, max_rows: usize) -> Response;
}

impl<C: Sink<PgWireBackendMessage> + Unpin> Sink<PgWireBackendMessage> for Held<'_, C> {
    type Error = C::Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut *self.0).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, message: PgWireBackendMessage) -> Result<(), Self::Error> {
        Pin::new(&mut *self.0).start_send(message)
    }

    /// Held: Sync or Flush writes.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut *self.0).poll_close(cx)
    }
}

impl<C: ClientPortalStore> ClientPortalStore for Held<'_, C> {
    type PortalStore = C::PortalStore;

    fn portal_store(&self) -> &Self::PortalStore {
        self.0.portal_store()
    }
}

impl<C: ClientInfo> ClientInfo for Held<'_, C> {
    fn socket_addr(&self) -> SocketAddr {
        self.0.socket_addr()
    }

    fn is_secure(&self) -> bool {
        self.0.is_secure()
    }

    fn protocol_version(&self) -> ProtocolVersion {
        self.0.protocol_version()
    }

    fn set_protocol_version(&mut self, version: ProtocolVersion) {
        self.0.set_protocol_version(version)
    }

    fn pid_and_secret_key(&self) -> (i32, SecretKey) {
        self.0.pid_and_secret_key()
    }

    fn set_pid_and_secret_key(&mut self, pid: i32, secret_key: SecretKey) {
        self.0.set_pid_and_secret_key(pid, secret_key)
    }

    fn state(&self) -> PgWireConnectionState {
        self.0.state()
    }

    fn set_state(&mut self, new_state: PgWireConnectionState) {
        self.0.set_state(new_state)
    }

    fn transaction_status(&self) -> TransactionStatus {
        self.0.transaction_status()
    }

    fn set_transaction_status(&mut self, new_status: TransactionStatus) {
        self.0.set_transaction_status(new_status)
    }

    fn metadata(&self) -> &HashMap<String, String> {
        self.0.metadata()
    }

    fn metadata_mut(&mut self) -> &mut HashMap<String, String> {
        self.0.metadata_mut()
    }

    fn session_extensions(&self) -> &SessionExtensions {
        self.0.session_extensions()
    }

    fn sni_server_name(&self) -> Option<&str> {
        self.0.sni_server_name()
    }

    fn client_certificates<'a>(&self) -> Option<&[CertificateDer<'a>]> {
        self.0.client_certificates()
    }
}
