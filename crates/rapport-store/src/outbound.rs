//! Outbound HTTP: the one way Rapport calls other servers (snapshot webhooks today; workflow
//! webhooks, connectors and the AI server later), guarded against server-side request forgery.
//!
//! A URL someone typed into Rapport must not make the server call itself, its database, the
//! cloud's metadata service or the company's intranet. So every address is checked where it
//! is used: a literal IP in the URL (which the URL parser has already normalised from `127.1`,
//! `0x7f000001`, `2130706433`, `[::ffff:127.0.0.1]`, …) before the request, and every address
//! a host name resolves to *at connect time*, in the client's DNS resolver, so the address
//! checked is the address connected to (no DNS rebinding between check and use). Allowed are
//! public unicast addresses only — not loopback, private (RFC 1918, unique local), link-local
//! (169.254.169.254 and other metadata services), shared (100.64/10, Alibaba's metadata),
//! multicast, documentation, benchmarking or otherwise reserved ranges — plus what the operator
//! allows with `RAPPORT_OUTBOUND_ALLOW` (addresses, networks or host names of intranet systems,
//! e.g. `erp.corp.local, 10.20.0.0/16`). The client ignores proxy environment variables (a
//! proxy would resolve names where the guard cannot see) and does not follow redirects.
//!
//! Refusals say only that the address is not allowed: they never tell whether a port is open.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Why an outbound call was refused before it was made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error(
        "the URL points to an address Rapport does not call (loopback, private, link-local or \
         reserved); an operator can allow intranet hosts with RAPPORT_OUTBOUND_ALLOW"
    )]
    NotAllowed,
    #[error("the URL must be http or https with a host")]
    BadUrl,
}

/// The resolver's refusal (seen by callers only as a failed connection).
#[derive(Debug, thiserror::Error)]
#[error("no allowed address")]
struct Blocked;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    Net(IpNet),
    Host(String),
}

/// The outbound policy: public addresses, plus the operator's allow-list.
#[derive(Debug, Clone, Default)]
pub struct Outbound {
    allow: Arc<Vec<Allowed>>,
    /// The node's long-lived client (see [`Outbound::shared_client`]).
    shared: Arc<std::sync::OnceLock<OutboundClient>>,
}

/// Ranges that are never called unless allowed.
fn blocked_v4() -> [Ipv4Net; 15] {
    let net = |a, b, c, d, len| Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len);
    [
        net(0, 0, 0, 0, 8),
        net(10, 0, 0, 0, 8),
        net(100, 64, 0, 0, 10),
        net(127, 0, 0, 0, 8),
        net(169, 254, 0, 0, 16),
        net(172, 16, 0, 0, 12),
        net(192, 0, 0, 0, 24),
        net(192, 0, 2, 0, 24),
        net(192, 88, 99, 0, 24),
        net(192, 168, 0, 0, 16),
        net(198, 18, 0, 0, 15),
        net(198, 51, 100, 0, 24),
        net(203, 0, 113, 0, 24),
        net(224, 0, 0, 0, 4),
        net(240, 0, 0, 0, 4),
    ]
}

/// Whether Rapport may call `ip` without the operator's say: a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !blocked_v4().iter().any(|net| net.contains(&v4)),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let net = |text: &str| text.parse::<Ipv6Net>().ok();
            // Global unicast only, and not documentation, 6to4, Teredo or other protocol
            // assignments (which embed IPv4 addresses that could be private).
            let global = net("2000::/3").is_some_and(|n| n.contains(&v6));
            let special = ["2001:db8::/32", "2002::/16", "2001::/23"]
                .iter()
                .filter_map(|t| net(t))
                .any(|n| n.contains(&v6));
            global && !special
        }
    }
}

impl Outbound {
    /// Public addresses only.
    pub fn strict() -> Self {
        Self::default()
    }

    /// Public addresses and those of `list`: comma-separated addresses, networks (CIDR) and
    /// host names, e.g. `erp.corp.local, 10.20.0.0/16, 192.168.1.5`.
    pub fn allowing(list: &str) -> Result<Self, String> {
        let mut allow = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            if let Ok(net) = item.parse::<IpNet>() {
                allow.push(Allowed::Net(net));
            } else if let Ok(ip) = item.parse::<IpAddr>() {
                allow.push(Allowed::Net(IpNet::from(ip)));
            } else if item
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                && item.chars().any(|c| c.is_ascii_alphabetic())
            {
                allow.push(Allowed::Host(
                    item.trim_end_matches('.').to_ascii_lowercase(),
                ));
            } else {
                return Err(format!(
                    "{item:?} is not an IP address, a network or a host name"
                ));
            }
        }
        Ok(Self {
            shared: Arc::default(),
            allow: Arc::new(allow),
        })
    }

    pub fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.allow
            .iter()
            .any(|a| matches!(a, Allowed::Host(h) if *h == host))
    }

    /// Whether an address may be called.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        is_public(ip)
            || self
                .allow
                .iter()
                .any(|a| matches!(a, Allowed::Net(net) if net.contains(&ip)))
    }

    /// Checks what can be checked before connecting: the scheme, and a literal address (or a
    /// `localhost` name) in the URL. Names are checked again, with the addresses they resolve
    /// to, when the client connects.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), OutboundError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OutboundError::BadUrl);
        }
        match url.host() {
            None => Err(OutboundError::BadUrl),
            Some(url::Host::Ipv4(v4)) if !self.allows(IpAddr::V4(v4)) => {
                Err(OutboundError::NotAllowed)
            }
            Some(url::Host::Ipv6(v6)) if !self.allows(IpAddr::V6(v6)) => {
                Err(OutboundError::NotAllowed)
            }
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                let local = name == "localhost" || name.ends_with(".localhost");
                if local && !self.host_allowed(&name) {
                    Err(OutboundError::NotAllowed)
                } else {
                    Ok(())
                }
            }
            Some(_) => Ok(()),
        }
    }

    /// An HTTP client that calls only allowed addresses, with a timeout per request; no
    /// proxies, no redirects.
    pub fn client(&self, timeout: Duration) -> Result<OutboundClient, reqwest::Error> {
        self.build(reqwest::Client::builder().timeout(timeout), timeout)
    }

    /// The node's one client for frequent calls (webhook deliveries): built once, so its
    /// connections are kept alive and reused. It sets no timeout of its own beyond
    /// [`SHARED_CONNECT_TIMEOUT`]: each request sets one (`RequestBuilder::timeout`).
    pub fn shared_client(&self) -> Result<&OutboundClient, reqwest::Error> {
        if let Some(client) = self.shared.get() {
            return Ok(client);
        }
        let client = self.build(reqwest::Client::builder(), SHARED_CONNECT_TIMEOUT)?;
        Ok(self.shared.get_or_init(|| client))
    }

    fn build(
        &self,
        builder: reqwest::ClientBuilder,
        connect_timeout: Duration,
    ) -> Result<OutboundClient, reqwest::Error> {
        // The policy without the shared client, which would otherwise hold itself.
        let policy = Outbound {
            allow: self.allow.clone(),
            shared: Arc::default(),
        };
        let client = builder
            .connect_timeout(connect_timeout)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(Guard {
                policy: policy.clone(),
            }))
            .user_agent(concat!("Rapport/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(OutboundClient { client, policy })
    }
}

/// The longest the shared client waits for a connection (a request's own timeout may cut it
/// shorter).
pub const SHARED_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Resolves names and keeps only the addresses the policy allows.
struct Guard {
    policy: Outbound,
}

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let by_name = policy.host_allowed(&host);
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| by_name || policy.allows(a.ip()))
                .collect();
            if found.is_empty() {
                tracing::info!("outbound call to {host} refused: no allowed address");
                return Err(Box::new(Blocked) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// A client of [`Outbound::client`]: every request's URL is checked before it is sent.
#[derive(Debug, Clone)]
pub struct OutboundClient {
    client: reqwest::Client,
    policy: Outbound,
}

impl OutboundClient {
    /// A request to `url`, or why it may not be made.
    pub fn request(
        &self,
        method: reqwest::Method,
        url: &reqwest::Url,
    ) -> Result<reqwest::RequestBuilder, OutboundError> {
        self.policy.check_url(url)?;
        Ok(self.client.request(method, url.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn url(text: &str) -> reqwest::Url {
        reqwest::Url::parse(text).unwrap()
    }

    #[test]
    fn private_and_reserved_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "127.255.0.1",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "64:ff9b::7f00:1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} is not public");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn literal_and_numeric_loopback_forms_are_refused() {
        let strict = Outbound::strict();
        for text in [
            "http://127.0.0.1:8080/api/v1/auth/logout",
            "http://127.1/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost:8080/",
            "http://LOCALHOST./",
            "http://api.localhost/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0/",
        ] {
            assert_eq!(
                strict.check_url(&url(text)),
                Err(OutboundError::NotAllowed),
                "{text}"
            );
        }
        assert_eq!(
            strict.check_url(&url("ftp://example.com/")),
            Err(OutboundError::BadUrl)
        );
        assert!(strict.check_url(&url("https://example.com/hook")).is_ok());
        assert!(strict.check_url(&url("http://8.8.8.8/")).is_ok());
    }

    #[test]
    fn the_operator_allows_intranet_hosts() {
        let policy =
            Outbound::allowing("10.20.0.0/16, 127.0.0.1, erp.corp.local, localhost").unwrap();
        assert!(policy.check_url(&url("http://10.20.3.4/x")).is_ok());
        assert!(policy.check_url(&url("http://127.0.0.1:9/x")).is_ok());
        assert!(policy.check_url(&url("http://localhost/")).is_ok());
        assert_eq!(
            policy.check_url(&url("http://10.21.0.1/")),
            Err(OutboundError::NotAllowed)
        );
        assert_eq!(
            policy.check_url(&url("http://127.0.0.2/")),
            Err(OutboundError::NotAllowed)
        );
        assert!(policy.host_allowed("ERP.corp.local."));
        assert!(Outbound::allowing("not a host!").is_err());
        assert!(Outbound::allowing("").unwrap().allow.is_empty());
    }

    #[tokio::test]
    async fn names_are_checked_at_connect_time() {
        // What the client's resolver does when it connects: a name that resolves to loopback
        // gives no address at all, unless the operator allowed that name.
        let strict = Guard {
            policy: Outbound::strict(),
        };
        assert!(strict
            .resolve(Name::from_str("localhost").unwrap())
            .await
            .is_err());
        let allowed = Guard {
            policy: Outbound::allowing("localhost").unwrap(),
        };
        let addrs: Vec<SocketAddr> = allowed
            .resolve(Name::from_str("localhost").unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
        // And through the client: nothing reaches a listener on loopback.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = Outbound::strict().client(Duration::from_secs(5)).unwrap();
        assert_eq!(
            client
                .request(
                    reqwest::Method::POST,
                    &url(&format!("http://127.0.0.1:{port}/"))
                )
                .err(),
            Some(OutboundError::NotAllowed)
        );
        assert!(
            listener.accept().is_err(),
            "a connection reached the listener"
        );
    }
}
