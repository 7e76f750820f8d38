//! Migration files on disk: discovery, naming rules, checksums and directives.
//!
//! A migrations directory holds `NNNN_name.sql` files (any number of digits, ordered
//! numerically), each optionally paired with `NNNN_name.down.sql`. `NNNN_name.up.sql` is
//! accepted as a spelling of the up file (sqlx's reversible layout). Other files (a README) are
//! ignored; a `.sql` file that does not follow the pattern is an error, because a migration
//! that is silently skipped is worse than a failed deploy.

use crate::error::Error;
use crate::sql::{Script, TokenKind};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The directive that makes a migration run outside a transaction.
pub const NO_TRANSACTION: &str = "ship:no-transaction";

/// SHA-256 (hex) of `text` with line endings normalised: `\r\n` counts as `\n`, and a leading
/// UTF-8 byte order mark is ignored. A file checked out with CRLF on one machine and LF on
/// another has one checksum.
pub fn checksum(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut hasher = Sha256::new();
    let mut rest = text.as_bytes();
    while let Some(pos) = rest.windows(2).position(|w| w == b"\r\n") {
        hasher.update(&rest[..pos]);
        hasher.update(b"\n");
        rest = &rest[pos + 2..];
    }
    hasher.update(rest);
    let digest = hasher.finalize();
    let mut hex = String::with_capacity(64);
    for byte in digest {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// One SQL file, read and lexed.
#[derive(Debug, Clone)]
pub struct SqlFile {
    /// The path as it should be shown: the directory as given plus the file name, with `/`.
    pub display: String,
    pub path: PathBuf,
    pub text: String,
    pub script: Script,
    /// The file's header has `-- ship:no-transaction`.
    pub no_transaction: bool,
}

impl SqlFile {
    /// Read and lex `path`, shown as `display`.
    pub fn read(path: &Path, display: String) -> Result<SqlFile, Error> {
        let bytes = std::fs::read(path).map_err(|e| {
            Error::config(format!(
                "cannot read migration file {display}: {e}. Check that it exists and is readable."
            ))
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            Error::config(format!(
                "migration file {display} is not valid UTF-8 (invalid byte at offset {}); save it as UTF-8.",
                e.utf8_error().valid_up_to()
            ))
        })?;
        Ok(SqlFile::from_text(path.to_path_buf(), display, text))
    }

    /// A file from text already in memory.
    pub fn from_text(path: PathBuf, display: String, text: String) -> SqlFile {
        let script = Script::parse(&text);
        let no_transaction = script.header_comments().any(|c| {
            let body = comment_body(&text[c.start..c.end]);
            body == NO_TRANSACTION
                || body
                    .strip_prefix(NO_TRANSACTION)
                    .is_some_and(|rest| rest.starts_with([' ', '\t', ':']))
        });
        SqlFile {
            display,
            path,
            text,
            script,
            no_transaction,
        }
    }

    pub fn checksum(&self) -> String {
        checksum(&self.text)
    }

    /// The text of statement `i`.
    pub fn statement_text(&self, i: usize) -> &str {
        let s = &self.script.statements[i];
        &self.text[s.start..s.end]
    }

    /// 1-based line of statement `i`.
    pub fn statement_line(&self, i: usize) -> u32 {
        self.script
            .line_col(&self.text, self.script.statements[i].start)
            .0
    }

    /// Statements that control transactions (`BEGIN`, `COMMIT`, …), as (index, keyword).
    pub fn transaction_control(&self) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (i, st) in self.script.statements.iter().enumerate() {
            let toks = self.script.statement_tokens(st);
            let Some(first) = toks.first().filter(|t| t.kind == TokenKind::Word) else {
                continue;
            };
            let word = self.text[first.start..first.end].to_ascii_uppercase();
            let second = toks
                .get(1)
                .filter(|t| t.kind == TokenKind::Word)
                .map(|t| self.text[t.start..t.end].to_ascii_uppercase());
            let is_control = match word.as_str() {
                "BEGIN" => second.as_deref() != Some("ATOMIC"),
                "START" => second.as_deref() == Some("TRANSACTION"),
                "COMMIT" | "END" | "ROLLBACK" | "ABORT" => true,
                _ => false,
            };
            if is_control {
                out.push((i, word));
            }
        }
        out
    }
}

/// The text of a comment without its `--` / `/* */` markers, trimmed.
pub fn comment_body(comment: &str) -> &str {
    if let Some(rest) = comment.strip_prefix("--") {
        rest.trim()
    } else {
        comment
            .strip_prefix("/*")
            .and_then(|c| c.strip_suffix("*/"))
            .unwrap_or(comment)
            .trim()
    }
}

/// One migration: its up file and, when reversible, its down file.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: i64,
    pub name: String,
    pub up: SqlFile,
    pub down: Option<SqlFile>,
}

impl Migration {
    /// `0003_add_email` style label: the up file's name without `.sql`.
    pub fn label(&self) -> String {
        let file = self
            .up
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&self.name);
        file.strip_suffix(".sql")
            .map(|f| f.strip_suffix(".up").unwrap_or(f))
            .unwrap_or(file)
            .to_string()
    }
}

/// What a file name says it is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FileRole {
    Up,
    Down,
}

/// Parse `NNNN_name.sql` / `NNNN_name.up.sql` / `NNNN_name.down.sql`.
pub(crate) fn parse_file_name(file: &str) -> Result<(i64, String, FileRole), String> {
    let stem = file
        .strip_suffix(".sql")
        .ok_or_else(|| "does not end in .sql".to_string())?;
    let (stem, role) = if let Some(s) = stem.strip_suffix(".down") {
        (s, FileRole::Down)
    } else if let Some(s) = stem.strip_suffix(".up") {
        (s, FileRole::Up)
    } else {
        (stem, FileRole::Up)
    };
    let digits: &str = &stem[..stem
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(stem.len())];
    if digits.is_empty() {
        return Err("does not start with a numeric version".into());
    }
    let rest = &stem[digits.len()..];
    let name = rest
        .strip_prefix('_')
        .filter(|n| !n.is_empty())
        .ok_or_else(|| "has no `_name` after the version".to_string())?;
    let version: i64 = digits
        .parse()
        .map_err(|_| format!("has a version ({digits}) larger than {}", i64::MAX))?;
    Ok((version, name.to_string(), role))
}

/// Read every migration in `dir`, ordered by version. Duplicate versions, malformed names and
/// down files without an up file are errors naming the files.
pub fn load_dir(dir: &Path) -> Result<Vec<Migration>, Error> {
    let shown_dir = dir.to_string_lossy().replace('\\', "/");
    let shown_dir = shown_dir.trim_end_matches('/').to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::config(format!(
            "cannot read the migrations directory {shown_dir}: {e}. Pass the directory that holds \
             the NNNN_name.sql files with --dir (default db/migrations)."
        ))
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            Error::config(format!(
                "cannot list the migrations directory {shown_dir}: {e}"
            ))
        })?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let is_file = entry
            .file_type()
            .map(|t| t.is_file() || t.is_symlink())
            .unwrap_or(false);
        if is_file && name.ends_with(".sql") {
            names.push(name);
        }
    }
    names.sort();
    let show = |name: &str| {
        if shown_dir.is_empty() || shown_dir == "." {
            name.to_string()
        } else {
            format!("{shown_dir}/{name}")
        }
    };

    let mut problems = Vec::new();
    let mut ups: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
    let mut downs: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
    for name in &names {
        match parse_file_name(name) {
            Ok((version, mname, role)) => {
                let map = if role == FileRole::Up {
                    &mut ups
                } else {
                    &mut downs
                };
                map.entry(version).or_default().push((name.clone(), mname));
            }
            Err(why) => problems.push(format!(
                "{} {why}; migration files are named NNNN_name.sql (and NNNN_name.down.sql)",
                show(name)
            )),
        }
    }
    for (version, files) in ups.iter().chain(downs.iter()) {
        if files.len() > 1 {
            let list: Vec<String> = files.iter().map(|(f, _)| show(f)).collect();
            problems.push(format!(
                "version {version} is used by more than one file: {}; give each migration its own version",
                list.join(", ")
            ));
        }
    }
    for (version, files) in &downs {
        match ups.get(version) {
            None => problems.push(format!(
                "{} has no up migration with version {version}; rename it to match its NNNN_name.sql",
                show(&files[0].0)
            )),
            Some(up) if up.len() == 1 && up[0].1 != files[0].1 => problems.push(format!(
                "{} does not match the name of {} (expected {})",
                show(&files[0].0),
                show(&up[0].0),
                show(&up[0].0).replace(".up.sql", ".sql").replace(".sql", ".down.sql")
            )),
            _ => {}
        }
    }
    if !problems.is_empty() {
        return Err(Error::config(format!(
            "invalid migrations in {}: {}.",
            if shown_dir.is_empty() {
                "."
            } else {
                &shown_dir
            },
            problems.join("; ")
        )));
    }

    let mut out = Vec::with_capacity(ups.len());
    for (version, files) in ups {
        let (file, name) = files.into_iter().next().expect("one file per version");
        let up = SqlFile::read(&dir.join(&file), show(&file))?;
        let down = match downs.remove(&version) {
            Some(d) => {
                let f = &d[0].0;
                Some(SqlFile::read(&dir.join(f), show(f))?)
            }
            None => None,
        };
        out.push(Migration {
            version,
            name,
            up,
            down,
        });
    }
    Ok(out)
}

/// Refuse transaction-control statements in files that run inside a transaction: a `COMMIT`
/// in the middle would commit half a migration and leave the history table behind.
pub fn check_transaction_control(migrations: &[Migration]) -> Result<(), Error> {
    let mut problems = Vec::new();
    for m in migrations {
        for file in std::iter::once(&m.up).chain(m.down.as_ref()) {
            if file.no_transaction {
                continue;
            }
            for (i, word) in file.transaction_control() {
                problems.push(format!(
                    "{}:{} ({word})",
                    file.display,
                    file.statement_line(i)
                ));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::config(format!(
        "transaction control statements in migrations that already run in their own transaction: \
         {}. Remove the BEGIN/COMMIT lines (each migration is one transaction, recorded in the \
         history table in the same transaction), or, if the file must manage its own \
         transactions, start it with `-- ship:no-transaction`.",
        problems.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_ignores_crlf_and_bom() {
        let lf = checksum("CREATE TABLE a (x int);\nSELECT 1;\n");
        assert_eq!(lf, checksum("CREATE TABLE a (x int);\r\nSELECT 1;\r\n"));
        assert_eq!(
            lf,
            checksum("\u{feff}CREATE TABLE a (x int);\r\nSELECT 1;\n")
        );
        assert_ne!(lf, checksum("CREATE TABLE a (x int);\nSELECT 2;\n"));
        assert_eq!(lf.len(), 64);
        // The empty file's well-known digest.
        assert_eq!(
            checksum(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn file_names() {
        assert_eq!(
            parse_file_name("0001_init.sql"),
            Ok((1, "init".into(), FileRole::Up))
        );
        assert_eq!(
            parse_file_name("20240101120000_add_email.down.sql"),
            Ok((20240101120000, "add_email".into(), FileRole::Down))
        );
        assert_eq!(
            parse_file_name("7_x.up.sql"),
            Ok((7, "x".into(), FileRole::Up))
        );
        assert!(parse_file_name("V1__init.sql").is_err());
        assert!(parse_file_name("0001.sql").is_err());
        assert!(parse_file_name("0001_.sql").is_err());
        assert!(parse_file_name("99999999999999999999_x.sql").is_err());
    }

    #[test]
    fn no_transaction_directive_in_header_only() {
        let f = |t: &str| SqlFile::from_text("x.sql".into(), "x.sql".into(), t.into());
        assert!(f("-- ship:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);").no_transaction);
        assert!(f("\n-- why: big table\n--   ship:no-transaction\nSELECT 1;").no_transaction);
        assert!(!f("SELECT 1;\n-- ship:no-transaction\n").no_transaction);
        assert!(!f("-- ship:no-transactionx\nSELECT 1;").no_transaction);
    }

    #[test]
    fn transaction_control_detection() {
        let f = SqlFile::from_text(
            "x.sql".into(),
            "x.sql".into(),
            "BEGIN;\nCREATE TABLE a (x int);\nCOMMIT;\nCREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;".into(),
        );
        let got: Vec<_> = f
            .transaction_control()
            .into_iter()
            .map(|(i, w)| (f.statement_line(i), w))
            .collect();
        assert_eq!(
            got,
            vec![(1, "BEGIN".to_string()), (3, "COMMIT".to_string())]
        );
    }
}
