//! Watch mode: after the checks pass, keep probing the safe (GET) checks at a steady rate and
//! fail as soon as the error rate or p95 latency over a rolling window breaks its limit, the
//! way a release policy says "roll back when more than 5 % of requests fail for 5 minutes".

use crate::observer::{Observer, WatchProgress};
use crate::probe::probe;
use crate::run::Runner;
use crate::stats::Histogram;
use crate::template::Vars;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to watch.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// How long to keep probing.
    pub duration: Duration,
    /// The rolling window a breach must fill; at most `duration`.
    pub window: Duration,
    /// Requests started per second.
    pub rps: f64,
    /// Highest acceptable share of failed requests over the window (0.05 = 5 %).
    pub max_error_rate: f64,
    /// Highest acceptable p95 latency over the window.
    pub max_p95: Option<Duration>,
    /// Requests allowed in flight at once; a tick that would exceed it is skipped, so a
    /// hanging service cannot make the watcher pile up connections.
    pub max_in_flight: usize,
}

/// The default window: the whole watch, but no more than 5 minutes (the seed policy's
/// "more than 5 % for 5 minutes").
pub fn default_window(duration: Duration) -> Duration {
    duration.min(Duration::from_secs(300))
}

/// Parses a percentage, `5%` or `5` (a bare number is percent too, so `0.5` is half a
/// percent), into a fraction (0.05).
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let number = t.strip_suffix('%').unwrap_or(t).trim();
    match number.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p / 100.0),
        _ => Err(format!(
            "`{text}` is not a percentage; write e.g. `5%` (a number from 0 to 100)"
        )),
    }
}

/// One row of the per-minute table.
#[derive(Debug, Clone, Serialize)]
pub struct MinuteRow {
    /// 1-based minute of the watch.
    pub minute: u64,
    pub requests: u64,
    pub errors: u64,
    pub error_rate: f64,
    #[serde(serialize_with = "crate::serialize_millis")]
    pub p50: Option<Duration>,
    #[serde(serialize_with = "crate::serialize_millis")]
    pub p95: Option<Duration>,
    #[serde(serialize_with = "crate::serialize_millis")]
    pub max: Option<Duration>,
}

/// The verdict of a watch and what led to it.
#[derive(Debug, Clone, Serialize)]
pub struct WatchReport {
    pub passed: bool,
    /// Why it failed: the threshold that broke, over which window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breach: Option<String>,
    #[serde(serialize_with = "crate::serialize_millis_plain")]
    pub planned: Duration,
    #[serde(serialize_with = "crate::serialize_millis_plain")]
    pub watched: Duration,
    #[serde(serialize_with = "crate::serialize_millis_plain")]
    pub window: Duration,
    pub rps: f64,
    pub max_error_rate: f64,
    #[serde(serialize_with = "crate::serialize_millis")]
    pub max_p95: Option<Duration>,
    /// The checks that were repeated.
    pub checks: Vec<String>,
    pub requests: u64,
    pub errors: u64,
    pub error_rate: f64,
    /// Ticks skipped because `max_in_flight` requests were already waiting.
    pub skipped: u64,
    #[serde(serialize_with = "crate::serialize_millis")]
    pub p50: Option<Duration>,
    #[serde(serialize_with = "crate::serialize_millis")]
    pub p95: Option<Duration>,
    #[serde(serialize_with = "crate::serialize_millis")]
    pub max: Option<Duration>,
    /// The most frequent failure reasons with their counts.
    pub top_errors: Vec<(String, u64)>,
    pub minutes: Vec<MinuteRow>,
}

struct Sample {
    latency: Duration,
    failure: Option<String>,
}

/// Requests that completed within one second of the watch.
struct Second {
    index: u64,
    requests: u64,
    errors: u64,
    /// Latency histogram bucket → count: bounded by the buckets, not by the request rate, so
    /// a 5-minute window at 10,000 requests a second stays small.
    buckets: BTreeMap<u16, u32>,
}

#[derive(Default)]
struct Totals {
    requests: u64,
    errors: u64,
    latency: Histogram,
}

struct Minute {
    totals: Totals,
}

/// The rolling window plus the running totals.
struct Recorder {
    window_secs: u64,
    seconds: VecDeque<Second>,
    window: Totals,
    all: Totals,
    minutes: Vec<Minute>,
    reasons: BTreeMap<String, u64>,
}

/// Distinct failure reasons kept; past this they are counted as "other".
const MAX_REASONS: usize = 20;

impl Recorder {
    fn new(window: Duration) -> Recorder {
        Recorder {
            window_secs: window.as_secs_f64().ceil().max(1.0) as u64,
            seconds: VecDeque::new(),
            window: Totals::default(),
            all: Totals::default(),
            minutes: Vec::new(),
            reasons: BTreeMap::new(),
        }
    }

    fn record(&mut self, at: Duration, sample: Sample) {
        let second = at.as_secs();
        let failed = sample.failure.is_some();
        if self.seconds.back().is_none_or(|s| s.index != second) {
            self.seconds.push_back(Second {
                index: second,
                requests: 0,
                errors: 0,
                buckets: BTreeMap::new(),
            });
        }
        if let Some(s) = self.seconds.back_mut() {
            s.requests += 1;
            s.errors += failed as u64;
            *s.buckets
                .entry(Histogram::bucket(sample.latency) as u16)
                .or_default() += 1;
        }
        let minute = (second / 60) as usize;
        while self.minutes.len() <= minute {
            self.minutes.push(Minute {
                totals: Totals::default(),
            });
        }
        for t in [
            &mut self.window,
            &mut self.all,
            &mut self.minutes[minute].totals,
        ] {
            t.requests += 1;
            t.errors += failed as u64;
            t.latency.record(sample.latency);
        }
        if let Some(reason) = sample.failure {
            if self.reasons.contains_key(&reason) || self.reasons.len() < MAX_REASONS {
                *self.reasons.entry(reason).or_default() += 1;
            } else {
                *self.reasons.entry("other".into()).or_default() += 1;
            }
        }
    }

    /// Drops the seconds that fell out of the window ending at `now`.
    fn slide(&mut self, now: Duration) {
        let oldest = now.as_secs().saturating_sub(self.window_secs);
        while self.seconds.front().is_some_and(|s| s.index < oldest) {
            if let Some(s) = self.seconds.pop_front() {
                self.window.requests -= s.requests;
                self.window.errors -= s.errors;
                for (bucket, n) in s.buckets {
                    self.window.latency.remove(bucket as usize, n);
                }
            }
        }
    }

    fn window_error_rate(&self) -> Option<f64> {
        (self.window.requests > 0).then(|| self.window.errors as f64 / self.window.requests as f64)
    }
}

/// Keeps probing the plan's watchable checks with `vars` (the captures of the passing run).
/// Returns as soon as a threshold breaks over a full window, or when `config.duration` ends.
pub async fn watch(
    runner: Arc<Runner>,
    vars: Vars,
    config: &WatchConfig,
    observer: &mut dyn Observer,
) -> WatchReport {
    let watched: Vec<usize> = runner
        .plan
        .checks
        .iter()
        .enumerate()
        .filter(|(_, c)| c.watch)
        .map(|(i, _)| i)
        .collect();
    let vars = Arc::new(vars);
    let mut recorder = Recorder::new(config.window);
    let mut in_flight = tokio::task::JoinSet::new();
    let mut skipped = 0u64;
    let mut breach = None;
    let start = Instant::now();
    let end = start + config.duration;
    let period = Duration::from_secs_f64(1.0 / config.rps.max(0.001));
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut evaluate = tokio::time::interval_at(
        tokio::time::Instant::from_std(start + Duration::from_secs(1)),
        Duration::from_secs(1),
    );
    let mut next = 0usize;
    let mut sending = !watched.is_empty() && !config.duration.is_zero();
    let mut end_timer = Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(
        end,
    )));

    loop {
        if !sending && in_flight.is_empty() {
            break;
        }
        tokio::select! {
            _ = ticker.tick(), if sending => {
                if in_flight.len() >= config.max_in_flight {
                    skipped += 1;
                    continue;
                }
                let check = watched[next % watched.len()];
                next += 1;
                let runner = Arc::clone(&runner);
                let vars = Arc::clone(&vars);
                in_flight.spawn(async move {
                    let check = &runner.plan.checks[check];
                    let p = probe(&runner.http, &runner.plan, check, &vars, false).await;
                    let failure = p.failures.into_iter().next().map(|f| format!("{}: {f}", check.name));
                    Sample { latency: p.latency, failure }
                });
            }
            _ = &mut end_timer, if sending => {
                sending = false;
            }
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                if let Ok(sample) = done {
                    recorder.record(start.elapsed(), sample);
                }
            }
            _ = evaluate.tick() => {
                let now = start.elapsed();
                recorder.slide(now);
                observer.watch_progress(&WatchProgress {
                    elapsed: now.min(config.duration),
                    duration: config.duration,
                    requests: recorder.all.requests,
                    errors: recorder.all.errors,
                    window_error_rate: recorder.window_error_rate(),
                    window_p95: recorder.window.latency.quantile(0.95),
                });
                // A verdict needs a full window of traffic behind it.
                if now + Duration::from_millis(50) >= config.window {
                    breach = check_thresholds(&recorder, config);
                    if breach.is_some() {
                        break;
                    }
                }
            }
        }
    }
    // The tail of the last window, drained above, may tip it over too.
    let watched_for = start.elapsed();
    if breach.is_none() && watched_for + Duration::from_millis(50) >= config.window {
        recorder.slide(watched_for);
        breach = check_thresholds(&recorder, config);
    }
    in_flight.abort_all();

    let all = &recorder.all;
    let mut top_errors: Vec<(String, u64)> = recorder.reasons.into_iter().collect();
    top_errors.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top_errors.truncate(5);
    WatchReport {
        passed: breach.is_none(),
        breach,
        planned: config.duration,
        watched: watched_for,
        window: config.window,
        rps: config.rps,
        max_error_rate: config.max_error_rate,
        max_p95: config.max_p95,
        checks: watched
            .iter()
            .map(|&i| runner.plan.checks[i].name.clone())
            .collect(),
        requests: all.requests,
        errors: all.errors,
        error_rate: rate(all.errors, all.requests),
        skipped,
        p50: all.latency.quantile(0.5),
        p95: all.latency.quantile(0.95),
        max: all.latency.max(),
        top_errors,
        minutes: recorder
            .minutes
            .iter()
            .enumerate()
            .map(|(i, m)| MinuteRow {
                minute: i as u64 + 1,
                requests: m.totals.requests,
                errors: m.totals.errors,
                error_rate: rate(m.totals.errors, m.totals.requests),
                p50: m.totals.latency.quantile(0.5),
                p95: m.totals.latency.quantile(0.95),
                max: m.totals.latency.max(),
            })
            .collect(),
    }
}

fn rate(errors: u64, requests: u64) -> f64 {
    if requests == 0 {
        0.0
    } else {
        errors as f64 / requests as f64
    }
}

fn check_thresholds(recorder: &Recorder, config: &WatchConfig) -> Option<String> {
    let w = &recorder.window;
    let window = crate::format_duration(config.window);
    if let Some(r) = recorder.window_error_rate() {
        if r > config.max_error_rate {
            return Some(format!(
                "error rate {} over the last {window} ({} of {} requests failed) is above the {} limit",
                crate::format_percent(r),
                w.errors,
                w.requests,
                crate::format_percent(config.max_error_rate)
            ));
        }
    }
    if let (Some(max), Some(p95)) = (config.max_p95, w.latency.quantile(0.95)) {
        if p95 > max {
            return Some(format!(
                "p95 latency {} over the last {window} ({} requests) is above the {} limit",
                crate::format_duration(p95),
                w.requests,
                crate::format_duration(max)
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("5%").unwrap(), 0.05);
        assert_eq!(parse_rate("0.5").unwrap(), 0.005);
        assert!(parse_rate("150%").is_err());
        assert!(parse_rate("five").unwrap_err().contains("percentage"));
        assert_eq!(
            default_window(Duration::from_secs(600)),
            Duration::from_secs(300)
        );
        assert_eq!(
            default_window(Duration::from_secs(2)),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn window_slides() {
        let mut r = Recorder::new(Duration::from_secs(2));
        let ok = |ms| Sample {
            latency: Duration::from_millis(ms),
            failure: None,
        };
        r.record(
            Duration::from_millis(100),
            Sample {
                latency: Duration::from_millis(900),
                failure: Some("x".into()),
            },
        );
        r.record(Duration::from_millis(1500), ok(10));
        r.record(Duration::from_millis(2500), ok(10));
        r.slide(Duration::from_millis(2600));
        assert_eq!(r.window.requests, 3);
        r.slide(Duration::from_millis(3100));
        assert_eq!(r.window.requests, 2);
        assert_eq!(r.window.errors, 0);
        assert_eq!(r.all.errors, 1);
        assert!(r.window.latency.quantile(0.95).unwrap() < Duration::from_millis(20));
    }
}
