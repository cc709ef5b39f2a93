//! Per-controller limits: a request-spacing rate limiter and the source of retry jitter.
//!
//! The limiter hands out start times `1 / requests_per_second` apart; a caller waits for its
//! slot. It is fair (first come, first served), needs no background task, and works with
//! tokio's paused time in tests.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Spaces request starts at least `interval` apart.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// The longest spacing accepted (one request per hour).
    pub(crate) const MAX_INTERVAL: Duration = Duration::from_secs(3600);

    /// `requests_per_second` must be at least one per hour; infinity means no spacing. `None`
    /// if unusable.
    pub(crate) fn new(requests_per_second: f64) -> Option<RateLimiter> {
        if requests_per_second.is_nan() || requests_per_second <= 0.0 {
            return None;
        }
        let interval = Duration::try_from_secs_f64(1.0 / requests_per_second).ok()?;
        if interval > Self::MAX_INTERVAL {
            return None;
        }
        Some(RateLimiter {
            interval,
            next: Mutex::new(None),
        })
    }

    /// Waits for this caller's turn.
    pub(crate) async fn acquire(&self) {
        if self.interval.is_zero() {
            return;
        }
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot.checked_add(self.interval).unwrap_or(slot));
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// A number in `0.0..1.0` for jitter (not for anything secret).
pub(crate) fn random_unit() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() as u64 >> 11;
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_rates_are_refused() {
        assert!(RateLimiter::new(0.0).is_none());
        assert!(RateLimiter::new(-1.0).is_none());
        assert!(RateLimiter::new(f64::NAN).is_none());
        assert!(RateLimiter::new(1e-300).is_none());
        assert!(RateLimiter::new(1.0 / 7200.0).is_none());
        assert!(RateLimiter::new(1.0 / 3600.0).is_some());
        assert!(RateLimiter::new(f64::INFINITY).is_some());
        for _ in 0..100 {
            let r = random_unit();
            assert!((0.0..1.0).contains(&r));
        }
    }

    #[tokio::test]
    async fn requests_are_spaced() {
        let limiter = RateLimiter::new(100.0).unwrap();
        let start = Instant::now();
        for _ in 0..5 {
            limiter.acquire().await;
        }
        // The first goes at once, the next four 10 ms apart.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(40), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(400), "{elapsed:?}");
    }
}
