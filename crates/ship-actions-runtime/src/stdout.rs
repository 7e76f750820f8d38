//! Standard output that a reader may close early.
//!
//! `ship rules | head -1` closes the pipe after one line: `println!` then panics and a plain
//! write fails with "Broken pipe". Neither is what a person piping to `head` wants, and a
//! deploy's exit code must stay the deploy's, not the pipe's. So every binary writes its
//! standard output through [`stdout`] (or [`outln!`](crate::outln)): writes to a closed pipe
//! are dropped and the command goes on to its own exit code.

use std::io::{ErrorKind, StdoutLock, Write};

/// Standard output, locked, dropping what is written after the reader went away.
pub struct Stdout(StdoutLock<'static>);

/// The process's standard output as a [`Stdout`].
pub fn stdout() -> Stdout {
    Stdout(std::io::stdout().lock())
}

impl Write for Stdout {
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

/// `println!` through [`stdout`]: a closed pipe is not a panic. Any other write failure (a
/// full disk behind a redirect) is reported on stderr, once per line, and the command goes on.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = $crate::stdout();
        if let Err(e) = writeln!(out, $($arg)*).and_then(|()| out.flush()) {
            eprintln!("warning: cannot write to standard output: {e}");
        }
    }};
}

/// `print!` through [`stdout`], as [`outln!`](crate::outln) without the newline.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = $crate::stdout();
        if let Err(e) = write!(out, $($arg)*).and_then(|()| out.flush()) {
            eprintln!("warning: cannot write to standard output: {e}");
        }
    }};
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
