//! A one-line text field with history (Up/Down) and completion candidates (Tab).

/// A text field being edited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextField {
    /// The text.
    pub text: String,
    /// Where in the history Up/Down is (`None`: editing new text).
    history_pos: Option<usize>,
    /// Completion candidates shown under the field (from history and the directory).
    pub candidates: Vec<String>,
}

impl TextField {
    /// A field holding `text`.
    pub fn with_text(text: &str) -> TextField {
        TextField {
            text: text.to_owned(),
            ..TextField::default()
        }
    }

    /// Types a character.
    pub fn push(&mut self, c: char) {
        self.text.push(c);
        self.history_pos = None;
        self.candidates.clear();
    }

    /// Deletes the last character.
    pub fn backspace(&mut self) {
        self.text.pop();
        self.history_pos = None;
        self.candidates.clear();
    }

    /// Up: the previous (older) history entry; `history` is oldest first.
    pub fn older(&mut self, history: &[String]) {
        if history.is_empty() {
            return;
        }
        let pos = match self.history_pos {
            None => history.len() - 1,
            Some(p) => p.saturating_sub(1),
        };
        self.history_pos = Some(pos);
        self.text = history[pos].clone();
    }

    /// Down: the next (newer) history entry, or empty text after the newest.
    pub fn newer(&mut self, history: &[String]) {
        match self.history_pos {
            Some(p) if p + 1 < history.len() => {
                self.history_pos = Some(p + 1);
                self.text = history[p + 1].clone();
            }
            Some(_) => {
                self.history_pos = None;
                self.text.clear();
            }
            None => {}
        }
    }

    /// Tab: completes the text from `choices`, each a label (a person's name, or empty) and
    /// the value it stands for (a SIP URI); the typed text matches the start of the value, or
    /// of any word of the label or value, ignoring case. One match puts its value in the field;
    /// several extend it to the values' common prefix and are listed. Returns whether
    /// something matched.
    pub fn complete(&mut self, choices: &[(String, String)]) -> bool {
        let typed = self.text.to_lowercase();
        let word_hit = |text: &str| {
            !typed.is_empty()
                && text
                    .to_lowercase()
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|w| w.starts_with(&typed))
        };
        let mut matches: Vec<&(String, String)> = Vec::new();
        for choice in choices {
            let (label, value) = choice;
            let hit =
                value.to_lowercase().starts_with(&typed) || word_hit(label) || word_hit(value);
            if hit && !matches.iter().any(|m| m.1 == *value) {
                matches.push(choice);
            }
        }
        match matches.len() {
            0 => false,
            1 => {
                self.text = matches[0].1.clone();
                self.candidates.clear();
                true
            }
            _ => {
                let values: Vec<String> = matches.iter().map(|m| m.1.clone()).collect();
                let prefix = common_prefix(&values);
                if prefix.len() > self.text.len() && prefix.to_lowercase().starts_with(&typed) {
                    self.text = prefix;
                }
                self.candidates = matches
                    .iter()
                    .map(|(label, value)| {
                        if label.is_empty() {
                            value.clone()
                        } else {
                            format!("{label} <{value}>")
                        }
                    })
                    .collect();
                true
            }
        }
    }
}

fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut end = first.len();
    for word in &words[1..] {
        end = first
            .char_indices()
            .zip(word.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(end);
    }
    first[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_walks_back_and_forth() {
        let history = vec!["sip:a@x".to_owned(), "sip:b@x".to_owned()];
        let mut field = TextField::default();
        field.older(&history);
        assert_eq!(field.text, "sip:b@x");
        field.older(&history);
        assert_eq!(field.text, "sip:a@x");
        field.older(&history);
        assert_eq!(field.text, "sip:a@x");
        field.newer(&history);
        assert_eq!(field.text, "sip:b@x");
        field.newer(&history);
        assert_eq!(field.text, "");
    }

    #[test]
    fn completion_takes_a_single_match_and_lists_several() {
        let pair = |l: &str, v: &str| (l.to_owned(), v.to_owned());
        let choices = vec![
            pair("Bob Builder", "sip:bob@example.test"),
            pair("", "sip:bob@127.0.0.1"),
            pair("Carol", "sip:carol@example.test"),
        ];
        let mut field = TextField::with_text("car");
        assert!(field.complete(&choices));
        assert_eq!(field.text, "sip:carol@example.test");
        let mut field = TextField::with_text("bob");
        assert!(field.complete(&choices));
        assert_eq!(
            field.candidates,
            ["Bob Builder <sip:bob@example.test>", "sip:bob@127.0.0.1"]
        );
        assert_eq!(
            field.text, "bob",
            "the typed text is not a prefix of the values"
        );
        let mut field = TextField::with_text("sip:bob@1");
        assert!(field.complete(&choices));
        assert_eq!(field.text, "sip:bob@127.0.0.1");
        let mut field = TextField::with_text("zed");
        assert!(!field.complete(&choices));
        assert_eq!(field.text, "zed");
    }
}
