//! NTP timestamps (RFC 3550 §4) and the round-trip time of RFC 3550 §6.4.1. Time is passed in.

use std::time::{Duration, SystemTime};

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// A 64-bit NTP timestamp: seconds since 1900 in the high 32 bits, fraction in the low 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NtpTime(pub u64);

impl NtpTime {
    /// The NTP timestamp of a wallclock time (times before 1970 map to the Unix epoch).
    pub fn from_system_time(time: SystemTime) -> Self {
        let since_unix = time
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        Self::from_unix(since_unix)
    }

    /// The NTP timestamp of a time given as a duration since the Unix epoch.
    pub fn from_unix(since_unix: Duration) -> Self {
        let seconds = since_unix.as_secs().wrapping_add(NTP_UNIX_OFFSET);
        let fraction = (u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000;
        Self(seconds << 32 | fraction)
    }

    /// The middle 32 bits (16.16 seconds), as carried in LSR.
    pub fn middle32(self) -> u32 {
        (self.0 >> 16) as u32
    }
}

/// A duration in 1/65536 s (the unit of DLSR), saturating at `u32::MAX`.
pub fn duration_to_ntp_short(duration: Duration) -> u32 {
    let units = duration.as_nanos().saturating_mul(65_536) / 1_000_000_000;
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// A 16.16 NTP short value as a duration.
pub fn ntp_short_to_duration(short: u32) -> Duration {
    Duration::from_nanos(u64::from(short) * 1_000_000_000 / 65_536)
}

/// Round-trip time from a report block: `now − LSR − DLSR`, all in 16.16 NTP units with
/// `now_ntp_middle32` the arrival time of the report. `None` when no SR was reported
/// (LSR = 0) or the result would be negative (clock trouble).
pub fn rtt(now_ntp_middle32: u32, lsr: u32, dlsr: u32) -> Option<Duration> {
    if lsr == 0 {
        return None;
    }
    let rtt = now_ntp_middle32.wrapping_sub(lsr).wrapping_sub(dlsr);
    // A "negative" wrapped value has the top bit set (more than 9 hours is not an RTT).
    (rtt < 0x8000_0000).then(|| ntp_short_to_duration(rtt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_epoch_and_fractions() {
        assert_eq!(NtpTime::from_unix(Duration::ZERO).0 >> 32, NTP_UNIX_OFFSET);
        let half = NtpTime::from_unix(Duration::from_millis(1500));
        assert_eq!(half.0 & 0xffff_ffff, 0x8000_0000);
        assert_eq!(half.middle32() & 0xffff, 0x8000);
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(10);
        assert_eq!(NtpTime::from_system_time(t).0 >> 32, NTP_UNIX_OFFSET + 10);
    }

    /// The worked example of RFC 3550 §6.4.1 (Figure 2): RTT = 0xb8a0 - 0xb7a0 ... in the
    /// spirit of the figure: A = 46864.500, LSR = 46853.125, DLSR = 5.250 → 6.125 s.
    #[test]
    fn rtt_from_report_block() {
        let a = (46_864 << 16) | 0x8000;
        let lsr = (46_853 << 16) | 0x2000;
        let dlsr = (5 << 16) | 0x4000;
        assert_eq!(rtt(a, lsr, dlsr), Some(Duration::from_millis(6125)));
        assert_eq!(rtt(a, 0, dlsr), None);
        assert_eq!(rtt(lsr, a, dlsr), None);
        assert_eq!(duration_to_ntp_short(Duration::from_millis(5250)), dlsr);
        assert_eq!(ntp_short_to_duration(dlsr), Duration::from_millis(5250));
    }
}
