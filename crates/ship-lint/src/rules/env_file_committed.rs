use crate::context::{Diagnostic, RepositoryContext};
use crate::rules::rule_impl;

declare_rule! {
    /// ## What it reports
    /// A `.env` file (or `.env.production`, `.env.local`…) in the repository. Templates
    /// (`.env.example`, `.env.sample`, `.env.template`, `.env.dist`, `.env.defaults`) are
    /// allowed. Files ignored by `.gitignore` are not reported: they are not committed, nor
    /// are paths matching the policy's `ignore-paths` (e.g. test fixtures).
    ///
    /// ## Why
    /// `.env` files hold real credentials for a machine. Committed, they are in every clone
    /// and in history forever, and CI jobs may load them instead of environment secrets.
    ///
    /// ## How to fix
    /// Remove it from git (`git rm --cached .env`), add `.env` to `.gitignore`, rotate what
    /// it contained, and commit a `.env.example` with placeholders instead.
    pub struct EnvFileCommitted {
        id: "env-file-committed",
        severity: Error,
        summary: "a .env file with real values is in the repository",
    }
}
rule_impl!(EnvFileCommitted, repository);

fn is_template(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "example", "sample", "template", "dist", "defaults", "tmpl", "tpl",
    ]
    .iter()
    .any(|t| lower.ends_with(&format!(".{t}")) || lower.contains(&format!(".{t}.")))
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
        for entry in walker.flatten() {
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let name = entry.file_name().to_string_lossy();
            if !(name == ".env" || name.starts_with(".env.")) || is_template(&name) {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(cx.dir)
                .unwrap_or(entry.path())
                .to_string_lossy()
                .replace('\\', "/");
            if ignored.iter().any(|g| g.is_match(&rel)) {
                continue;
            }
            out.push(Diagnostic::in_file(
                rel.clone(),
                None,
                format!("`{rel}` is committed: environment files hold real credentials"),
                "`git rm --cached` it, add it to .gitignore, rotate its values, and commit a `.env.example` with placeholders",
            ));
        }
    }
}
