//! The outbound HTTP client every call to the outside goes through, with the
//! SSRF guard: unless the installation allows private targets, only `https`
//! URLs are called, and never on an address that a special-purpose range
//! of the IANA registries keeps from being globally reachable (private,
//! loopback, link-local, unique-local, shared, documentation, …; see
//! the table `SPECIAL_RANGES`). The guard checks the
//! addresses a name resolves to, right before connecting, and connects only
//! to those, so a DNS name that resolves inward is refused as well.
//!
//! Calls made with [`Outbound::send`] also keep to their host's share
//! (`hosts`): a slow or dead host cannot hold back the calls to the others.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::ResponseBuilderExt as _;
use url::{Host, Url};

mod hosts;

pub use hosts::{
    Refusal, BREAKER_PAUSE, BREAKER_TIMEOUTS, BUSY_DELAY, BUSY_MAX_DELAY, BUSY_PATIENCE,
    HOST_IN_FLIGHT,
};

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
    /// The name does not resolve (no such name, or no address for it).
    #[error("the host {0} does not resolve")]
    Unresolvable(String),
}

/// How the SSRF guard treats the addresses of one special-purpose range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Callable: the registry's "Globally Reachable" is True.
    Global,
    /// Refused: "Globally Reachable" is False or N/A, or the range is not
    /// in the registries but is no unicast destination (see the table).
    Refused,
    /// A translation prefix holding an IPv4 address at bit `n` (from the
    /// left) of the IPv6 address: refused exactly when that IPv4 address is.
    EmbedsV4(u8),
}

/// The special-purpose ranges, IPv4 and IPv6 in one table. The most
/// specific range holding an address decides; an address in no range is
/// callable.
///
/// Source: the IANA IPv4 Special-Purpose Address Registry
/// (<https://www.iana.org/assignments/iana-ipv4-special-registry/>) and the
/// IANA IPv6 Special-Purpose Address Registry
/// (<https://www.iana.org/assignments/iana-ipv6-special-registry/>), every
/// row, with their "Globally Reachable" column: `False` is refused, `True`
/// is callable. Reasoned departures, each marked in its row:
/// - "N/A" rows (deprecated 6to4 relay anycast, Teredo, deprecated ORCHID)
///   are refused, except 6to4 `2002::/16`, which reaches the IPv4 network
///   it embeds and so is judged by that IPv4 address;
/// - the well-known NAT64 prefix `64:ff9b::/96` is globally reachable, but
///   its gateway connects to the embedded IPv4 address: judged by it;
/// - not in the registries, refused: IPv4 multicast `224.0.0.0/4` and IPv6
///   multicast `ff00::/8` (no unicast destination), IPv6 site-local
///   `fec0::/10` (deprecated, RFC 3879), IPv4-compatible `::/96`
///   (deprecated, RFC 4291) and IPv4-translated `::ffff:0:0:0/96`
///   (SIIT, RFC 2765): both carry an IPv4 address that some stacks reach.
const SPECIAL_RANGES: &[(&str, Reach, &str)] = &[
    // IPv4 Special-Purpose Address Registry
    ("0.0.0.0/8", Reach::Refused, "this network"),
    ("0.0.0.0/32", Reach::Refused, "this host on this network"),
    ("10.0.0.0/8", Reach::Refused, "private-use"),
    ("100.64.0.0/10", Reach::Refused, "shared address space"),
    ("127.0.0.0/8", Reach::Refused, "loopback"),
    ("169.254.0.0/16", Reach::Refused, "link local"),
    ("172.16.0.0/12", Reach::Refused, "private-use"),
    ("192.0.0.0/24", Reach::Refused, "IETF protocol assignments"),
    (
        "192.0.0.0/29",
        Reach::Refused,
        "IPv4 service continuity prefix",
    ),
    ("192.0.0.8/32", Reach::Refused, "IPv4 dummy address"),
    (
        "192.0.0.9/32",
        Reach::Global,
        "port control protocol anycast",
    ),
    ("192.0.0.10/32", Reach::Global, "TURN anycast"),
    ("192.0.0.170/32", Reach::Refused, "NAT64/DNS64 discovery"),
    ("192.0.0.171/32", Reach::Refused, "NAT64/DNS64 discovery"),
    ("192.0.2.0/24", Reach::Refused, "documentation (TEST-NET-1)"),
    ("192.31.196.0/24", Reach::Global, "AS112-v4"),
    ("192.52.193.0/24", Reach::Global, "AMT"),
    // N/A in the registry (deprecated by RFC 7526): refused.
    (
        "192.88.99.0/24",
        Reach::Refused,
        "deprecated 6to4 relay anycast",
    ),
    ("192.88.99.2/32", Reach::Global, "6a44-relay anycast"),
    ("192.168.0.0/16", Reach::Refused, "private-use"),
    (
        "192.175.48.0/24",
        Reach::Global,
        "direct delegation AS112 service",
    ),
    ("198.18.0.0/15", Reach::Refused, "benchmarking"),
    (
        "198.51.100.0/24",
        Reach::Refused,
        "documentation (TEST-NET-2)",
    ),
    (
        "203.0.113.0/24",
        Reach::Refused,
        "documentation (TEST-NET-3)",
    ),
    ("240.0.0.0/4", Reach::Refused, "reserved"),
    ("255.255.255.255/32", Reach::Refused, "limited broadcast"),
    // Not in the registry: multicast is no unicast destination.
    ("224.0.0.0/4", Reach::Refused, "multicast"),
    // IPv6 Special-Purpose Address Registry
    ("::1/128", Reach::Refused, "loopback"),
    ("::/128", Reach::Refused, "unspecified"),
    ("::ffff:0:0/96", Reach::Refused, "IPv4-mapped"),
    (
        "64:ff9b::/96",
        Reach::EmbedsV4(96),
        "IPv4-IPv6 translation (NAT64)",
    ),
    (
        "64:ff9b:1::/48",
        Reach::Refused,
        "IPv4-IPv6 translation, local use",
    ),
    ("100::/64", Reach::Refused, "discard-only"),
    ("100:0:0:1::/64", Reach::Refused, "dummy IPv6 prefix"),
    ("2001::/23", Reach::Refused, "IETF protocol assignments"),
    // N/A in the registry: the client's IPv4 address is hidden in it.
    ("2001::/32", Reach::Refused, "TEREDO"),
    (
        "2001:1::1/128",
        Reach::Global,
        "port control protocol anycast",
    ),
    ("2001:1::2/128", Reach::Global, "TURN anycast"),
    (
        "2001:1::3/128",
        Reach::Global,
        "DNS-SD service registration anycast",
    ),
    ("2001:2::/48", Reach::Refused, "benchmarking"),
    ("2001:3::/32", Reach::Global, "AMT"),
    ("2001:4:112::/48", Reach::Global, "AS112-v6"),
    // N/A in the registry (deprecated ORCHID): refused.
    (
        "2001:10::/28",
        Reach::Refused,
        "deprecated (previously ORCHID)",
    ),
    ("2001:20::/28", Reach::Global, "ORCHIDv2"),
    (
        "2001:30::/28",
        Reach::Global,
        "drone remote ID protocol entity tags",
    ),
    ("2001:db8::/32", Reach::Refused, "documentation"),
    // N/A in the registry: reaches the IPv4 network it embeds.
    ("2002::/16", Reach::EmbedsV4(16), "6to4"),
    (
        "2620:4f:8000::/48",
        Reach::Global,
        "direct delegation AS112 service",
    ),
    ("3fff::/20", Reach::Refused, "documentation"),
    ("5f00::/16", Reach::Refused, "segment routing (SRv6) SIDs"),
    ("fc00::/7", Reach::Refused, "unique-local"),
    ("fe80::/10", Reach::Refused, "link-local unicast"),
    // Not in the registry.
    ("::/96", Reach::Refused, "IPv4-compatible (deprecated)"),
    ("::ffff:0:0:0/96", Reach::Refused, "IPv4-translated (SIIT)"),
    ("fec0::/10", Reach::Refused, "site-local (deprecated)"),
    ("ff00::/8", Reach::Refused, "multicast"),
];

/// [`SPECIAL_RANGES`] parsed, longest prefixes first (so the first range
/// holding an address is the most specific one).
static RANGES: std::sync::LazyLock<Vec<(IpNet, Reach, &'static str)>> =
    std::sync::LazyLock::new(|| {
        let mut ranges: Vec<_> = SPECIAL_RANGES
            .iter()
            .map(|(net, reach, name)| {
                let net: IpNet = net.parse().expect("the special-purpose table parses");
                (net, *reach, *name)
            })
            .collect();
        ranges.sort_by_key(|(net, _, _)| std::cmp::Reverse(net.prefix_len()));
        ranges
    });

/// The special-purpose range that decides `ip` (its name, and whether it
/// is refused), or `None` for an ordinary, callable address.
pub fn special_range(ip: IpAddr) -> Option<(&'static str, bool)> {
    let (_, reach, name) = RANGES.iter().find(|(net, _, _)| net.contains(&ip))?;
    let refused = match (*reach, ip) {
        (Reach::Global, _) => false,
        (Reach::Refused, _) => true,
        (Reach::EmbedsV4(at), IpAddr::V6(v6)) => {
            let bits = (u128::from(v6) >> (96 - u32::from(at))) as u32;
            is_forbidden(IpAddr::V4(Ipv4Addr::from(bits)))
        }
        (Reach::EmbedsV4(_), IpAddr::V4(_)) => true,
    };
    Some((name, refused))
}

/// True for addresses an outbound call must never reach: those whose
/// deciding special-purpose range (see [`special_range`]) is refused.
pub fn is_forbidden(ip: IpAddr) -> bool {
    special_range(ip).is_some_and(|(_, refused)| refused)
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

/// The resolver of every outbound call: a name that resolves to nothing
/// fails as [`TargetError::Unresolvable`] (so the log says it does not
/// resolve, not that it could not connect); unless private targets are
/// allowed, forbidden addresses are dropped and a name left with none
/// fails as [`TargetError::Private`].
#[derive(Debug, Default)]
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let boxed = |e: TargetError| Box::new(e) as Box<dyn std::error::Error + Send + Sync>;
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| boxed(TargetError::Unresolvable(host.clone())))?
                .collect();
            if found.is_empty() {
                return Err(boxed(TargetError::Unresolvable(host)));
            }
            let addrs: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| allow_private || !is_forbidden(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(boxed(TargetError::Private(host)));
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
    hosts: hosts::Hosts,
    timeout: Duration,
}

/// What a call over its host's share ([`HOST_IN_FLIGHT`]) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverShare {
    /// Refused ([`Refusal::Busy`]) unless a slot frees within
    /// [`BUSY_PATIENCE`] of a host that keeps finishing calls (a hung
    /// host's calls are refused at once): the caller can put its work back
    /// in the queue and free its worker.
    Refuse,
    /// Waits for a slot, at most the client's timeout, then is refused:
    /// for work that cannot be put back (a run that made an outside call
    /// or a write already). It holds its worker while it waits.
    Wait,
}

/// Why [`Outbound::send`] brought no answer.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Not sent: the host is over its share or paused.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Sent (or tried), and it failed: see [`describe_send_error`].
    #[error("{}", describe_send_error(.0))]
    Failed(#[from] reqwest::Error),
}

impl SendError {
    /// Whether trying again later may succeed: not for a target the SSRF
    /// guard refused or a request that could not be built.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Refused(_) => true,
            Self::Failed(e) => !e.is_builder() && refused_target(e).is_none(),
        }
    }

    /// Whether the guard refused the target (a final failure).
    pub fn is_refused_target(&self) -> bool {
        matches!(self, Self::Failed(e) if refused_target(e).is_some())
    }
}

impl Outbound {
    /// The client: `timeout` for a whole call (connecting: at most 5 s of
    /// it), no redirects followed, Hooklane's `user-agent`. Unless
    /// `allow_private`, names resolving to forbidden addresses are refused.
    ///
    /// # Errors
    /// When the TLS backend cannot be set up.
    pub fn new(allow_private: bool, timeout: Duration) -> anyhow::Result<Self> {
        let builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT)
            .pool_idle_timeout(Duration::from_secs(60));
        let builder = builder.dns_resolver(Arc::new(GuardedResolver { allow_private }));
        Ok(Self {
            client: builder.build()?,
            allow_private,
            hosts: hosts::Hosts::default(),
            timeout,
        })
    }

    /// Sends `request` (made with [`Outbound::request`]) within its host's
    /// share (see the `hosts` rules: [`HOST_IN_FLIGHT`] calls at once, a
    /// call over it waiting as `over_share` says, a pause after
    /// [`BREAKER_TIMEOUTS`] timeouts in a row). The answer is whatever
    /// status the target gave. A failed answer's body is read here, its
    /// first [`ERROR_BODY_BYTES`] at most, while the call still holds its
    /// host's slot (a host that answers and then stalls the body holds the
    /// slot until the timeout, and its stall counts as a timeout); the
    /// answer handed back carries that start, so [`bounded_text`] reads it
    /// at once. A success's body is left unread.
    ///
    /// # Errors
    /// [`SendError::Refused`] when the call was not sent (its host is over
    /// its share, after the wait `over_share` allows, or paused);
    /// [`SendError::Failed`] when it could not be
    /// built, or sent and did not bring an answer (no connection, a
    /// timeout, a refused target).
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        over_share: OverShare,
    ) -> Result<reqwest::Response, SendError> {
        let request = request.build()?;
        let url = request.url();
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        );
        let patience = (over_share == OverShare::Wait).then_some(self.timeout);
        let pass = self.hosts.admit(&key, patience).await?;
        let response = match self.client.execute(request).await {
            Ok(response) => response,
            Err(e) => {
                if e.is_timeout() {
                    tracing::debug!(host = %key, "an outbound call timed out");
                    pass.timed_out();
                } else {
                    pass.failed();
                }
                return Err(e.into());
            }
        };
        if response.status().is_success() {
            pass.answered();
            return Ok(response);
        }
        let response = with_error_body_read(response).await;
        if response.extensions().get::<BodyStalled>().is_some() {
            tracing::debug!(host = %key, "an outbound call's answer stalled until the timeout");
            pass.timed_out();
        } else {
            pass.answered();
        }
        Ok(response)
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
/// a retry would be refused again. A name that does not resolve is not a
/// refusal (`None`): it is retried like a connection failure.
pub fn refused_target(e: &reqwest::Error) -> Option<&TargetError> {
    // A name that does not resolve may resolve later (DNS failures can be
    // transient): it is retried like a connection failure.
    target_error(e).filter(|t| !matches!(t, TargetError::Unresolvable(_)))
}

/// The guard's [`TargetError`] in `e`'s chain of sources, of any kind.
fn target_error(e: &reqwest::Error) -> Option<&TargetError> {
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
    if let Some(t) = target_error(e) {
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

/// `response` with the start of its body read (see [`read_start`]) and
/// kept in it; marked [`BodyStalled`] when the body stalled until the
/// call's timeout.
async fn with_error_body_read(mut response: reqwest::Response) -> reqwest::Response {
    let (bytes, stalled) = read_start(&mut response).await;
    let mut answer = http::Response::builder()
        .status(response.status())
        .version(response.version())
        .url(response.url().clone());
    if let Some(headers) = answer.headers_mut() {
        *headers = response.headers().clone();
    }
    match answer.body(bytes) {
        Ok(answer) => {
            let mut answer = reqwest::Response::from(answer);
            if stalled {
                answer.extensions_mut().insert(BodyStalled);
            }
            answer
        }
        // Cannot happen: every part comes from a valid answer.
        Err(_) => response,
    }
}

/// The start of `response`'s body: at most [`ERROR_BODY_BYTES`], what came
/// before a break or a stall; and whether it stalled until the call's
/// timeout.
async fn read_start(response: &mut reqwest::Response) -> (Vec<u8>, bool) {
    let mut bytes = Vec::new();
    let mut stalled = false;
    while bytes.len() < ERROR_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                stalled = e.is_timeout();
                break;
            }
        }
    }
    bytes.truncate(ERROR_BODY_BYTES);
    (bytes, stalled)
}

/// Marks an answer handed back by [`Outbound::send`] whose body stalled
/// until the call's timeout after its start.
#[derive(Debug, Clone, Copy)]
struct BodyStalled;

/// What [`bounded_text`] puts before the text of an answer whose body
/// stalled until the timeout (before, so a log row's cut keeps it).
pub const STALLED_NOTE: &str = "[the rest of this answer did not come within the timeout] ";

/// The start of an answer's body as text: at most [`ERROR_BODY_BYTES`]
/// bytes, invalid UTF-8 replaced; a body that breaks off is read as far as
/// it came (never an error). When it stalled until the call's timeout
/// (see [`Outbound::send`]), [`STALLED_NOTE`] comes before what came.
pub async fn bounded_text(mut response: reqwest::Response) -> String {
    let (bytes, _) = read_start(&mut response).await;
    let text = String::from_utf8_lossy(&bytes);
    if response.extensions().get::<BodyStalled>().is_some() {
        format!("{STALLED_NOTE}{text}")
    } else {
        text.into_owned()
    }
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

    /// Every row of the IANA special-purpose registries (and the ranges the
    /// table adds), by its first and last address, and the neighbours just
    /// outside: `true` when refused.
    const V4_ROWS: &[(&str, bool)] = &[
        ("0.0.0.0", true),
        ("0.255.255.255", true),
        ("10.0.0.0", true),
        ("10.255.255.255", true),
        ("100.64.0.0", true),
        ("100.127.255.255", true),
        ("127.0.0.1", true),
        ("127.255.255.255", true),
        ("169.254.0.0", true),
        ("169.254.169.254", true),
        ("172.16.0.0", true),
        ("172.31.255.255", true),
        ("192.0.0.0", true),
        ("192.0.0.7", true),
        ("192.0.0.8", true),
        ("192.0.0.9", false),
        ("192.0.0.10", false),
        ("192.0.0.11", true),
        ("192.0.0.170", true),
        ("192.0.0.171", true),
        ("192.0.0.255", true),
        ("192.0.2.0", true),
        ("192.0.2.255", true),
        ("192.31.196.1", false),
        ("192.52.193.1", false),
        ("192.88.99.1", true),
        ("192.88.99.2", false),
        ("192.88.99.255", true),
        ("192.168.0.0", true),
        ("192.168.255.255", true),
        ("192.175.48.1", false),
        ("198.18.0.0", true),
        ("198.19.255.255", true),
        ("198.51.100.0", true),
        ("198.51.100.255", true),
        ("203.0.113.0", true),
        ("203.0.113.255", true),
        ("224.0.0.1", true),
        ("239.255.255.255", true),
        ("240.0.0.0", true),
        ("255.255.255.254", true),
        ("255.255.255.255", true),
        // Neighbours: public.
        ("1.0.0.0", false),
        ("9.255.255.255", false),
        ("11.0.0.0", false),
        ("100.63.255.255", false),
        ("100.128.0.0", false),
        ("126.255.255.255", false),
        ("128.0.0.0", false),
        ("169.253.255.255", false),
        ("169.255.0.0", false),
        ("172.15.255.255", false),
        ("172.32.0.0", false),
        ("192.0.1.0", false),
        ("192.0.3.0", false),
        ("192.88.98.255", false),
        ("192.167.255.255", false),
        ("192.169.0.0", false),
        ("198.17.255.255", false),
        ("198.20.0.0", false),
        ("198.51.99.255", false),
        ("203.0.112.255", false),
        ("223.255.255.255", false),
        ("8.8.8.8", false),
        ("93.184.215.14", false),
    ];

    const V6_ROWS: &[(&str, bool)] = &[
        ("::1", true),
        ("::", true),
        ("::2", true),
        ("::ffff:0:0", true),
        ("::ffff:ffff:ffff", true),
        ("::ffff:0:7f00:1", true),
        ("::ffff:0:808:808", true),
        ("64:ff9b::808:808", false),
        ("64:ff9b::7f00:1", true),
        ("64:ff9b::a9fe:a9fe", true),
        ("64:ff9b:1::", true),
        ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", true),
        ("100::", true),
        ("100::ffff:ffff:ffff:ffff", true),
        ("100:0:0:1::", true),
        ("2001::", true),
        ("2001:0:ffff:ffff:ffff:ffff:ffff:ffff", true),
        ("2001:1::1", false),
        ("2001:1::2", false),
        ("2001:1::3", false),
        ("2001:1::4", true),
        ("2001:2::", true),
        ("2001:2:0:ffff::", true),
        ("2001:3::1", false),
        ("2001:4:112::1", false),
        ("2001:4:113::", true),
        ("2001:10::1", true),
        ("2001:20::1", false),
        ("2001:30::1", false),
        ("2001:1ff:ffff:ffff::", true),
        ("2001:db8::", true),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true),
        ("2002:808:808::", false),
        ("2002:7f00:1::", true),
        ("2002:a00:1::", true),
        ("2620:4f:8000::1", false),
        ("3fff::", true),
        ("3fff:fff:ffff::", true),
        ("5f00::1", true),
        ("fc00::", true),
        ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
        ("fe80::1", true),
        ("febf:ffff::", true),
        ("fec0::1", true),
        ("ff02::1", true),
        ("ff0e::1", true),
        // Neighbours: public.
        ("2001:200::", false),
        ("2001:4860:4860::8888", false),
        ("2001:db9::", false),
        ("2003::1", false),
        ("2606:4700::1111", false),
        ("2620:4f:8001::", false),
        ("3ffe:ffff::", false),
        ("4000::1", false),
        ("5f01::1", false),
        ("fbff::1", false),
    ];

    fn refused(host: &str) -> bool {
        match check_url(&format!("https://{host}/"), false) {
            Ok(_) => false,
            Err(TargetError::Private(_)) => true,
            Err(e) => panic!("{host}: {e}"),
        }
    }

    #[test]
    fn every_special_purpose_ipv4_row_is_judged_in_every_spelling() {
        for (dotted, want) in V4_ROWS {
            let ip: Ipv4Addr = dotted.parse().unwrap();
            let n = u32::from(ip);
            let [a, b, c, d] = ip.octets();
            let spellings = [
                dotted.to_string(),
                n.to_string(),
                format!("{n:#x}"),
                format!("0{n:o}"),
                format!("0{a:o}.0{b:o}.0{c:o}.0{d:o}"),
                format!("{a:#x}.{b:#x}.{c:#x}.{d:#x}"),
                format!("{a}.{}", n & 0x00ff_ffff),
            ];
            for host in &spellings {
                assert_eq!(refused(host), *want, "{dotted} spelled {host}");
            }
            assert_eq!(is_forbidden(IpAddr::V4(ip)), *want, "{dotted}");
            // Wrapped in IPv6: mapped, translated and compatible forms are
            // refused whatever they hold; NAT64 and 6to4 as what they hold.
            let [h, l] = [n >> 16, n & 0xffff];
            for host in [
                format!("[::ffff:{dotted}]"),
                format!("[::ffff:{h:x}:{l:x}]"),
                format!("[0:0:0:0:0:ffff:{dotted}]"),
                format!("[::ffff:0:{dotted}]"),
                format!("[0000:0000:0000:0000:ffff:0000:{h:04x}:{l:04x}]"),
                format!("[::{dotted}]"),
            ] {
                assert!(refused(&host), "{host}");
            }
            for host in [
                format!("[64:ff9b::{dotted}]"),
                format!("[64:ff9b::{h:x}:{l:x}]"),
                format!("[0064:ff9b:0000:0000:0000:0000:{h:04x}:{l:04x}]"),
                format!("[2002:{h:x}:{l:x}::]"),
                format!("[2002:{h:04x}:{l:04x}:0000:0000:0000:0000:0001]"),
            ] {
                assert_eq!(refused(&host), *want, "{dotted} wrapped as {host}");
            }
        }
    }

    #[test]
    fn every_special_purpose_ipv6_row_is_judged_compressed_and_expanded() {
        for (text, want) in V6_ROWS {
            let ip: std::net::Ipv6Addr = text.parse().unwrap();
            let expanded = ip
                .segments()
                .iter()
                .map(|s| format!("{s:04x}"))
                .collect::<Vec<_>>()
                .join(":");
            for host in [
                format!("[{ip}]"),
                format!("[{expanded}]"),
                format!("[{}]", expanded.to_uppercase()),
            ] {
                assert_eq!(refused(&host), *want, "{text} spelled {host}");
            }
            assert_eq!(is_forbidden(IpAddr::V6(ip)), *want, "{text}");
        }
    }

    #[test]
    fn the_table_names_the_range_that_refuses_an_address() {
        let name = |s: &str| special_range(s.parse().unwrap());
        assert_eq!(
            name("192.0.2.7"),
            Some(("documentation (TEST-NET-1)", true))
        );
        assert_eq!(
            name("::ffff:0:7f00:1"),
            Some(("IPv4-translated (SIIT)", true))
        );
        assert_eq!(
            name("192.0.0.9"),
            Some(("port control protocol anycast", false))
        );
        assert_eq!(name("8.8.8.8"), None);
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
    async fn a_name_that_does_not_resolve_is_told_apart_from_a_refused_connection() {
        // `.invalid` never resolves (RFC 6761); with private targets allowed
        // or not, the error says so instead of "could not connect".
        for allow_private in [true, false] {
            let client = Outbound::new(allow_private, Duration::from_secs(5)).unwrap();
            let e = client
                .request(reqwest::Method::POST, "https://no-such-host.invalid/x")
                .unwrap()
                .send()
                .await
                .unwrap_err();
            assert_eq!(
                describe_send_error(&e),
                "the host no-such-host.invalid does not resolve"
            );
            // DNS failures can be transient: not a refusal, so retried.
            assert!(refused_target(&e).is_none(), "{allow_private}");
        }
        let client = Outbound::new(true, Duration::from_secs(5)).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let e = client
            .request(reqwest::Method::POST, &format!("http://127.0.0.1:{port}/"))
            .unwrap()
            .send()
            .await
            .unwrap_err();
        assert_eq!(describe_send_error(&e), "could not connect");
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
        let resolver = GuardedResolver::default();
        let name: Name = "localhost".parse().unwrap();
        assert!(resolver.resolve(name).await.is_err());
    }
}
