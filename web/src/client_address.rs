//! The address a request comes from: the connection's peer, or, when that peer is one of
//! `web.trusted_proxies`, the nearest address in `X-Forwarded-For` that is not a trusted
//! proxy. A client can put anything in the header; only what trusted proxies appended counts.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// Who is asking, for per-address rate limits.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // Each proxy appends the address it saw: read from the right, past our own proxies.
    let mut nearest = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // Garbage: nothing left of it can be believed.
            break;
        };
        nearest = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    nearest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().expect("header"));
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn only_trusted_proxies_are_believed() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        // Not from a proxy: the header is whatever the client wrote.
        assert_eq!(
            client_address(ip("203.0.113.9"), &forwarded("1.2.3.4"), &trusted),
            ip("203.0.113.9")
        );
        // From our proxy: the address it saw.
        assert_eq!(
            client_address(ip("10.0.0.2"), &forwarded("198.51.100.7"), &trusted),
            ip("198.51.100.7")
        );
        // A client's own forged entry sits left of what our proxies appended.
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                &forwarded("1.2.3.4, 198.51.100.7, 10.0.0.3"),
                &trusted
            ),
            ip("198.51.100.7")
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(
            client_address(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &forwarded("not-an-ip"), &trusted),
            ip("10.0.0.2")
        );
        // Nothing trusted: the peer, always.
        assert_eq!(
            client_address(ip("10.0.0.2"), &forwarded("198.51.100.7"), &[]),
            ip("10.0.0.2")
        );
    }
}
