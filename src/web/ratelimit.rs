//! A fixed-window rate limit per client address for public, no-login pages.
//! In-process: each instance counts on its own, which is enough to keep one
//! client from scraping the catchment map through one instance.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    per_window: u32,
    window: Duration,
    state: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn per_minute(n: u32) -> Self {
        Self { per_window: n.max(1), window: Duration::from_secs(60), state: Mutex::new(HashMap::new()) }
    }

    /// True when the request may proceed.
    pub fn check(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let mut map = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = map.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_window {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address() {
        let rl = RateLimiter::per_minute(3);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(rl.check(a) && rl.check(a) && rl.check(a));
        assert!(!rl.check(a));
        assert!(rl.check(b));
    }
}
