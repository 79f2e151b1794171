//! The HTTP client of flows' outbound calls (interface calls, webhook bots), which connects
//! only to addresses [`crate::domain::address`] lets through.
//!
//! Three holes are closed together: a name is resolved here and only its permitted
//! addresses are handed to the connector (so the address checked is the address connected
//! to: a name rebound to an internal address between two calls is caught), an address
//! literal in the URL is checked before the request (the client does not resolve those),
//! and proxies from the environment are ignored (a proxy would connect on our behalf,
//! unchecked). A refused call fails like an unreachable host: the flow takes its failure
//! path.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::address::{self, AllowList, Refused};
use crate::stats::names;

/// Counts and logs a refused call: the operator sees what a flow tried to reach.
fn refused(host: &str, refusal: &Refused) {
    metrics::counter!(names::OUTBOUND_REFUSED.name).increment(1);
    tracing::warn!(host, ip = %refusal.ip, range = refusal.range.as_str(), "an outbound call was refused");
}

/// Resolves names and keeps only the addresses the allow list lets through.
struct CheckedResolver {
    allow: Arc<AllowList>,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut first_refusal = None;
            let permitted: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match address::check(Some(&host), a.ip(), &allow) {
                    Ok(()) => true,
                    Err(refusal) => {
                        first_refusal.get_or_insert(refusal);
                        false
                    }
                })
                .collect();
            if permitted.is_empty()
                && let Some(refusal) = first_refusal
            {
                refused(&host, &refusal);
                return Err(format!("{host}: {refusal}").into());
            }
            let addrs: Addrs = Box::new(permitted.into_iter());
            Ok(addrs)
        })
    }
}

/// The outbound client and the allow list it checks against.
#[derive(Clone)]
pub struct Outbound {
    http: reqwest::Client,
    allow: Arc<AllowList>,
}

impl Outbound {
    /// A client that reaches public addresses, and internal ones only as `allow` says.
    pub fn new(allow: AllowList) -> Outbound {
        let allow = Arc::new(allow);
        let http = reqwest::Client::builder()
            .user_agent(concat!("helpline/", env!("CARGO_PKG_VERSION")))
            // A redirect would turn the POST into a GET without its body, or carry the
            // session's data to a host nobody configured: it is an error like any non-2xx.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver {
                allow: allow.clone(),
            }))
            .build()
            .expect("a client without TLS options or proxies always builds");
        Outbound { http, allow }
    }

    /// The client, for a URL [`Outbound::check_url`] let through.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Checks a URL whose host is an address literal (names are checked as they resolve).
    pub fn check_url(&self, url: &str) -> Result<(), String> {
        let Ok(parsed) = url::Url::parse(url) else {
            // The client refuses it itself, as a failed call.
            return Ok(());
        };
        let ip = match parsed.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        address::check(None, ip, &self.allow).map_err(|refusal| {
            refused(&ip.to_string(), &refusal);
            format!("refused: {refusal}")
        })
    }
}
