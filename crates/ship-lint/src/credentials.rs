//! What a credential looks like, for the rules that look for literal ones (`hardcoded-secret`
//! in workflows and actions, `env-file-committed` in `.env` files) and the one that looks for
//! long-lived AWS keys handed to jobs (`static-credentials`).
//!
//! The value decides, not only its key: `mask-password: 'true'` is a switch, `POSTGRES_PASSWORD:
//! postgres` a throwaway, `AWS_SECRET_ACCESS_KEY: test` LocalStack's dummy, while a 64-hex
//! `RAILS_MASTER_KEY` or a `ghp_…` token is a real secret whatever its key is called. Every check
//! here is a single pass over the value (the regexes are compiled once and run in linear time).

use regex::{Regex, RegexSet};
use std::sync::LazyLock;

/// A credential of a known shape inside a text: `text[start..end]` is the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub start: usize,
    pub end: usize,
    pub what: &'static str,
}

/// Patterns whose match is a credential wherever it appears (scripts included). The capture
/// group `s`, when present, is the secret part (a URL's password, an `AccountKey=` value).
static SHAPES: LazyLock<(RegexSet, Vec<(Regex, &'static str)>)> = LazyLock::new(|| {
    let pats: &[(&str, &str)] = &[
        (
            // The body too (up to its END line, on one line with `\n` escapes), so that a
            // redacted finding shows none of it.
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[^-]*(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?",
            "a private key",
        ),
        (
            r"(?-u:\b)gh[pousr]_[A-Za-z0-9]{36}(?-u:\b)",
            "a GitHub token",
        ),
        (
            r"(?-u:\b)github_pat_[A-Za-z0-9_]{40,}(?-u:\b)",
            "a GitHub token",
        ),
        (
            r"(?-u:\b)glpat-[A-Za-z0-9_-]{20,}(?-u:\b)",
            "a GitLab token",
        ),
        (
            r"(?-u:\b)xox[abposr]-[A-Za-z0-9-]{10,}(?-u:\b)",
            "a Slack token",
        ),
        (
            r"(?-u:\b)xapp-[0-9]-[A-Za-z0-9-]{20,}(?-u:\b)",
            "a Slack token",
        ),
        (
            r"https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Za-z0-9]+/[A-Za-z0-9/_-]{8,}",
            "a Slack webhook URL",
        ),
        (
            r"https://(?:[a-z0-9-]+\.)?discord(?:app)?\.com/api/webhooks/[0-9]+/[A-Za-z0-9_-]{20,}",
            "a Discord webhook URL",
        ),
        (
            r"(?-u:\b)[sr]k_live_[A-Za-z0-9]{20,}(?-u:\b)",
            "a Stripe live key",
        ),
        (r"(?-u:\b)AIza[0-9A-Za-z_-]{35}(?-u:\b)", "a Google API key"),
        (
            r"(?-u:\b)GOCSPX-[A-Za-z0-9_-]{28}(?-u:\b)",
            "a Google OAuth client secret",
        ),
        (r"(?-u:\b)npm_[A-Za-z0-9]{36}(?-u:\b)", "an npm token"),
        (
            r"(?-u:\b)pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",
            "a PyPI token",
        ),
        (r"(?-u:\b)dckr_pat_[A-Za-z0-9_-]{27,}", "a Docker Hub token"),
        (
            r"(?-u:\b)SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?-u:\b)",
            "a SendGrid API key",
        ),
        (
            r"(?-u:\b)sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}",
            "an OpenAI API key",
        ),
        (r"(?-u:\b)sk-proj-[A-Za-z0-9_-]{40,}", "an OpenAI API key"),
        (
            r"(?-u:\b)sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,}",
            "an Anthropic API key",
        ),
        (
            r"(?-u:\b)eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
            "a JSON Web Token",
        ),
        (
            r"AccountKey=(?P<s>[A-Za-z0-9+/]{80,}={0,2})",
            "an Azure storage account key",
        ),
        // An AWS secret access key is 40 base64 characters: only recognisable by its name.
        (
            r#"(?:AWS_SECRET_ACCESS_KEY|aws_secret_access_key|aws-secret-access-key)["']?\s*[:=]\s*["']?(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+]|$)"#,
            "an AWS secret access key",
        ),
        (
            r"(?-u:\b)[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@'\x22]+:(?P<s>[^/\s@'\x22]+)@(?P<host>[^\s/'\x22?#]+)",
            "a URL with an inline password",
        ),
    ];
    let set = RegexSet::new(pats.iter().map(|p| p.0)).expect("credential patterns compile");
    let res = pats
        .iter()
        .map(|(p, d)| (Regex::new(p).expect("credential pattern compiles"), *d))
        .collect();
    (set, res)
});

/// A fixed part of every pattern in [`SHAPES`]; keep the two in step.
static PREFILTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"PRIVATE KEY|gh[pousr]_|github_pat_|glpat-|xox|xapp-|hooks\.slack\.com|discord|k_live_|AIza|GOCSPX-|npm_|pypi-|dckr_pat_|SG\.|sk-|eyJ|AccountKey=|SECRET_ACCESS_KEY|secret_access_key|secret-access-key|://",
    )
    .expect("regex")
});

/// Credentials the world already knows: published development keys of local emulators and
/// test chains. Finding them in a workflow leaks nothing.
const PUBLIC_DEV_KEYS: &[&str] = &[
    // Azurite / the Azure storage emulator (devstoreaccount1).
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    // Hardhat / Anvil test account #0.
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
];

/// Every known-shape credential in `text`, in order. Dummies (placeholder tokens, URLs to local
/// hosts or with placeholder passwords, public development keys) are left out;
/// `local_value(password)` says whether a URL password is a throwaway the caller knows of (a
/// service container's).
pub fn scan_shapes(text: &str, local_value: &dyn Fn(&str) -> bool) -> Vec<Shape> {
    let (set, res) = &*SHAPES;
    let mut found = Vec::new();
    // Most values (`ubuntu-latest`, `actions/checkout@v4`, expressions) hold none of the
    // shapes' fixed parts: one literal search (SIMD) rejects them before the pattern set runs.
    // No shape fits in fewer than 12 bytes (`x://u:p@h.io`).
    if text.len() < 12 || !PREFILTER.is_match(text) || !set.is_match(text) {
        return found;
    }
    for i in set.matches(text).iter() {
        let (re, what) = &res[i];
        for caps in re.captures_iter(text) {
            let Some(whole) = caps.get(0) else { continue };
            let secret = caps.name("s").unwrap_or(whole);
            let s = secret.as_str();
            let keep = match *what {
                "a URL with an inline password" => {
                    let host = caps.name("host").map_or("", |h| h.as_str());
                    !local_host(host) && !is_placeholder(s) && !never_secret(s) && !local_value(s)
                }
                "a JSON Web Token" => !public_jwt(s),
                "a private key" => true,
                _ => !is_placeholder(s) && !PUBLIC_DEV_KEYS.contains(&s),
            };
            if keep {
                found.push(Shape {
                    start: secret.start(),
                    end: secret.end(),
                    what,
                });
            }
        }
    }
    found.sort_by_key(|s| s.start);
    // The AWS-secret pattern and the URL pattern can cover the same characters: keep one.
    found.dedup_by(|b, a| b.start < a.end);
    found
}

/// A name for a value shipped to browsers and apps on purpose (`NEXT_PUBLIC_FIREBASE_API_KEY`,
/// `STRIPE_PUBLISHABLE_KEY`): its key or token is public by design.
pub fn public_name(key: &str) -> bool {
    [&b"public"[..], &b"publishable"[..]].iter().any(|h| {
        key.as_bytes()
            .windows(h.len())
            .any(|w| w.eq_ignore_ascii_case(h))
    })
}

/// Shapes that are also handed to clients on purpose (Google API keys of web apps, Supabase
/// anon JWTs): under a [`public_name`] they are not leaks.
pub fn client_side(shape: &Shape) -> bool {
    matches!(shape.what, "a Google API key" | "a JSON Web Token")
}

/// What a key's name says its value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `password`, `DB_PASSWORD`, `passwd`, `pwd`.
    Password,
    /// `token`, `api-key`, `client_secret`, `RAILS_MASTER_KEY`, `SECRET_KEY_BASE`, …
    Secret,
    /// `AWS_SECRET_ACCESS_KEY`, `aws-secret-access-key`.
    AwsSecret,
}

static PASSWORD_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[-_.])(?:password|passwd|passphrase|pwd|pass)$").expect("regex")
});

static SECRET_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)(?:^|[-_.])(?:
            secret | token | api[-_]?key | apikey | access[-_]?key | private[-_]?key
          | client[-_]?secret | secret[-_]?key | secret[-_]?key[-_]?base | master[-_]?key
          | signing[-_]?key | encryption[-_]?key | auth[-_]?key | app[-_]?key | hmac[-_]?key
          | license[-_]?key | credentials? | secret[-_]?token | webhook[-_]?secret
        )$",
    )
    .expect("regex")
});

static AWS_SECRET_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[-_])aws[-_](?:[a-z0-9]+[-_])*secret(?:[-_]access)?[-_]key$")
        .expect("regex")
});

/// How `key` classifies its value, if it names a credential at all.
pub fn key_kind(key: &str) -> Option<KeyKind> {
    const HINTS: [&[u8]; 6] = [b"pass", b"pwd", b"secret", b"token", b"key", b"cred"];
    let hinted = HINTS.iter().any(|h| {
        key.as_bytes()
            .windows(h.len())
            .any(|w| w.eq_ignore_ascii_case(h))
    });
    // Most keys (`runs-on`, `with`, `name`) name no credential: skip the patterns below.
    if key.len() > 128 || !hinted || public_name(key) {
        return None;
    }
    if AWS_SECRET_KEY.is_match(key) || key.eq_ignore_ascii_case("secret_access_key") {
        Some(KeyKind::AwsSecret)
    } else if PASSWORD_KEY.is_match(key) {
        Some(KeyKind::Password)
    } else if SECRET_KEY.is_match(key) {
        Some(KeyKind::Secret)
    } else {
        None
    }
}

/// Why a literal `value` under a key of kind `kind` is a real secret, or `None` when it is not
/// one: a boolean, a number, an expression or variable, a placeholder, or a value too plain to
/// be a generated secret or a chosen password (a test dummy such as `postgres` or `minio123`).
pub fn literal_secret(kind: KeyKind, value: &str) -> Option<&'static str> {
    let v = value.trim();
    if never_secret(v) || is_placeholder(v) || PUBLIC_DEV_KEYS.contains(&v) {
        return None;
    }
    if v.chars().any(char::is_whitespace) {
        return None;
    }
    if kind == KeyKind::AwsSecret
        && v.len() == 40
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
        && looks_random(v)
    {
        return Some("an AWS secret access key");
    }
    if let Some(what) = random_shape(v) {
        return Some(what);
    }
    if strong_password(v) {
        return Some(match kind {
            KeyKind::Password => "a password",
            _ => "a literal secret",
        });
    }
    // Under a password key, length alone: test dummies are short words (`postgres`,
    // `localdev`, `minio123`), while `hunter2hunter2` is someone's password.
    if kind == KeyKind::Password && v.chars().count() >= 12 {
        return Some("a password");
    }
    None
}

/// Values that are never secrets whatever their key: empty, booleans, numbers, `${{ }}`
/// expressions, shell and environment variable references.
pub fn never_secret(v: &str) -> bool {
    let v = v.trim();
    if v.is_empty() || v.contains("${{") || v.starts_with('$') || v.contains("${") {
        return true;
    }
    if v.starts_with('%') && v.ends_with('%') {
        return true; // a Windows %VARIABLE%
    }
    let lower = v.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "none" | "~"
    ) {
        return true;
    }
    let digits = v.trim_start_matches(['-', '+']).replace('_', "");
    !digits.is_empty() && digits.parse::<f64>().is_ok()
}

/// Placeholder words and dummy values that stand for a secret without being one.
pub fn is_placeholder(v: &str) -> bool {
    let lower = v.trim().to_ascii_lowercase();
    if lower.is_empty() {
        return true;
    }
    const WHOLE: &[&str] = &[
        "password", "passwd", "pass", "pwd", "secret", "token", "key", "user", "username", "admin",
        "root", "pw", "none", "empty", "unset", "redacted", "hidden", "masked",
    ];
    if WHOLE.contains(&lower.as_str()) {
        return true;
    }
    const PARTS: &[&str] = &[
        "changeme",
        "change_me",
        "change-me",
        "changethis",
        "change_this",
        "change-this",
        "dummy",
        "example",
        "placeholder",
        "sample",
        "xxx",
        "your_",
        "your-",
        "yourtoken",
        "yourkey",
        "yoursecret",
        "yourpassword",
        "insert",
        "replace",
        "fake",
        "not_a_real",
        "not-a-real",
        "notreal",
        "not_real",
        "must_be",
        "must-be",
        "configure",
        "redacted",
        "todo",
        "fixme",
        "test",
        "mock",
        "insecure",
        "_here",
        "-here",
        "foobar",
        "password",
        "passwd",
        "secret",
        "12345",
    ];
    if PARTS.iter().any(|p| lower.contains(p)) {
        return true;
    }
    // `<token>`, `{{ password }}`, `[secret]`, `***`: a template or a mask.
    if (lower.starts_with('<') && lower.ends_with('>'))
        || (lower.starts_with('[') && lower.ends_with(']'))
        || lower.contains("{{")
        || lower.contains("**")
    {
        return true;
    }
    // One character repeated or two alternating (`aaaaaaaa`, `00000000`, `abababab`).
    let mut distinct: Vec<char> = Vec::new();
    for c in lower.chars() {
        if !distinct.contains(&c) {
            distinct.push(c);
            if distinct.len() > 3 {
                return false;
            }
        }
    }
    lower.chars().count() >= 4
}

/// A host that only the runner (or a job's service container, reached by its bare name) can
/// reach, or a documentation domain: credentials for it are throwaways or placeholders.
pub fn local_host(host_port: &str) -> bool {
    let host = host_port.rsplit('@').next().unwrap_or(host_port);
    let host = if host.starts_with('[') {
        host.split(']')
            .next()
            .unwrap_or(host)
            .trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or(host)
    }
    .to_ascii_lowercase();
    if host.is_empty() || !host.contains('.') {
        return true; // `localhost`, `::1`, `postgres`, `db`: a service container's name
    }
    if host.starts_with("127.") || host == "0.0.0.0" || host == "host.docker.internal" {
        return true;
    }
    const DOC_DOMAINS: &[&str] = &[
        "example.com",
        "example.org",
        "example.net",
        "localhost",
        "local",
        "test",
        "example",
        "invalid",
    ];
    DOC_DOMAINS
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// A generated secret: hex of 20+ characters (keys, UUID tokens), or 16+ characters of a
/// base64 alphabet that read as random rather than as words.
fn random_shape(v: &str) -> Option<&'static str> {
    let n = v.chars().count();
    if !(16..=4096).contains(&n) {
        return None;
    }
    let hex_digits = v.bytes().filter(|b| b.is_ascii_hexdigit()).count();
    let only_hex = v.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if only_hex && hex_digits >= 20 {
        let has_digit = v.bytes().any(|b| b.is_ascii_digit());
        let has_letter = v.bytes().any(|b| b.is_ascii_alphabetic());
        if has_digit && has_letter && distinct_chars(v) >= 8 {
            return Some(if hex_digits >= 32 && !v.contains('-') {
                "a hex key"
            } else {
                "a random token"
            });
        }
        return None;
    }
    if n >= 20 && looks_random(v) {
        return Some("a random token");
    }
    None
}

/// Base64-alphabet text with letters and digits, high per-character entropy, and few runs of
/// same-case letters (words), so `rust-cache-20241114` or `local_secret_key_base_64` are not
/// taken for keys while `q8Vd2hR0kL5mNw3XzT7b` is.
fn looks_random(v: &str) -> bool {
    if !v
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+/=_-.~".contains(&b))
    {
        return false;
    }
    let has_digit = v.bytes().any(|b| b.is_ascii_digit());
    let has_lower = v.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = v.bytes().any(|b| b.is_ascii_uppercase());
    if !has_digit || !(has_lower || has_upper) {
        return false;
    }
    // Thresholds measured on random base62/base64 strings of 20 to 64 characters (99.9 % of
    // them pass) and on the identifiers of real workflows (`rust-cache-20241114`,
    // `development-main-redis-3dqynz`), which fail.
    entropy(v) >= 3.5 && !identifier(v) && wordiness(v, 5) < 0.6
}

/// Words and numbers joined by `-`, `_` or `.` (`rust-cache-20241114`, `node-modules-v1`):
/// every part is one kind of character or a short tag, which random text almost never is.
fn identifier(v: &str) -> bool {
    let mut parts = 0;
    for part in v.split(['-', '_', '.']) {
        parts += 1;
        let uniform = part.len() <= 3 // `v1`, `x64`
            || part.bytes().all(|b| b.is_ascii_lowercase())
            || part.bytes().all(|b| b.is_ascii_uppercase())
            || part.bytes().all(|b| b.is_ascii_digit());
        if !uniform {
            return false;
        }
    }
    parts >= 2
}

/// A password a person chose: 10+ characters mixing three of lower case, upper case, digits
/// and symbols, not mostly words. `-`, `_` and `.` separate words (`rust-cache-2024`), so they
/// do not count as symbols.
fn strong_password(v: &str) -> bool {
    if v.chars().count() < 10 {
        return false;
    }
    let classes = [
        v.chars().any(|c| c.is_ascii_lowercase()),
        v.chars().any(|c| c.is_ascii_uppercase()),
        v.chars().any(|c| c.is_ascii_digit()),
        v.chars()
            .any(|c| !c.is_ascii_alphanumeric() && !matches!(c, '-' | '_' | '.')),
    ];
    classes.iter().filter(|c| **c).count() >= 3 && wordiness(v, 4) < 0.6
}

fn distinct_chars(v: &str) -> usize {
    let mut seen = [false; 256];
    let mut n = 0;
    for b in v.bytes() {
        if !seen[b as usize] {
            seen[b as usize] = true;
            n += 1;
        }
    }
    n
}

/// Shannon entropy in bits per byte.
fn entropy(v: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in v.bytes() {
        counts[b as usize] += 1;
    }
    let n = v.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = *c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// The share of characters in runs of `min_run`+ letters of one case: high for words and
/// names, low for random base64.
fn wordiness(v: &str, min_run: usize) -> f64 {
    let mut in_words = 0usize;
    let mut run = 0usize;
    let mut last_case = 0u8; // 1 lower, 2 upper
    let mut total = 0usize;
    for c in v.chars() {
        total += 1;
        let case = if c.is_ascii_lowercase() {
            1
        } else if c.is_ascii_uppercase() {
            2
        } else {
            0
        };
        if case != 0 && case == last_case {
            run += 1;
        } else {
            if run >= min_run {
                in_words += run;
            }
            run = usize::from(case != 0);
        }
        last_case = case;
    }
    if run >= min_run {
        in_words += run;
    }
    if total == 0 {
        0.0
    } else {
        in_words as f64 / total as f64
    }
}

/// A JWT that is public by design: Supabase's anon key (shipped to browsers) and the local
/// development keys every Supabase CLI install shares.
fn public_jwt(token: &str) -> bool {
    let Some(payload) = token.split('.').nth(1) else {
        return false;
    };
    let Some(json) = base64url_decode(payload) else {
        return false;
    };
    let json: String = json
        .iter()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| *b as char)
        .collect();
    json.contains("\"role\":\"anon\"") || json.contains("\"iss\":\"supabase-demo\"")
}

fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() > 8192 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// What to append to a finding whose cause repeats: ` (and 2 more uses in this file, lines 40
/// and 52)`; empty when it does not repeat.
pub fn more_uses(other_lines: &[u32]) -> String {
    more_of(other_lines, "use")
}

/// [`more_uses`] with another noun: ` (and 1 more credential in this file, line 9)`.
pub fn more_of(other_lines: &[u32], noun: &str) -> String {
    const SHOWN: usize = 8;
    let n = other_lines.len();
    if n == 0 {
        return String::new();
    }
    let noun = if n == 1 {
        noun.to_string()
    } else {
        format!("{noun}s")
    };
    let mut lines: Vec<u32> = other_lines.to_vec();
    lines.dedup();
    let list = match lines.len() {
        1 => format!("line {}", lines[0]),
        k if k <= SHOWN => {
            let head: Vec<String> = lines[..k - 1].iter().map(u32::to_string).collect();
            format!("lines {} and {}", head.join(", "), lines[k - 1])
        }
        _ => {
            let head: Vec<String> = lines[..SHOWN].iter().map(u32::to_string).collect();
            format!("lines {}, …", head.join(", "))
        }
    };
    format!(" (and {n} more {noun} in this file, {list})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(text: &str) -> Vec<&'static str> {
        scan_shapes(text, &|_| false)
            .into_iter()
            .map(|s| s.what)
            .collect()
    }

    #[test]
    fn values_that_are_never_secrets() {
        for v in [
            "true",
            "'true'",
            "True",
            "false",
            "yes",
            "off",
            "3",
            "5432",
            "1.5",
            "1_000",
            "${{ secrets.X }}",
            "$DB_PASSWORD",
            "${DB_PASSWORD}",
            "",
        ] {
            let v = v.trim_matches('\'');
            assert!(never_secret(v), "{v}");
            assert_eq!(literal_secret(KeyKind::Password, v), None, "{v}");
        }
    }

    #[test]
    fn dummies_and_placeholders_are_not_secrets() {
        for (kind, v) in [
            (KeyKind::AwsSecret, "test"),
            (KeyKind::AwsSecret, "minio123"),
            (KeyKind::AwsSecret, "secret_key"),
            (KeyKind::Secret, "minioadmin"),
            (KeyKind::Password, "postgres"),
            (KeyKind::Password, "root"),
            (KeyKind::Password, "testpass"),
            (KeyKind::Password, "localdev"),
            (KeyKind::Password, "postgres_password"),
            (KeyKind::Password, "supersecret123"),
            (KeyKind::Secret, "dummy-key"),
            (KeyKind::Secret, "changethis"),
            (KeyKind::Secret, "your_jwt_secret_key_here"),
            (KeyKind::Secret, "insert-litellm-api-key-here"),
            (KeyKind::Secret, "MUST_BE_CONFIGURED"),
            (KeyKind::Secret, "this_is_a_test_key"),
            (KeyKind::Secret, "<your token>"),
            (KeyKind::Secret, "xxxxxxxxxxxxxxxxxxxxxxxx"),
            (
                KeyKind::Secret,
                "local_secret_key_base_at_least_64_bytes________",
            ),
            (KeyKind::Secret, "rust-cache-20241114"),
            (
                KeyKind::AwsSecret,
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
            (KeyKind::Secret, "00000000-0000-0000-0000-000000000000"),
        ] {
            assert_eq!(literal_secret(kind, v), None, "{v}");
        }
    }

    #[test]
    fn real_looking_values_are_secrets() {
        for (kind, v) in [
            (
                KeyKind::Secret,
                "3f9c2a7e4b1d8c6f0a5e9b2d7c4f1a8e6b3d0c9f2e5a8b1d4c7f0e3a6b9d2c5f",
            ),
            (
                KeyKind::AwsSecret,
                "q8Vd2hR0kL5mNw3XzT7bYc1eGf9JpUaS4oKiE6nH",
            ),
            (KeyKind::Secret, "7c6b1d8e0f2a4b3c9d5e"),
            (KeyKind::Secret, "9f1c3e5a-7b2d-4c6e-8a0b-1d3f5e7a9c2b"),
            (KeyKind::Password, "s3cr3t-Passw0rd"),
            (KeyKind::Password, "hunter2hunter2"),
        ] {
            assert!(literal_secret(kind, v).is_some(), "{v}");
        }
    }

    /// Random tokens of the usual alphabets read as random (a fixed-seed generator, so the
    /// test is deterministic), and the corpus's identifiers do not.
    #[test]
    fn random_tokens_look_random() {
        const B62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut missed = 0;
        for i in 0..2000 {
            let len = 24 + i % 41;
            let token: String = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    B62[(seed % 62) as usize] as char
                })
                .collect();
            if literal_secret(KeyKind::Secret, &token).is_none() {
                missed += 1;
            }
        }
        assert!(missed <= 10, "{missed} of 2000 random tokens missed");
        for v in [
            "development-main-redis-3dqynz",
            "node-modules-v1-linux",
            "i-dot-ai-dev-consult-mapping-FARGATE-batch-job-queue",
        ] {
            assert_eq!(literal_secret(KeyKind::Secret, v), None, "{v}");
        }
    }

    #[test]
    fn key_names() {
        assert_eq!(key_kind("RAILS_MASTER_KEY"), Some(KeyKind::Secret));
        assert_eq!(key_kind("SECRET_KEY_BASE"), Some(KeyKind::Secret));
        assert_eq!(key_kind("mask-password"), Some(KeyKind::Password));
        assert_eq!(key_kind("AWS_SECRET_ACCESS_KEY"), Some(KeyKind::AwsSecret));
        assert_eq!(key_kind("aws-secret-access-key"), Some(KeyKind::AwsSecret));
        assert_eq!(key_kind("AWS_ACCESS_KEY_ID"), None);
        assert_eq!(key_kind("cache-key"), None);
        assert_eq!(key_kind("NEXT_PUBLIC_SUPABASE_ANON_KEY"), None);
        assert_eq!(key_kind("STRIPE_PUBLISHABLE_KEY"), None);
    }

    #[test]
    fn known_shapes() {
        // Token-shaped strings are built here, never committed whole.
        let token = format!("echo ghp_{}", "aB3d".repeat(9));
        assert_eq!(shapes(&token), vec!["a GitHub token"]);
        let webhook = format!(
            "curl https://hooks.slack.com/services/T0{}/B0{}/{}",
            "4KD8S2F",
            "5QJ7LMN",
            "q8Vd2hR0".repeat(3)
        );
        assert_eq!(shapes(&webhook), vec!["a Slack webhook URL"]);
        let live = format!("sk_{}_{}", "live", "q8Vd2hR0kL5m".repeat(2));
        assert_eq!(shapes(&live), vec!["a Stripe live key"]);
        assert_eq!(
            shapes("psql postgres://app:Xk9mP2vL5q@db.prod.acme.io/app"),
            vec!["a URL with an inline password"]
        );
        assert!(shapes("postgres://postgres:postgres@localhost:5432/x").is_empty());
        assert!(shapes("postgres://u:${PASS}@db.acme.io/x").is_empty());
        assert!(shapes("https://user:password@db.acme.io").is_empty());
        assert!(shapes("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;").is_empty());
        assert!(shapes("AKIAIOSFODNN7EXAMPLE").is_empty());
        assert!(shapes(
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
        )
        .is_empty());
    }

    #[test]
    fn public_jwts_are_left_alone() {
        // {"iss":"supabase-demo","role":"anon","exp":1983812996}
        let anon = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
        assert!(shapes(anon).is_empty());
        // {"sub":"deploy-bot","role":"service"}
        let real = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZXBsb3ktYm90Iiwicm9sZSI6InNlcnZpY2UifQ.dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ";
        assert_eq!(shapes(real), vec!["a JSON Web Token"]);
    }

    #[test]
    fn more_uses_lists_lines() {
        assert_eq!(more_uses(&[]), "");
        assert_eq!(more_uses(&[9]), " (and 1 more use in this file, line 9)");
        assert_eq!(
            more_uses(&[9, 12, 40]),
            " (and 3 more uses in this file, lines 9, 12 and 40)"
        );
        assert_eq!(
            more_uses(&[1, 2, 3, 4, 5, 6, 7, 8, 9]),
            " (and 9 more uses in this file, lines 1, 2, 3, 4, 5, 6, 7, 8, …)"
        );
    }
}
