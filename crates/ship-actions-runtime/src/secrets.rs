//! The process-wide secret registry: every credential a binary learns, masked in every output.
//!
//! Why one registry for the whole process: a credential reaches a ship binary in many shapes
//! (a `postgres://user:pw@host` URL, `user:pw@host/db` without a scheme, `?password=pw` in a
//! query string, a token in the environment, a registry password that goes out as
//! `Basic base64(user:pw)`) and leaves it through many channels (stdout, stderr,
//! `$GITHUB_OUTPUT`, the step summary, report files, a child process's output, an error body a
//! server echoed back). When each binary kept its own list of secrets and each print site had
//! to remember to redact with it, every forgotten site printed the secret. So a credential is
//! registered once, here, in all the forms it can take, and every output channel of this crate
//! redacts through the registry: [`stdout`](crate::stdout) and [`outln!`](crate::outln),
//! [`stderr`] and [`errln!`](crate::errln), [`set_output`](crate::set_output),
//! [`append_step_summary`](crate::append_step_summary) and workflow commands. Report files
//! and child-process output go through [`Redacting`] or [`redact`].
//!
//! The registry also learns, on first use, the credentials it can find without being told:
//! well-known credential variables of the environment (`GITHUB_TOKEN`, `AWS_SECRET_ACCESS_KEY`,
//! `REGISTRY_PASSWORD`, any `*_TOKEN`, `*_PASSWORD`, `*_SECRET`...), and the passwords in any
//! URL of the environment or the command line (`HTTPS_PROXY=http://u:pw@proxy`,
//! `--endpoint-url http://u:pw@host`). Binaries still register what they learn from flags,
//! files and servers explicitly.
//!
//! On GitHub Actions each new secret is also announced to the runner with `::add-mask::` on
//! standard error, so the runner masks it in the log too (the runner reads workflow commands
//! from both streams; stderr keeps `--format json` standard output pure JSON).
//!
//! Redaction replaces each occurrence with `***`. The forms matched for each secret: as given;
//! percent-decoded and percent-encoded (URLs); escaped as in a JSON string, a workflow command
//! and a Markdown table cell; and base64 at each of the three alignments a secret can have
//! inside a longer base64 text (an HTTP Basic header encodes `user:password`, so the password
//! starts mid-group): the characters that depend only on the secret are matched, so a Basic
//! header echoed by a server cannot be decoded back to the password. Secrets shorter than
//! three characters are announced but not redacted, since replacing every `pw` would make the
//! output unreadable; derived forms shorter than six characters are not matched either.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::{self, Write};
use std::sync::{Arc, OnceLock, RwLock};

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;

/// What a secret is replaced with.
const MASK: &str = "***";
/// Shorter secrets are announced to the runner but not redacted by us.
const MIN_SECRET_LEN: usize = 3;
/// Shorter encoded forms (base64 fragments, escapes) are not matched: too likely by chance.
const MIN_DERIVED_LEN: usize = 6;
/// A value learned from a variable's name alone (not registered by the code that uses it) is
/// masked only when this long: real keys and tokens are longer, while LocalStack's and moto's
/// `AWS_SECRET_ACCESS_KEY=test` would otherwise turn every "test" of the output into `***`.
/// (On GitHub the runner masks the repository's secrets itself, whatever their length.)
const MIN_LEARNED_LEN: usize = 8;
/// A username without a password is a token (`https://ghp_…@github.com`) only when this long.
const MIN_TOKEN_USERNAME_LEN: usize = 20;

/// Registers `secret` (a password, a token, a key): from now on every output of this process
/// shows `***` in its place, in any of its forms (see the module documentation), and on
/// GitHub Actions the runner is told to mask it too. A multi-line secret (a PEM key) is
/// registered line by line, as the runner masks line by line. Registering a value twice is
/// harmless.
pub fn register(secret: &str) {
    with_registry(|r| r.add(secret));
}

/// Registers the credentials inside a URL or connection string: the password of
/// `scheme://user:password@host`, of `user:password@host/db` written without a scheme, the
/// values of credential parameters (`?password=`, `&token=`, `sslpassword=`, `api_key=`, also
/// `key=value` connection strings), and a long username that is really a token
/// (`https://ghp_…@github.com`). Nothing happens for a URL without credentials.
pub fn register_url(url: &str) {
    with_registry(|r| {
        for secret in url_secrets(url, true) {
            r.add(&secret);
        }
    });
}

/// Registers credentials sent with HTTP Basic authentication: the password, and the header's
/// `base64(username:password)` as a whole.
pub fn register_basic_auth(username: &str, password: &str) {
    with_registry(|r| {
        r.add(password);
        let pair =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        r.add(&pair);
    });
}

/// `text` with every registered secret, in each of its forms, replaced by `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    match matcher() {
        Some(m) if m.is_match(text) => {
            let mut out = String::with_capacity(text.len());
            m.replace_all_with(text, &mut out, |_, _, dst| {
                dst.push_str(MASK);
                true
            });
            Cow::Owned(out)
        }
        _ => Cow::Borrowed(text),
    }
}

/// [`redact`] for bytes that may not be UTF-8 (a child process's output).
pub fn redact_bytes(bytes: &[u8]) -> Cow<'_, [u8]> {
    match matcher() {
        Some(m) if m.is_match(bytes) => {
            let mut out = Vec::with_capacity(bytes.len());
            m.replace_all_with_bytes(bytes, &mut out, |_, _, dst| {
                dst.extend_from_slice(MASK.as_bytes());
                true
            });
            Cow::Owned(out)
        }
        _ => Cow::Borrowed(bytes),
    }
}

/// A writer that redacts what passes through it, line by line.
///
/// A secret split across two `write` calls would escape a per-call redaction, so text is held
/// until its line ends (or [`flush`](Write::flush), or the writer drops). A line longer than
/// 64 KiB is passed on in pieces, keeping back enough bytes that no secret can straddle a
/// piece boundary.
pub struct Redacting<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

/// Past this much text without a newline, [`Redacting`] passes some of it on.
const MAX_PENDING: usize = 64 * 1024;

impl<W: Write> Redacting<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Redacting {
            inner,
            pending: Vec::new(),
        }
    }

    fn write_pending(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            let text = std::mem::take(&mut self.pending);
            self.inner.write_all(&redact_bytes(&text))?;
        }
        Ok(())
    }
}

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(last_newline) = self.pending.iter().rposition(|&b| b == b'\n') {
            let rest = self.pending.split_off(last_newline + 1);
            let lines = std::mem::replace(&mut self.pending, rest);
            self.inner.write_all(&redact_bytes(&lines))?;
        }
        if self.pending.len() > MAX_PENDING {
            // Keep back the longest secret's length: any secret not wholly in the part passed
            // on starts in the part kept.
            let keep = longest_pattern().min(self.pending.len());
            let redacted = redact_bytes(&self.pending).into_owned();
            let split = redacted.len().saturating_sub(keep);
            self.inner.write_all(&redacted[..split])?;
            self.pending = redacted[split..].to_vec();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_pending()?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for Redacting<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Standard error, locked and redacted (see [`Redacting`]). What [`errln!`](crate::errln)
/// writes through.
pub struct Stderr(Redacting<io::StderrLock<'static>>);

/// The process's standard error as a [`Stderr`].
pub fn stderr() -> Stderr {
    Stderr(Redacting::new(io::stderr().lock()))
}

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Writes `args` to [`stderr`] and flushes: what [`errln!`](crate::errln) and
/// [`err!`](crate::err) expand to. A failure to write to standard error cannot be reported
/// anywhere, so it is ignored.
#[doc(hidden)]
pub fn write_err(args: std::fmt::Arguments<'_>) {
    let mut err = stderr();
    let _ = err.write_fmt(args).and_then(|()| err.flush());
}

/// `eprintln!` through the secret registry: registered secrets are printed as `***`.
#[macro_export]
macro_rules! errln {
    () => {
        $crate::secrets::write_err(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::secrets::write_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` through the secret registry.
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::secrets::write_err(format_args!($($arg)*))
    };
}

// ----------------------------------------------------------------------------- the registry

#[derive(Default)]
struct Registry {
    /// Secrets as registered (one line each), so a second registration does nothing.
    secrets: BTreeSet<String>,
    /// Every form that is redacted.
    patterns: BTreeSet<String>,
    /// Built from `patterns` on the first redaction after a change.
    matcher: Option<Arc<AhoCorasick>>,
    longest: usize,
}

impl Registry {
    /// Adds `secret` and its forms, and announces what is new with `::add-mask::`.
    fn add(&mut self, secret: &str) {
        let mut announce = Vec::new();
        for line in secret.lines() {
            let line = line.trim();
            if line.is_empty() || !self.secrets.insert(line.to_owned()) {
                continue;
            }
            announce.push(line.to_owned());
            let decoded = percent_decode(line);
            if let Some(decoded) = &decoded {
                if self.secrets.insert(decoded.clone()) {
                    announce.push(decoded.clone());
                }
            }
            for base in std::iter::once(line).chain(decoded.as_deref()) {
                if base.len() < MIN_SECRET_LEN {
                    continue;
                }
                self.patterns.insert(base.to_owned());
                for form in encoded_forms(base) {
                    if form.len() >= MIN_DERIVED_LEN {
                        self.patterns.insert(form);
                    }
                }
            }
        }
        if announce.is_empty() {
            return;
        }
        self.matcher = None;
        self.longest = self.patterns.iter().map(String::len).max().unwrap_or(0);
        if crate::is_github_actions() {
            // Straight to the process's stderr: through the redacting writer the command would
            // announce `***`.
            let mut err = io::stderr().lock();
            for line in &announce {
                let _ = crate::add_mask_to(&mut err, line);
            }
            let _ = err.flush();
        }
    }

    fn matcher(&mut self) -> Option<Arc<AhoCorasick>> {
        if self.patterns.is_empty() {
            return None;
        }
        if self.matcher.is_none() {
            // Leftmost-longest: of two secrets where one contains the other, the whole longer
            // one is replaced. Building cannot fail for a few hundred short literal patterns;
            // if it ever did, no redaction would be worse than a slow one, so fall back to
            // the default settings.
            let built = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&self.patterns)
                .or_else(|_| AhoCorasick::new(&self.patterns));
            self.matcher = built.ok().map(Arc::new);
        }
        self.matcher.clone()
    }

    /// What the environment and the command line reveal without being asked.
    fn learn_from_process(
        &mut self,
        vars: impl IntoIterator<Item = (String, String)>,
        args: impl IntoIterator<Item = String>,
    ) {
        for (name, value) in vars {
            if is_credential_variable(&name)
                && !is_flag_like(&value)
                && value.trim().len() >= MIN_LEARNED_LEN
            {
                self.add(&value);
            }
            // A scheme-less `user:pw@host/db` is only read as a URL where one is expected.
            let scheme_less = name == "DATABASE_URL";
            if scheme_less || value.contains("://") {
                for secret in url_secrets(&value, scheme_less) {
                    self.add(&secret);
                }
            }
        }
        for arg in args {
            if arg.contains("://") {
                for secret in url_secrets(&arg, false) {
                    self.add(&secret);
                }
            }
        }
    }
}

fn global() -> &'static RwLock<Registry> {
    static REGISTRY: OnceLock<RwLock<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = Registry::default();
        registry.learn_from_process(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
            std::env::args_os()
                .skip(1)
                .filter_map(|a| a.into_string().ok()),
        );
        RwLock::new(registry)
    })
}

fn with_registry(f: impl FnOnce(&mut Registry)) {
    // A panic elsewhere while holding the lock leaves the registry itself consistent (every
    // mutation completes before the lock is released), so a poisoned lock is still used.
    let mut registry = global().write().unwrap_or_else(|e| e.into_inner());
    f(&mut registry);
}

fn matcher() -> Option<Arc<AhoCorasick>> {
    {
        let registry = global().read().unwrap_or_else(|e| e.into_inner());
        if registry.patterns.is_empty() {
            return None;
        }
        if let Some(m) = &registry.matcher {
            return Some(Arc::clone(m));
        }
    }
    global()
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .matcher()
}

fn longest_pattern() -> usize {
    global().read().unwrap_or_else(|e| e.into_inner()).longest
}

// ----------------------------------------------------------------------------- finding secrets

/// Credential variables by exact name (after `INPUT_` and case are set aside).
const CREDENTIAL_VARIABLES: &[&str] = &[
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "REGISTRY_PASSWORD",
    "PGPASSWORD",
    "MYSQL_PWD",
    "TOKEN",
    "PASSWORD",
    "SECRET",
];

/// Credential variables by the end of their name.
const CREDENTIAL_SUFFIXES: &[&str] = &[
    "_TOKEN",
    "_PASSWORD",
    "_PASSWD",
    "_SECRET",
    "_SECRET_KEY",
    "_SECRET_ACCESS_KEY",
    "_API_KEY",
    "_PRIVATE_KEY",
];

/// Whether an environment variable holds a credential by its name: `GITHUB_TOKEN`,
/// `INPUT_REGISTRY-PASSWORD` (an action input), `MY_API_KEY`.
fn is_credential_variable(name: &str) -> bool {
    let normal = name.to_ascii_uppercase().replace('-', "_");
    let normal = normal.strip_prefix("INPUT_").unwrap_or(&normal);
    CREDENTIAL_VARIABLES.contains(&normal)
        || CREDENTIAL_SUFFIXES.iter().any(|s| normal.ends_with(s))
}

/// `true`, `0`, `no`: a switch named like a credential (`SKIP_TOKEN=false`), not a secret;
/// masking it would turn every `false` in the output into `***`.
fn is_flag_like(value: &str) -> bool {
    let v = value.trim();
    matches!(
        v.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "none"
    ) || (v.len() < 6 && v.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether a query or connection-string parameter holds a credential by its name.
fn is_credential_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    [
        "pass",
        "pwd",
        "secret",
        "token",
        "key",
        "auth",
        "signature",
        "credential",
        "session",
    ]
    .iter()
    .any(|w| k.contains(w))
        || k == "sig"
}

/// The credentials in `text`: the passwords of the URLs in it, the values of credential
/// parameters, and usernames long enough to be tokens. With `scheme_less`, `text` as a whole
/// may also be `user:password@host...` without a `scheme://`.
pub(crate) fn url_secrets(text: &str, scheme_less: bool) -> Vec<String> {
    let mut out = Vec::new();
    let userinfo = |authority_and_rest: &str, out: &mut Vec<String>| {
        let end = authority_and_rest
            .find(|c: char| {
                matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"' || c == '\''
            })
            .unwrap_or(authority_and_rest.len());
        let authority = &authority_and_rest[..end];
        let Some(at) = authority.rfind('@') else {
            return;
        };
        match authority[..at].split_once(':') {
            Some((_, password)) if !password.is_empty() => out.push(password.to_owned()),
            None if at >= MIN_TOKEN_USERNAME_LEN => out.push(authority[..at].to_owned()),
            _ => {}
        }
    };
    let mut from = 0;
    while let Some(i) = text[from..].find("://") {
        let start = from + i + 3;
        userinfo(&text[start..], &mut out);
        from = start;
    }
    if scheme_less && !text.contains("://") {
        userinfo(text.trim(), &mut out);
    }
    // `key=value` pairs: query parameters (`?password=`), connection strings
    // (`host=h password=pw`, `Server=h;Password=pw`).
    for (eq, _) in text.match_indices('=') {
        let key_start = text[..eq]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let key = &text[key_start..eq];
        if key.is_empty() || !is_credential_key(key) {
            continue;
        }
        let mut value = &text[eq + 1..];
        if let Some(quoted) = value.strip_prefix('\'') {
            value = quoted.split('\'').next().unwrap_or("");
        } else {
            let end = value
                .find(|c: char| {
                    matches!(c, '&' | ';' | '#' | '"' | '\'' | ',') || c.is_whitespace()
                })
                .unwrap_or(value.len());
            value = &value[..end];
        }
        if !value.is_empty() {
            out.push(value.to_owned());
        }
    }
    out
}

// ----------------------------------------------------------------------------- forms

/// `text` percent-decoded, when that changes it and gives UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()?;
    (decoded != text && !decoded.is_empty()).then(|| decoded.into_owned())
}

/// Everything but RFC 3986's unreserved characters: how URL builders encode a component.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The forms `secret` can take in our output besides itself.
fn encoded_forms(secret: &str) -> Vec<String> {
    let mut forms = vec![
        percent_encoding::utf8_percent_encode(secret, COMPONENT).to_string(),
        // Form encoding (`application/x-www-form-urlencoded`): spaces as `+`.
        percent_encoding::utf8_percent_encode(secret, COMPONENT)
            .to_string()
            .replace("%20", "+"),
        crate::escape_data(secret),
        secret.replace('|', "\\|"),
    ];
    if let Ok(json) = serde_json::to_string(secret) {
        forms.push(json[1..json.len() - 1].to_owned());
    }
    let bytes = secret.as_bytes();
    for engine in [
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        for shift in 0..3usize {
            // The secret preceded by `shift` bytes: the characters whose six bits all come
            // from the secret are the same whatever those bytes (and the ones after) are.
            let mut shifted = vec![0u8; shift];
            shifted.extend_from_slice(bytes);
            let encoded = engine.encode(&shifted);
            let first = (8 * shift).div_ceil(6);
            let end = (8 * (shift + bytes.len())) / 6;
            if let Some(fragment) = encoded.get(first..end) {
                forms.push(fragment.to_owned());
            }
        }
    }
    forms.retain(|f| f != secret);
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(secrets: &[&str]) -> Registry {
        let mut r = Registry::default();
        for s in secrets {
            r.add(s);
        }
        r
    }

    fn redact_with(r: &mut Registry, text: &str) -> String {
        let m = r.matcher().expect("patterns");
        m.replace_all(text, &vec![MASK; m.patterns_len()])
    }

    #[test]
    fn base64_fragments_match_at_every_alignment() {
        let mut r = registry(&["Sup3r-s3cret-pw"]);
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        for user in ["", "u", "us", "use", "user", "admin"] {
            let header = format!(
                "Authorization: Basic {}",
                b64(&format!("{user}:Sup3r-s3cret-pw"))
            );
            let redacted = redact_with(&mut r, &header);
            assert!(redacted.contains(MASK), "{user}: {redacted}");
            // What is left cannot be decoded back to the password.
            let left = redacted.trim_start_matches("Authorization: Basic ");
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(left.replace(MASK, ""))
                .unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&decoded).contains("s3cret"),
                "{user}: {redacted}"
            );
        }
    }

    #[test]
    fn encoded_forms_are_redacted() {
        let mut r = registry(&["p@ss w/\"rd|%"]);
        for text in [
            "p@ss w/\"rd|%",
            "p%40ss%20w%2F%22rd%7C%25",
            "p%40ss+w%2F%22rd%7C%25",
            "{\"pw\":\"p@ss w/\\\"rd|%\"}",
            "::error::p@ss w/\"rd|%25",
            "| p@ss w/\"rd\\|% |",
        ] {
            let redacted = redact_with(&mut r, text);
            assert!(!redacted.contains("ss w"), "{text} -> {redacted}");
            assert!(
                !redacted.contains("ss%20w") && !redacted.contains("ss+w"),
                "{text} -> {redacted}"
            );
        }
    }

    #[test]
    fn percent_encoded_registration_also_redacts_the_decoded_form() {
        let mut r = registry(&["s%40cret"]);
        assert_eq!(redact_with(&mut r, "s@cret and s%40cret"), "*** and ***");
    }

    #[test]
    fn longest_secret_wins_and_short_ones_are_not_redacted() {
        let mut r = registry(&["abc", "abcdef", "pw"]);
        assert_eq!(redact_with(&mut r, "abcdef abc pw"), "*** *** pw");
    }

    #[test]
    fn multi_line_secrets_are_registered_per_line() {
        let mut r = registry(&["-----BEGIN KEY-----\nAAAAsecretline\n\n-----END KEY-----\n"]);
        assert_eq!(redact_with(&mut r, "x AAAAsecretline y"), "x *** y");
        assert!(r.secrets.contains("-----END KEY-----"));
    }

    #[test]
    fn url_secrets_in_every_form() {
        for (text, scheme_less, want) in [
            ("postgres://u:pw1@h/db", false, vec!["pw1"]),
            ("user:SECRET@host/db", true, vec!["SECRET"]),
            ("user:SECRET@host/db", false, vec![]),
            (
                "postgres://user@host/db?password=SECRET",
                false,
                vec!["SECRET"],
            ),
            (
                "postgres://h/db?sslmode=require&sslpassword=S2&user=u",
                false,
                vec!["S2"],
            ),
            ("host=h password='a b' user=u", false, vec!["a b"]),
            ("Server=h;Password=pw3;User=u", false, vec!["pw3"]),
            ("--url=http://u:p%40ss@h/x", false, vec!["p%40ss"]),
            (
                "https://ghp_0123456789abcdefghij@github.com/o/r",
                false,
                vec!["ghp_0123456789abcdefghij"],
            ),
            ("https://git@github.com/o/r", false, vec![]),
            ("https://host/?q=a:b@c", false, vec![]),
            ("sqlite://app.db?mode=rwc", false, vec![]),
            ("http://a:x@h and https://b:y@i", false, vec!["x", "y"]),
            (
                "https://h/?X-Amz-Signature=abc123&X-Amz-Credential=AKIA/x",
                false,
                vec!["abc123", "AKIA/x"],
            ),
        ] {
            assert_eq!(url_secrets(text, scheme_less), want, "{text}");
        }
    }

    #[test]
    fn environment_and_arguments_are_learned() {
        let mut r = Registry::default();
        r.learn_from_process(
            [
                ("GITHUB_TOKEN", "ghs_tokenvalue"),
                ("INPUT_REGISTRY-PASSWORD", "registry-pass"),
                // A test double's placeholder, not a secret: "test" must stay readable.
                ("AWS_SECRET_ACCESS_KEY", "test"),
                ("MY_API_KEY", "k3y-value"),
                ("SKIP_TOKEN", "false"),
                ("HTTPS_PROXY", "http://proxyuser:proxypw@proxy:3128"),
                ("DATABASE_URL", "app:dbpw@db/app"),
                ("PATH", "/usr/bin:/bin"),
                ("HOME", "/root"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
            ["--endpoint-url", "http://u:argpw@127.0.0.1:1", "--flag=x"].map(str::to_owned),
        );
        let learned: Vec<&str> = r.secrets.iter().map(String::as_str).collect();
        assert_eq!(
            learned,
            [
                "argpw",
                "dbpw",
                "ghs_tokenvalue",
                "k3y-value",
                "proxypw",
                "registry-pass"
            ]
        );
    }

    #[test]
    fn redacting_writer_holds_lines_until_complete() {
        register("zq-writer-secret-zq");
        let mut out = Vec::new();
        {
            let mut w = Redacting::new(&mut out);
            w.write_all(b"a zq-writer-").unwrap();
            w.write_all(b"secret-zq b\nc zq-wri").unwrap();
            w.write_all(b"ter-secret-zq").unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "a *** b\nc ***");
    }

    #[test]
    fn redacting_writer_passes_long_lines_on_without_splitting_a_secret() {
        register("zq-long-line-secret-zq");
        let mut out = Vec::new();
        {
            let mut w = Redacting::new(&mut out);
            let filler = "x".repeat(MAX_PENDING - 5);
            w.write_all(filler.as_bytes()).unwrap();
            w.write_all(b"zq-long-line-").unwrap();
            w.write_all(b"secret-zq tail").unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("x*** tail"), "{}", &text[text.len() - 40..]);
        assert!(!text.contains("zq-long"));
    }

    #[test]
    fn global_registry_redacts_text_and_bytes() {
        register_url("postgres://app:zq-url-pw-zq@db/app");
        register_basic_auth("robot", "zq-basic-pw-zq");
        let basic = base64::engine::general_purpose::STANDARD.encode("robot:zq-basic-pw-zq");
        assert_eq!(
            redact(&format!("postgres://app:zq-url-pw-zq@db/app Basic {basic}")),
            "postgres://app:***@db/app Basic ***"
        );
        assert_eq!(
            redact_bytes(b"\xff zq-url-pw-zq \xfe").as_ref(),
            b"\xff *** \xfe"
        );
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
    }
}
