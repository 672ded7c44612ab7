//! What the benches share: a stopwatch of the thread's own CPU time.

use std::time::{Duration, Instant};

/// Nanoseconds this thread has run on a CPU (`CLOCK_THREAD_CPUTIME_ID`, exact to the
/// nanosecond, unlike `/proc/thread-self/schedstat` which moves by scheduler ticks).
#[cfg(target_os = "linux")]
fn thread_cpu_ns() -> Option<u64> {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    let secs = u64::try_from(t.tv_sec).ok()?;
    let nanos = u64::try_from(t.tv_nsec).ok()?;
    Some(secs * 1_000_000_000 + nanos)
}

/// Not measured elsewhere: wall time is used.
#[cfg(not(target_os = "linux"))]
fn thread_cpu_ns() -> Option<u64> {
    None
}

/// Measures the CPU time of the calling thread where Linux says it, else wall time. On a
/// machine shared with other work the thread is preempted but its CPU time does not grow
/// while it waits, so figures swing far less than wall-clock ones.
pub(crate) struct Stopwatch {
    wall: Instant,
    cpu: Option<u64>,
}

impl Stopwatch {
    /// Starts now.
    #[allow(clippy::disallowed_methods)] // a bench reads the clock
    pub(crate) fn start() -> Self {
        Self {
            cpu: thread_cpu_ns(),
            wall: Instant::now(),
        }
    }

    /// Time since start: CPU time if both readings worked, else wall time.
    pub(crate) fn elapsed(&self) -> Duration {
        match (self.cpu, thread_cpu_ns()) {
            (Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a)),
            _ => self.wall.elapsed(),
        }
    }

    /// What [`Stopwatch::elapsed`] measures.
    pub(crate) fn kind() -> &'static str {
        if thread_cpu_ns().is_some() {
            "thread CPU time"
        } else {
            "wall time"
        }
    }
}
