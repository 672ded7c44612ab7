//! Revocation answers kept until their `nextUpdate`, shared by every connection of an
//! account (SIP and HTTPS alike).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::policy::{Answer, RevocationSource};

/// The answers, keyed by issuer key and serial number.
#[derive(Debug, Default)]
pub struct RevocationCache {
    answers: Mutex<HashMap<String, (Answer, u64)>>,
    hits: AtomicU64,
    fetches: AtomicU64,
}

impl RevocationCache {
    /// An empty cache.
    pub fn new() -> RevocationCache {
        RevocationCache::default()
    }

    /// A still-valid answer for this certificate, if any.
    pub(super) fn get(&self, key: &str, now: u64) -> Option<Answer> {
        let mut map = self.answers.lock().ok()?;
        match map.get(key) {
            Some((answer, until)) if *until > now => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(answer.clone())
            }
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps an answer until `until` (Unix seconds). Answers without a `nextUpdate` are not kept.
    pub(super) fn put(&self, key: String, answer: &Answer) {
        let until = match answer {
            Answer::Good { until, .. } => *until,
            Answer::Revoked(_) => Some(u64::MAX),
        };
        if let (Some(until), Ok(mut map)) = (until, self.answers.lock()) {
            map.insert(key, (answer.clone(), until));
        }
    }

    /// Counts one network fetch (CRL or OCSP).
    pub(super) fn count_fetch(&self) {
        self.fetches.fetch_add(1, Ordering::Relaxed);
    }

    /// How many answers were served from the cache.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// How many CRL or OCSP fetches were made.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// How many answers are kept.
    pub fn len(&self) -> usize {
        self.answers.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether a cached answer came from a source (for the report).
pub(super) fn source_of(answer: &Answer) -> RevocationSource {
    match answer {
        Answer::Good { source, .. } => *source,
        Answer::Revoked(info) => info.source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_live_until_next_update_and_uncacheable_ones_are_not_kept() {
        let cache = RevocationCache::new();
        let good = Answer::Good {
            source: RevocationSource::Ocsp,
            until: Some(100),
        };
        cache.put("k".into(), &good);
        assert_eq!(cache.get("k", 99), Some(good));
        assert_eq!(cache.get("k", 100), None);
        assert!(cache.is_empty());
        let fleeting = Answer::Good {
            source: RevocationSource::Ocsp,
            until: None,
        };
        cache.put("k2".into(), &fleeting);
        assert_eq!(cache.get("k2", 0), None);
        assert_eq!(cache.hits(), 1);
    }
}
