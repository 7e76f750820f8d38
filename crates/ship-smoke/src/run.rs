//! Running the checks in order (captures flowing from one to the next), reading the served
//! version, and retrying the whole sequence with backoff until it passes or time runs out.

use crate::observer::Observer;
use crate::probe::{capture, client, probe, Probe};
use crate::spec::{builtin_vars, Plan, VersionLocator};
use crate::template::Vars;
use serde::Serialize;
use std::time::{Duration, Instant};

/// The checks of one plan, with the connection pool they share.
pub struct Runner {
    pub(crate) http: reqwest::Client,
    pub(crate) plan: Plan,
}

/// How one check went in one run of the sequence.
#[derive(Debug, Clone, Serialize)]
pub struct CheckOutcome {
    pub name: String,
    /// `GET https://…` with secrets masked.
    pub request: String,
    pub status: Option<u16>,
    #[serde(serialize_with = "crate::serialize_millis")]
    pub latency: Option<Duration>,
    pub result: CheckResult,
    /// Why it failed, one sentence each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckResult {
    Passed,
    Failed,
    /// Not run, because an earlier check failed (its captures may be missing).
    Skipped,
}

/// One run of the whole sequence.
#[derive(Debug, Clone)]
pub struct SequenceOutcome {
    /// Every check in order, then a `version` entry when a version was expected.
    pub checks: Vec<CheckOutcome>,
    /// The version the service reported, if any response carried it.
    pub served_version: Option<String>,
    /// Captured values and built-ins, for watch mode.
    pub vars: Vars,
}

/// The name of the pseudo-check that compares versions.
pub const VERSION_CHECK: &str = "version";

impl SequenceOutcome {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.result != CheckResult::Failed)
    }

    /// Names of the failed checks.
    pub fn failed_checks(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| c.result == CheckResult::Failed)
            .map(|c| c.name.clone())
            .collect()
    }

    /// `check name: reason` of the first failure, for progress lines.
    pub fn first_failure(&self) -> Option<String> {
        self.checks
            .iter()
            .find(|c| c.result == CheckResult::Failed)
            .map(|c| format!("{}: {}", c.name, c.failures.join("; ")))
    }
}

/// The result of waiting for the sequence to pass.
#[derive(Debug, Clone)]
pub struct WaitOutcome {
    /// The passing run, or the last failing one.
    pub last: SequenceOutcome,
    pub attempts: u32,
    pub elapsed: Duration,
}

/// Backoff between attempts: 0.5 s doubling to at most 10 s, each drawn between half and all of
/// that ("equal jitter"), so many deploys waiting on one service do not retry in lockstep.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(500);
    let cap = Duration::from_secs(10);
    let exp = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(cap);
    exp.mul_f64(0.5 + 0.5 * fastrand::f64())
}

impl Runner {
    pub fn new(plan: Plan) -> Result<Runner, String> {
        Ok(Runner {
            http: client(plan.timeout, &plan.ca_certs)?,
            plan,
        })
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Runs every check once, in order; stops at the first failure (later checks may need its
    /// captures), then compares the served version with the expected one.
    pub async fn run_once(&self) -> SequenceOutcome {
        let plan = &self.plan;
        let mut vars = builtin_vars(plan.expected_version.as_deref());
        let mut checks = Vec::with_capacity(plan.checks.len() + 1);
        let mut served: Option<(String, String)> = None;
        // Why responses that could have carried the version field did not (their bodies were
        // not JSON, or too large to read), for the version check's message.
        let mut unreadable: Vec<String> = Vec::new();
        let mut failed = false;
        for (i, check) in plan.checks.iter().enumerate() {
            if failed {
                checks.push(CheckOutcome {
                    name: check.name.clone(),
                    request: format!("{} {}", check.method.as_str(), check.path.render(&vars)),
                    status: None,
                    latency: None,
                    result: CheckResult::Skipped,
                    failures: Vec::new(),
                });
                continue;
            }
            let p = probe(&self.http, plan, check, &vars, true).await;
            let reads_version = plan.version.check.is_none_or(|c| c == i);
            if served.is_none() && reads_version && p.status.is_some() {
                served = self.version_in(&p).map(|v| (v, check.name.clone()));
                if let (None, VersionLocator::Field(_), Some(why)) =
                    (&served, &plan.version.locator, &p.json_problem)
                {
                    unreadable.push(format!("`{}`: {why}", check.name));
                }
            }
            if p.passed() {
                for cap in &check.captures {
                    if let Some(v) = capture(cap, p.json.as_ref(), &p.headers) {
                        vars.insert(cap.name.clone(), v);
                    }
                }
            } else {
                failed = true;
            }
            checks.push(CheckOutcome {
                name: check.name.clone(),
                request: p.request.clone(),
                status: p.status,
                latency: Some(p.latency),
                result: if p.passed() {
                    CheckResult::Passed
                } else {
                    CheckResult::Failed
                },
                failures: p.failures,
            });
        }
        if let Some(expected) = &plan.expected_version {
            checks.push(self.version_outcome(expected, served.as_ref(), &unreadable, failed));
        }
        SequenceOutcome {
            checks,
            served_version: served.map(|(v, _)| v),
            vars,
        }
    }

    fn version_in(&self, p: &Probe) -> Option<String> {
        let v = match &self.plan.version.locator {
            VersionLocator::Field(path) => {
                crate::template::value_text(path.lookup(p.json.as_ref()?)?)
            }
            VersionLocator::Header(name) => {
                String::from_utf8_lossy(p.headers.get(name.as_str())?.as_bytes()).into_owned()
            }
        };
        let v = v.trim().to_string();
        (!v.is_empty()).then_some(v)
    }

    fn version_outcome(
        &self,
        expected: &str,
        served: Option<&(String, String)>,
        unreadable: &[String],
        checks_failed: bool,
    ) -> CheckOutcome {
        let locator = &self.plan.version.locator;
        let (result, failures) = match served {
            Some((v, _)) if same_version(v, expected) => (CheckResult::Passed, Vec::new()),
            Some((v, from)) => (
                CheckResult::Failed,
                vec![format!(
                    "version mismatch: expected `{expected}`, but `{v}` is serving ({locator} of `{from}`); the rollout has not replaced every task yet, or it failed"
                )],
            ),
            // The failing check already says what is wrong; the version may be fine.
            None if checks_failed => (CheckResult::Skipped, Vec::new()),
            // Not "no response carried a version": the body that should carry it could not be
            // read as JSON, which is a different fix (the endpoint, or its size).
            None if !unreadable.is_empty() => (
                CheckResult::Failed,
                vec![format!(
                    "expected version `{expected}`, but the {locator} could not be read: {}; the version is read from a JSON body of at most {} or from a header (--version-header, or the spec's `version:`)",
                    unreadable.join("; "),
                    crate::probe::MAX_BODY_TEXT
                )],
            ),
            None => (
                CheckResult::Failed,
                vec![format!(
                    "expected version `{expected}`, but no response carried a version (looked for the {locator}{}); point --version-field or --version-header (or the spec's `version:`) at where the service reports it",
                    match self.plan.version.check {
                        Some(i) => format!(" in `{}`", self.plan.checks[i].name),
                        None => " in every response".to_string(),
                    }
                )],
            ),
        };
        CheckOutcome {
            name: VERSION_CHECK.into(),
            request: format!("expect {expected}"),
            status: None,
            latency: None,
            result,
            failures: failures
                .into_iter()
                .map(|f| self.plan.secrets.redact(&f))
                .collect(),
        }
    }

    /// Runs the sequence until it passes once, retrying with backoff for up to `timeout`
    /// (zero: one attempt). Everything is retried: during a rollout, refused connections, 5xx,
    /// the old version and failed assertions are all expected to clear up.
    pub async fn wait_until_passing(
        &self,
        timeout: Duration,
        observer: &mut dyn Observer,
    ) -> WaitOutcome {
        let start = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.run_once().await;
            let elapsed = start.elapsed();
            if outcome.passed() {
                return WaitOutcome {
                    last: outcome,
                    attempts: attempt,
                    elapsed,
                };
            }
            let remaining = timeout.saturating_sub(elapsed);
            let retry_in = (!remaining.is_zero()).then(|| backoff(attempt).min(remaining));
            observer.attempt_failed(
                attempt,
                elapsed,
                retry_in,
                &outcome.first_failure().unwrap_or_default(),
            );
            match retry_in {
                Some(delay) => tokio::time::sleep(delay).await,
                None => {
                    return WaitOutcome {
                        last: outcome,
                        attempts: attempt,
                        elapsed,
                    }
                }
            }
        }
    }
}

/// Versions compare without a leading `v`: release tags are `v1.2.3`, while many services
/// report `1.2.3`.
fn same_version(served: &str, expected: &str) -> bool {
    let norm = |s: &str| {
        let s = s.trim();
        s.strip_prefix(['v', 'V']).unwrap_or(s).to_string()
    };
    norm(served) == norm(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_jitters_and_caps() {
        for _ in 0..50 {
            let first = backoff(1);
            assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
            let late = backoff(30);
            assert!(late >= Duration::from_secs(5) && late <= Duration::from_secs(10));
        }
    }

    #[test]
    fn versions_ignore_a_leading_v() {
        assert!(same_version("1.2.3", "v1.2.3"));
        assert!(same_version("v1.2.3 ", "v1.2.3"));
        assert!(!same_version("v1.2.2", "v1.2.3"));
    }
}
