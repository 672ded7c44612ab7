//! The sliding replay window of RFC 3711 §3.3.2, 128 packets wide, over a 48-bit SRTP index
//! or a 31-bit SRTCP index.

/// Width of every replay window.
pub(crate) const WINDOW: u64 = 128;

/// Why an index is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replayed {
    /// The index was already accepted.
    Duplicate,
    /// The index is older than the window.
    TooOld,
}

/// Replay state: the highest accepted index and a bitmap of the 128 below and at it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReplayWindow {
    top: Option<u64>,
    seen: u128,
}

impl ReplayWindow {
    /// Highest index accepted so far.
    #[cfg(test)]
    pub(crate) fn top(&self) -> Option<u64> {
        self.top
    }

    /// Checks `index` without recording it (done before authentication).
    pub(crate) fn check(&self, index: u64) -> Result<(), Replayed> {
        let Some(top) = self.top else { return Ok(()) };
        if index > top {
            return Ok(());
        }
        let age = top - index;
        if age >= WINDOW {
            Err(Replayed::TooOld)
        } else if self.seen >> age & 1 == 1 {
            Err(Replayed::Duplicate)
        } else {
            Ok(())
        }
    }

    /// Records `index` (after authentication).
    pub(crate) fn accept(&mut self, index: u64) {
        match self.top {
            Some(top) if index <= top => {
                let age = top - index;
                if age < WINDOW {
                    self.seen |= 1 << age;
                }
            }
            Some(top) => {
                let shift = index - top;
                self.seen = if shift >= WINDOW {
                    0
                } else {
                    self.seen << shift
                };
                self.seen |= 1;
                self.top = Some(index);
            }
            None => {
                self.seen = 1;
                self.top = Some(index);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_accepts_late_and_rejects_duplicates_and_old() {
        let mut w = ReplayWindow::default();
        assert_eq!(w.check(1000), Ok(()));
        w.accept(1000);
        assert_eq!(w.check(1000), Err(Replayed::Duplicate));
        assert_eq!(w.check(999), Ok(()));
        w.accept(999);
        assert_eq!(w.check(999), Err(Replayed::Duplicate));
        assert_eq!(w.check(1000 - 127), Ok(()));
        assert_eq!(w.check(1000 - 128), Err(Replayed::TooOld));
        w.accept(1200);
        assert_eq!(w.top(), Some(1200));
        assert_eq!(w.check(1073), Ok(()));
        assert_eq!(w.check(1072), Err(Replayed::TooOld));
        w.accept(1300);
        assert_eq!(w.check(1200), Err(Replayed::Duplicate));
        assert_eq!(w.check(1201), Ok(()));
        w.accept(1_000_000);
        assert_eq!(w.check(1_000_000 - 1), Ok(()));
    }

    #[test]
    fn index_zero_is_usable() {
        let mut w = ReplayWindow::default();
        w.accept(0);
        assert_eq!(w.check(0), Err(Replayed::Duplicate));
        assert_eq!(w.check(1), Ok(()));
    }
}
