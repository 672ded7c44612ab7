//! The "trust this certificate?" question of `register`, `call` and `answer`.
//!
//! On a terminal (stdin and stderr are TTYs, no `--json`) the certificate is shown on stderr
//! and the user chooses `[A]lways trust / [C]ontinue / Cancel`; otherwise the account's
//! `tls.untrusted` policy decides (`refuse`: Cancel). A pinned fingerprint
//! (`tls.pinned_sha256`) never gets here: the verifier accepts it.

use std::io::{BufRead, IsTerminal, Write};

use lockphone::config::UntrustedPolicy;
use lockphone::tls::CertificateSummary;
use lockphone::trust::TrustDecision;
use lockphone::ua::{Event, Phone};

use super::EXIT_TLS;
use super::output::{certificate_lines, print_event};
use super::start::fail;

/// How the command line answers trust questions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrustPrompt {
    interactive: bool,
}

impl TrustPrompt {
    /// Asks on a terminal unless `--json` or the policy says never to ask.
    pub(crate) fn new(json: bool, policy: UntrustedPolicy) -> TrustPrompt {
        let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        TrustPrompt {
            interactive: terminal && !json && policy != UntrustedPolicy::NeverAsk,
        }
    }

    /// Prints an event, except a trust question the prompt itself shows.
    pub(crate) fn print(&self, event: &Event, json: bool) {
        if !(self.interactive && matches!(event, Event::TrustDecisionRequired { .. })) {
            print_event(event, json);
        }
    }

    /// Decides about `server`'s certificate (asking if interactive) and hands the decision to
    /// the phone. `Err(code)` when the decision could not be applied.
    pub(crate) async fn decide(
        &self,
        phone: &Phone,
        server: &str,
        certificate: &CertificateSummary,
    ) -> Result<TrustDecision, u8> {
        let decision = if self.interactive {
            let question = question(server, certificate);
            tokio::task::spawn_blocking(move || ask(&question))
                .await
                .unwrap_or(TrustDecision::Cancel)
        } else {
            eprintln!(
                "lockphone: not trusting the certificate of {server} (no terminal to ask; policy tls.untrusted = \"refuse\"); to trust it, pin its sha256 {} in tls.pinned_sha256 or import it with `lockphone trust import`",
                certificate.sha256
            );
            TrustDecision::Cancel
        };
        match phone.decide_trust(server, decision) {
            Ok(()) => Ok(decision),
            Err(e) => Err(fail(&e.to_string(), EXIT_TLS)),
        }
    }
}

/// The certificate as the question shows it.
fn question(server: &str, c: &CertificateSummary) -> String {
    format!(
        "\nThe certificate of {server} is not trusted: {}{}\n[A]lways trust / [C]ontinue / Cancel? ",
        c.reason,
        certificate_lines(c)
    )
}

/// Shows the question on stderr and reads the answer from stdin (Cancel on anything else).
fn ask(question: &str) -> TrustDecision {
    let mut err = std::io::stderr().lock();
    let _ = err
        .write_all(question.as_bytes())
        .and_then(|()| err.flush());
    drop(err);
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return TrustDecision::Cancel;
    }
    let decision = parse_answer(&line);
    eprintln!(
        "lockphone: {}",
        match decision {
            TrustDecision::AlwaysTrust => "trusting this certificate from now on",
            TrustDecision::Continue => "trusting this certificate for this run only",
            TrustDecision::Cancel => "not trusting this certificate",
        }
    );
    decision
}

/// `a`/`always` → Always trust, `c`/`continue` → Continue, anything else → Cancel.
fn parse_answer(line: &str) -> TrustDecision {
    match line.trim().to_ascii_lowercase().as_str() {
        "a" | "always" | "always trust" => TrustDecision::AlwaysTrust,
        "c" | "continue" => TrustDecision::Continue,
        _ => TrustDecision::Cancel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_decisions_and_anything_else_cancels() {
        assert_eq!(parse_answer("A\n"), TrustDecision::AlwaysTrust);
        assert_eq!(parse_answer(" always "), TrustDecision::AlwaysTrust);
        assert_eq!(parse_answer("c"), TrustDecision::Continue);
        assert_eq!(parse_answer("Continue\n"), TrustDecision::Continue);
        assert_eq!(parse_answer("cancel"), TrustDecision::Cancel);
        assert_eq!(parse_answer("\n"), TrustDecision::Cancel);
        assert_eq!(parse_answer("yes"), TrustDecision::Cancel);
    }

    #[test]
    fn the_question_shows_the_certificate_as_events_do() {
        let certificate = CertificateSummary {
            subject: "CN=sip.example.test".to_owned(),
            issuer: "CN=Example CA".to_owned(),
            not_before: "Jan 1 2025".to_owned(),
            not_after: "Jan 1 2026".to_owned(),
            sha256: "AB:CD".to_owned(),
            subject_alt_names: Vec::new(),
            reason: "unknown issuer".to_owned(),
        };
        assert_eq!(
            question("sip.example.test", &certificate),
            "\nThe certificate of sip.example.test is not trusted: unknown issuer\n  \
             subject  CN=sip.example.test\n  issuer   CN=Example CA\n  \
             valid    Jan 1 2025 .. Jan 1 2026\n  names    (none)\n  sha256   AB:CD\n\
             [A]lways trust / [C]ontinue / Cancel? "
        );
    }
}
