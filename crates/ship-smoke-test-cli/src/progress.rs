//! Showing progress on stderr during the long waits: an updating line on a terminal, and a
//! plain line every few seconds in a CI log (where an updating line would print thousands of
//! frames).

use indicatif::{ProgressBar, ProgressStyle};
use ship_smoke::{format_duration, format_percent, Observer, WatchProgress};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often a CI log gets a line.
const LOG_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    bar: Option<ProgressBar>,
    wait_timeout: Duration,
    last_line: Option<Instant>,
    watching: bool,
}

impl Progress {
    pub fn new(wait_timeout: Duration) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            wait_timeout,
            last_line: None,
            watching: false,
        }
    }

    /// Clears the terminal line before the result is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// A line for the log, unless one was printed less than [`LOG_EVERY`] ago.
    fn log_line(&mut self, line: &str, force: bool) {
        let due = self.last_line.is_none_or(|t| t.elapsed() >= LOG_EVERY);
        if force || due {
            self.last_line = Some(Instant::now());
            let _ = writeln!(ship_actions_runtime::stderr(), "{line}");
        }
    }
}

impl Observer for Progress {
    fn attempt_failed(
        &mut self,
        attempt: u32,
        elapsed: Duration,
        retry_in: Option<Duration>,
        failure: &str,
    ) {
        if self.wait_timeout.is_zero() {
            // A single attempt: the result printed next says it all.
            return;
        }
        let next = match retry_in {
            Some(d) => format!("retrying in {}", format_duration(d)),
            None => "no time left".into(),
        };
        let line = format!(
            "attempt {attempt} failed after {} of {}: {failure} ({next})",
            format_duration(elapsed),
            format_duration(self.wait_timeout)
        );
        match &self.bar {
            // The bar draws straight to the terminal, not through the redacting stderr.
            Some(bar) => bar.set_message(ship_actions_runtime::redact(&line).into_owned()),
            // The first failure always shows, so a misconfiguration is visible at once.
            None => self.log_line(&line, attempt == 1 || retry_in.is_none()),
        }
    }

    fn watch_progress(&mut self, p: &WatchProgress) {
        let window = match (p.window_error_rate, p.window_p95) {
            (Some(r), Some(p95)) => format!(
                "; window: {} errors, p95 {}",
                format_percent(r),
                format_duration(p95)
            ),
            _ => String::new(),
        };
        let stats = format!("{} requests, {} failed{window}", p.requests, p.errors);
        match &self.bar {
            Some(bar) => {
                if !self.watching {
                    self.watching = true;
                    bar.set_style(
                        ProgressStyle::with_template("watching [{bar:30}] {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                    );
                    bar.set_length(p.duration.as_secs().max(1));
                }
                bar.set_position(p.elapsed.as_secs());
                bar.set_message(format!(
                    "{}/{}: {stats}",
                    format_duration(p.elapsed),
                    format_duration(p.duration)
                ));
            }
            None => self.log_line(
                &format!(
                    "watching {}/{}: {stats}",
                    format_duration(p.elapsed),
                    format_duration(p.duration)
                ),
                false,
            ),
        }
    }
}
