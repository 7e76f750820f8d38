//! Secret masking: `::add-mask::` and password redaction in URLs.

use std::io::{self, Write};

use crate::annotation::escape_data;

/// Registers `value` as a secret: `***` in every output of this process, and on GitHub
/// Actions an `::add-mask::` command (on standard error) asks the runner to mask it in the log.
///
/// The same as [`secrets::register`](crate::secrets::register); see there.
pub fn add_mask(value: &str) {
    crate::secrets::register(value);
}

/// Writes `::add-mask::` commands for `value` to `out`, unconditionally.
///
/// The runner masks line by line, so a multi-line secret (a PEM key) is registered
/// one line at a time; blank lines are skipped, since masking whitespace would mangle
/// the whole log. Each line is escaped like command data, as `@actions/core` does.
pub fn add_mask_to<W: Write + ?Sized>(out: &mut W, value: &str) -> io::Result<()> {
    for line in value.lines() {
        if !line.trim().is_empty() {
            writeln!(out, "::add-mask::{}", escape_data(line))?;
        }
    }
    Ok(())
}

/// Returns `url` with its password, if any, replaced by `***`.
///
/// For logging connection strings: `postgres://u:secret@h/db` becomes
/// `postgres://u:***@h/db`. Follows the URL spec's authority rules (userinfo ends at
/// the last `@` before the first `/`, `?` or `#`), so passwords must be
/// percent-encoded as the spec requires. Anything that is not `scheme://...`, or has
/// no password, is returned unchanged.
pub fn mask_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let valid_scheme = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_scheme {
        return url.to_owned();
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..authority_end).unwrap_or(rest);
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let (userinfo, host_and_after) = (
        authority.get(..at).unwrap_or(""),
        rest.get(at..).unwrap_or(""),
    );
    match userinfo.split_once(':') {
        Some((user, password)) if !password.is_empty() => {
            format!("{scheme}://{user}:***{host_and_after}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masks(value: &str) -> String {
        let mut out = Vec::new();
        add_mask_to(&mut out, value).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn add_mask_per_non_empty_line() {
        assert_eq!(masks("s3cret"), "::add-mask::s3cret\n");
        assert_eq!(
            masks("-----BEGIN-----\r\nabc\n\n  \nxyz\n"),
            "::add-mask::-----BEGIN-----\n::add-mask::abc\n::add-mask::xyz\n"
        );
        assert_eq!(masks(""), "");
        assert_eq!(masks("100%"), "::add-mask::100%25\n");
    }

    #[test]
    fn url_password_is_masked() {
        for (input, want) in [
            ("postgres://u:secret@h/db", "postgres://u:***@h/db"),
            ("postgres://u:secret@h", "postgres://u:***@h"),
            ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
            ("https://u:p@ss@host/x?y=1", "https://u:***@host/x?y=1"),
            ("https://u:p:q@host", "https://u:***@host"),
            (
                "mysql+pymysql://root:pw@db:3306",
                "mysql+pymysql://root:***@db:3306",
            ),
            ("https://u:pw@host#frag", "https://u:***@host#frag"),
        ] {
            assert_eq!(mask_url_password(input), want, "{input}");
        }
    }

    #[test]
    fn urls_without_password_and_non_urls_are_unchanged() {
        for input in [
            "",
            "not a url",
            "postgres://h/db",
            "postgres://user@h/db",
            "postgres://user:@h/db",
            "https://host:8080/path",
            "https://host/path@with:at",
            "https://host/?q=a:b@c",
            "user:pass@host",
            "://u:p@h",
            "1http://u:p@h",
            "a b://u:p@h",
            "ünï://u:p@h",
        ] {
            assert_eq!(mask_url_password(input), input, "{input}");
        }
    }
}
