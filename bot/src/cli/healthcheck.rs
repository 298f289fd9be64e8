//! `relaydesk healthcheck`: asks the running server's `/readyz` (at the configured `listen`
//! address, or `--url`) and exits 0 when it answers 200, 1 otherwise — for a container's
//! `HEALTHCHECK` or a supervisor, with no curl in the image.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// Why the server is not healthy.
#[derive(Debug, thiserror::Error)]
pub enum Unhealthy {
    #[error("{url}: no answer ({reason})")]
    NoAnswer { url: String, reason: String },
    #[error("{url}: {status} {body}")]
    NotReady {
        url: String,
        status: u16,
        body: String,
    },
}

/// The `/readyz` URL of a server listening on `listen` (a wildcard address is asked on
/// loopback).
pub fn readyz_url(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/readyz", SocketAddr::new(ip, listen.port()))
}

/// Asks `url`; `Ok` with the answer's body when it is 200.
pub async fn check(url: &str, timeout: Duration) -> Result<String, Unhealthy> {
    let no_answer = |e: reqwest::Error| Unhealthy::NoAnswer {
        url: url.to_string(),
        reason: e.to_string(),
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(no_answer)?;
    let response = client.get(url).send().await.map_err(no_answer)?;
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    if status == 200 {
        Ok(body)
    } else {
        Err(Unhealthy::NotReady {
            url: url.to_string(),
            status,
            body,
        })
    }
}
