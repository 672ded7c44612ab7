//! Call quality estimated with a simplified ITU-T G.107 E-model.
//!
//! ```text
//! R   = 93.2 − Id − Ie,eff
//! Id  = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)          (d: one-way mouth-to-ear delay, ms)
//! Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl)     (Ppl: packet loss, %)
//! MOS = 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶           (0 < R < 100; 1 below, 4.5 above)
//! ```
//!
//! * 93.2 is G.107's R0 − Is with every other parameter at its default (no echo, no noise,
//!   no advantage factor).
//! * Id is the Cole–Rosenbluth (2001) linear fit of G.107's delay impairment, accurate for
//!   a well-cancelled echo path; H is the step function.
//! * Ie,eff is G.107 §7.5 exactly; BurstR = 1 is random loss, larger values burstier loss.
//! * The MOS mapping is G.107 Annex B.
//!
//! Codec constants ([`CodecImpairment`]): G.711 is Ie = 0, Bpl = 25.1 (ITU-T G.113 Appendix I,
//! G.711 with packet-loss concealment; our repeat-and-fade concealment is simpler than
//! G.711 Appendix I, so losses are judged a little kindly). Opus has no G.113 entry; on this
//! narrow-band scale it is taken as transparent at voice bitrates (Ie = 0) with Bpl = 30,
//! an assumption reflecting that its PLC and in-band FEC conceal better than G.711's.

use std::time::Duration;

use crate::codec::Codec;

/// G.107's basic signal-to-noise ratio minus simultaneous impairments at default settings.
const R_BASE: f64 = 93.2;

/// How a codec degrades quality: equipment impairment and robustness to loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodecImpairment {
    /// Equipment impairment factor Ie.
    pub ie: f64,
    /// Packet-loss robustness factor Bpl.
    pub bpl: f64,
}

impl CodecImpairment {
    /// The constants used for `codec` (see the module documentation).
    pub fn for_codec(codec: Codec) -> Self {
        match codec {
            Codec::Pcmu | Codec::Pcma => Self { ie: 0.0, bpl: 25.1 },
            Codec::Opus => Self { ie: 0.0, bpl: 30.0 },
        }
    }
}

/// The R factor for a one-way `delay`, a packet-loss `loss` fraction (0–1), loss burstiness
/// `burst_ratio` (1 = random) and codec constants.
pub fn r_factor(delay: Duration, loss: f64, burst_ratio: f64, codec: CodecImpairment) -> f64 {
    let d = delay.as_secs_f64() * 1000.0;
    let id = 0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 };
    let ppl = if loss.is_finite() {
        loss.clamp(0.0, 1.0) * 100.0
    } else {
        0.0
    };
    let burst = if burst_ratio.is_finite() {
        burst_ratio.max(1.0)
    } else {
        1.0
    };
    let ie_eff = codec.ie + (95.0 - codec.ie) * ppl / (ppl / burst + codec.bpl);
    R_BASE - id - ie_eff
}

/// The mean opinion score (1–4.5) for an R factor (G.107 Annex B).
pub fn mos_from_r(r: f64) -> f64 {
    if r.is_nan() || r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7.0e-6
    }
}

/// The estimated MOS for `codec` at a one-way `delay` and `loss` fraction (random loss).
pub fn estimate_mos(codec: Codec, delay: Duration, loss: f64) -> f64 {
    mos_from_r(r_factor(
        delay,
        loss,
        1.0,
        CodecImpairment::for_codec(codec),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn known_points() {
        // The best the narrow-band model gives: R = 93.2 → MOS 4.41.
        assert!((mos_from_r(93.2) - 4.41).abs() < 0.005);
        assert_eq!(mos_from_r(-5.0), 1.0);
        assert_eq!(mos_from_r(120.0), 4.5);
        // R = 50 is "nearly all users dissatisfied": MOS 2.58.
        assert!((mos_from_r(50.0) - 2.575).abs() < 0.001);
        // G.711 with no loss and a LAN delay: ≈ 4.4.
        let g711 = estimate_mos(Codec::Pcmu, 40 * MS, 0.0);
        assert!((g711 - 4.4).abs() < 0.03, "{g711}");
        assert!(estimate_mos(Codec::Opus, 60 * MS, 0.0) >= 4.0);
        // G.107 §7.5 by hand: G.711, 2 % loss → Ie,eff = 95·2/(2+25.1) = 7.01.
        let r = r_factor(
            Duration::ZERO,
            0.02,
            1.0,
            CodecImpairment::for_codec(Codec::Pcma),
        );
        assert!((r - (93.2 - 7.011)).abs() < 0.01, "{r}");
        // Delay knee: 300 ms one way costs 0.024·300 + 0.11·122.7 = 20.7.
        let r = r_factor(300 * MS, 0.0, 1.0, CodecImpairment::for_codec(Codec::Pcmu));
        assert!((r - (93.2 - 20.697)).abs() < 0.01, "{r}");
    }

    #[test]
    fn monotonic_in_delay_and_loss_and_burstiness() {
        for codec in [Codec::Pcmu, Codec::Opus] {
            let mut last = f64::INFINITY;
            for ms in (0..600).step_by(10) {
                let m = estimate_mos(codec, ms * MS, 0.01);
                assert!(m <= last, "delay {ms} ms");
                last = m;
            }
            let mut last = f64::INFINITY;
            for pct in 0..=50 {
                let m = estimate_mos(codec, 50 * MS, f64::from(pct) / 100.0);
                assert!(m < last, "loss {pct} %");
                last = m;
            }
        }
        let c = CodecImpairment::for_codec(Codec::Pcmu);
        let random = r_factor(50 * MS, 0.05, 1.0, c);
        let bursty = r_factor(50 * MS, 0.05, 3.0, c);
        assert!(bursty < random);
    }

    #[test]
    fn garbage_inputs_stay_in_range() {
        for loss in [f64::NAN, -1.0, 2.0, f64::INFINITY] {
            let m = estimate_mos(Codec::Opus, Duration::from_secs(100), loss);
            assert!((1.0..=4.5).contains(&m));
        }
        assert_eq!(mos_from_r(f64::NAN), 1.0);
    }
}
