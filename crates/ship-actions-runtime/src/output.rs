//! Step outputs, appended to the file named by `$GITHUB_OUTPUT`.

use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::RuntimeError;

const OUTPUT_FILE: &str = "GITHUB_OUTPUT";

/// Sets the step output `name` to `value`.
///
/// A no-op returning `Ok` when `$GITHUB_OUTPUT` is unset: off the runner, binaries
/// report the same values through `--format json` instead. See [`set_output_to`] for
/// the encoding.
pub fn set_output(name: &str, value: &str) -> Result<(), RuntimeError> {
    set_outputs([(name, value)])
}

/// Sets several step outputs with a single append to `$GITHUB_OUTPUT`.
///
/// All names are validated before anything is written, so a bad name leaves the file
/// untouched. A no-op when `$GITHUB_OUTPUT` is unset.
pub fn set_outputs<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), RuntimeError> {
    match crate::env_path(OUTPUT_FILE) {
        Some(path) => set_outputs_to(&path, pairs),
        None => Ok(()),
    }
}

/// Appends the output `name=value` to the output file at `path`.
///
/// Registered secrets in `value` are written as `***` (see [`crate::secrets`]).
///
/// Single-line values are written as `name=value`. Values containing `\n` or `\r`
/// use the runner's heredoc form with a random `ship_EOF_<hex>` delimiter that does
/// not occur in the value, so no value can end the block early or inject another
/// output.
///
/// The runner treats `\r\n` as a line ending, so a `\r` at the very end of a
/// multi-line value does not survive the round trip; every other byte does.
pub fn set_output_to(path: &Path, name: &str, value: &str) -> Result<(), RuntimeError> {
    set_outputs_to(path, [(name, value)])
}

/// Appends several outputs to the output file at `path` in one write.
///
/// Encoding as in [`set_output_to`].
pub fn set_outputs_to<'a>(
    path: &Path,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), RuntimeError> {
    let mut record = String::new();
    for (name, value) in pairs {
        // Redacted before encoding, so the heredoc delimiter is chosen against what is written.
        let value = crate::secrets::redact(value);
        record.push_str(&encode_output(name, &value, random_delimiter)?);
    }
    if record.is_empty() {
        return Ok(());
    }
    crate::append_file(OUTPUT_FILE, path, &record)
}

/// Encodes one output record, drawing heredoc delimiters from `delimiter` until one
/// does not occur in `value`.
fn encode_output(
    name: &str,
    value: &str,
    mut delimiter: impl FnMut() -> String,
) -> Result<String, RuntimeError> {
    validate_name(name)?;
    if !value.contains(['\n', '\r']) {
        return Ok(format!("{name}={value}\n"));
    }
    // `random_delimiter` yields a fresh 128-bit candidate each call (its counter feeds
    // into it); a collision with the value is already astronomically unlikely, and
    // retrying makes it impossible for the delimiter we write to occur in the value.
    let mut delim = delimiter();
    while delim.is_empty() || value.contains(delim.as_str()) {
        delim = delimiter();
    }
    Ok(format!("{name}<<{delim}\n{value}\n{delim}\n"))
}

/// Rejects names the runner would parse as something else.
///
/// The runner splits each line at the first `=` or `<<`, whichever comes first, so
/// either inside a name would silently change which output is set.
fn validate_name(name: &str) -> Result<(), RuntimeError> {
    let reason = if name.is_empty() {
        "name is empty"
    } else if name.contains(['\n', '\r']) {
        "name contains a line break"
    } else if name.contains('=') {
        "name contains `=`"
    } else if name.contains("<<") {
        "name contains `<<`"
    } else {
        return Ok(());
    };
    Err(RuntimeError::InvalidOutputName {
        name: name.to_owned(),
        reason,
    })
}

/// A fresh `ship_EOF_<32 hex>` delimiter.
///
/// Mixes time, pid and a process-wide counter through std's randomly keyed hasher; not
/// cryptographic, but nothing here needs to be: uniqueness is checked by the caller.
fn random_delimiter() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.write_u64(count);
    let high = hasher.finish();
    hasher.write_u64(high ^ count.rotate_left(32));
    let low = hasher.finish();
    format!("ship_EOF_{high:016x}{low:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port of the runner's `$GITHUB_OUTPUT` parser (actions/runner,
    /// `FileCommandManager.cs`), so the tests check what the runner would actually read.
    fn runner_parse(text: &str) -> Result<Vec<(String, String)>, String> {
        // Returns (line, newline) and advances `index`; mirrors the runner's ReadLine.
        fn read_line<'t>(text: &'t str, index: &mut usize) -> Option<(&'t str, Option<&'t str>)> {
            if *index >= text.len() {
                return None;
            }
            let rest = &text[*index..];
            match rest.find('\n') {
                Some(nl) => {
                    let (line, newline) = if nl > 0 && rest.as_bytes()[nl - 1] == b'\r' {
                        (&rest[..nl - 1], "\r\n")
                    } else {
                        (&rest[..nl], "\n")
                    };
                    *index += nl + 1;
                    Some((line, Some(newline)))
                }
                None => {
                    *index = text.len();
                    Some((rest, None))
                }
            }
        }

        let mut out = Vec::new();
        let mut index = 0;
        while let Some((line, _)) = read_line(text, &mut index) {
            if line.is_empty() {
                continue;
            }
            let eq = line.find('=');
            let heredoc = line.find("<<");
            match (eq, heredoc) {
                (Some(e), h) if h.is_none_or(|h| e < h) => {
                    out.push((line[..e].to_owned(), line[e + 1..].to_owned()));
                }
                (_, Some(h)) => {
                    let key = &line[..h];
                    let delimiter = &line[h + 2..];
                    if key.is_empty() || delimiter.is_empty() {
                        return Err(format!("invalid format {line:?}"));
                    }
                    let start = index;
                    let mut end = index;
                    loop {
                        match read_line(text, &mut index) {
                            None => return Err(format!("delimiter {delimiter:?} not found")),
                            Some((l, _)) if l == delimiter => break,
                            Some((_, None)) => return Err("EOF marker missing new line".into()),
                            Some((_, Some(nl))) => end = index - nl.len(),
                        }
                    }
                    out.push((key.to_owned(), text[start..end.max(start)].to_owned()));
                }
                _ => return Err(format!("invalid format {line:?}")),
            }
        }
        Ok(out)
    }

    fn round_trip(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output");
        set_outputs_to(&path, pairs.iter().copied()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        runner_parse(&text).unwrap()
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn single_line_is_key_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output");
        set_output_to(&path, "count", "3").unwrap();
        set_output_to(&path, "expr", "a=b<<c").unwrap();
        set_output_to(&path, "empty", "").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "count=3\nexpr=a=b<<c\nempty=\n"
        );
    }

    #[test]
    fn multi_line_round_trips_through_the_runner_parser() {
        let pairs = [
            ("a", "one"),
            ("report", "line 1\nline 2\n\nline 4"),
            ("trailing", "x\n"),
            ("leading", "\nx"),
            ("only_newlines", "\n\n"),
            ("crlf", "a\r\nb"),
            ("lone_cr", "a\rb"),
            ("fake_delim", "x\nship_EOF_\nEOF\nb=c\nd<<e"),
            ("z", "last"),
        ];
        assert_eq!(round_trip(&pairs), owned(&pairs));
    }

    #[test]
    fn trailing_cr_is_read_as_part_of_a_crlf_line_ending() {
        // Documented limitation of the runner's format, not of the encoder.
        assert_eq!(round_trip(&[("k", "x\ny\r")]), owned(&[("k", "x\ny")]));
    }

    #[test]
    fn multi_line_uses_heredoc_with_random_delimiter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output");
        set_output_to(&path, "md", "a\nb").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let (first, rest) = text.split_once('\n').unwrap();
        let delim = first.strip_prefix("md<<").unwrap();
        let hex = delim.strip_prefix("ship_EOF_").unwrap();
        assert_eq!(hex.len(), 32);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(rest, format!("a\nb\n{delim}\n"));
    }

    #[test]
    fn delimiters_differ_between_calls() {
        let a = random_delimiter();
        let b = random_delimiter();
        assert_ne!(a, b);
    }

    #[test]
    fn delimiter_found_in_value_is_regenerated() {
        let mut candidates = ["ship_EOF_1", "ship_EOF_2"].into_iter();
        let rec = encode_output("k", "x\nship_EOF_1\ny", || {
            candidates.next().unwrap_or("ship_EOF_3").to_owned()
        })
        .unwrap();
        assert_eq!(rec, "k<<ship_EOF_2\nx\nship_EOF_1\ny\nship_EOF_2\n");

        // Even a bare substring match (not a whole line) is avoided.
        let mut candidates = ["D", "E"].into_iter();
        let rec = encode_output("k", "aDb\nc", || {
            candidates.next().unwrap_or("F").to_owned()
        })
        .unwrap();
        assert_eq!(rec, "k<<E\naDb\nc\nE\n");
    }

    #[test]
    fn bad_names_are_rejected_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output");
        for bad in ["", "a=b", "a<<b", "a\nb", "a\rb"] {
            let err = set_outputs_to(&path, [("good", "1"), (bad, "2")]).unwrap_err();
            assert!(
                matches!(err, RuntimeError::InvalidOutputName { ref name, .. } if name == bad),
                "{bad:?}: {err}"
            );
        }
        assert!(!path.exists());
        // A single `<` is harmless to the parser.
        set_output_to(&path, "a<b", "1").unwrap();
        assert_eq!(round_trip(&[("a<b", "1")]), owned(&[("a<b", "1")]));
    }

    #[test]
    fn unwritable_path_reports_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("output");
        let err = set_output_to(&path, "a", "b").unwrap_err();
        assert!(matches!(
            err,
            RuntimeError::Write {
                what: "GITHUB_OUTPUT",
                ..
            }
        ));
        assert!(err.to_string().contains("GITHUB_OUTPUT"), "{err}");
    }
}
