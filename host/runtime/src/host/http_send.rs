//! Sending an allowed outbound request: resolve the host, drop non-public
//! addresses it should not reach, connect (TLS for https, with the
//! webpki roots), send over HTTP/1.1 and cap the response body.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};
use weft_core::network::{Scheme, Target};

/// Connecting (and the TLS handshake) gives up after this long by default.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Waiting for the response's head gives up after this long by default
/// (the run's wall time bounds it too).
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(600);

/// Why a request was not sent or answered.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The host resolved only to addresses the run may not reach; the
    /// message says so, for the run's log.
    Refused(String),
    /// A network or protocol error, as `wasi:http` reports it.
    Http(Error),
}

impl From<Error> for SendError {
    fn from(e: Error) -> Self {
        SendError::Http(e)
    }
}

/// The TLS client configuration: ring, safe protocol versions, the
/// webpki roots. Built once.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, Error> {
    static CONFIG: OnceLock<Option<Arc<rustls::ClientConfig>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.into(),
            };
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .ok()
                .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
        })
        .clone()
        .ok_or(Error::InternalError(Some("TLS is not available".into())))
}

/// The addresses of `target` the run may connect to.
async fn resolve(target: &Target) -> Result<Vec<SocketAddr>, SendError> {
    let addrs: Vec<SocketAddr> = match target.ip() {
        Some(ip) => vec![SocketAddr::new(ip, target.port)],
        None => tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(|_| {
                SendError::Http(Error::DnsError {
                    rcode: Some("could not resolve the host".into()),
                    info_code: None,
                })
            })?
            .collect(),
    };
    let allowed: Vec<SocketAddr> = addrs
        .iter()
        .copied()
        .filter(|a| target.may_connect_to(a.ip()))
        .collect();
    if allowed.is_empty() {
        if addrs.is_empty() {
            return Err(SendError::Http(Error::DestinationNotFound));
        }
        return Err(SendError::Refused(format!(
            "outbound HTTP request to {target} refused: the host resolves to a non-public address ({}); allow the address itself (e.g. --allow-host http://{}:*) to reach it",
            addrs[0].ip(),
            addrs[0].ip()
        )));
    }
    Ok(allowed)
}

/// Sends `request` (already judged allowed) to `target` and returns the
/// response, its body capped at `max_body` bytes. The connection ends when
/// `ended` is cancelled; it holds `permit` while it is open.
pub(crate) async fn send(
    target: &Target,
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    max_body: u64,
    ended: CancellationToken,
    permit: OwnedSemaphorePermit,
) -> Result<http::Response<WasiBody>, SendError> {
    let connect_timeout = options
        .and_then(|o| o.connect_timeout)
        .unwrap_or(CONNECT_TIMEOUT);
    let first_byte_timeout = options
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(FIRST_BYTE_TIMEOUT);
    let addrs = resolve(target).await?;
    let tcp = tokio::time::timeout(connect_timeout, TcpStream::connect(&addrs[..]))
        .await
        .map_err(|_| Error::ConnectionTimeout)?
        .map_err(|_| Error::ConnectionRefused)?;
    let (mut parts, body) = request.into_parts();
    // Only the path and query go on the request line.
    parts.uri = http::Uri::builder()
        .path_and_query(
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/"),
        )
        .build()
        .map_err(|_| Error::HttpRequestUriInvalid)?;
    let request = http::Request::from_parts(parts, body);
    let response = match target.scheme {
        Scheme::Http => {
            let timeouts = (connect_timeout, first_byte_timeout);
            exchange(tcp, request, timeouts, ended, permit).await?
        }
        Scheme::Https => {
            let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                .map_err(|_| Error::HttpRequestUriInvalid)?;
            let connector = tokio_rustls::TlsConnector::from(tls_config()?);
            let tls = tokio::time::timeout(connect_timeout, connector.connect(name, tcp))
                .await
                .map_err(|_| Error::ConnectionTimeout)?
                .map_err(|_| Error::TlsProtocolError)?;
            let timeouts = (connect_timeout, first_byte_timeout);
            exchange(tls, request, timeouts, ended, permit).await?
        }
    };
    let too_large = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > max_body);
    if too_large {
        return Err(SendError::Http(Error::HttpResponseBodySize(Some(max_body))));
    }
    Ok(response.map(|incoming| {
        CappedBody {
            inner: incoming,
            left: max_body,
            limit: max_body,
        }
        .boxed_unsync()
    }))
}

/// One HTTP/1.1 exchange over `io` with (connect, first byte) timeouts;
/// the connection is driven in the background, holding `permit`, until it
/// closes or `ended` is cancelled.
async fn exchange<S>(
    io: S,
    request: http::Request<WasiBody>,
    (connect_timeout, first_byte_timeout): (Duration, Duration),
    ended: CancellationToken,
    permit: OwnedSemaphorePermit,
) -> Result<http::Response<Incoming>, Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, conn) = tokio::time::timeout(
        connect_timeout,
        hyper::client::conn::http1::handshake(TokioIo::new(io)),
    )
    .await
    .map_err(|_| Error::ConnectionTimeout)?
    .map_err(Error::from)?;
    tokio::spawn(async move {
        let _permit = permit;
        tokio::select! {
            _ = conn => {}
            _ = ended.cancelled() => {}
        }
    });
    tokio::time::timeout(first_byte_timeout, sender.send_request(request))
        .await
        .map_err(|_| Error::ConnectionReadTimeout)?
        .map_err(Error::from)
}

/// A response body that fails once it goes past its cap.
struct CappedBody {
    inner: Incoming,
    left: u64,
    limit: u64,
}

impl Body for CappedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let n = data.len() as u64;
                    if n > self.left {
                        self.left = 0;
                        return Poll::Ready(Some(Err(Error::HttpResponseBodySize(Some(
                            self.limit,
                        )))));
                    }
                    self.left -= n;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Error::from(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
