//! Fixed-window rate limits.
//!
//! [`SharedLimiter`] counts in the database (`rate_limits`, one row per
//! bucket and window), so every `ruxue serve` on one database shares the
//! limit, or in this process (`ratelimit.store = "memory"`, and `auto` on
//! SQLite, which one instance serves), or in Redis (`redis.url`, one `INCR`
//! per hit instead of a database write). Buckets are SHA-256 digests of what
//! is counted, so neither addresses nor ids are stored. [`guard`] applies
//! them to requests: per client address on the parent pages and API and on
//! the public pages; per guardian (from the session token), writes and
//! reads counted apart; the catchment lookup and the staff login by
//! `server.public_rate_per_minute`.
//!
//! [`RateLimiter`] is the older per-process limit the lookup and the staff
//! login still check as well.

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

/// Where the counters live.
enum Store {
    Memory(Mutex<HashMap<String, (i64, i64)>>),
    Database(crate::db::Db),
    /// One `INCR` (with an expiry) per hit; connected on first use.
    Redis(RedisStore),
}

/// The Redis store: a client and, once connected, a connection manager that
/// reconnects by itself.
struct RedisStore {
    client: redis::Client,
    prefix: String,
    conn: tokio::sync::OnceCell<redis::aio::ConnectionManager>,
}

impl RedisStore {
    /// Counts a hit on `key`, which expires with its window. An unreachable
    /// Redis lets the request through (and logs it): the limits protect the
    /// service, and refusing every family while Redis restarts would do the
    /// attackers' work.
    async fn incr(&self, key: &str, ttl_secs: i64) -> Option<i64> {
        let connect = || {
            let cfg = redis::aio::ConnectionManagerConfig::new()
                .set_connection_timeout(Some(std::time::Duration::from_millis(500)))
                .set_response_timeout(Some(std::time::Duration::from_millis(500)))
                .set_number_of_retries(1);
            redis::aio::ConnectionManager::new_with_config(self.client.clone(), cfg)
        };
        let conn = match self.conn.get_or_try_init(connect).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "rate limit: Redis unreachable, request let through");
                return None;
            }
        };
        let mut conn = conn.clone();
        let r: redis::RedisResult<(i64,)> = redis::pipe().atomic().incr(key, 1).expire(key, ttl_secs).ignore().query_async(&mut conn).await;
        match r {
            Ok((n,)) => Some(n),
            Err(e) => {
                tracing::warn!(error = %e, "rate limit: Redis failed, request let through");
                None
            }
        }
    }
}

/// A limit shared by every instance (database store) or kept in-process.
pub struct SharedLimiter {
    store: Store,
}

pub use crate::db::ratelimit::bucket;

impl SharedLimiter {
    pub fn new(settings: &crate::config::Settings, db: &crate::db::Db) -> Self {
        use crate::config::RateLimitStore as S;
        let redis = settings.redis.url().and_then(|u| match redis::Client::open(u.as_str()) {
            Ok(client) => Some(RedisStore { client, prefix: settings.redis.prefix.clone(), conn: tokio::sync::OnceCell::new() }),
            Err(e) => {
                tracing::error!(error = %e, "redis.url does not parse; counting in the database or memory instead");
                None
            }
        });
        let store = match (settings.ratelimit.store, redis) {
            (S::Redis | S::Auto, Some(r)) => Store::Redis(r),
            (S::Database, _) => Store::Database(db.clone()),
            (S::Auto | S::Redis, None) if db.backend == crate::db::Backend::Postgres => Store::Database(db.clone()),
            _ => Store::Memory(Mutex::new(HashMap::new())),
        };
        Self { store }
    }

    /// Whether every instance sees the same counts.
    pub fn shared(&self) -> bool {
        matches!(self.store, Store::Database(_) | Store::Redis(_))
    }

    /// Where the counters are kept: `memory`, `database` or `redis`.
    pub fn store_name(&self) -> &'static str {
        match self.store {
            Store::Memory(_) => "memory",
            Store::Database(_) => "database",
            Store::Redis(_) => "redis",
        }
    }

    /// Counts one request on `bucket` in the `window_secs` window holding
    /// `now` (Unix seconds): `Ok(None)` when within `limit`, else
    /// `Ok(Some(seconds until the window ends))`.
    pub async fn hit(&self, bucket: String, limit: u32, window_secs: i64, now: i64) -> Result<Option<u64>, crate::error::AppError> {
        let window_secs = window_secs.max(1);
        let start = now.div_euclid(window_secs) * window_secs;
        let hits = match &self.store {
            Store::Memory(m) => {
                let mut map = m.lock().unwrap_or_else(|p| p.into_inner());
                if map.len() > 100_000 {
                    map.retain(|_, (w, _)| *w >= start);
                }
                let e = map.entry(bucket).or_insert((start, 0));
                if e.0 != start {
                    *e = (start, 0);
                }
                e.1 += 1;
                e.1
            }
            Store::Database(db) => db.run(move |c| crate::db::ratelimit::hit(c, &bucket, start).map_err(Into::into)).await?,
            Store::Redis(r) => match r.incr(&format!("{}:rl:{bucket}:{start}", r.prefix), window_secs + 5).await {
                Some(n) => n,
                None => return Ok(None),
            },
        };
        Ok((hits > i64::from(limit.max(1))).then(|| (start + window_secs - now).max(1) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn memory_store_windows() {
        let s = SharedLimiter { store: Store::Memory(Mutex::new(HashMap::new())) };
        let b = bucket("a", "127.0.0.1");
        assert_ne!(b, bucket("a", "127.0.0.2"));
        assert!(!b.contains("127"));
        assert_eq!(s.hit(b.clone(), 2, 60, 120).await.unwrap(), None);
        assert_eq!(s.hit(b.clone(), 2, 60, 130).await.unwrap(), None);
        assert_eq!(s.hit(b.clone(), 2, 60, 170).await.unwrap(), Some(10));
        // The next window starts afresh.
        assert_eq!(s.hit(b.clone(), 2, 60, 180).await.unwrap(), None);
    }

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
