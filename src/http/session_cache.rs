//! Sessions remembered by one isolate, in front of the session store (a Durable Object per
//! session at the edge), so that a legacy-era request does not wait on the object every time.
//!
//! Bounds: a session this isolate has seen is re-confirmed with the store at least every
//! [`recheck_ms`] (10 s, or a tenth of the idle time when that is shorter), which also refreshes
//! its last-seen stamp there. So a session deleted through another isolate may still be served by
//! this one for at most that long; a `DELETE` through this isolate is immediate; an idle session
//! expires on time (the idle check runs here too, on the last stamp the store gave). A `save`
//! goes straight to the store and updates the memory.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use async_trait::async_trait;

use super::SessionStore;
use crate::mcp::session::Session;

/// How long a confirmed session is served from memory, at most.
const MAX_RECHECK_MS: u64 = 10_000;
/// Sessions remembered per isolate before the memory starts over.
const REMEMBERED_SESSIONS: usize = 1_000;

/// How often the store is asked again about a session, for a given idle time.
pub fn recheck_ms(idle_ms: u64) -> u64 {
    (idle_ms / 10).min(MAX_RECHECK_MS)
}

/// The isolate's memory of sessions (one per isolate, shared by its requests).
#[derive(Default)]
pub struct SessionCache {
    /// Session id -> (session as the store last gave it, when the store confirmed it).
    entries: RefCell<HashMap<String, (Session, u64)>>,
    /// Moves on every delete; a lookup in flight meanwhile does not remember what it read.
    deletions: Cell<u64>,
}

impl SessionCache {
    fn get(&self, id: &str, now_ms: u64, idle_ms: u64) -> Option<Session> {
        let entries = self.entries.borrow();
        let (session, confirmed_ms) = entries.get(id)?;
        let fresh = now_ms >= *confirmed_ms && now_ms - confirmed_ms < recheck_ms(idle_ms);
        // Past its idle time by the last stamp known here: the store decides (another isolate
        // may have kept it alive).
        let alive = now_ms.saturating_sub(session.last_seen_ms) < idle_ms;
        (fresh && alive).then(|| session.clone())
    }

    fn put(&self, session: Session, now_ms: u64) {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= REMEMBERED_SESSIONS {
            entries.clear();
        }
        entries.insert(session.id.clone(), (session, now_ms));
    }

    fn forget(&self, id: &str) {
        self.deletions.set(self.deletions.get().wrapping_add(1));
        self.entries.borrow_mut().remove(id);
    }
}

/// A [`SessionStore`] that asks `inner` only when its memory of a session is not fresh.
pub struct CachedSessions<'a> {
    pub inner: &'a dyn SessionStore,
    pub cache: &'a SessionCache,
    /// The configured idle time (0 turns the memory off).
    pub idle_ms: u64,
}

#[async_trait(?Send)]
impl SessionStore for CachedSessions<'_> {
    async fn create(&self, session: &Session, idle_ms: u64) -> Result<(), String> {
        self.inner.create(session, idle_ms).await?;
        self.cache.put(session.clone(), session.last_seen_ms);
        Ok(())
    }

    async fn touch(&self, id: &str, now_ms: u64) -> Result<Option<Session>, String> {
        if let Some(session) = self.cache.get(id, now_ms, self.idle_ms) {
            return Ok(Some(session));
        }
        let epoch = self.cache.deletions.get();
        let found = self.inner.touch(id, now_ms).await?;
        match &found {
            Some(session) if self.cache.deletions.get() == epoch => self.cache.put(session.clone(), now_ms),
            Some(_) => {}
            None => self.cache.forget(id),
        }
        Ok(found)
    }

    async fn save(&self, session: &Session) -> Result<(), String> {
        let epoch = self.cache.deletions.get();
        match self.inner.save(session).await {
            Ok(()) => {
                // Keep when it was confirmed: a save is not a sign of life from the store.
                let confirmed = self.cache.entries.borrow().get(&session.id).map(|(_, at)| *at);
                match confirmed {
                    Some(at) if self.cache.deletions.get() == epoch => self.cache.put(session.clone(), at),
                    _ => {}
                }
                Ok(())
            }
            Err(e) => {
                self.cache.forget(&session.id);
                Err(e)
            }
        }
    }

    async fn delete(&self, id: &str) -> Result<(), String> {
        self.cache.forget(id);
        let result = self.inner.delete(id).await;
        // Again after the store answered: a lookup that raced the delete is not kept.
        self.cache.forget(id);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A store in memory that counts touches and applies the idle rule as the Durable Object does.
    #[derive(Default)]
    struct Store {
        sessions: RefCell<HashMap<String, (Session, u64)>>,
        touches: Cell<usize>,
    }

    #[async_trait(?Send)]
    impl SessionStore for Store {
        async fn create(&self, session: &Session, idle_ms: u64) -> Result<(), String> {
            self.sessions.borrow_mut().insert(session.id.clone(), (session.clone(), idle_ms));
            Ok(())
        }
        async fn touch(&self, id: &str, now_ms: u64) -> Result<Option<Session>, String> {
            self.touches.set(self.touches.get() + 1);
            let mut sessions = self.sessions.borrow_mut();
            let Some((session, idle)) = sessions.get_mut(id) else { return Ok(None) };
            if now_ms.saturating_sub(session.last_seen_ms) >= *idle {
                sessions.remove(id);
                return Ok(None);
            }
            session.last_seen_ms = now_ms;
            Ok(Some(session.clone()))
        }
        async fn save(&self, session: &Session) -> Result<(), String> {
            match self.sessions.borrow_mut().get_mut(&session.id) {
                Some((stored, _)) => {
                    *stored = session.clone();
                    Ok(())
                }
                None => Err("no such session".into()),
            }
        }
        async fn delete(&self, id: &str) -> Result<(), String> {
            self.sessions.borrow_mut().remove(id);
            Ok(())
        }
    }

    fn session(id: &str, now_ms: u64) -> Session {
        Session {
            id: id.into(),
            service: "demo".into(),
            protocol_version: "2025-11-25".into(),
            client_info: json!({}),
            client_capabilities: json!({}),
            log_level: "info".into(),
            principal: "key:a".into(),
            created_ms: now_ms,
            last_seen_ms: now_ms,
            initialized: false,
        }
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        futures_executor::block_on(f)
    }

    const IDLE: u64 = 3_600_000;

    #[test]
    fn the_recheck_interval_is_ten_seconds_or_a_tenth_of_the_idle_time() {
        assert_eq!(recheck_ms(3_600_000), 10_000);
        assert_eq!(recheck_ms(2_000), 200);
        assert_eq!(recheck_ms(0), 0);
    }

    #[test]
    fn a_known_session_is_served_from_memory_until_the_recheck_is_due() {
        let store = Store::default();
        let cache = SessionCache::default();
        let sessions = CachedSessions { inner: &store, cache: &cache, idle_ms: IDLE };
        run(sessions.create(&session("s1", 1_000), IDLE)).unwrap();
        assert_eq!(run(sessions.touch("s1", 1_000 + 9_999)).unwrap().unwrap().id, "s1");
        assert_eq!(store.touches.get(), 0, "no store round trip within the bound");
        // Due: the store is asked (and refreshes its stamp), then memory serves again.
        assert_eq!(run(sessions.touch("s1", 11_000)).unwrap().unwrap().last_seen_ms, 11_000);
        assert_eq!(store.touches.get(), 1);
        run(sessions.touch("s1", 12_000)).unwrap().unwrap();
        assert_eq!(store.touches.get(), 1);
        // Unknown ids go to the store every time.
        assert_eq!(run(sessions.touch("nope", 12_000)).unwrap(), None);
        assert_eq!(store.touches.get(), 2);
    }

    #[test]
    fn a_delete_through_this_isolate_is_immediate() {
        let store = Store::default();
        let cache = SessionCache::default();
        let sessions = CachedSessions { inner: &store, cache: &cache, idle_ms: IDLE };
        run(sessions.create(&session("s1", 1_000), IDLE)).unwrap();
        run(sessions.touch("s1", 1_001)).unwrap().unwrap();
        run(sessions.delete("s1")).unwrap();
        assert_eq!(run(sessions.touch("s1", 1_002)).unwrap(), None);
    }

    #[test]
    fn a_delete_through_another_isolate_is_seen_within_the_bound() {
        let store = Store::default();
        let cache = SessionCache::default();
        let sessions = CachedSessions { inner: &store, cache: &cache, idle_ms: IDLE };
        run(sessions.create(&session("s1", 1_000), IDLE)).unwrap();
        // Another isolate deletes it in the store directly.
        run(store.delete("s1")).unwrap();
        assert!(run(sessions.touch("s1", 1_000 + recheck_ms(IDLE) - 1)).unwrap().is_some());
        assert_eq!(run(sessions.touch("s1", 1_000 + recheck_ms(IDLE))).unwrap(), None);
        assert_eq!(run(sessions.touch("s1", 1_000 + recheck_ms(IDLE) + 1)).unwrap(), None);
    }

    #[test]
    fn an_idle_session_expires_on_time_even_from_memory() {
        let store = Store::default();
        let cache = SessionCache::default();
        let idle = 2_000;
        let sessions = CachedSessions { inner: &store, cache: &cache, idle_ms: idle };
        run(sessions.create(&session("s1", 1_000), idle)).unwrap();
        // Used every 150 ms (under the 200 ms recheck) the whole time: it lives on.
        let mut now = 1_000;
        while now < 6_000 {
            now += 150;
            assert!(run(sessions.touch("s1", now)).unwrap().is_some(), "alive at {now}");
        }
        // Then idle for the idle time: gone.
        assert_eq!(run(sessions.touch("s1", now + idle)).unwrap(), None);
    }

    #[test]
    fn saves_reach_the_store_and_the_memory() {
        let store = Store::default();
        let cache = SessionCache::default();
        let sessions = CachedSessions { inner: &store, cache: &cache, idle_ms: IDLE };
        run(sessions.create(&session("s1", 1_000), IDLE)).unwrap();
        let mut changed = run(sessions.touch("s1", 1_100)).unwrap().unwrap();
        changed.log_level = "error".into();
        run(sessions.save(&changed)).unwrap();
        assert_eq!(store.sessions.borrow()["s1"].0.log_level, "error");
        assert_eq!(run(sessions.touch("s1", 1_200)).unwrap().unwrap().log_level, "error");
        assert_eq!(store.touches.get(), 0);
        // A failed save forgets the session here, so the next request asks the store.
        run(store.delete("s1")).unwrap();
        assert!(run(sessions.save(&changed)).is_err());
        assert_eq!(run(sessions.touch("s1", 1_300)).unwrap(), None);
    }

    #[test]
    fn no_idle_time_means_no_memory() {
        let store = Store::default();
        let cache = SessionCache::default();
        let sessions = CachedSessions { inner: &store, cache: &cache, idle_ms: 0 };
        run(sessions.create(&session("s1", 1_000), IDLE)).unwrap();
        run(store.delete("s1")).unwrap();
        assert_eq!(run(sessions.touch("s1", 1_000)).unwrap(), None);
    }
}
