//! The emulator's clock: the authorizer cache's deadlines and `$context.requestTime`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The emulator's clock. Cloned handles share one clock, so a test can
/// [`Clock::advance`] it past a TTL instead of sleeping, and [`Clock::starting_at`]
/// pins the wall-clock time requests are stamped with.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicU64>,
    /// The wall-clock time before any advance, when pinned.
    pinned: Option<SystemTime>,
}

impl Clock {
    /// A clock whose wall-clock time is `start` now and then runs only when
    /// [`Clock::advance`]d (for exact `$context.requestTime` values in tests).
    pub fn starting_at(start: SystemTime) -> Self {
        Clock {
            offset_ms: Arc::default(),
            pinned: Some(start),
        }
    }

    /// Now, plus however far the clock has been advanced.
    pub fn now(&self) -> Instant {
        Instant::now() + self.offset()
    }

    /// The wall-clock time: the system's (or the pinned start), plus however far the
    /// clock has been advanced.
    pub fn system_time(&self) -> SystemTime {
        match self.pinned {
            Some(start) => start + self.offset(),
            None => SystemTime::now() + self.offset(),
        }
    }

    /// [`Clock::system_time`] in milliseconds since the Unix epoch.
    pub fn epoch_ms(&self) -> u64 {
        self.system_time()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    fn offset(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_clock_moves_only_when_advanced() {
        let start = UNIX_EPOCH + Duration::from_millis(1_796_162_609_123);
        let clock = Clock::starting_at(start);
        assert_eq!(clock.epoch_ms(), 1_796_162_609_123);
        clock.clone().advance(Duration::from_secs(2));
        assert_eq!(clock.epoch_ms(), 1_796_162_611_123);
    }
}
