//! Limits on password guesses. An attempt is counted (reserved) in the service's grant store,
//! a Durable Object, BEFORE its password is checked, in one step over three buckets, so parallel
//! guesses cannot all pass a check that has not counted them yet. A successful sign-in gives its
//! reservation back, so only failures (and attempts still in flight) count.
//!
//! - per user and address: the attacker's address is stopped early;
//! - per user: a higher ceiling, so many addresses together cannot guess for long either, while
//!   one address alone cannot lock the owner out;
//! - per address: one address guessing many users.
//!
//! IPv6 addresses count per /64, what one subscriber usually gets.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::grants::{Bucket, RecordStore};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoginLimits {
    pub per_user_and_address: u32,
    pub per_user: u32,
    pub per_address: u32,
    pub window_ms: u64,
}

/// The limits the sign-in form applies (failures per 15 minutes).
pub const LIMITS: LoginLimits =
    LoginLimits { per_user_and_address: 10, per_user: 100, per_address: 100, window_ms: 15 * 60 * 1000 };

/// The bucket name of a caller's address: IPv4 as is, IPv6 by its /64 (an IPv4-mapped IPv6
/// address counts as the IPv4 one); anything unparseable as `unknown`.
pub fn address_bucket(ip: &str) -> String {
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => "unknown".into(),
    }
}

fn buckets(user: &str, address: &str, limits: &LoginLimits) -> [(String, u32); 3] {
    // A username never contains ':', so the pair key is unambiguous.
    [
        (format!("rate:login_pair:{user}:{address}"), limits.per_user_and_address),
        (format!("rate:login_user:{user}"), limits.per_user),
        (format!("rate:login_ip:{address}"), limits.per_address),
    ]
}

fn current(store: &dyn RecordStore, key: &str, now_ms: u64) -> Option<Bucket> {
    store.get(key).and_then(|v| serde_json::from_str::<Bucket>(&v).ok()).filter(|b| now_ms < b.reset_ms)
}

fn save(store: &mut dyn RecordStore, key: &str, bucket: &Bucket) {
    store.put(key, &serde_json::to_string(bucket).unwrap_or_default(), Some(bucket.reset_ms));
}

/// Counts one attempt in every bucket, or none when one is full: `(allowed, retry_after_s)`.
pub fn reserve(
    store: &mut dyn RecordStore,
    now_ms: u64,
    user: &str,
    address: &str,
    limits: &LoginLimits,
) -> (bool, u64) {
    let fresh = Bucket { count: 0, reset_ms: now_ms + limits.window_ms };
    let counted: Vec<(String, u32, Bucket)> = buckets(user, address, limits)
        .into_iter()
        .map(|(key, limit)| {
            let bucket = current(store, &key, now_ms).unwrap_or_else(|| fresh.clone());
            (key, limit, bucket)
        })
        .collect();
    let full_until = counted.iter().filter(|(_, limit, b)| b.count >= *limit).map(|(_, _, b)| b.reset_ms).max();
    if let Some(reset_ms) = full_until {
        return (false, reset_ms.saturating_sub(now_ms).div_ceil(1000).max(1));
    }
    for (key, _, mut bucket) in counted {
        bucket.count += 1;
        save(store, &key, &bucket);
    }
    (true, 0)
}

/// Gives back the attempt of a successful sign-in.
pub fn release(store: &mut dyn RecordStore, now_ms: u64, user: &str, address: &str) {
    for (key, _) in buckets(user, address, &LIMITS) {
        if let Some(mut bucket) = current(store, &key, now_ms) {
            bucket.count = bucket.count.saturating_sub(1);
            save(store, &key, &bucket);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::grants::MemoryStore;

    const SMALL: LoginLimits = LoginLimits { per_user_and_address: 3, per_user: 5, per_address: 6, window_ms: 1000 };

    #[test]
    fn reserves_before_the_check_and_stops_at_the_limit() {
        let mut s = MemoryStore::default();
        // Every reservation counts at once: the fourth is refused although none has failed yet.
        let answers: Vec<bool> = (0..4).map(|_| reserve(&mut s, 0, "alice", "1.2.3.4", &SMALL).0).collect();
        assert_eq!(answers, [true, true, true, false]);
        assert_eq!(reserve(&mut s, 10, "alice", "1.2.3.4", &SMALL), (false, 1));
        // The window ends.
        assert!(reserve(&mut s, 1000, "alice", "1.2.3.4", &SMALL).0);
    }

    #[test]
    fn another_address_still_signs_in_up_to_the_user_ceiling() {
        let mut s = MemoryStore::default();
        for _ in 0..3 {
            assert!(reserve(&mut s, 0, "alice", "6.6.6.6", &SMALL).0);
        }
        assert!(!reserve(&mut s, 0, "alice", "6.6.6.6", &SMALL).0, "the attacker's address is stopped");
        assert!(reserve(&mut s, 0, "alice", "1.1.1.1", &SMALL).0, "the owner's address is not");
        assert!(reserve(&mut s, 0, "alice", "2.2.2.2", &SMALL).0);
        assert!(!reserve(&mut s, 0, "alice", "3.3.3.3", &SMALL).0, "the per-user ceiling holds");
    }

    #[test]
    fn one_address_cannot_guess_many_users() {
        let mut s = MemoryStore::default();
        let allowed = (0..10).filter(|i| reserve(&mut s, 0, &format!("u{i}"), "9.9.9.9", &SMALL).0).count();
        assert_eq!(allowed, 6);
    }

    #[test]
    fn a_success_gives_its_reservation_back() {
        let mut s = MemoryStore::default();
        let limits = LoginLimits { window_ms: 1000, ..LIMITS };
        for _ in 0..limits.per_user_and_address {
            assert!(reserve(&mut s, 0, "bob", "1.2.3.4", &limits).0);
        }
        assert!(!reserve(&mut s, 0, "bob", "1.2.3.4", &limits).0);
        release(&mut s, 0, "bob", "1.2.3.4");
        assert!(reserve(&mut s, 0, "bob", "1.2.3.4", &limits).0);
    }

    #[test]
    fn addresses_are_bucketed_like_subscribers() {
        assert_eq!(address_bucket("203.0.113.9"), "203.0.113.9");
        assert_eq!(address_bucket("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(address_bucket("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_eq!(address_bucket("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(address_bucket("not an address"), "unknown");
        assert_eq!(address_bucket(""), "unknown");
    }
}
