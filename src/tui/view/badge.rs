//! The lock that tells the truth: a symbol and a word for a call's security, readable without
//! colour.

use ratatui::style::{Color, Modifier, Style};

use crate::verdict::{RemoteSecurity, SecurityLevel, Verdict};

/// A call's security as shown: symbol, word(s), style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Badge {
    /// 🔒, 🛡, 🔓 or ….
    pub symbol: &'static str,
    /// `Encrypted`, `Authenticated`, `Not secure`, `Unknown`, `Checking`.
    pub words: &'static str,
    /// Colour and weight (the words carry the meaning alone).
    pub style: Style,
}

/// The badge of a verdict (`None`: not known yet).
pub fn badge(verdict: Option<&Verdict>) -> Badge {
    let Some(verdict) = verdict else {
        return Badge {
            symbol: "…",
            words: "Checking",
            style: Style::new().add_modifier(Modifier::DIM),
        };
    };
    match (verdict.level, verdict.remote) {
        (SecurityLevel::NotSecure, _) => Badge {
            symbol: "🔓",
            words: "Not secure",
            style: Style::new()
                .fg(Color::Red)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        },
        (_, RemoteSecurity::Unknown) => Badge {
            symbol: "🔓",
            words: "Unknown",
            style: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        },
        (SecurityLevel::Authenticated, _) => Badge {
            symbol: "🛡",
            words: "Authenticated",
            style: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        },
        (SecurityLevel::Encrypted, _) => Badge {
            symbol: "🔒",
            words: "Encrypted",
            style: Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        },
    }
}
