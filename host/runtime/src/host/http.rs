//! `wasi:http/outgoing-handler`: outbound HTTP for flows, filtered by the
//! run's network policy ([`weft_core::network`]).
//!
//! Every request is judged by the scheme and authority of its URL, against
//! the run's allowlist and the operator's. A refused request fails in the
//! guest with `error-code.HTTP-request-denied` and writes a warning line to
//! the run's log saying which list refused it. An allowed request gets its
//! `Host` header overwritten from the URL's authority, the real values of
//! the secrets bound to its host substituted for their placeholders (in the
//! path and query, header values and body), and is sent by
//! [`super::http_send`], which refuses names resolving to non-public
//! addresses and caps the response body; those values are replaced by
//! their placeholders again in the response ([`super::http_redact`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HOST, HeaderValue};
use http_body_util::{BodyExt, Full, Limited};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use wasmtime_wasi_http::{
    RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};
use weft_core::LogLevel;
use weft_core::network::{AllowedHosts, NetworkGrant, NetworkPolicy, SecretHosts, Target};

use super::http_redact::Pairs;
use crate::run::RunContext;
use crate::state::HostState;

/// The logger name of the run's log lines about outbound HTTP.
const LOGGER: &str = "weft.http";

/// The largest request body into which secrets are substituted.
const MAX_SUBSTITUTED_BODY: usize = 16 << 20;

/// Outbound connections one run may have open at once; more requests wait.
const MAX_CONNECTIONS: usize = 64;

/// The network side of one flow run: its policy, the placeholders of its
/// host-bound secrets, and their values once read.
#[derive(Debug)]
pub(crate) struct RunNetwork {
    policy: NetworkPolicy,
    /// Why the run's grant does not parse; every request is refused then.
    invalid: Option<String>,
    /// The largest response body a guest may read.
    pub max_response_bytes: u64,
    /// Placeholder per bound secret name.
    placeholders: HashMap<String, String>,
    /// Real values read so far, per secret name.
    values: Mutex<HashMap<String, String>>,
    /// Permits for open connections ([`MAX_CONNECTIONS`]).
    connections: Arc<tokio::sync::Semaphore>,
}

impl RunNetwork {
    /// The network of a run granted `grant`, under the operators' lists.
    pub(crate) fn new(grant: &NetworkGrant, operators: Vec<AllowedHosts>) -> RunNetwork {
        let parsed = AllowedHosts::parse(&grant.allowed_hosts)
            .and_then(|a| SecretHosts::parse(&grant.secret_hosts).map(|s| (a, s)));
        let (policy, invalid) = match parsed {
            Ok((allowed, secret_hosts)) => (
                NetworkPolicy {
                    allowed,
                    operators,
                    secret_hosts,
                },
                None,
            ),
            Err(e) => (NetworkPolicy::default(), Some(e.to_string())),
        };
        let placeholders = policy
            .secret_hosts
            .names()
            .map(|name| (name.to_string(), placeholder(name)))
            .collect();
        RunNetwork {
            policy,
            invalid,
            max_response_bytes: grant.max_response_bytes,
            placeholders,
            values: Mutex::new(HashMap::new()),
            connections: Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS)),
        }
    }

    /// The placeholder the guest reads for `name`, when `name` is bound to
    /// hosts.
    pub(crate) fn placeholder_of(&self, name: &str) -> Option<&str> {
        self.placeholders.get(name).map(String::as_str)
    }

    /// Remembers the real value of a bound secret.
    pub(crate) fn remember(&self, name: &str, value: &str) {
        let mut v = self.values.lock().unwrap_or_else(|e| e.into_inner());
        v.insert(name.to_string(), value.to_string());
    }

    fn known_value(&self, name: &str) -> Option<String> {
        let v = self.values.lock().unwrap_or_else(|e| e.into_inner());
        v.get(name).cloned()
    }
}

/// A placeholder for the secret `name`: recognisable, unique to the run,
/// and made of characters that survive URL and header encoding unchanged.
fn placeholder(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let nonce: [u8; 12] = rand::random();
    format!("weft-secret-{clean}-{}", hex::encode(nonce))
}

/// The per-instance `wasi:http` state.
pub(crate) struct HttpState {
    ctx: WasiHttpCtx,
    hooks: OutboundHooks,
}

impl HttpState {
    /// The state of an instance of `run` (none while describing: every
    /// request is refused), stopped when `ended` is cancelled.
    pub(crate) fn new(
        run: Option<Arc<RunContext>>,
        task_run_id: Option<Uuid>,
        ended: CancellationToken,
    ) -> HttpState {
        HttpState {
            ctx: WasiHttpCtx::new(),
            hooks: OutboundHooks {
                run,
                task_run_id,
                ended,
            },
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http.ctx,
            table: &mut self.table,
            hooks: &mut self.http.hooks,
        }
    }
}

/// The hooks that apply the run's policy to each outgoing request.
struct OutboundHooks {
    run: Option<Arc<RunContext>>,
    task_run_id: Option<Uuid>,
    ended: CancellationToken,
}

type SendResult = wasmtime_wasi_http::Result<(
    http::Response<WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
)>;

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let run = self.run.clone();
        let task_run_id = self.task_run_id;
        let ended = self.ended.clone();
        Box::new(async move {
            let Some(run) = run else {
                return Err(wasmtime_wasi_http::Error::HttpRequestDenied);
            };
            let outbound = Outbound {
                run,
                task_run_id,
                ended,
            };
            outbound.send(request, options).await
        })
    }
}

/// One request being judged and sent.
struct Outbound {
    run: Arc<RunContext>,
    task_run_id: Option<Uuid>,
    ended: CancellationToken,
}

impl Outbound {
    /// Writes a warning line to the run's log.
    fn warn(&self, message: &str) {
        let _ = self
            .run
            .log(LOGGER, LogLevel::Warning, message, self.task_run_id);
    }

    async fn send(
        &self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> SendResult {
        use wasmtime_wasi_http::Error;
        let network = self.run.network.clone();
        if let Some(reason) = &network.invalid {
            self.warn(&format!(
                "outbound HTTP request refused: the run's network policy is invalid: {reason}"
            ));
            return Err(Error::HttpRequestDenied);
        }
        let uri = request.uri().clone();
        let authority = uri.authority().map(|a| a.as_str()).unwrap_or("");
        let target = match Target::parse(uri.scheme_str().unwrap_or("https"), authority) {
            Ok(t) => t,
            Err(e) => {
                self.warn(&format!("outbound HTTP request refused: {e}"));
                return Err(Error::HttpRequestUriInvalid);
            }
        };
        if let Err(denied) = network.policy.check(&target) {
            self.warn(&denied.message());
            return Err(Error::HttpRequestDenied);
        }
        // The target comes from the URL's authority only: whatever Host
        // header the request carries is replaced by it.
        let host = HeaderValue::from_str(authority).map_err(|_| Error::HttpRequestUriInvalid)?;
        request.headers_mut().insert(HOST, host);
        let (request, pairs) = self.substitute(&network, &target, request).await?;
        let permit = tokio::select! {
            p = network.connections.clone().acquire_owned() => {
                p.map_err(|_| Error::ConnectionLimitReached)?
            }
            _ = self.ended.cancelled() => return Err(Error::ConnectionTerminated),
        };
        let send = super::http_send::send(
            &target,
            request,
            options,
            network.max_response_bytes,
            self.ended.clone(),
            permit,
        );
        tokio::select! {
            r = send => match r {
                Ok(response) => {
                    let response = super::http_redact::redact_response(response, pairs);
                    Ok((response, Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>))
                }
                Err(super::http_send::SendError::Refused(message)) => {
                    self.warn(&message);
                    Err(Error::DestinationIpProhibited)
                }
                Err(super::http_send::SendError::Http(e)) => Err(e),
            },
            _ = self.ended.cancelled() => Err(Error::ConnectionTerminated),
            _ = self.run.stopped() => Err(Error::ConnectionTerminated),
        }
    }

    /// Puts the real values of the secrets bound to `target` in place of
    /// their placeholders; returns the request and the (placeholder,
    /// value) pairs, to redact the response with.
    async fn substitute(
        &self,
        network: &RunNetwork,
        target: &Target,
        request: http::Request<WasiBody>,
    ) -> wasmtime_wasi_http::Result<(http::Request<WasiBody>, Pairs)> {
        use wasmtime_wasi_http::Error;
        let names: Vec<String> = network
            .policy
            .secret_hosts
            .bound_to(target)
            .map(str::to_string)
            .collect();
        if names.is_empty() {
            return Ok((request, Vec::new()));
        }
        let mut pairs = Vec::new();
        for name in names {
            let Some(placeholder) = network.placeholder_of(&name) else {
                continue;
            };
            let value = match network.known_value(&name) {
                Some(v) => v,
                None => match self.run.recorder.read_secret(&name).await {
                    Ok(Some(v)) => {
                        network.remember(&name, &v);
                        self.run.add_redaction(&v);
                        v
                    }
                    Ok(None) => {
                        self.warn(&format!(
                            "secret '{name}' does not exist: its placeholder is sent unchanged to {target}"
                        ));
                        continue;
                    }
                    Err(e) => {
                        self.warn(&format!("secret '{name}' could not be read: {e}"));
                        return Err(Error::InternalError(Some(format!(
                            "secret '{name}' could not be read"
                        ))));
                    }
                },
            };
            pairs.push((placeholder.to_string(), value));
        }
        pairs.retain(|(_, value): &(String, String)| !value.is_empty());
        if pairs.is_empty() {
            return Ok((request, pairs));
        }
        let (mut parts, body) = request.into_parts();
        if let Some(pq) = parts.uri.path_and_query() {
            let mut text = pq.as_str().to_string();
            let mut changed = false;
            for (placeholder, value) in &pairs {
                if text.contains(placeholder.as_str()) {
                    text = text.replace(placeholder.as_str(), &percent_encode(value));
                    changed = true;
                }
            }
            if changed {
                let mut uri = parts.uri.clone().into_parts();
                uri.path_and_query = Some(text.parse().map_err(|_| Error::HttpRequestUriInvalid)?);
                parts.uri = http::Uri::from_parts(uri).map_err(|_| Error::HttpRequestUriInvalid)?;
            }
        }
        for value in parts.headers.values_mut() {
            let bytes = value.as_bytes();
            if pairs.iter().any(|(p, _)| contains(bytes, p.as_bytes())) {
                let replaced = replace_all(bytes, &pairs);
                *value = HeaderValue::from_bytes(&replaced).map_err(|_| {
                    Error::InternalError(Some(
                        "a secret's value is not valid in an HTTP header".into(),
                    ))
                })?;
            }
        }
        let collected = Limited::new(body, MAX_SUBSTITUTED_BODY)
            .collect()
            .await
            .map_err(|_| Error::HttpRequestBodySize(Some(MAX_SUBSTITUTED_BODY as u64)))?
            .to_bytes();
        let replaced = replace_all(&collected, &pairs);
        if parts.headers.contains_key(CONTENT_LENGTH) || replaced.len() != collected.len() {
            parts
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(replaced.len() as u64));
        }
        let body = Full::new(Bytes::from(replaced))
            .map_err(|never| match never {})
            .boxed_unsync();
        // The response is redacted of the values as sent: raw and
        // percent-encoded.
        let mut redact = pairs.clone();
        for (placeholder, value) in &pairs {
            let encoded = percent_encode(value);
            if encoded != *value {
                redact.push((placeholder.clone(), encoded));
            }
        }
        Ok((http::Request::from_parts(parts, body), redact))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// `bytes` with every placeholder replaced by its value.
fn replace_all(bytes: &[u8], pairs: &[(String, String)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for (placeholder, value) in pairs {
        let p = placeholder.as_bytes();
        if !contains(&out, p) {
            continue;
        }
        let mut next = Vec::with_capacity(out.len());
        let mut i = 0;
        while i < out.len() {
            if out[i..].starts_with(p) {
                next.extend_from_slice(value.as_bytes());
                i += p.len();
            } else {
                next.push(out[i]);
                i += 1;
            }
        }
        out = next;
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced_everywhere() {
        let pairs = vec![("PH".to_string(), "secret".to_string())];
        assert_eq!(
            replace_all(b"a PH b PHPH", &pairs),
            b"a secret b secretsecret"
        );
        assert_eq!(replace_all(b"nothing", &pairs), b"nothing");
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn placeholders_are_url_safe_and_unique() {
        let a = placeholder("API TOKEN");
        let b = placeholder("API TOKEN");
        assert_ne!(a, b);
        assert!(a.starts_with("weft-secret-API_TOKEN-"));
        assert_eq!(percent_encode(&a), a);
    }
}
