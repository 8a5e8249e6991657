//! Outbound network policy: which hosts a flow run may call over HTTP, and
//! which secrets the host substitutes into requests to which hosts.
//!
//! An allowlist entry follows Spin's `allowed_outbound_hosts`, with the
//! scheme optional:
//!
//! | entry | allows |
//! |---|---|
//! | `api.example.com` | `https://api.example.com` on port 443 (no scheme means https) |
//! | `api.example.com:8443` | https on port 8443 |
//! | `http://api.example.com` | http on port 80 |
//! | `*://api.example.com` | http on 80 and https on 443 |
//! | `https://api.example.com:*` | https on any port |
//! | `*.example.com` | https on 443 to any subdomain, at any depth (not `example.com` itself) |
//! | `http://127.0.0.1:*` | http to that address, any port |
//! | `[::1]:8080`, `http://[::1]:*` | IPv6 literals, in brackets |
//! | `*`, `*://*:*` | https on 443 to any host; anything |
//!
//! Host names match case-insensitively, with a trailing dot ignored. An
//! entry never has a path, a query or user info. A port absent from an
//! entry means the default port of each scheme it allows (80 for http,
//! 443 for https). An empty list allows nothing.
//!
//! A request is judged by the scheme and authority of its URL (never by a
//! `Host` header, which the host overwrites). Names that resolve to a
//! loopback, private, link-local or otherwise non-public address are
//! refused unless the request names that address literally (an allowed
//! `http://127.0.0.1:*`) or the name is `localhost`: an allowed public
//! name cannot be pointed at the host's own services.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// The default cap on one HTTP response body: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 << 20;

/// What a run (a deployment, or `weft run`) is granted on the network, as
/// stored in [`crate::RunLimits::network`]: serialized as
/// `"network": {"allowed_hosts": [...], "secret_hosts": {"NAME": [...]}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkGrant {
    /// Allowlist entries (see the module documentation); empty: no
    /// outbound HTTP.
    pub allowed_hosts: Vec<String>,
    /// Secrets the guest reads as placeholders, each with the allowlist
    /// entries of the hosts its real value may be sent to.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secret_hosts: BTreeMap<String, Vec<String>>,
    /// The largest HTTP response body a guest may read, in bytes.
    pub max_response_bytes: u64,
}

impl Default for NetworkGrant {
    fn default() -> Self {
        NetworkGrant {
            allowed_hosts: Vec::new(),
            secret_hosts: BTreeMap::new(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

impl NetworkGrant {
    /// Whether it grants nothing and keeps the default cap.
    pub fn is_empty(&self) -> bool {
        *self == NetworkGrant::default()
    }

    /// Checks every entry parses.
    pub fn validate(&self) -> Result<(), NetworkError> {
        AllowedHosts::parse(&self.allowed_hosts)?;
        SecretHosts::parse(&self.secret_hosts)?;
        Ok(())
    }
}

/// Why an allowlist entry or a request's target was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// An allowlist entry does not parse.
    #[error("invalid allowed host '{entry}': {reason}")]
    InvalidEntry {
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A request's URL cannot be judged.
    #[error("invalid request target '{target}': {reason}")]
    InvalidTarget {
        /// The scheme and authority as given.
        target: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The scheme of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// The scheme's default port.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Where a request goes: scheme, host (lowercase, without brackets or a
/// trailing dot) and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// The scheme.
    pub scheme: Scheme,
    /// The host name or IP literal.
    pub host: String,
    /// The port (the scheme's default when the URL has none).
    pub port: u16,
}

impl Target {
    /// The target of a request with `scheme` (`http` or `https`) and
    /// `authority` (`host[:port]`, IPv6 in brackets; user info refused).
    pub fn parse(scheme: &str, authority: &str) -> Result<Target, NetworkError> {
        let err = |reason: &str| NetworkError::InvalidTarget {
            target: format!("{scheme}://{authority}"),
            reason: reason.to_string(),
        };
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return Err(err("only http and https are supported")),
        };
        if authority.contains('@') {
            return Err(err("user info in the URL is not allowed"));
        }
        let (host, port) = split_host_port(authority).map_err(|r| err(&r))?;
        let port = match port {
            None => scheme.default_port(),
            Some(p) => p.parse::<u16>().map_err(|_| err("invalid port"))?,
        };
        let host = normalize_host(host).map_err(|r| err(&r))?;
        Ok(Target { scheme, host, port })
    }

    /// The host as an IP address, when it is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// `host:port`, IPv6 in brackets (what to connect to).
    pub fn authority(&self) -> String {
        match self.ip() {
            Some(IpAddr::V6(ip)) => format!("[{ip}]:{}", self.port),
            _ => format!("{}:{}", self.host, self.port),
        }
    }

    /// The allowlist entry that allows exactly this target (for messages).
    pub fn suggested_entry(&self) -> String {
        let host = match self.ip() {
            Some(IpAddr::V6(ip)) => format!("[{ip}]"),
            _ => self.host.clone(),
        };
        match (self.scheme, self.port == self.scheme.default_port()) {
            (Scheme::Https, true) => host,
            (Scheme::Https, false) => format!("{host}:{}", self.port),
            (Scheme::Http, true) => format!("http://{host}"),
            (Scheme::Http, false) => format!("http://{host}:{}", self.port),
        }
    }

    /// Whether the connection may go to `addr`, one of the addresses the
    /// target's host resolved to: a non-public address only when the
    /// target names it literally, or the host is `localhost`.
    pub fn may_connect_to(&self, addr: IpAddr) -> bool {
        self.ip().is_some() || self.host == "localhost" || !is_non_public(addr)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.authority())
    }
}

/// Splits `host[:port]` (IPv6 in brackets) into its host and port texts.
fn split_host_port(s: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "unclosed '[' in an IPv6 address".to_string())?;
        if host.parse::<Ipv6Addr>().is_err() {
            return Err("not an IPv6 address in brackets".into());
        }
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err("unexpected text after ']'".into()),
            },
        };
    }
    match s.matches(':').count() {
        0 => Ok((s, None)),
        1 => {
            let (h, p) = s.split_once(':').unwrap_or((s, ""));
            Ok((h, Some(p)))
        }
        _ => Err("an IPv6 address must be in brackets, e.g. [::1]:8080".into()),
    }
}

/// Lowercases a host name, drops a trailing dot, and checks its characters.
fn normalize_host(host: &str) -> Result<String, String> {
    if host.parse::<IpAddr>().is_ok() {
        return Ok(host
            .parse::<IpAddr>()
            .map(|ip| ip.to_string())
            .unwrap_or_default());
    }
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if host.is_empty() {
        return Err("empty host".into());
    }
    if host.len() > 253 {
        return Err("host name too long".into());
    }
    for label in host.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err("empty or too long label in the host name".into());
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!("invalid character in host name '{host}'"));
        }
    }
    Ok(host)
}

/// Whether `addr` is not a public unicast address: loopback, private
/// (RFC 1918, unique local), link-local (cloud metadata included),
/// carrier-grade NAT, unspecified, multicast, broadcast, documentation or
/// an IPv4-mapped form of one of them.
pub fn is_non_public(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(ip) => is_non_public_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_non_public_v4(v4);
            }
            let seg0 = ip.segments()[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || (seg0 & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (seg0 & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (seg0 == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
                || (seg0 == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64
        }
    }
}

fn is_non_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // carrier-grade NAT 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18/15
        || o[0] >= 240 // reserved
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SchemeMatch {
    One(Scheme),
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostMatch {
    Any,
    Exact(String),
    /// `*.example.com`, stored as `.example.com`.
    Subdomains(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortMatch {
    Default,
    Any,
    Exact(u16),
}

/// One parsed allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    text: String,
    scheme: SchemeMatch,
    host: HostMatch,
    port: PortMatch,
}

impl HostPattern {
    /// Parses one entry (see the module documentation for the rules).
    pub fn parse(entry: &str) -> Result<HostPattern, NetworkError> {
        let text = entry.trim();
        let err = |reason: &str| NetworkError::InvalidEntry {
            entry: entry.to_string(),
            reason: reason.to_string(),
        };
        if text.is_empty() {
            return Err(err("empty entry"));
        }
        let (scheme, rest) = match text.split_once("://") {
            Some((s, rest)) => {
                let scheme = match s.to_ascii_lowercase().as_str() {
                    "http" => SchemeMatch::One(Scheme::Http),
                    "https" => SchemeMatch::One(Scheme::Https),
                    "*" => SchemeMatch::Any,
                    _ => return Err(err("the scheme must be http, https or *")),
                };
                (scheme, rest)
            }
            None => (SchemeMatch::One(Scheme::Https), text),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) {
            return Err(err("an entry names a host and port only, no path or query"));
        }
        if rest.contains('@') {
            return Err(err("an entry may not have user info"));
        }
        let (host, port) = split_host_port(rest).map_err(|r| err(&r))?;
        let port = match port {
            None => PortMatch::Default,
            Some("*") => PortMatch::Any,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => PortMatch::Exact(n),
                _ => return Err(err("the port must be a number from 1 to 65535, or *")),
            },
        };
        let host = if host == "*" {
            HostMatch::Any
        } else if let Some(suffix) = host.strip_prefix("*.") {
            if suffix.contains('*') || suffix.parse::<IpAddr>().is_ok() {
                return Err(err("'*.' must be followed by a host name"));
            }
            HostMatch::Subdomains(format!(".{}", normalize_host(suffix).map_err(|r| err(&r))?))
        } else if host.contains('*') {
            return Err(err(
                "a wildcard is allowed only as the whole host (*) or its first label (*.example.com)",
            ));
        } else {
            HostMatch::Exact(normalize_host(host).map_err(|r| err(&r))?)
        };
        Ok(HostPattern {
            text: text.to_string(),
            scheme,
            host,
            port,
        })
    }

    /// Whether the entry allows `target`.
    pub fn allows(&self, target: &Target) -> bool {
        let scheme_ok = match &self.scheme {
            SchemeMatch::Any => true,
            SchemeMatch::One(s) => *s == target.scheme,
        };
        let port_ok = match &self.port {
            PortMatch::Any => true,
            PortMatch::Default => target.port == target.scheme.default_port(),
            PortMatch::Exact(p) => *p == target.port,
        };
        let host_ok = match &self.host {
            HostMatch::Any => true,
            HostMatch::Exact(h) => *h == target.host,
            HostMatch::Subdomains(suffix) => target.host.ends_with(suffix.as_str()),
        };
        scheme_ok && port_ok && host_ok
    }

    /// The entry as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// A parsed allowlist: a request is allowed when any entry allows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    patterns: Vec<HostPattern>,
}

impl AllowedHosts {
    /// Parses every entry; the first invalid one is the error. Entries may
    /// also be given comma-separated in one string.
    pub fn parse<I, S>(entries: I) -> Result<AllowedHosts, NetworkError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut patterns = Vec::new();
        for entry in entries {
            for part in entry.as_ref().split(',') {
                if part.trim().is_empty() {
                    continue;
                }
                patterns.push(HostPattern::parse(part)?);
            }
        }
        Ok(AllowedHosts { patterns })
    }

    /// Whether the list has no entry (and so allows nothing).
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether some entry allows `target`.
    pub fn allows(&self, target: &Target) -> bool {
        self.patterns.iter().any(|p| p.allows(target))
    }

    /// The entries as written.
    pub fn entries(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(HostPattern::as_str)
    }
}

/// Which list refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeniedBy {
    /// The run's own list (the deployment's, or `weft run --allow-host`).
    Run,
    /// The operator's server-wide list (`WEFT_ALLOWED_HOSTS`).
    Operator,
}

/// A refused request, with a message for the run's log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct Denied {
    /// The refused target.
    pub target: Target,
    /// Which list refused it.
    pub by: DeniedBy,
}

impl Denied {
    /// A message saying what was refused, by which list, and how to allow it.
    pub fn message(&self) -> String {
        match self.by {
            DeniedBy::Run => format!(
                "outbound HTTP request to {} denied: the host is not in this run's allowed hosts (allow it with --allow-host {})",
                self.target,
                self.target.suggested_entry()
            ),
            DeniedBy::Operator => format!(
                "outbound HTTP request to {} denied by the operator's allowlist (--allow-host on the worker or the server, or WEFT_ALLOWED_HOSTS)",
                self.target
            ),
        }
    }
}

/// Secrets bound to hosts: the guest reads a placeholder, and the host puts
/// the real value only into requests to the hosts the secret is bound to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretHosts {
    bindings: BTreeMap<String, AllowedHosts>,
}

impl SecretHosts {
    /// Parses bindings from secret name to allowlist entries.
    pub fn parse(map: &BTreeMap<String, Vec<String>>) -> Result<SecretHosts, NetworkError> {
        let mut bindings = BTreeMap::new();
        for (name, hosts) in map {
            bindings.insert(name.clone(), AllowedHosts::parse(hosts)?);
        }
        Ok(SecretHosts { bindings })
    }

    /// Whether `name` is bound to hosts (and so read as a placeholder).
    pub fn is_bound(&self, name: &str) -> bool {
        self.bindings.contains_key(name)
    }

    /// The bound secrets' names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.bindings.keys().map(String::as_str)
    }

    /// The names of the secrets whose real value may go to `target`.
    pub fn bound_to<'a>(&'a self, target: &'a Target) -> impl Iterator<Item = &'a str> + 'a {
        self.bindings
            .iter()
            .filter(move |(_, hosts)| hosts.allows(target))
            .map(|(name, _)| name.as_str())
    }
}

/// Parses `NAME=HOST` (as `--secret-host` takes it) into a binding.
pub fn parse_secret_host(s: &str) -> Result<(String, String), NetworkError> {
    match s.split_once('=') {
        Some((name, host)) if !name.trim().is_empty() && !host.trim().is_empty() => {
            HostPattern::parse(host)?;
            Ok((name.trim().to_string(), host.trim().to_string()))
        }
        _ => Err(NetworkError::InvalidEntry {
            entry: s.to_string(),
            reason: "expected NAME=HOST, e.g. API_TOKEN=api.example.com".into(),
        }),
    }
}

/// The outbound network policy of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkPolicy {
    /// The run's own allowlist (empty: no outbound HTTP).
    pub allowed: AllowedHosts,
    /// The operators' lists (a worker's, the server's); a request must pass
    /// each of them too.
    pub operators: Vec<AllowedHosts>,
    /// Secrets substituted for their placeholders, per host.
    pub secret_hosts: SecretHosts,
}

impl NetworkPolicy {
    /// Judges a request to `target`: allowed only when the run's list and
    /// every operator list allow it.
    pub fn check(&self, target: &Target) -> Result<(), Denied> {
        if !self.allowed.allows(target) {
            return Err(Denied {
                target: target.clone(),
                by: DeniedBy::Run,
            });
        }
        if self.operators.iter().any(|op| !op.allows(target)) {
            return Err(Denied {
                target: target.clone(),
                by: DeniedBy::Operator,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(url: &str) -> Target {
        let (scheme, authority) = url.split_once("://").unwrap();
        Target::parse(scheme, authority).unwrap()
    }

    fn allows(entry: &str, url: &str) -> bool {
        HostPattern::parse(entry).unwrap().allows(&t(url))
    }

    #[test]
    fn bare_host_means_https_default_port() {
        assert!(allows("api.example.com", "https://api.example.com"));
        assert!(allows("api.example.com", "https://api.example.com:443"));
        assert!(allows("API.Example.com.", "https://api.example.COM"));
        assert!(!allows("api.example.com", "http://api.example.com"));
        assert!(!allows("api.example.com", "https://api.example.com:8443"));
        assert!(!allows("api.example.com", "https://other.example.com"));
        assert!(!allows(
            "api.example.com",
            "https://api.example.com.evil.org"
        ));
    }

    #[test]
    fn ports_and_schemes() {
        assert!(allows(
            "api.example.com:8443",
            "https://api.example.com:8443"
        ));
        assert!(!allows("api.example.com:8443", "https://api.example.com"));
        assert!(allows(
            "http://api.example.com",
            "http://api.example.com:80"
        ));
        assert!(!allows("http://api.example.com", "https://api.example.com"));
        assert!(allows("*://api.example.com", "http://api.example.com"));
        assert!(allows("*://api.example.com", "https://api.example.com"));
        assert!(!allows("*://api.example.com", "https://api.example.com:80"));
        assert!(allows(
            "https://api.example.com:*",
            "https://api.example.com:1"
        ));
        assert!(allows("http://127.0.0.1:*", "http://127.0.0.1:39999"));
        assert!(!allows("http://127.0.0.1:*", "https://127.0.0.1:39999"));
        assert!(!allows("http://127.0.0.1:*", "http://127.0.0.2:39999"));
    }

    #[test]
    fn wildcards() {
        assert!(allows("*.example.com", "https://api.example.com"));
        assert!(allows("*.example.com", "https://a.b.example.com"));
        assert!(!allows("*.example.com", "https://example.com"));
        assert!(!allows("*.example.com", "https://badexample.com"));
        assert!(allows("*", "https://anything.org"));
        assert!(!allows("*", "http://anything.org"));
        assert!(allows("*://*:*", "http://10.0.0.1:1234"));
    }

    #[test]
    fn ipv6() {
        assert!(allows("[::1]:8080", "https://[::1]:8080"));
        assert!(allows("http://[::1]:*", "http://[0:0::1]:5"));
        assert!(HostPattern::parse("::1").is_err());
        assert_eq!(t("http://[::1]:8080").authority(), "[::1]:8080");
    }

    #[test]
    fn invalid_entries() {
        for bad in [
            "",
            "ftp://example.com",
            "example.com/path",
            "example.com?q",
            "user@example.com",
            "example.com:0",
            "example.com:99999",
            "example.com:abc",
            "api.*.com",
            "*example.com",
            "*.*.com",
            "exa mple.com",
            "[::1",
        ] {
            assert!(HostPattern::parse(bad).is_err(), "{bad} should be refused");
        }
        assert!(HostPattern::parse("https://example.com/").is_ok());
    }

    #[test]
    fn targets() {
        assert!(Target::parse("ftp", "example.com").is_err());
        assert!(Target::parse("https", "user@example.com").is_err());
        assert!(Target::parse("https", "example.com:http").is_err());
        assert!(Target::parse("https", "").is_err());
        let target = t("HTTPS://Api.Example.com.:8443");
        assert_eq!(target.host, "api.example.com");
        assert_eq!(target.port, 8443);
        assert_eq!(target.suggested_entry(), "api.example.com:8443");
        assert_eq!(t("http://127.0.0.1").suggested_entry(), "http://127.0.0.1");
        assert_eq!(t("https://x.org").to_string(), "https://x.org:443");
    }

    #[test]
    fn lists_and_operator() {
        let list =
            AllowedHosts::parse(["a.example.com, http://127.0.0.1:*", "b.example.com"]).unwrap();
        assert_eq!(list.entries().count(), 3);
        assert!(list.allows(&t("https://b.example.com")));
        assert!(AllowedHosts::default().is_empty());
        assert!(!AllowedHosts::default().allows(&t("https://a.example.com")));

        let mut policy = NetworkPolicy {
            allowed: list,
            ..Default::default()
        };
        assert!(policy.check(&t("https://a.example.com")).is_ok());
        let denied = policy.check(&t("https://evil.org")).unwrap_err();
        assert_eq!(denied.by, DeniedBy::Run);
        assert!(
            denied.message().contains("--allow-host evil.org"),
            "{}",
            denied.message()
        );
        policy.operators = vec![AllowedHosts::parse(["*.example.com"]).unwrap()];
        assert!(policy.check(&t("https://a.example.com")).is_ok());
        let denied = policy.check(&t("http://127.0.0.1:9")).unwrap_err();
        assert_eq!(denied.by, DeniedBy::Operator);
    }

    #[test]
    fn non_public_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_non_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_non_public(ip.parse().unwrap()), "{ip}");
        }
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(t("http://127.0.0.1:8080").may_connect_to(loopback));
        assert!(t("http://localhost:8080").may_connect_to(loopback));
        assert!(!t("https://api.example.com").may_connect_to(loopback));
        assert!(t("https://api.example.com").may_connect_to("1.1.1.1".parse().unwrap()));
    }

    #[test]
    fn secret_bindings() {
        let mut map = BTreeMap::new();
        map.insert(
            "TOKEN".to_string(),
            vec!["http://127.0.0.1:8080".to_string()],
        );
        let s = SecretHosts::parse(&map).unwrap();
        assert!(s.is_bound("TOKEN"));
        assert!(!s.is_bound("OTHER"));
        assert_eq!(
            s.bound_to(&t("http://127.0.0.1:8080")).collect::<Vec<_>>(),
            ["TOKEN"]
        );
        assert_eq!(s.bound_to(&t("http://127.0.0.1:8081")).count(), 0);
        assert_eq!(
            parse_secret_host("TOKEN=api.example.com").unwrap(),
            ("TOKEN".to_string(), "api.example.com".to_string())
        );
        assert!(parse_secret_host("TOKEN").is_err());
        assert!(parse_secret_host("TOKEN=a/b").is_err());
    }
}
