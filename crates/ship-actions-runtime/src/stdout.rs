//! Standard output that a reader may close early.
//!
//! `ship rules | head -1` closes the pipe after one line: `println!` then panics and a plain
//! write fails with "Broken pipe". Neither is what a person piping to `head` wants, and a
//! deploy's exit code must stay the deploy's, not the pipe's. So every binary writes its
//! standard output through [`stdout`] (or [`outln!`](crate::outln)): writes to a closed pipe
//! are dropped and the command goes on to its own exit code.
//!
//! Everything written through [`stdout`] is also redacted line by line (see
//! [`crate::secrets`]).

use std::io::{ErrorKind, StdoutLock, Write};

use crate::secrets::Redacting;

/// Standard output, locked and redacted, dropping what is written after the reader went away.
pub struct Stdout(Redacting<PipeTolerant>);

/// The process's standard output as a [`Stdout`].
pub fn stdout() -> Stdout {
    Stdout(Redacting::new(PipeTolerant(std::io::stdout().lock())))
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// The locked stdout, with a closed pipe treated as success.
struct PipeTolerant(StdoutLock<'static>);

impl Write for PipeTolerant {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.write(buf) {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(buf.len()),
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

/// Writes `args` to [`stdout`] and flushes: what [`outln!`](crate::outln) and
/// [`out!`](crate::out) expand to. Any failure other than a closed pipe (a full disk behind a
/// redirect) is reported on stderr and the command goes on.
#[doc(hidden)]
pub fn write_out(args: std::fmt::Arguments<'_>) {
    let mut out = stdout();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        eprintln!("warning: cannot write to standard output: {e}");
    }
}

/// `println!` through [`stdout`]: a closed pipe is not a panic.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` through [`stdout`]: a closed pipe is not a panic.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_out(format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn outln_formats_like_println() {
        // Goes to the test's captured stdout; the point is that it compiles and does not panic.
        crate::outln!("{} {}", 1, "two");
        crate::outln!();
        crate::out!("{}", 3);
    }
}
