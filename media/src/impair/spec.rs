//! The impairment spec string: `loss=5%,burst=3,jitter=20ms,delay=40ms,reorder=1%,dup=0.5%,seed=42`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;

/// What a network does to packets, as parsed from a spec string.
///
/// | key | value | meaning |
/// |---|---|---|
/// | `loss` | `5%` or `0.05` | share of packets lost |
/// | `burst` | number ≥ 1 | mean loss burst length (Gilbert–Elliott); absent = independent loss |
/// | `jitter` | `20ms`, `0.02s`, `500us` | each packet gets a random extra delay in `[0, jitter]` |
/// | `delay` | duration | fixed one-way delay |
/// | `reorder` | percentage | share of packets held back behind the next one |
/// | `dup` | percentage | share of packets delivered twice |
/// | `seed` | integer | random seed (default 0) |
///
/// ```
/// use std::time::Duration;
/// use lockphone_media::impair::ImpairmentSpec;
///
/// let spec: ImpairmentSpec = "loss=5%,burst=3,jitter=20ms,reorder=1%,dup=0.5%,seed=42".parse().unwrap();
/// assert_eq!(spec.loss, 0.05);
/// assert_eq!(spec.jitter, Duration::from_millis(20));
/// assert!("loss=5".parse::<ImpairmentSpec>().is_err()); // 5 what? say 5% or 0.05
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImpairmentSpec {
    /// Share of packets lost (0–1).
    pub loss: f64,
    /// Mean length of a loss burst; `None` for independent losses.
    pub burst: Option<f64>,
    /// Largest random extra delay.
    pub jitter: Duration,
    /// Fixed delay.
    pub delay: Duration,
    /// Share of packets held back behind the next one (0–1).
    pub reorder: f64,
    /// Share of packets delivered twice (0–1).
    pub duplicate: f64,
    /// Seed of the random generator.
    pub seed: u64,
}

/// Why a spec string was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SpecError {
    /// An item is not `key=value`.
    #[error("impairment item {item:?} is not key=value")]
    NotKeyValue {
        /// The item.
        item: String,
    },
    /// The key is not one of loss, burst, jitter, delay, reorder, dup, seed.
    #[error("unknown impairment {key:?} (known: loss, burst, jitter, delay, reorder, dup, seed)")]
    UnknownKey {
        /// The key.
        key: String,
    },
    /// The same key twice.
    #[error("impairment {key:?} given twice")]
    Repeated {
        /// The key.
        key: String,
    },
    /// The value does not parse or is out of range.
    #[error("impairment {key}={value:?}: {reason}")]
    BadValue {
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
}

fn bad(key: &str, value: &str, reason: &'static str) -> SpecError {
    SpecError::BadValue {
        key: key.to_owned(),
        value: value.to_owned(),
        reason,
    }
}

fn share(key: &str, value: &str) -> Result<f64, SpecError> {
    let parsed = match value.strip_suffix('%') {
        Some(pct) => pct.trim().parse::<f64>().map(|p| p / 100.0),
        None => match value.parse::<f64>() {
            Ok(f) if f > 1.0 => {
                return Err(bad(
                    key,
                    value,
                    "write a percentage (5%) or a fraction (0.05)",
                ));
            }
            other => other,
        },
    };
    match parsed {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        Ok(_) => Err(bad(key, value, "must be between 0% and 100%")),
        Err(_) => Err(bad(key, value, "not a number")),
    }
}

fn duration(key: &str, value: &str) -> Result<Duration, SpecError> {
    let (number, scale) = if let Some(n) = value.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = value.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = value.strip_suffix('s') {
        (n, 1.0)
    } else {
        return Err(bad(key, value, "needs a unit: ms, s or us"));
    };
    match number.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && (0.0..=60.0).contains(&(n * scale)) => {
            Ok(Duration::from_secs_f64(n * scale))
        }
        Ok(_) => Err(bad(key, value, "must be between 0 and 60 s")),
        Err(_) => Err(bad(key, value, "not a number")),
    }
}

impl FromStr for ImpairmentSpec {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut spec = ImpairmentSpec::default();
        let mut seen: Vec<&str> = Vec::new();
        let trimmed = s.trim();
        if trimmed.is_empty() || trimmed == "none" {
            return Ok(spec);
        }
        for item in trimmed.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let Some((key, value)) = item.split_once('=') else {
                return Err(SpecError::NotKeyValue {
                    item: item.to_owned(),
                });
            };
            let (key, value) = (key.trim(), value.trim());
            let key = if key == "duplicate" { "dup" } else { key };
            if seen.contains(&key) {
                return Err(SpecError::Repeated {
                    key: key.to_owned(),
                });
            }
            match key {
                "loss" => spec.loss = share(key, value)?,
                "reorder" => spec.reorder = share(key, value)?,
                "dup" => spec.duplicate = share(key, value)?,
                "jitter" => spec.jitter = duration(key, value)?,
                "delay" => spec.delay = duration(key, value)?,
                "burst" => match value.parse::<f64>() {
                    Ok(b) if b.is_finite() && b >= 1.0 => spec.burst = Some(b),
                    Ok(_) => return Err(bad(key, value, "mean burst length must be at least 1")),
                    Err(_) => return Err(bad(key, value, "not a number")),
                },
                "seed" => {
                    spec.seed = value
                        .parse()
                        .map_err(|_| bad(key, value, "not an unsigned integer"))?;
                }
                _ => {
                    return Err(SpecError::UnknownKey {
                        key: key.to_owned(),
                    });
                }
            }
            seen.push(key);
        }
        spec.validate()?;
        Ok(spec)
    }
}

impl ImpairmentSpec {
    /// Checks that the loss and burst length can be reached by a Gilbert–Elliott chain.
    pub fn validate(&self) -> Result<(), SpecError> {
        if let Some(burst) = self.burst {
            // The good → bad transition probability, loss / (burst · (1 − loss)), must be ≤ 1.
            if self.loss < 1.0 && self.loss / (burst * (1.0 - self.loss)) > 1.0 {
                return Err(bad(
                    "burst",
                    &burst.to_string(),
                    "too short for this loss rate: make bursts longer or loss smaller",
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for ImpairmentSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "loss={}%", self.loss * 100.0)?;
        if let Some(b) = self.burst {
            write!(f, ",burst={b}")?;
        }
        write!(
            f,
            ",jitter={}ms,delay={}ms,reorder={}%,dup={}%,seed={}",
            self.jitter.as_secs_f64() * 1000.0,
            self.delay.as_secs_f64() * 1000.0,
            self.reorder * 100.0,
            self.duplicate * 100.0,
            self.seed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn parses_the_full_example() {
        let s: ImpairmentSpec = "loss=5%,burst=3,jitter=20ms,reorder=1%,dup=0.5%,seed=42"
            .parse()
            .unwrap();
        assert_eq!(
            s,
            ImpairmentSpec {
                loss: 0.05,
                burst: Some(3.0),
                jitter: 20 * MS,
                delay: Duration::ZERO,
                reorder: 0.01,
                duplicate: 0.005,
                seed: 42,
            }
        );
        // Display round-trips.
        assert_eq!(s.to_string().parse::<ImpairmentSpec>().unwrap(), s);
    }

    #[test]
    fn units_and_forms() {
        let s: ImpairmentSpec = " loss = 0.1 , delay=0.5s, jitter=1500us, duplicate=2% "
            .parse()
            .unwrap();
        assert_eq!(s.loss, 0.1);
        assert_eq!(s.delay, 500 * MS);
        assert_eq!(s.jitter, Duration::from_micros(1500));
        assert_eq!(s.duplicate, 0.02);
        assert_eq!(
            "".parse::<ImpairmentSpec>().unwrap(),
            ImpairmentSpec::default()
        );
        assert_eq!(
            "none".parse::<ImpairmentSpec>().unwrap(),
            ImpairmentSpec::default()
        );
    }

    #[test]
    fn clear_errors() {
        let err = |s: &str| s.parse::<ImpairmentSpec>().unwrap_err().to_string();
        assert!(err("loss=5").contains("percentage"));
        assert!(err("loss=150%").contains("between 0% and 100%"));
        assert!(err("jitter=20").contains("unit"));
        assert!(err("jitter=abcms").contains("not a number"));
        assert!(err("wobble=3").contains("unknown impairment \"wobble\""));
        assert!(err("loss").contains("not key=value"));
        assert!(err("loss=1%,loss=2%").contains("twice"));
        assert!(err("burst=0.5").contains("at least 1"));
        assert!(err("seed=-1").contains("unsigned"));
        assert!(err("loss=90%,burst=1").contains("too short"));
    }
}
