//! The outbound HTTP client every call to the outside goes through, with the
//! SSRF guard: unless the installation allows private targets, only `https`
//! URLs are called, and never on a private, loopback, link-local,
//! unique-local, shared or unspecified address. The guard checks the
//! addresses a name resolves to, right before connecting, and connects only
//! to those, so a DNS name that resolves inward is refused as well.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// `user-agent` of every outbound call: `Hooklane-Webhook/<version>`.
pub const USER_AGENT: &str = concat!("Hooklane-Webhook/", env!("CARGO_PKG_VERSION"));

/// Why a target was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The URL does not parse.
    #[error("`{0}` is not a valid URL")]
    Invalid(String),
    /// Not `https` (plain `http` only with private targets allowed).
    #[error("only https URLs are allowed as targets (got {0})")]
    NotHttps(String),
    /// A private, loopback or link-local address (see [`is_forbidden`]).
    #[error("the target {0} is a private, loopback or link-local address, which is not allowed")]
    Private(String),
    /// The name resolves to nothing (or only to forbidden addresses).
    #[error("the host {0} could not be resolved")]
    Unresolvable(String),
}

/// True for addresses an outbound call must never reach.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_forbidden_v4(v4);
            }
            let seg = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (seg[0] & 0xffc0) == 0xfe80 // link local fe80::/10
                || (seg[0] & 0xffc0) == 0xfec0 // site local (deprecated)
                // IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96 and 6to4 2002::/16 wrap an IPv4 address
                || (seg[0..6] == [0, 0, 0, 0, 0, 0]
                    && is_forbidden_v4(Ipv4Addr::new(
                        (seg[6] >> 8) as u8,
                        seg[6] as u8,
                        (seg[7] >> 8) as u8,
                        seg[7] as u8,
                    )))
                || (seg[0..6] == [0x64, 0xff9b, 0, 0, 0, 0]
                    && is_forbidden_v4(Ipv4Addr::new(
                        (seg[6] >> 8) as u8,
                        seg[6] as u8,
                        (seg[7] >> 8) as u8,
                        seg[7] as u8,
                    )))
                || (seg[0] == 0x2002
                    && is_forbidden_v4(Ipv4Addr::new(
                        (seg[1] >> 8) as u8,
                        seg[1] as u8,
                        (seg[2] >> 8) as u8,
                        seg[2] as u8,
                    )))
        }
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, _, _] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

/// Checks a target URL without resolving it: the scheme, and the host when
/// it is an address literal (in any spelling the URL standard accepts, such
/// as `2130706433` or `0177.0.0.1`).
pub fn check_url(raw: &str, allow_private: bool) -> Result<Url, TargetError> {
    let url = Url::parse(raw).map_err(|_| TargetError::Invalid(raw.chars().take(200).collect()))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        other => return Err(TargetError::NotHttps(format!("{other}:"))),
    }
    let host = url
        .host()
        .ok_or_else(|| TargetError::Invalid(raw.chars().take(200).collect()))?;
    if !allow_private {
        let literal = match host {
            Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                if d == "localhost" || d.ends_with(".localhost") {
                    return Err(TargetError::Private(d));
                }
                None
            }
        };
        if let Some(ip) = literal.filter(|ip| is_forbidden(*ip)) {
            return Err(TargetError::Private(ip.to_string()));
        }
    }
    Ok(url)
}

/// Checks a target and, when it names a host, the addresses it resolves to now.
pub async fn check_target(raw: &str, allow_private: bool) -> Result<Url, TargetError> {
    let url = check_url(raw, allow_private)?;
    if allow_private {
        return Ok(url);
    }
    if let Some(Host::Domain(d)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((d, port))
            .await
            .map_err(|_| TargetError::Unresolvable(d.to_owned()))?
            .collect();
        if let Some(bad) = addrs.iter().find(|a| is_forbidden(a.ip())) {
            return Err(TargetError::Private(format!("{d} ({})", bad.ip())));
        }
    }
    Ok(url)
}

/// A resolver that drops forbidden addresses and fails when none is left.
#[derive(Debug, Default)]
struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !is_forbidden(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(Box::new(TargetError::Private(host))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The outbound client: one connection pool for the whole process.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow_private: bool,
}

impl Outbound {
    /// The client: `timeout` for a whole call (connecting: at most 5 s of
    /// it), no redirects followed, Hooklane's `user-agent`. Unless
    /// `allow_private`, names resolving to forbidden addresses are refused.
    ///
    /// # Errors
    /// When the TLS backend cannot be set up.
    pub fn new(allow_private: bool, timeout: Duration) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT)
            .pool_idle_timeout(Duration::from_secs(60));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(GuardedResolver));
        }
        Ok(Self {
            client: builder.build()?,
            allow_private,
        })
    }

    /// Whether private, loopback and plain-http targets are allowed (local
    /// development only).
    pub fn allow_private(&self) -> bool {
        self.allow_private
    }

    /// A request builder for a checked target.
    ///
    /// # Errors
    /// [`TargetError`] when the URL is malformed, not https (unless private
    /// targets are allowed) or an address literal that is forbidden.
    pub fn request(
        &self,
        method: reqwest::Method,
        raw_url: &str,
    ) -> Result<reqwest::RequestBuilder, TargetError> {
        let url = check_url(raw_url, self.allow_private)?;
        Ok(self.client.request(method, url))
    }
}

/// The guard's refusal inside a send error: the target's name resolved
/// only to forbidden addresses when the call was made. A refusal is final;
/// a retry would be refused again.
pub fn refused_target(e: &reqwest::Error) -> Option<&TargetError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(t) = s.downcast_ref::<TargetError>() {
            return Some(t);
        }
        source = s.source();
    }
    None
}

/// The text of a send error, with the guard's refusal named plainly.
pub fn describe_send_error(e: &reqwest::Error) -> String {
    if let Some(t) = refused_target(e) {
        return t.to_string();
    }
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        // Without the URL: it may carry a token in its path.
        e.without_url_ref().to_string()
    }
}

/// The most of a failed answer's body that is read: enough for an error
/// message or a rate limit's wait, never a whole large or endless body.
pub const ERROR_BODY_BYTES: usize = 4096;

/// The start of an answer's body as text: at most [`ERROR_BODY_BYTES`]
/// bytes, invalid UTF-8 replaced; a body that breaks off is read as far as
/// it came (never an error).
pub async fn bounded_text(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < ERROR_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(ERROR_BODY_BYTES);
    String::from_utf8_lossy(&bytes).into_owned()
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut text = self.to_string();
        if let Some(url) = self.url() {
            text = text.replace(url.as_str(), "<target>");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_refuses_inward_addresses_in_every_spelling() {
        let refused = [
            "https://127.0.0.1/x",
            "https://[::1]/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://172.31.255.255/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://0.0.0.0/",
            "https://[::]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://2130706433/",
            "https://0177.0.0.1/",
            "https://0x7f.1/",
            "https://127.1/",
            "https://100.64.0.1/",
            "https://localhost/",
            "https://api.localhost./",
            "https://[64:ff9b::7f00:1]/",
            "https://[2002:7f00:1::]/",
        ];
        for url in refused {
            assert!(
                matches!(check_url(url, false), Err(TargetError::Private(_))),
                "{url} must be refused"
            );
        }
    }

    #[test]
    fn the_guard_lets_public_https_targets_through() {
        for url in [
            "https://93.184.215.14/",
            "https://discord.com/api/webhooks/1/x",
            "https://[2606:4700::1111]/",
        ] {
            assert!(check_url(url, false).is_ok(), "{url}");
        }
    }

    #[test]
    fn plain_http_is_refused_unless_private_targets_are_allowed() {
        assert!(matches!(
            check_url("http://example.com/", false),
            Err(TargetError::NotHttps(_))
        ));
        assert!(check_url("http://127.0.0.1:9/", true).is_ok());
        assert!(matches!(
            check_url("ftp://example.com/", true),
            Err(TargetError::NotHttps(_))
        ));
        assert!(matches!(
            check_url("not a url", true),
            Err(TargetError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused() {
        assert!(matches!(
            check_target("https://localhost.:8443/", false).await,
            Err(TargetError::Private(_))
        ));
    }

    #[tokio::test]
    async fn the_guarded_client_will_not_connect_to_a_name_resolving_inward() {
        // `localhost` resolves to loopback: the resolver drops it, nothing connects.
        let resolver = GuardedResolver;
        let name: Name = "localhost".parse().unwrap();
        assert!(resolver.resolve(name).await.is_err());
    }
}
