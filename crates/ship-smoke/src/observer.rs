//! What a front end is told while checks run and a watch goes on: the [`Observer`] the runner
//! and the watch both call, and the [`WatchProgress`] it receives. Its own module, so that
//! `run` and `watch` both depend on it and not on each other.

use std::time::Duration;

/// Told about progress, so a front end can show it; every method has a silent default.
pub trait Observer {
    /// An attempt of the whole sequence failed; the next starts after `retry_in` (`None`: no
    /// time left).
    fn attempt_failed(
        &mut self,
        _attempt: u32,
        _elapsed: Duration,
        _retry_in: Option<Duration>,
        _failure: &str,
    ) {
    }

    /// Once a second while watching.
    fn watch_progress(&mut self, _progress: &WatchProgress) {}
}

/// An observer that shows nothing.
pub struct Silent;
impl Observer for Silent {}

/// What the watch saw, once a second.
#[derive(Debug, Clone)]
pub struct WatchProgress {
    pub elapsed: Duration,
    pub duration: Duration,
    pub requests: u64,
    pub errors: u64,
    /// Over the rolling window; `None` until a request completed in it.
    pub window_error_rate: Option<f64>,
    pub window_p95: Option<Duration>,
}
