//! Reading the files of the repository being linted.
//!
//! A pull request controls every file `ship lint` reads, symlinks included: a workflow
//! that is a symlink to `/etc/passwd` or `/proc/self/environ` would have CI print a line of
//! a file the runner can read, and one to a FIFO or `/dev/zero` would block or grow until
//! killed. So only regular files inside the repository are read (symlinks resolved, the
//! target checked against the repository's real path), never more than a size limit; what
//! is refused is reported by its path, never read.

use std::collections::HashMap;
use std::fmt;
use std::fs::FileType;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No such file (or a symlink to nothing).
    Missing { dangling_to: Option<String> },
    /// A symlink whose target is outside the repository.
    Outside { target: String },
    /// A directory, FIFO, socket or device.
    NotRegular { kind: &'static str },
    /// Larger than the limit (the policy's `limits.max-file-size`).
    TooLarge { size: u64, limit: u64 },
    /// An I/O error (permissions).
    Unreadable { reason: String },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Missing { dangling_to: None } => write!(f, "no such file"),
            Refusal::Missing {
                dangling_to: Some(t),
            } => write!(f, "a symlink to `{t}`, which does not exist"),
            Refusal::Outside { target } => write!(
                f,
                "a symlink to `{target}`, outside the repository; it was not read"
            ),
            Refusal::NotRegular { kind } => {
                write!(f, "a {kind}, not a regular file; it was not read")
            }
            Refusal::TooLarge { size, limit } => write!(
                f,
                "file is {:.1} MB, above the {:.1} MB limit; it was not parsed",
                *size as f64 / 1048576.0,
                *limit as f64 / 1048576.0
            ),
            Refusal::Unreadable { reason } => write!(f, "cannot read the file: {reason}"),
        }
    }
}

impl Refusal {
    /// What the workflow's author can do about it.
    pub fn fix(&self) -> &'static str {
        match self {
            Refusal::Missing { dangling_to: None } => "check the path",
            Refusal::Missing { .. } => "replace the symlink with the file itself, or delete it",
            Refusal::Outside { .. } => {
                "replace the symlink with the file itself, or point it at a file inside the repository"
            }
            Refusal::NotRegular { .. } => "remove it, or replace it with the file's text",
            Refusal::TooLarge { .. } => {
                "workflows are small; check this is the right file, or raise `limits.max-file-size` in the policy"
            }
            Refusal::Unreadable { .. } => "check its permissions",
        }
    }
}

/// Where an optional file of the repository (its policy, its baseline) is read from: the file
/// the user named (`explicit`, read wherever it is), else `dir/default` when anything at all
/// is at that path (held to the repository: a dangling link or a FIFO there is refused, not
/// taken for "no file"), else `None`.
pub fn explicit_or_in_repository(
    dir: &Path,
    explicit: Option<&Path>,
    default: &str,
) -> Option<(PathBuf, RepoRoot)> {
    match explicit {
        Some(p) => Some((p.to_path_buf(), RepoRoot::unbounded(dir))),
        None => {
            let path = dir.join(default);
            std::fs::symlink_metadata(&path)
                .is_ok()
                .then(|| (path, RepoRoot::new(dir)))
        }
    }
}

/// What a file that is not regular is, in words.
pub fn kind_of(t: &FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO (named pipe)"
    } else if t.is_socket() {
        "socket"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_symlink() {
        "symlink"
    } else {
        "special file"
    }
}

/// The repository's root, resolved once: the bound every read is checked against.
#[derive(Debug, Clone)]
pub struct RepoRoot {
    dir: PathBuf,
    /// `None`: any regular file may be read (a file the user named on the command line).
    real: Option<PathBuf>,
    /// Directories already resolved: inside the repository or not. A repository's files sit
    /// in a handful of directories, so each is resolved once instead of once per file.
    dirs: Arc<Mutex<HashMap<PathBuf, bool>>>,
}

impl RepoRoot {
    pub fn new(dir: &Path) -> Self {
        RepoRoot {
            dir: dir.to_path_buf(),
            // A directory that cannot be resolved has no files to read: nothing is inside.
            real: Some(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())),
            dirs: Arc::default(),
        }
    }

    /// Files the user named themselves: any regular file, relative paths from `dir`.
    pub fn unbounded(dir: &Path) -> Self {
        RepoRoot {
            dir: dir.to_path_buf(),
            real: None,
            dirs: Arc::default(),
        }
    }

    /// The repository's directory, as given.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// [`RepoRoot::read_to_string`] of a path relative to the repository's root.
    pub fn read_relative(&self, relative: &str, limit: u64) -> Result<String, Refusal> {
        self.read_to_string(&self.dir.join(relative), limit)
    }

    /// `path`'s real location, when it is a regular file inside the repository.
    pub fn check(&self, path: &Path) -> Result<PathBuf, Refusal> {
        let real = match std::fs::canonicalize(path) {
            Ok(real) => real,
            // Nothing there, or a symlink to nothing (only then is the link itself looked at).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let dangling =
                    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
                return Err(Refusal::Missing {
                    dangling_to: dangling.then(|| link_target(path)),
                });
            }
            Err(e) => {
                return Err(Refusal::Unreadable {
                    reason: e.to_string(),
                })
            }
        };
        if let Some(root) = &self.real {
            if !real.starts_with(root) {
                return Err(Refusal::Outside {
                    target: real.to_string_lossy().into_owned(),
                });
            }
        }
        let meta = std::fs::metadata(&real).map_err(|e| Refusal::Unreadable {
            reason: e.to_string(),
        })?;
        if !meta.file_type().is_file() {
            return Err(Refusal::NotRegular {
                kind: kind_of(&meta.file_type()),
            });
        }
        Ok(real)
    }

    /// The bytes of `path` when it is a regular file inside the repository of at most
    /// `limit` bytes.
    pub fn read(&self, path: &Path, limit: u64) -> Result<Vec<u8>, Refusal> {
        if let Some(bytes) = self.read_plain(path, limit)? {
            return Ok(bytes);
        }
        let real = self.check(path)?;
        read_limited(&real, limit)
    }

    /// [`RepoRoot::read`] as UTF-8 text.
    pub fn read_to_string(&self, path: &Path, limit: u64) -> Result<String, Refusal> {
        into_text(self.read(path, limit)?)
    }

    /// The usual case, read without resolving every component of the path: a regular file,
    /// not a symlink, in a directory already known to be inside the repository. `None`
    /// when it is anything else ([`RepoRoot::check`] then says what). Linting a large
    /// repository spent more time resolving paths than reading files.
    fn read_plain(&self, path: &Path, limit: u64) -> Result<Option<Vec<u8>>, Refusal> {
        use std::os::unix::fs::OpenOptionsExt;
        let Some(parent) = path.parent() else {
            return Ok(None);
        };
        if !self.dir_inside(parent) {
            return Ok(None);
        }
        // lstat first: a device or FIFO is never opened (opening one can block or act).
        if !std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file()) {
            return Ok(None);
        }
        // O_NOFOLLOW: a file swapped for a symlink since the lstat is not followed.
        let Ok(file) = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
        else {
            return Ok(None);
        };
        read_open(file, limit).map(Some)
    }

    /// Is `dir` (a directory of the path to read) inside the repository? Resolved once.
    fn dir_inside(&self, dir: &Path) -> bool {
        let Some(root) = &self.real else {
            return true;
        };
        // A poisoned lock only means another reader panicked; the map is still valid.
        let mut dirs = self.dirs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(inside) = dirs.get(dir) {
            return *inside;
        }
        let inside = std::fs::canonicalize(dir).is_ok_and(|real| real.starts_with(root));
        dirs.insert(dir.to_path_buf(), inside);
        inside
    }
}

/// Bytes read from a workflow file as UTF-8 text, or why they are not.
pub fn into_text(bytes: Vec<u8>) -> Result<String, Refusal> {
    String::from_utf8(bytes).map_err(|e| Refusal::Unreadable {
        reason: format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// At most `limit` bytes of a regular file: the size is checked before reading and the read
/// is bounded too, since some files (`/proc`, a file growing meanwhile) report a size that
/// is not what a read returns.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, Refusal> {
    let unreadable = |e: std::io::Error| Refusal::Unreadable {
        reason: e.to_string(),
    };
    read_open(std::fs::File::open(path).map_err(unreadable)?, limit)
}

/// [`read_limited`] of a file already open.
fn read_open(file: std::fs::File, limit: u64) -> Result<Vec<u8>, Refusal> {
    let unreadable = |e: std::io::Error| Refusal::Unreadable {
        reason: e.to_string(),
    };
    let size = file.metadata().map_err(unreadable)?.len();
    if size > limit {
        return Err(Refusal::TooLarge { size, limit });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > limit {
        return Err(Refusal::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

fn link_target(path: &Path) -> String {
    std::fs::read_link(path)
        .map(|t| t.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_symlinks_out_of_the_repository_fifos_and_dangling_links() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        std::fs::create_dir_all(repo.join("sub")).unwrap();
        std::fs::write(repo.join("ok.yml"), "on: push\n").unwrap();
        std::fs::write(tmp.path().join("outside.txt"), "secret\n").unwrap();
        std::os::unix::fs::symlink(repo.join("ok.yml"), repo.join("sub/inside.yml")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("outside.txt"), repo.join("out.yml")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/x", repo.join("dangling.yml")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", repo.join("zero.yml")).unwrap();
        let fifo = repo.join("fifo.yml");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let root = RepoRoot::new(&repo);
        assert_eq!(
            root.read_to_string(&repo.join("sub/inside.yml"), 100)
                .unwrap(),
            "on: push\n"
        );
        assert!(matches!(
            root.read(&repo.join("out.yml"), 100),
            Err(Refusal::Outside { target }) if target.ends_with("outside.txt")
        ));
        assert!(matches!(
            root.read(&repo.join("dangling.yml"), 100),
            Err(Refusal::Missing { dangling_to: Some(t) }) if t == "/nonexistent/x"
        ));
        assert!(matches!(
            root.read(&repo.join("zero.yml"), 100),
            Err(Refusal::Outside { .. })
        ));
        assert_eq!(
            root.read(&fifo, 100),
            Err(Refusal::NotRegular {
                kind: "FIFO (named pipe)"
            })
        );
        assert_eq!(
            root.read(&repo.join("ok.yml"), 3),
            Err(Refusal::TooLarge { size: 9, limit: 3 })
        );
    }
}
