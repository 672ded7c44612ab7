//! Where the directory search goes: a [`Directory`] the driver asks from a task.

use std::future::Future;
use std::pin::Pin;

use super::input::ContactHit;

/// The answer of a search: the entries found, or why the search failed.
pub type SearchResult = Result<Vec<ContactHit>, String>;

/// A searchable directory of contacts.
pub trait Directory: Send + Sync {
    /// The entries matching `text` (name, URI or number).
    fn search<'a>(
        &'a self,
        text: &'a str,
    ) -> Pin<Box<dyn Future<Output = SearchResult> + Send + 'a>>;
}

/// A fixed list of contacts, searched in memory (by any part of name, URI or number, ignoring
/// case).
#[derive(Debug, Clone, Default)]
pub struct ListDirectory {
    /// The contacts.
    pub contacts: Vec<ContactHit>,
}

impl ListDirectory {
    /// The entries matching `text`.
    pub fn matching(&self, text: &str) -> Vec<ContactHit> {
        let wanted = text.to_lowercase();
        self.contacts
            .iter()
            .filter(|c| {
                c.name.to_lowercase().contains(&wanted)
                    || c.sip_uri.to_lowercase().contains(&wanted)
                    || c.phone.as_deref().is_some_and(|p| p.contains(&wanted))
            })
            .cloned()
            .collect()
    }
}

impl Directory for ListDirectory {
    fn search<'a>(
        &'a self,
        text: &'a str,
    ) -> Pin<Box<dyn Future<Output = SearchResult> + Send + 'a>> {
        Box::pin(async move { Ok(self.matching(text)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_matches_any_part_ignoring_case() {
        let hit = |name: &str, uri: &str, phone: Option<&str>| ContactHit {
            name: name.to_owned(),
            sip_uri: uri.to_owned(),
            phone: phone.map(str::to_owned),
        };
        let list = ListDirectory {
            contacts: vec![
                hit("Bob Builder", "sip:bob@example.test", Some("+15550100")),
                hit("Carol", "sip:carol@example.test", None),
            ],
        };
        assert_eq!(list.matching("BUILD").len(), 1);
        assert_eq!(list.matching("example").len(), 2);
        assert_eq!(list.matching("5550100")[0].name, "Bob Builder");
        assert!(list.matching("dave").is_empty());
    }
}
