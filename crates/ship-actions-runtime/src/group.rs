//! Collapsible log groups (`::group::` / `::endgroup::`).

use std::io::{self, Write};

use crate::annotation::escape_data;

/// Starts a collapsible log group named `name`; it ends when the guard drops.
///
/// Only on GitHub Actions: on a terminal or in other CI the markers would be noise, so
/// nothing is printed. GitHub does not nest groups; starting one ends the previous.
pub fn group(name: &str) -> GroupGuard {
    if crate::is_github_actions() {
        crate::write_stdout_command(|out| group_to(out, name));
        GroupGuard {
            active: true,
            on_stderr: false,
        }
    } else {
        GroupGuard::inactive()
    }
}

/// [`group`] written to standard error: for output a binary copies there (a child
/// process's), so the markers stay in order with it. The runner reads workflow commands from
/// both streams.
pub fn stderr_group(name: &str) -> GroupGuard {
    if crate::is_github_actions() {
        let mut err = crate::stderr();
        let _ = group_to(&mut err, name);
        let _ = err.flush();
        GroupGuard {
            active: true,
            on_stderr: true,
        }
    } else {
        GroupGuard::inactive()
    }
}

/// Writes the `::group::` line for `name` to `out`, unconditionally.
///
/// For callers that own their output stream; they write `::endgroup::` themselves.
pub fn group_to<W: Write + ?Sized>(out: &mut W, name: &str) -> io::Result<()> {
    writeln!(out, "::group::{}", escape_data(name))
}

/// Ends the log group started by [`group`] when dropped.
#[must_use = "the group ends as soon as the guard is dropped; bind it with `let _group = ...`"]
#[derive(Debug)]
pub struct GroupGuard {
    active: bool,
    on_stderr: bool,
}

impl GroupGuard {
    fn inactive() -> GroupGuard {
        GroupGuard {
            active: false,
            on_stderr: false,
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if !self.active {
            return;
        }
        if self.on_stderr {
            let mut err = crate::stderr();
            let _ = writeln!(err, "::endgroup::");
            let _ = err.flush();
        } else {
            crate::write_stdout_command(|out| writeln!(out, "::endgroup::"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_line_is_escaped() {
        let mut out = Vec::new();
        group_to(&mut out, "Lint 100%\nfiles").unwrap();
        assert_eq!(out, b"::group::Lint 100%25%0Afiles\n");
    }

    #[test]
    fn inactive_guard_drops_silently() {
        drop(GroupGuard::inactive());
    }
}
