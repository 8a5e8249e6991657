//! A small blocking HTTP client over `wasi:http/outgoing-handler`.
//!
//! The host sends a request only to the hosts the run is allowed to call
//! (the deployment's or `weft run`'s `--allow-host`, and the operator's
//! list); any other fails with [`Error::Denied`] and a warning line in the
//! run's log. A secret bound to hosts (`--secret-host NAME=HOST`) reads as
//! a placeholder from [`crate::secrets::get`]: put the placeholder where
//! the value belongs (a header, the query, the body) and the host puts the
//! real value there, for requests to those hosts only.
//!
//! ```ignore
//! use weft_sdk::http;
//!
//! let user: serde_json::Value = http::get("https://api.example.com/user")?
//!     .error_for_status()?
//!     .json()?;
//! let token = weft_sdk::secrets::get("API_TOKEN")?; // a placeholder
//! let created = http::Request::post("https://api.example.com/items")
//!     .bearer_auth(&token)
//!     .json(&serde_json::json!({"name": "x"}))
//!     .send()?;
//! ```

use std::fmt;
use std::time::Duration;

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasip2::io::streams::StreamError;

/// Why a request did not produce a response (or a usable one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The host refused to send the request: its host is not allowed for
    /// this run.
    Denied {
        /// The refused URL.
        url: String,
    },
    /// The URL could not be used.
    InvalidUrl(String),
    /// A network or protocol error, as the host reported it.
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The response body exceeded the run's response size cap.
    TooLarge {
        /// The URL.
        url: String,
    },
    /// The server answered with an error status
    /// ([`Response::error_for_status`]).
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// The body is not the JSON expected, or a value could not be encoded.
    Json(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Denied { url } => write!(
                f,
                "HTTP request to {url} denied: its host is not allowed for this run (allow it with --allow-host on `weft run` or `weft deploy`; the run's log says which list refused it)"
            ),
            Error::InvalidUrl(m) => write!(f, "invalid URL: {m}"),
            Error::Http { url, message } => write!(f, "HTTP request to {url} failed: {message}"),
            Error::TooLarge { url } => write!(
                f,
                "HTTP response from {url} is larger than the run's response size cap"
            ),
            Error::Status { url, status, body } => {
                write!(f, "HTTP request to {url} returned status {status}")?;
                if !body.is_empty() {
                    write!(f, ": {body}")?;
                }
                Ok(())
            }
            Error::Json(m) => write!(f, "JSON error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for String {
    fn from(e: Error) -> String {
        e.to_string()
    }
}

/// `GET url`.
pub fn get(url: &str) -> Result<Response, Error> {
    Request::get(url).send()
}

/// `POST url` with `body` (sent as is; set a `content-type` with
/// [`Request::header`], or use [`Request::json`]).
pub fn post(url: &str, body: impl Into<Vec<u8>>) -> Result<Response, Error> {
    Request::post(url).body(body).send()
}

/// A request being built.
#[derive(Debug, Clone)]
pub struct Request {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    timeout: Option<Duration>,
}

impl Request {
    /// A request with `method` (`GET`, `POST`, ...) to `url`.
    pub fn new(method: &str, url: &str) -> Request {
        Request {
            method: method.to_ascii_uppercase(),
            url: url.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: None,
        }
    }
    /// A `GET` request.
    pub fn get(url: &str) -> Request {
        Request::new("GET", url)
    }
    /// A `POST` request.
    pub fn post(url: &str) -> Request {
        Request::new("POST", url)
    }
    /// A `PUT` request.
    pub fn put(url: &str) -> Request {
        Request::new("PUT", url)
    }
    /// A `DELETE` request.
    pub fn delete(url: &str) -> Request {
        Request::new("DELETE", url)
    }
    /// Adds a header (repeatable; `Host` is always the URL's authority).
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    /// Adds `Authorization: Bearer {token}`.
    pub fn bearer_auth(self, token: &str) -> Request {
        self.header("authorization", &format!("Bearer {token}"))
    }
    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }
    /// Sets a JSON body and `content-type: application/json`.
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Request {
        let body = serde_json::to_vec(value).unwrap_or_default();
        self.header("content-type", "application/json").body(body)
    }
    /// Gives up connecting, or waiting for the response's first byte,
    /// after `timeout` (the run's wall time applies in any case).
    pub fn timeout(mut self, timeout: Duration) -> Request {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the request and reads the whole response.
    pub fn send(self) -> Result<Response, Error> {
        let url = self.url.clone();
        let parts = parse_url(&url)?;
        let http_err = |message: String| Error::Http {
            url: url.clone(),
            message,
        };
        let headers = Fields::new();
        let has_length = self
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
        if !self.body.is_empty() && !has_length {
            headers
                .append("content-length", self.body.len().to_string().as_bytes())
                .map_err(|e| http_err(format!("header 'content-length' refused: {e:?}")))?;
        }
        for (name, value) in &self.headers {
            headers
                .append(name, value.as_bytes())
                .map_err(|e| http_err(format!("header '{name}' refused: {e:?}")))?;
        }
        let request = OutgoingRequest::new(headers);
        let method = match self.method.as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "PATCH" => Method::Patch,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_string()),
        };
        let invalid = |what: &str| Error::InvalidUrl(format!("{what} refused in {url}"));
        request.set_method(&method).map_err(|_| invalid("method"))?;
        request
            .set_scheme(Some(&parts.scheme))
            .map_err(|_| invalid("scheme"))?;
        request
            .set_authority(Some(&parts.authority))
            .map_err(|_| invalid("authority"))?;
        request
            .set_path_with_query(Some(&parts.path_with_query))
            .map_err(|_| invalid("path"))?;
        let body = request
            .body()
            .map_err(|_| http_err("no request body".into()))?;
        let options = self.timeout.map(|t| {
            let o = RequestOptions::new();
            let ns = u64::try_from(t.as_nanos()).unwrap_or(u64::MAX);
            let _ = o.set_connect_timeout(Some(ns));
            let _ = o.set_first_byte_timeout(Some(ns));
            o
        });
        let future =
            outgoing_handler::handle(request, options).map_err(|code| error_of(&url, code))?;
        write_body(&body, &self.body).map_err(&http_err)?;
        OutgoingBody::finish(body, None).map_err(|code| error_of(&url, code))?;
        let response = loop {
            match future.get() {
                Some(r) => break r,
                None => future.subscribe().block(),
            }
        };
        let response = response
            .map_err(|_| http_err("the response was already taken".into()))?
            .map_err(|code| error_of(&url, code))?;
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
            .collect();
        let incoming = response
            .consume()
            .map_err(|_| http_err("no response body".into()))?;
        let body = read_body(&incoming).map_err(|code| error_of(&url, code))?;
        drop(IncomingBody::finish(incoming));
        Ok(Response {
            url,
            status,
            headers,
            body,
        })
    }
}

fn write_body(body: &OutgoingBody, bytes: &[u8]) -> Result<(), String> {
    if bytes.is_empty() {
        return Ok(());
    }
    let stream = body.write().map_err(|_| "no body stream".to_string())?;
    for chunk in bytes.chunks(4096) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(|e| format!("writing the request body: {e:?}"))?;
    }
    Ok(())
}

fn read_body(body: &IncomingBody) -> Result<Vec<u8>, ErrorCode> {
    let stream = body
        .stream()
        .map_err(|_| ErrorCode::InternalError(Some("no body stream".into())))?;
    let mut out = Vec::new();
    loop {
        match stream.blocking_read(64 << 10) {
            Ok(chunk) => out.extend_from_slice(&chunk),
            Err(StreamError::Closed) => return Ok(out),
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(wasip2::http::types::http_error_code(&e)
                    .unwrap_or_else(|| ErrorCode::InternalError(Some(e.to_debug_string()))));
            }
        }
    }
}

fn error_of(url: &str, code: ErrorCode) -> Error {
    let url = url.to_string();
    match code {
        ErrorCode::HttpRequestDenied => Error::Denied { url },
        ErrorCode::HttpResponseBodySize(_) => Error::TooLarge { url },
        ErrorCode::DestinationIpProhibited => Error::Http {
            url,
            message: "the host resolves to an address this run may not reach (see the run's log)"
                .into(),
        },
        other => Error::Http {
            url,
            message: format!("{other:?}"),
        },
    }
}

struct UrlParts {
    scheme: Scheme,
    authority: String,
    path_with_query: String,
}

/// Splits `http[s]://authority[/path][?query][#fragment]`.
fn parse_url(url: &str) -> Result<UrlParts, Error> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| Error::InvalidUrl(format!("{url} has no http:// or https:// scheme")))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => {
            return Err(Error::InvalidUrl(format!(
                "unsupported scheme '{other}' in {url}"
            )));
        }
    };
    let rest = rest.split('#').next().unwrap_or("");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() {
        return Err(Error::InvalidUrl(format!("{url} has no host")));
    }
    let mut path_with_query = rest[end..].to_string();
    if !path_with_query.starts_with('/') {
        path_with_query.insert(0, '/');
    }
    Ok(UrlParts {
        scheme,
        authority: authority.to_string(),
        path_with_query,
    })
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Response {
    url: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The first value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Every header, in order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }
    /// The body's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The body parsed as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::Json(format!(
                "the response from {} is not the JSON expected: {e}",
                self.url
            ))
        })
    }
    /// The response itself when its status is 2xx, else [`Error::Status`]
    /// (so a task can fail, and be retried, on a server error).
    pub fn error_for_status(self) -> Result<Response, Error> {
        if self.is_success() {
            return Ok(self);
        }
        let mut body = self.text();
        if body.len() > 200 {
            let mut cut = 200;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
            body.push_str("...");
        }
        Err(Error::Status {
            url: self.url,
            status: self.status,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split() {
        let p = parse_url("https://api.example.com:8443/a/b?x=1#frag").unwrap();
        assert!(matches!(p.scheme, Scheme::Https));
        assert_eq!(p.authority, "api.example.com:8443");
        assert_eq!(p.path_with_query, "/a/b?x=1");
        let p = parse_url("http://127.0.0.1:9?q").unwrap();
        assert_eq!(p.path_with_query, "/?q");
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("example.com").is_err());
        assert!(parse_url("https:///path").is_err());
    }
}
