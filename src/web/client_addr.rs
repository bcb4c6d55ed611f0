//! The client's address behind a reverse proxy.
//!
//! Rate limits are kept per client address. Behind nginx or a load balancer
//! every connection comes from the proxy, so without this all of a county's
//! parents would share one address and one limit. The proxies listed in
//! `server.trusted_proxies` (addresses or CIDR blocks) may say who the client
//! is in `X-Forwarded-For`; nobody else may: a client that sends the header
//! itself to a server it reaches directly is counted by its own address.
//!
//! The address taken is the right-most one in `X-Forwarded-For` that is not
//! a trusted proxy: each proxy appends the address it received the
//! connection from, so everything to the left of that one was written by the
//! client and proves nothing.

use ipnet::IpNet;
use std::net::IpAddr;

/// Parses `server.trusted_proxies`: a comma-separated list of addresses and
/// CIDR blocks (`127.0.0.1, 10.0.0.0/8, ::1`). Empty: no proxy is trusted.
pub fn parse_trusted(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("“{s}” is neither an IP address nor a CIDR block"))
        })
        .collect()
}

/// The client's address: the connection's peer, or, when the peer is a
/// trusted proxy, the right-most untrusted address in `X-Forwarded-For`.
/// A header that does not parse, or names only trusted proxies, leaves the
/// peer (the proxy) as the client.
pub fn client_addr(peer: Option<IpAddr>, forwarded_for: Option<&str>, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |a: &IpAddr| trusted.iter().any(|n| n.contains(a));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let Some(header) = forwarded_for else { return Some(peer) };
    for hop in header.rsplit(',').map(str::trim) {
        match parse_hop(hop) {
            Some(a) if is_trusted(&a) => continue,
            Some(a) => return Some(a),
            None => return Some(peer),
        }
    }
    Some(peer)
}

/// One `X-Forwarded-For` entry: an address, possibly with a port
/// (`203.0.113.7:5100`, `[2001:db8::1]:5100`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(a) = hop.parse::<IpAddr>() {
        return Some(a);
    }
    if let Ok(sa) = hop.parse::<std::net::SocketAddr>() {
        return Some(sa.ip());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let t = parse_trusted("10.0.0.0/8").unwrap();
        assert_eq!(client_addr(Some(ip("203.0.113.9")), Some("198.51.100.1"), &t), Some(ip("203.0.113.9")));
        assert_eq!(client_addr(Some(ip("203.0.113.9")), None, &[]), Some(ip("203.0.113.9")));
        // Nothing trusted: the header is never read.
        assert_eq!(client_addr(Some(ip("127.0.0.1")), Some("198.51.100.1"), &[]), Some(ip("127.0.0.1")));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let t = parse_trusted("127.0.0.1, 10.0.0.0/8").unwrap();
        let peer = Some(ip("127.0.0.1"));
        assert_eq!(client_addr(peer, Some("198.51.100.1"), &t), Some(ip("198.51.100.1")));
        // A client's own forged entry sits to the left of what the proxies wrote.
        assert_eq!(client_addr(peer, Some("6.6.6.6, 198.51.100.1, 10.1.2.3"), &t), Some(ip("198.51.100.1")));
        assert_eq!(client_addr(peer, Some("198.51.100.1:4711"), &t), Some(ip("198.51.100.1")));
        assert_eq!(client_addr(Some(ip("10.9.9.9")), Some("[2001:db8::1]:443"), &t), Some(ip("2001:db8::1")));
    }

    #[test]
    fn a_header_that_proves_nothing_leaves_the_proxy() {
        let t = parse_trusted("127.0.0.1").unwrap();
        let peer = Some(ip("127.0.0.1"));
        assert_eq!(client_addr(peer, None, &t), peer);
        assert_eq!(client_addr(peer, Some("127.0.0.1"), &t), peer);
        assert_eq!(client_addr(peer, Some("1.2.3.4, garbage"), &t), peer);
        assert_eq!(client_addr(peer, Some(""), &t), peer);
        assert_eq!(client_addr(None, Some("1.2.3.4"), &t), None);
    }

    #[test]
    fn the_setting_is_checked() {
        assert_eq!(parse_trusted("").unwrap(), vec![]);
        assert_eq!(parse_trusted(" ::1 , 192.168.0.0/16").unwrap().len(), 2);
        assert!(parse_trusted("127.0.0.1, nginx").unwrap_err().contains("nginx"));
        assert!(parse_trusted("10.0.0.0/33").is_err());
    }
}
