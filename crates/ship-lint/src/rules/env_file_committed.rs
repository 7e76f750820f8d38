use crate::context::{Diagnostic, RepositoryContext};
use crate::credentials::{
    client_side, key_kind, literal_secret, more_of, public_name, scan_shapes,
};
use crate::rules::rule_impl;
use ship_workflow::{Pos, Span};

declare_rule! {
    /// ## What it reports
    /// A committed environment file (`.env`, `.env.production`, `.env.local`, `.envrc`…)
    /// that holds a real credential: a value of a known credential shape (a private key, a
    /// GitHub or Slack token, a URL with a password for a real host…) or, under a key named
    /// like a secret (`SECRET_KEY_BASE`, `DB_PASSWORD`, `STRIPE_SECRET_KEY`), a value that
    /// looks generated or like a chosen password. The finding points at the first such value
    /// (never printing it) and counts the others.
    ///
    /// Files that hold only placeholders (`changethis`, `your_key_here`, empty values), local
    /// development settings (`postgres:postgres@localhost`, MinIO's `minioadmin`) or
    /// `$VARIABLE` references are not reported, whatever their name; templates
    /// (`.env.example`, `.env.sample`…) are reported only when they hold a real-looking
    /// credential too. Files ignored by `.gitignore` are not committed and not read, nor are
    /// paths matching the policy's `ignore-paths` (e.g. test fixtures).
    ///
    /// ## Why
    /// An environment file with real credentials is in every clone and in history forever,
    /// and CI jobs may load it instead of environment secrets.
    ///
    /// ## How to fix
    /// Remove it from git (`git rm --cached .env`), add it to `.gitignore`, rotate what it
    /// contained, and commit a `.env.example` with placeholders instead:
    ///
    /// ```sh
    /// # .env.example: copy to .env and fill in; never commit the copy
    /// DATABASE_URL=postgres://app:changeme@localhost:5432/app
    /// STRIPE_SECRET_KEY=
    /// ```
    pub struct EnvFileCommitted {
        id: "env-file-committed",
        severity: Error,
        summary: "a .env file with real values is in the repository",
    }
}
rule_impl!(EnvFileCommitted, repository);

/// Larger files are not environment files; they are not read.
const MAX_ENV_FILE: u64 = 1024 * 1024;

fn is_env_file(name: &str) -> bool {
    name == ".env" || name.starts_with(".env.") || name == ".envrc" || name.starts_with(".envrc.")
}

/// A credential in an environment file: where its value is, and what it is.
struct EnvSecret {
    span: Span,
    key: String,
    what: &'static str,
}

/// `KEY=value` lines (`export KEY=value` too) with real credentials, in order.
fn env_secrets(text: &str) -> Vec<EnvSecret> {
    let mut found = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i as u32 + 1;
        let line = raw.trim_start();
        if line.starts_with('#') {
            continue;
        }
        let indent = raw.len() - line.len();
        let body = line.strip_prefix("export ").unwrap_or(line);
        let body_at = indent + (line.len() - body.len());
        let Some((key, rest)) = body.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
        {
            continue;
        }
        let rest_at = body_at + key.len() + (body.len() - key.len() - rest.len());
        let (value, value_at) = unquote(rest, rest_at);
        let col = |byte: usize| raw[..byte.min(raw.len())].chars().count() as u32 + 1;
        let span_of = |start: usize, end: usize| Span {
            start: Pos {
                line: line_no,
                column: col(start),
            },
            end: Pos {
                line: line_no,
                column: col(end),
            },
        };
        let public = public_name(key);
        let shape = scan_shapes(value, &|_| false)
            .into_iter()
            .find(|s| !(public && client_side(s)));
        if let Some(s) = shape {
            found.push(EnvSecret {
                span: span_of(value_at + s.start, value_at + s.end),
                key: key.to_string(),
                what: s.what,
            });
            continue;
        }
        if let Some(what) = key_kind(key).and_then(|k| literal_secret(k, value)) {
            found.push(EnvSecret {
                span: span_of(value_at, value_at + value.len()),
                key: key.to_string(),
                what,
            });
        }
    }
    found
}

/// The value after `=` without quotes or a trailing `# comment`, and its byte offset in the
/// line.
fn unquote(rest: &str, at: usize) -> (&str, usize) {
    let trimmed = rest.trim_start();
    let at = at + (rest.len() - trimmed.len());
    for q in ['"', '\''] {
        if let Some(inner) = trimmed.strip_prefix(q) {
            let end = inner.find(q).unwrap_or(inner.len());
            return (&inner[..end], at + 1);
        }
    }
    let end = trimmed.find(" #").unwrap_or(trimmed.len());
    (trimmed[..end].trim_end(), at)
}

/// The path (when the walker knows it) and the bare reason of a directory walk error.
fn unsearchable(e: &ignore::Error) -> (Option<std::path::PathBuf>, String) {
    match e {
        ignore::Error::WithPath { path, err } => (Some(path.clone()), unsearchable(err).1),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            unsearchable(err)
        }
        ignore::Error::Io(io) => (None, io.kind().to_string()),
        other => (None, other.to_string()),
    }
}

impl EnvFileCommitted {
    fn check(&self, cx: &RepositoryContext<'_>, out: &mut Vec<Diagnostic>) {
        let ignored: Vec<globset::GlobMatcher> = cx
            .policy
            .policy
            .ignore_paths
            .iter()
            .filter_map(|p| globset::Glob::new(p).ok().map(|g| g.compile_matcher()))
            .collect();
        let walker = ignore::WalkBuilder::new(cx.dir)
            .hidden(false)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .require_git(false)
            .max_depth(Some(12))
            .filter_entry(|e| {
                let n = e.file_name().to_string_lossy();
                !matches!(n.as_ref(), ".git" | "node_modules" | "target" | "vendor")
            })
            .build();
        let mut files: Vec<(String, std::path::PathBuf)> = Vec::new();
        let relative = |p: &std::path::Path| {
            p.strip_prefix(cx.dir)
                .unwrap_or(p)
                .to_string_lossy()
                .replace('\\', "/")
        };
        for entry in walker {
            // A directory that cannot be listed may hold a committed `.env`: say so rather
            // than pass it in silence.
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let (path, reason) = unsearchable(&e);
                    let rel = path.map(|p| relative(&p)).unwrap_or_else(|| ".".into());
                    if !ignored.iter().any(|g| g.is_match(&rel)) {
                        out.push(Diagnostic::in_file(
                            rel.clone(),
                            None,
                            format!("`{rel}` could not be searched for committed environment files ({reason}); any in it were not checked"),
                            "make it readable to the user running ship lint, or list it in the policy's `ignore-paths`",
                        ));
                    }
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            if !is_env_file(&entry.file_name().to_string_lossy()) {
                continue;
            }
            let rel = relative(entry.path());
            if ignored.iter().any(|g| g.is_match(&rel)) {
                continue;
            }
            if entry.metadata().is_ok_and(|m| m.len() > MAX_ENV_FILE) {
                continue;
            }
            files.push((rel, entry.into_path()));
        }
        files.sort();
        for (rel, path) in files {
            // Unreadable or binary: not an environment file anyone loads.
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let secrets = env_secrets(&text);
            let Some(first) = secrets.first() else {
                continue;
            };
            let others: Vec<u32> = secrets[1..].iter().map(|s| s.span.start.line).collect();
            out.push(
                Diagnostic::in_file(
                    rel.clone(),
                    Some(first.span),
                    format!(
                        "`{rel}` is committed with a real credential: `{}` holds {}{}",
                        first.key,
                        first.what,
                        more_of(&others, "credential"),
                    ),
                    "`git rm --cached` it, add it to .gitignore, rotate its values, and commit a `.env.example` with placeholders",
                )
                .redacted(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_with_positions() {
        let text = "# comment\nexport DEBUG=true\nSECRET_KEY_BASE=\"3f9c2a7e4b1d8c6f0a5e9b2d7c4f1a8e6b3d0c9f\"\nPASSWORD=changeme # local\n";
        let found = env_secrets(text);
        assert_eq!(found.len(), 1);
        let s = &found[0];
        assert_eq!(s.key, "SECRET_KEY_BASE");
        assert_eq!((s.span.start.line, s.span.start.column), (3, 18));
        assert_eq!(s.span.end.column, 58);
    }

    #[test]
    fn placeholders_and_local_settings_are_not_credentials() {
        let text = "SECRET_KEY=changethis\nDATABASE_URL=postgres://postgres:postgres@db/app\nMINIO_SECRET_KEY=minioadmin\nAPI_KEY=\nTOKEN=${TOKEN}\n";
        assert!(env_secrets(text).is_empty());
    }
}
