//! Session timers (RFC 4028): who refreshes the session, when, and when a session nobody
//! refreshed is over.

use std::time::{Duration, Instant};

use super::Call;
use super::EndReason;
use crate::message::{HeaderName, Headers, Method, Request, Response};

/// Session timer settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTimerConfig {
    /// Whether we ask for session timers and honour the far end's.
    pub enabled: bool,
    /// The interval we ask for (`Session-Expires`, 1800 s by default).
    pub interval: Duration,
    /// The smallest interval we accept (`Min-SE`, 90 s by default).
    pub min_interval: Duration,
}

impl Default for SessionTimerConfig {
    fn default() -> SessionTimerConfig {
        SessionTimerConfig {
            enabled: true,
            interval: Duration::from_secs(1800),
            min_interval: Duration::from_secs(90),
        }
    }
}

/// What the timer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimerAction {
    /// We are the refresher and half the interval has passed.
    Refresh,
    /// The far end should have refreshed and did not.
    Expired,
}

#[derive(Debug, Clone, Copy)]
struct Active {
    interval: Duration,
    we_refresh: bool,
    since: Instant,
}

/// The negotiated session timer of one call.
#[derive(Debug, Clone)]
pub(super) struct SessionTimer {
    config: SessionTimerConfig,
    active: Option<Active>,
}

/// `Session-Expires: N;refresher=uac|uas` read from headers.
fn session_expires(headers: &Headers) -> Option<(Duration, Option<bool>)> {
    let value = headers.get(&HeaderName::SessionExpires)?;
    let mut parts = value.split(';');
    let seconds: u64 = parts.next()?.trim().parse().ok()?;
    let refresher_uac = parts.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("refresher") {
            return None;
        }
        match value.trim().to_ascii_lowercase().as_str() {
            "uac" => Some(true),
            "uas" => Some(false),
            _ => None,
        }
    });
    Some((Duration::from_secs(seconds.max(1)), refresher_uac))
}

fn supports_timer(headers: &Headers) -> bool {
    headers
        .get_all(&HeaderName::Supported)
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim().eq_ignore_ascii_case("timer"))
}

impl SessionTimer {
    pub(super) fn new(config: SessionTimerConfig, _now: Instant) -> SessionTimer {
        SessionTimer {
            config,
            active: None,
        }
    }

    /// A 2xx answered a request we sent (we were its UAC).
    pub(super) fn on_answer(&mut self, now: Instant, response: &Response) {
        if !self.config.enabled {
            return;
        }
        match session_expires(&response.headers) {
            Some((interval, refresher_uac)) => {
                self.active = Some(Active {
                    interval,
                    we_refresh: refresher_uac.unwrap_or(true),
                    since: now,
                });
            }
            None => self.active = None,
        }
    }

    /// We answer `request` (as its UAS) with `ok`: agree on the interval and refresher and
    /// put them in the 2xx.
    pub(super) fn on_request(&mut self, now: Instant, request: &Request, ok: &mut Response) {
        if !self.config.enabled {
            return;
        }
        let Some((asked, refresher_uac)) = session_expires(&request.headers) else {
            if request.method == Method::Invite {
                self.active = None;
            } else if let Some(active) = &mut self.active {
                active.since = now;
            }
            return;
        };
        let interval = asked.max(self.config.min_interval);
        let uac_refreshes = refresher_uac.unwrap_or_else(|| supports_timer(&request.headers));
        let refresher = if uac_refreshes { "uac" } else { "uas" };
        ok.headers.set(
            HeaderName::SessionExpires,
            format!("{};refresher={refresher}", interval.as_secs()),
        );
        if uac_refreshes {
            ok.headers.set(HeaderName::Require, "timer");
        }
        self.active = Some(Active {
            interval,
            we_refresh: !uac_refreshes,
            since: now,
        });
    }

    /// Adds `Session-Expires` to a refresh or re-offer of ours.
    pub(super) fn decorate_refresh(&self, headers: &mut Headers) {
        if let Some(active) = &self.active {
            let refresher = if active.we_refresh { "uac" } else { "uas" };
            headers.set(
                HeaderName::SessionExpires,
                format!("{};refresher={refresher}", active.interval.as_secs()),
            );
        }
    }

    /// A refresh of ours went out: do not ask for another until it is answered.
    pub(super) fn on_refresh_sent(&mut self, now: Instant) {
        if let Some(active) = &mut self.active
            && active.we_refresh
        {
            active.since = now;
        }
    }

    pub(super) fn stop(&mut self) {
        self.active = None;
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        let active = self.active?;
        Some(if active.we_refresh {
            active.since + active.interval / 2
        } else {
            let margin = (active.interval / 3).min(Duration::from_secs(32));
            active.since + active.interval - margin
        })
    }

    pub(super) fn due(&mut self, now: Instant) -> Option<TimerAction> {
        let at = self.poll_timeout()?;
        if at > now {
            return None;
        }
        let active = self.active.as_mut()?;
        if active.we_refresh {
            active.since = now;
            Some(TimerAction::Refresh)
        } else {
            self.active = None;
            Some(TimerAction::Expired)
        }
    }
}

impl Call {
    pub(super) fn session_timer_due(&mut self, now: Instant) {
        match self.timer.due(now) {
            Some(TimerAction::Refresh) => {
                if self.state != super::CallState::Confirmed || self.reoffer.is_some() {
                    return;
                }
                if self.peer_allows_update {
                    self.send_reoffer(now, Method::Update, Vec::new(), true);
                } else {
                    let sdp = self.local_sdp.clone();
                    self.send_reoffer(now, Method::Invite, sdp, true);
                }
            }
            Some(TimerAction::Expired) => self.send_bye(
                now,
                EndReason::Failed {
                    reason: "session timer expired: the far end stopped refreshing the session"
                        .to_owned(),
                },
            ),
            None => {}
        }
    }
}
