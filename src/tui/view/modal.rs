//! The windows over the main screen: incoming call, trust prompt, directory results, login,
//! audio devices, help.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use crate::tui::state::{App, CallView, Modal, TrustPrompt};

/// A centred rectangle of at most `width` × `height` inside `area`.
fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}

fn window(frame: &mut Frame<'_>, area: Rect, title: &str, lines: Vec<Line<'_>>) {
    let width = area.width.min(76);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    // Rows once wrapped (words may wrap a little earlier: one spare row).
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
    let height = u16::try_from(rows + 3).unwrap_or(u16::MAX);
    let rect = centred(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .title(Span::styled(
            format!(" {title} "),
            Style::new().add_modifier(Modifier::BOLD),
        ));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

fn bold(text: String) -> Span<'static> {
    Span::styled(text, Style::new().add_modifier(Modifier::BOLD))
}

/// Draws the modal window, or the incoming-call popup, if any.
pub(super) fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    match &app.modal {
        Some(Modal::Trust(prompt)) => trust(frame, area, prompt, app.fips),
        Some(Modal::Results {
            query,
            hits,
            selected,
        }) => {
            let mut lines: Vec<Line<'_>> = hits
                .iter()
                .enumerate()
                .map(|(i, hit)| {
                    let text = format!(
                        "{} {}  <{}>{}",
                        if i == *selected { "▶" } else { " " },
                        hit.name,
                        hit.sip_uri,
                        hit.phone
                            .as_deref()
                            .map(|p| format!("  ☎ {p}"))
                            .unwrap_or_default()
                    );
                    if i == *selected {
                        Line::from(Span::styled(
                            text,
                            Style::new().add_modifier(Modifier::REVERSED),
                        ))
                    } else {
                        Line::from(text)
                    }
                })
                .collect();
            if hits.is_empty() {
                lines.push(Line::from("Nobody found."));
            }
            window(frame, area, &format!("Directory: {query}"), lines);
        }
        Some(Modal::Login(view)) => {
            let lines = view.lines.iter().map(|l| Line::from(l.clone())).collect();
            window(frame, area, "OAuth login", lines);
        }
        Some(Modal::Devices { devices, selected }) => {
            let mut names: Vec<String> = match devices {
                None => vec!["listing the sound cards…".to_owned()],
                Some(list) => list
                    .iter()
                    .map(|d| format!("{}{}", d.name, if d.default { " (default)" } else { "" }))
                    .collect(),
            };
            if devices.is_some() {
                names.push("test tone (no sound card)".to_owned());
                names.push("silence (no sound card)".to_owned());
            }
            let lines = names
                .into_iter()
                .enumerate()
                .map(|(i, name)| {
                    if i == *selected && devices.is_some() {
                        Line::from(Span::styled(
                            format!("▶ {name}"),
                            Style::new().add_modifier(Modifier::REVERSED),
                        ))
                    } else {
                        Line::from(format!("  {name}"))
                    }
                })
                .collect();
            window(frame, area, "Audio for the next calls", lines);
        }
        Some(Modal::Help) => window(frame, area, "Keys", help_lines()),
        None => {
            if let Some(call) = app.ringing() {
                incoming(frame, area, call);
            }
        }
    }
}

fn incoming(frame: &mut Frame<'_>, area: Rect, call: &CallView) {
    let verified = call
        .signalling
        .as_ref()
        .is_some_and(|s| s.is_verified_tls());
    let lines = vec![
        Line::from(vec![Span::raw("From  "), bold(call.peer.clone())]),
        Line::from(if verified {
            "over TLS, caller's certificate verified"
        } else {
            "caller NOT verified"
        }),
        Line::from(""),
        Line::from("[a] Answer   [m] Answer muted   [r] Reject"),
    ];
    window(frame, area, "☎ Incoming call", lines);
}

fn trust(frame: &mut Frame<'_>, area: Rect, prompt: &TrustPrompt, fips: bool) {
    let c = &prompt.certificate;
    let field =
        |name: &str, value: String| Line::from(vec![bold(format!("{name:<9}")), Span::raw(value)]);
    let mut lines = vec![
        Line::from(format!(
            "The certificate of {} is not trusted automatically.",
            prompt.server
        )),
        field("Reason", c.reason.clone()),
        field("Subject", c.subject.clone()),
        field("Issuer", c.issuer.clone()),
        field("Valid", format!("{} .. {}", c.not_before, c.not_after)),
        field("Names", c.subject_alt_names.join(", ")),
        field("SHA-256", fingerprint_half(&c.sha256, 0)),
        field("", fingerprint_half(&c.sha256, 1)),
        Line::from(""),
    ];
    if fips {
        lines.push(Line::from(
            "FIPS mode: an untrusted certificate cannot be accepted.",
        ));
        lines.push(Line::from("[n/Esc] Cancel"));
    } else {
        lines.push(Line::from(
            "[a] Always trust   [c] Continue (this session)   [n/Esc] Cancel",
        ));
    }
    window(frame, area, "⚠ Untrusted server certificate", lines);
}

/// Half `half` (0 or 1) of a colon-separated fingerprint, so that it fits in two rows.
fn fingerprint_half(sha256: &str, half: usize) -> String {
    let bytes: Vec<&str> = sha256.split(':').collect();
    let middle = bytes.len().div_ceil(2);
    let part = if half == 0 {
        &bytes[..middle]
    } else {
        &bytes[middle..]
    };
    part.join(":")
}

fn help_lines() -> Vec<Line<'static>> {
    [
        "d  dial (Tab completes from history and directory, ↑↓ history)",
        "/  search the directory, Enter dials the highlighted contact",
        "h  hang up     o  hold/resume     m  mute/unmute",
        "k  DTMF keypad (0-9 * # A-D, Esc leaves)     t  blind transfer",
        "r  show/hide why the call has its security level",
        "Tab  next call     Esc  dismiss the downgrade alarm",
        "l  OAuth login     a  audio devices     g  register again",
        "q or Ctrl-C  quit (hangs up every call)",
        "Incoming call: a answer, m answer muted, r reject",
    ]
    .into_iter()
    .map(Line::from)
    .collect()
}
