//! The listener's defences: how many connections are open, from where, and for how long.
//!
//! Every TCP connection is admitted by [`Gate::admit`] before hyper sees it: past the cap
//! for its address, or the cap in all, it is closed at once. WebSockets, which live for
//! hours, may take all but a reserve of the connections, so that `/healthz` and sign-in
//! still answer when the server is full. HTTP connections must send their headers within
//! `header_timeout` (idle keep-alive connections too); WebSockets must say `hello` within
//! `hello_timeout`, and answer pings within `idle_timeout` (`ws`).
//!
//! Behind a reverse proxy every client comes from the proxy's address: the proxies named in
//! `trusted_proxies` are not capped per address, and the client's address is read from
//! the `X-Forwarded-For` header they add ([`client_ip`]).
//!
//! Per node, like the sockets it counts.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use dashmap::DashMap;

/// The limits on connections.
#[derive(Clone, Debug, PartialEq)]
pub struct NetLimits {
    /// Connections open at once, HTTP and WebSocket. Default 10,000 (the server raises
    /// its file limit to fit).
    pub max_connections: usize,
    /// Connections open at once from one address (trusted proxies excepted). Default 200.
    pub max_per_address: usize,
    /// Connections kept for HTTP when WebSockets take the rest. Default 64.
    pub reserve: usize,
    /// Time to send a request's headers, and the most an idle keep-alive connection
    /// stays open. Default 10 s.
    pub header_timeout: Duration,
    /// Time for a new WebSocket to say `hello`. Default 10 s.
    pub hello_timeout: Duration,
    /// A WebSocket from which nothing (not even a pong) came for this long is closed;
    /// the server pings it at a third of it. Default 90 s.
    pub idle_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client. Default none.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for NetLimits {
    fn default() -> Self {
        NetLimits {
            max_connections: 10_000,
            max_per_address: 200,
            reserve: 64,
            header_timeout: Duration::from_secs(10),
            hello_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(90),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Counts the open connections and admits new ones.
pub struct Gate {
    limits: NetLimits,
    open: AtomicUsize,
    sockets: AtomicUsize,
    by_address: DashMap<IpAddr, usize>,
}

/// One admitted connection; it is counted until dropped.
pub struct Admitted {
    gate: Arc<Gate>,
    ip: Option<IpAddr>,
    socket: bool,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.gate.open.fetch_sub(1, Ordering::SeqCst);
        if self.socket {
            self.gate.sockets.fetch_sub(1, Ordering::SeqCst);
        }
        if let Some(ip) = self.ip {
            if let Some(mut n) = self.gate.by_address.get_mut(&ip) {
                *n = n.saturating_sub(1);
            }
            self.gate.by_address.remove_if(&ip, |_, n| *n == 0);
        }
    }
}

impl Gate {
    pub fn new(limits: NetLimits) -> Arc<Gate> {
        Arc::new(Gate { limits, open: AtomicUsize::new(0), sockets: AtomicUsize::new(0), by_address: DashMap::new() })
    }

    pub fn limits(&self) -> &NetLimits {
        &self.limits
    }

    /// A new TCP connection from `ip`, if there is room for it.
    pub fn admit(self: &Arc<Gate>, ip: IpAddr) -> Option<Admitted> {
        if self.open.fetch_add(1, Ordering::SeqCst) >= self.limits.max_connections {
            self.open.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        let counted = self.count_address(ip, true);
        if counted.is_none() {
            self.open.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Admitted { gate: self.clone(), ip: counted.flatten(), socket: false })
    }

    /// A WebSocket upgrading an admitted connection from `ip`, if WebSockets have not
    /// taken all but the reserve. It is counted on its own (its HTTP connection's count
    /// ends with the upgrade).
    pub fn admit_socket(self: &Arc<Gate>, ip: IpAddr) -> Option<Admitted> {
        let cap = self.limits.max_connections.saturating_sub(self.limits.reserve);
        if self.sockets.fetch_add(1, Ordering::SeqCst) >= cap {
            self.sockets.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        self.open.fetch_add(1, Ordering::SeqCst);
        let ip = self.count_address(ip, false).flatten();
        Some(Admitted { gate: self.clone(), ip, socket: true })
    }

    /// Counts one more connection from `ip`: `None` when `capped` and the address is at
    /// its cap; `Some(None)` for a trusted proxy, which is not counted.
    fn count_address(&self, ip: IpAddr, capped: bool) -> Option<Option<IpAddr>> {
        if self.limits.trusted_proxies.contains(&ip) {
            return Some(None);
        }
        let mut n = self.by_address.entry(ip).or_insert(0);
        if capped && *n >= self.limits.max_per_address {
            return None;
        }
        *n += 1;
        Some(Some(ip))
    }

    /// Connections open now (WebSockets included).
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// The client's address: the peer's, or, when the peer is a trusted proxy, the
    /// nearest address in `X-Forwarded-For` that is not one.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        client_ip(peer, headers, &self.limits.trusted_proxies)
    }
}

/// See [`Gate::client_ip`].
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut client = peer;
    // Each proxy appends the address it heard from: read from the right, past the
    // trusted ones; what lies beyond the first untrusted address is the client's word.
    let hops = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
    let hops: Vec<&str> = hops.flat_map(|v| v.split(',')).map(str::trim).collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusted.contains(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses_are_capped_but_trusted_proxies_are_not() {
        let limits = NetLimits {
            max_connections: 10,
            max_per_address: 2,
            reserve: 3,
            trusted_proxies: vec![ip("10.0.0.1")],
            ..NetLimits::default()
        };
        let gate = Gate::new(limits);
        let a = [gate.admit(ip("1.1.1.1")), gate.admit(ip("1.1.1.1"))];
        assert!(a.iter().all(Option::is_some));
        assert!(gate.admit(ip("1.1.1.1")).is_none(), "a third from one address");
        let proxied: Vec<_> = (0..5).map(|_| gate.admit(ip("10.0.0.1"))).collect();
        assert!(proxied.iter().all(Option::is_some));
        assert_eq!(gate.open(), 7);
        drop(a);
        assert!(gate.admit(ip("1.1.1.1")).is_some(), "closed ones are counted out");
        assert_eq!(gate.open(), 5);
        // WebSockets take at most max - reserve = 7.
        let sockets: Vec<_> = (0..9).filter_map(|_| gate.admit_socket(ip("10.0.0.1"))).collect();
        assert_eq!(sockets.len(), 7);
    }

    #[test]
    fn the_client_is_read_from_forwarded_for_only_behind_a_trusted_proxy() {
        let trusted = [ip("127.0.0.1"), ip("10.0.0.2")];
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6, 2.2.2.2, 10.0.0.2".parse().unwrap());
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("2.2.2.2"));
        assert_eq!(client_ip(ip("3.3.3.3"), &h, &trusted), ip("3.3.3.3"), "an untrusted peer's header is ignored");
        assert_eq!(client_ip(ip("127.0.0.1"), &HeaderMap::new(), &trusted), ip("127.0.0.1"));
        h.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("127.0.0.1"));
    }
}
