//! The store's time source: every timestamp the store writes (`created_at`, `updated_at`,
//! `solved_at`, `closed_at`, an event's `at`, …) comes from the [`Clock`] the store was
//! opened with, never from the system directly.
//!
//! [`SystemClock`] is what `kefu serve` uses. [`ManualClock`] stands still until told
//! otherwise: tests freeze time with it, and the demo generator dates its history with it.
//!
//! The trait lives here, not in `kefu-domain`: the domain takes time as an argument
//! (`apply_patch(…, now)`); reading a clock is the adapters' job.
//!
//! Guarantee: a store call reads its clock once, in the calling task, before it starts
//! writing, and stamps everything that call writes with that one value.

use jiff::{SignedDuration, Timestamp};
use std::sync::atomic::{AtomicI64, Ordering};

/// Where the store gets "now" from.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// The current time, truncated to microseconds (the precision the store keeps, so a
    /// value a write returns equals the value read back later).
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        to_micros(Timestamp::now())
    }
}

/// A clock that moves only when [`ManualClock::set`] or [`ManualClock::advance`] moves it.
/// Shared behind an `Arc`: whoever holds it steers every store opened with it.
#[derive(Debug)]
pub struct ManualClock {
    micros: AtomicI64,
}

impl ManualClock {
    /// A clock standing at `t` (truncated to microseconds).
    pub fn new(t: Timestamp) -> ManualClock {
        ManualClock {
            micros: AtomicI64::new(t.as_microsecond()),
        }
    }

    /// Moves the clock to `t`, forwards or backwards.
    pub fn set(&self, t: Timestamp) {
        self.micros.store(t.as_microsecond(), Ordering::SeqCst);
    }

    /// Moves the clock by `by` (negative moves it back).
    ///
    /// # Panics
    /// If the result is outside the range of [`Timestamp`].
    pub fn advance(&self, by: SignedDuration) {
        self.set(self.now() + by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let us = self.micros.load(Ordering::SeqCst);
        Timestamp::from_microsecond(us).expect("ManualClock holds a valid timestamp")
    }
}

fn to_micros(t: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_keeps_microseconds() {
        let t = Timestamp::from_nanosecond(1_767_225_600_123_456_789).unwrap();
        let clock = ManualClock::new(t);
        assert_eq!(clock.now().as_nanosecond(), 1_767_225_600_123_456_000);
        assert_eq!(clock.now(), clock.now());
        clock.advance(SignedDuration::from_hours(1));
        assert_eq!(
            clock.now().as_second(),
            1_767_225_600 + 3600,
            "advanced by an hour"
        );
        clock.set(t);
        assert_eq!(clock.now().as_microsecond(), t.as_microsecond());
    }

    #[test]
    fn the_system_clock_keeps_microseconds() {
        let now = SystemClock.now();
        assert_eq!(now.subsec_nanosecond() % 1000, 0);
    }
}
