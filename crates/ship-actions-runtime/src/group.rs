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
        GroupGuard { active: true }
    } else {
        GroupGuard { active: false }
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
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.active {
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
        drop(GroupGuard { active: false });
    }
}
