//! Directory results kept for a short while, per search text.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Contact;

/// At most this many different search texts are remembered.
const MAX_ENTRIES: usize = 256;

/// Results per normalised search text, each valid for `ttl`.
#[derive(Debug)]
pub(crate) struct ResultCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Vec<Contact>)>>,
}

impl ResultCache {
    /// A cache whose entries live `ttl` (zero: nothing is kept).
    pub(crate) fn new(ttl: Duration) -> ResultCache {
        ResultCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn key(text: &str) -> String {
        text.trim().to_lowercase()
    }

    /// The results for `text` if they are younger than the lifetime at `now`.
    pub(crate) fn get(&self, text: &str, now: Instant) -> Option<Vec<Contact>> {
        let entries = self.entries.lock().ok()?;
        let (stored, contacts) = entries.get(&Self::key(text))?;
        (now.saturating_duration_since(*stored) < self.ttl).then(|| contacts.clone())
    }

    /// Keeps the results for `text`, dropping expired ones (and the oldest if full).
    pub(crate) fn put(&self, text: &str, contacts: &[Contact], now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        entries.retain(|_, (stored, _)| now.saturating_duration_since(*stored) < self.ttl);
        if entries.len() >= MAX_ENTRIES
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (stored, _))| *stored)
                .map(|(k, _)| k.clone())
        {
            entries.remove(&oldest);
        }
        entries.insert(Self::key(text), (now, contacts.to_vec()));
    }

    /// Forgets everything.
    pub(crate) fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::ContactSource;

    fn bob() -> Vec<Contact> {
        vec![Contact {
            name: "Bob".to_owned(),
            sip_uri: Some("sip:bob@example.test".to_owned()),
            phone: None,
            source: ContactSource::Directory,
        }]
    }

    #[test]
    fn results_expire_after_the_lifetime() {
        let cache = ResultCache::new(Duration::from_secs(60));
        let t0 = Instant::now();
        cache.put(" Bob ", &bob(), t0);
        assert_eq!(cache.get("bob", t0 + Duration::from_secs(59)), Some(bob()));
        assert_eq!(cache.get("bob", t0 + Duration::from_secs(60)), None);
        assert_eq!(cache.get("alice", t0), None);
        cache.clear();
        assert_eq!(cache.get("bob", t0), None);
    }

    #[test]
    fn a_zero_lifetime_keeps_nothing() {
        let cache = ResultCache::new(Duration::ZERO);
        let t0 = Instant::now();
        cache.put("bob", &bob(), t0);
        assert_eq!(cache.get("bob", t0), None);
    }
}
