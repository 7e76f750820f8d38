//! Cancellation: what the binaries do on SIGINT and SIGTERM.
//!
//! GitHub Actions cancels a step by sending SIGINT, then SIGTERM 7.5 s later, then SIGKILL
//! 2.5 s after that. Exiting silently there would leave a service mid-deploy without a word,
//! so a run is raced against the signals ([`run_cancellable`]): on the first one, the work is
//! dropped wherever it stands (in an API call or a wait: ECS carries on without us) and a
//! report runs instead, written from the run's [`Journal`](ship_ecs::journal::Journal). The
//! report prints the state it leaves, writes the outputs and the step summary first (local
//! files, immediate), then makes its few AWS calls within [`CANCEL_BUDGET`], which fits the
//! 2.5 s between SIGTERM and SIGKILL; a second signal cuts them short. The exit code is 130
//! for SIGINT and 143 for SIGTERM, as a shell reports them.

use std::future::Future;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};

/// How long the report may spend on AWS calls (tags, StopTask) after a signal.
pub const CANCEL_BUDGET: Duration = Duration::from_secs(2);

/// A signal that cancels a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// 128 + the signal number, as a shell reports a process the signal ended.
    pub fn exit_code(self) -> i32 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

/// SIGINT and SIGTERM, caught: once installed they no longer end the process.
pub struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers (inside the runtime). Failing to is reported and exit 1: a run
    /// that could not report its cancellation should not start.
    pub fn install() -> Result<Signals, i32> {
        let install = |kind: SignalKind, name: &str| {
            signal(kind).map_err(|e| {
                ship_actions_runtime::errln!(
                    "error: cannot handle {name} ({e}), so a cancelled run could not say what state \
                     it leaves; nothing was changed"
                );
                1
            })
        };
        Ok(Signals {
            interrupt: install(SignalKind::interrupt(), "SIGINT")?,
            terminate: install(SignalKind::terminate(), "SIGTERM")?,
        })
    }

    /// The next signal.
    pub async fn recv(&mut self) -> Signal {
        tokio::select! {
            _ = self.interrupt.recv() => Signal::Interrupt,
            _ = self.terminate.recv() => Signal::Terminate,
        }
    }
}

/// Runs `work` to its exit code, unless a signal comes first: then `work` is dropped and
/// `on_cancel(signal)` reports instead (cut short by a second signal), and the exit code is the
/// signal's.
pub async fn run_cancellable<W, C, F>(work: W, on_cancel: C) -> crate::Exit
where
    W: Future<Output = crate::Exit>,
    C: FnOnce(Signal) -> F,
    F: Future<Output = ()>,
{
    let mut signals = Signals::install()?;
    let signal = tokio::select! {
        code = work => return code,
        signal = signals.recv() => signal,
    };
    tokio::select! {
        () = on_cancel(signal) => {}
        second = signals.recv() => ship_actions_runtime::errln!(
            "{}: stopped reporting; the state above may be incomplete",
            second.name()
        ),
    }
    Ok(signal.exit_code())
}

/// `call` within what is left of [`CANCEL_BUDGET`] since `started`; `None` when it ran out.
pub async fn within_budget<T>(
    started: tokio::time::Instant,
    call: impl Future<Output = T>,
) -> Option<T> {
    tokio::time::timeout_at(started + CANCEL_BUDGET, call)
        .await
        .ok()
}
