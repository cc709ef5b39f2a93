//! Liveness and readiness of the daemon, as `/healthz` and `/readyz` report them.
//!
//! The sync loop reports every cycle start and end here. The process is *alive* while the loop
//! keeps reporting: a cycle running, or the last one finished, less than `stuck_after` ago
//! (twice the interval plus the time the consoles may take). It is *ready* once a cycle has
//! finished (and the database answers, which the handler checks).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::engine::CycleReport;

#[derive(Debug)]
struct State {
    last_beat: Instant,
    running_since: Option<Instant>,
    cycles_finished: u64,
    last_report: Option<Arc<CycleReport>>,
}

#[derive(Debug)]
pub struct Health {
    stuck_after: Duration,
    state: Mutex<State>,
}

impl Health {
    pub fn new(stuck_after: Duration) -> Health {
        Health {
            stuck_after,
            state: Mutex::new(State {
                last_beat: Instant::now(),
                running_since: None,
                cycles_finished: 0,
                last_report: None,
            }),
        }
    }

    /// `2 × interval + 4 × the longest controller timeout` (a read may be retried).
    pub fn stuck_after_for(interval: Duration, longest_timeout: Duration) -> Duration {
        interval * 2 + longest_timeout * 4
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn cycle_started(&self) {
        let mut s = self.lock();
        s.running_since = Some(Instant::now());
        s.last_beat = Instant::now();
    }

    /// A cycle ended (its report when it produced one).
    pub fn cycle_finished(&self, report: Option<Arc<CycleReport>>) {
        let mut s = self.lock();
        s.running_since = None;
        s.last_beat = Instant::now();
        s.cycles_finished += 1;
        if report.is_some() {
            s.last_report = report;
        }
    }

    /// `Err` says why the loop looks stuck.
    pub fn alive(&self) -> Result<(), String> {
        self.alive_at(Instant::now())
    }

    fn alive_at(&self, now: Instant) -> Result<(), String> {
        let s = self.lock();
        let limit = self.stuck_after.as_secs();
        match s.running_since {
            Some(since) if now.saturating_duration_since(since) > self.stuck_after => Err(format!(
                "a sync cycle has been running for {}s (limit {limit}s)",
                now.saturating_duration_since(since).as_secs()
            )),
            None if now.saturating_duration_since(s.last_beat) > self.stuck_after => Err(format!(
                "the sync loop has not run for {}s (limit {limit}s)",
                now.saturating_duration_since(s.last_beat).as_secs()
            )),
            _ => Ok(()),
        }
    }

    /// At least one cycle finished.
    pub fn ready(&self) -> bool {
        self.lock().cycles_finished > 0
    }

    pub fn last_report(&self) -> Option<Arc<CycleReport>> {
        self.lock().last_report.clone()
    }

    pub fn is_running(&self) -> bool {
        self.lock().running_since.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_after_a_cycle_and_stuck_after_the_limit() {
        let limit = Duration::from_secs(60);
        let h = Health::new(limit);
        let later = |by: u64| Instant::now() + Duration::from_secs(by);
        assert!(!h.ready());
        assert!(h.alive_at(later(0)).is_ok());
        h.cycle_started();
        assert!(h.is_running());
        assert!(h.alive_at(later(30)).is_ok());
        assert!(h.alive_at(later(61)).unwrap_err().contains("running for"));
        h.cycle_finished(None);
        assert!(h.ready());
        assert!(h.alive_at(later(30)).is_ok());
        assert!(h.alive_at(later(61)).unwrap_err().contains("has not run"));
        assert_eq!(
            Health::stuck_after_for(Duration::from_secs(300), Duration::from_secs(10)),
            Duration::from_secs(640)
        );
    }
}
