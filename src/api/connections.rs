//! The HTTP server's connections: accepted under a cap, each served by hyper with a header
//! read timeout, closed when idle, and drained on shutdown.
//!
//! `axum::serve` takes none of these limits, and a client that opens a connection and sends
//! half a request would hold it (and its task) for ever; many such clients exhaust the
//! process's file descriptors. So helpline serves its own accept loop:
//!
//! - over `server.max_connections` open, a new connection is accepted and closed at once
//!   (rather than left in the kernel's backlog, where clients would wait without knowing);
//! - a request's headers must arrive within `server.header_read_timeout_secs` (hyper's own
//!   timer, also between the requests of a keep-alive connection);
//! - a connection that carries nothing either way for `server.idle_timeout_secs` is closed
//!   (a request body trickling in, a peer gone without a FIN). WebSockets pass their
//!   upgraded connection through the same guard; the server's pings keep a live one busy.
//!
//! Each closing is counted (`helpline_connections_refused_total`,
//! `helpline_connections_timed_out_total`).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};

use crate::api::ServerConfig;
use crate::stats::names;

/// How long to pause accepting after an accept error (out of file descriptors, mostly):
/// retrying at once would spin while nothing has been freed.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` (HTTP/1.1 with upgrades, as helpline has always spoken)
/// until `shutdown` resolves, then lets the requests in flight finish. Handlers see the
/// peer as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &ServerConfig,
    shutdown: impl Future<Output = ()> + Send,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let header_timeout = Duration::from_secs(limits.header_read_timeout_secs);
    let idle = Duration::from_secs(limits.idle_timeout_secs);
    // `stop` tells every connection to finish; each holds a `done` receiver, so `done_tx`
    // closes once the last connection has ended.
    let (stop_tx, stop_rx) = watch::channel(());
    let (done_tx, done_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            metrics::counter!(names::CONNECTIONS_REFUSED.name).increment(1);
            tracing::debug!(%peer, "over server.max_connections: closed");
            drop(tcp);
            continue;
        };
        let io = TokioIo::new(Guarded::new(tcp, idle, permit));
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            async move {
                let response = tower_service::Service::call(&mut router, request).await;
                Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
            }
        });
        let mut stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(io, service)
                .with_upgrades();
            let mut connection = pin!(connection);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            closed_by(&e, peer);
                        }
                        break;
                    }
                    _ = stop.changed(), if !stopping => {
                        stopping = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(done);
        });
    }
    drop(listener);
    let _ = stop_tx.send(());
    drop(done_rx);
    done_tx.closed().await;
}

/// Counts a connection hyper closed for its header timeout; other errors are the peer's.
fn closed_by(error: &hyper::Error, peer: SocketAddr) {
    if error.is_timeout() {
        metrics::counter!(names::CONNECTIONS_TIMED_OUT.name, "timeout" => "header").increment(1);
        tracing::debug!(%peer, "request headers too slow: closed");
    } else {
        tracing::trace!(%peer, error = %error, "connection ended with an error");
    }
}

/// A connection holding its slot under the cap, closed when it carries nothing either way
/// for its idle timeout.
struct Guarded {
    tcp: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    _slot: OwnedSemaphorePermit,
}

impl Guarded {
    fn new(tcp: TcpStream, idle: Duration, slot: OwnedSemaphorePermit) -> Guarded {
        Guarded {
            tcp,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
            _slot: slot,
        }
    }

    /// Something moved: the idle timeout starts again.
    fn touch(&mut self) {
        let next = Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }

    /// While waiting on the socket: an error once the connection has been idle too long.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if self.deadline.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        metrics::counter!(names::CONNECTIONS_TIMED_OUT.name, "timeout" => "idle").increment(1);
        // Armed again, so a caller that polls once more gets a fresh wait, not a busy loop.
        self.touch();
        Poll::Ready(io::Error::new(
            io::ErrorKind::TimedOut,
            "the connection was idle past server.idle_timeout_secs",
        ))
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.tcp).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.touch();
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_idle(cx).map(Err),
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.tcp).poll_write(cx, data) {
            Poll::Ready(result) => {
                this.touch();
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_idle(cx).map(Err),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.tcp).poll_write_vectored(cx, data) {
            Poll::Ready(result) => {
                this.touch();
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_idle(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}
