//! Tag computation, without a registry (`--push false`): refs, versions, bumps from git
//! history, and action inputs.

use crate::support::*;
use std::path::Path;
use std::process::Command;

const IMAGE: &str = "ghcr.io/org/api";

fn compute(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec!["--image", IMAGE, "--push", "false", "--format", "json"];
    all.extend_from_slice(args);
    tag_image(&all, env)
}

/// `--bump part` from the tags of the repository in `dir`.
fn bump(dir: &Path, part: &str) -> Run {
    compute(
        &[
            "--bump",
            part,
            "--git-dir",
            dir.to_str().unwrap(),
            "--sha",
            SHA,
        ],
        &[],
    )
}

fn tags(run: &Run) -> Vec<String> {
    run.json()["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn tags_from_github_ref() {
    let ok: &[(&str, &[&str], &[&str])] = &[
        ("refs/tags/v1.2.3", &[], &["sha-abc1234", "v1.2.3"]),
        (
            "refs/tags/v1.2.3",
            &["--floating"],
            &["sha-abc1234", "v1.2.3", "v1.2", "v1"],
        ),
        ("refs/tags/1.2.3", &[], &["sha-abc1234", "v1.2.3"]),
        ("refs/heads/main", &["--floating"], &["sha-abc1234"]),
        ("refs/pull/7/merge", &[], &["sha-abc1234"]),
        // Pre-releases: only the full version, never floating tags or latest.
        (
            "refs/tags/v2.0.0-rc.1",
            &["--floating", "--allow-latest"],
            &["sha-abc1234", "v2.0.0-rc.1"],
        ),
        (
            "refs/tags/v1.2.3",
            &["--allow-latest"],
            &["sha-abc1234", "v1.2.3", "latest"],
        ),
    ];
    for (git_ref, args, want) in ok {
        let run = compute(args, &[("GITHUB_REF", git_ref), ("GITHUB_SHA", SHA)]);
        run.assert_code(0);
        assert_eq!(tags(&run), *want, "{git_ref} {args:?}");
    }
    let json = compute(
        &[],
        &[("GITHUB_REF", "refs/heads/main"), ("GITHUB_SHA", SHA)],
    )
    .json();
    assert_eq!(json["version"], serde_json::Value::Null);
    assert_eq!(json["source"], "sha-abc1234");

    for (bad, want) in [
        ("refs/tags/v0.29", "not a semantic version"),
        ("refs/tags/1.2", "not a semantic version"),
        ("refs/tags/01.2.3", "leading zero"),
        ("refs/tags/v1.2.3+build", "cannot contain `+`"),
    ] {
        let run = compute(&[], &[("GITHUB_REF", bad), ("GITHUB_SHA", SHA)]);
        run.assert_code(2);
        assert!(run.stderr.contains(want), "{bad}: {}", run.stderr);
        assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    }
}

#[test]
fn explicit_version_wins_over_the_ref() {
    let run = compute(
        &["--release-version", "v3.0.0"],
        &[("GITHUB_REF", "refs/tags/v1.2.3"), ("GITHUB_SHA", SHA)],
    );
    run.assert_code(0);
    assert_eq!(tags(&run), ["sha-abc1234", "v3.0.0"]);
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(status.status.success(), "git {args:?}: {status:?}");
}

fn repo_with_tags(tags: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    for (i, tag) in tags.iter().enumerate() {
        std::fs::write(dir.path().join("file"), format!("{i}")).unwrap();
        git(dir.path(), &["add", "file"]);
        git(dir.path(), &["commit", "-q", "-m", tag]);
        git(dir.path(), &["tag", tag]);
    }
    dir
}

#[test]
fn bump_from_git_tags() {
    let repo = repo_with_tags(&[
        "v0.9.0",
        "v1.2.3",
        "v1.10.0",
        "v1.11.0-rc.1",
        "release-notes",
        "v2.0-broken",
    ]);
    let dir = repo.path().to_str().unwrap();
    for (part, want) in [("patch", "1.10.1"), ("minor", "1.11.0"), ("major", "2.0.0")] {
        let run = bump(repo.path(), part);
        run.assert_code(0)
            .assert_stderr_has(&[&format!("v1.10.0 → {want}")]);
        assert_eq!(run.json()["version"], want, "{part}");
    }
    // As an action input too.
    let run = compute(
        &["--git-dir", dir, "--sha", SHA],
        &[("INPUT_BUMP", "minor")],
    );
    run.assert_code(0);
    assert_eq!(run.json()["version"], "1.11.0");

    // A repository without releases starts from 0.0.0.
    let empty = repo_with_tags(&[]);
    git(
        empty.path(),
        &["commit", "-q", "--allow-empty", "-m", "first"],
    );
    let run = bump(empty.path(), "minor");
    run.assert_code(0);
    assert_eq!(run.json()["version"], "0.1.0");

    // Not a repository: exit 2 with git's reason.
    let not_repo = tempfile::tempdir().unwrap();
    bump(not_repo.path(), "minor")
        .assert_code(2)
        .assert_stderr_has(&["cannot list git tags"]);
}

#[test]
fn bump_refuses_a_shallow_clone_without_tags() {
    let origin = repo_with_tags(&["v1.0.0", "v1.1.0"]);
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git(
        clone.path(),
        &["clone", "-q", "--depth", "1", "--no-tags", &url, "."],
    );
    let run = compute(
        &[
            "--bump",
            "patch",
            "--git-dir",
            clone.path().to_str().unwrap(),
            "--sha",
            SHA,
        ],
        &[],
    );
    run.assert_code(2);
    assert!(run.stderr.contains("shallow clone"), "{}", run.stderr);
    assert!(run.stderr.contains("fetch-depth: 0"), "{}", run.stderr);
}

#[test]
fn action_inputs_and_flags_merge() {
    let env = [
        ("INPUT_IMAGE", "ghcr.io/org/web"),
        ("INPUT_RELEASE_VERSION", "v1.4.0"),
        ("INPUT_FLOATING", "true"),
        ("INPUT_ALLOW-LATEST", "yes"),
        ("INPUT_PUSH", "false"),
        ("INPUT_FORMAT", "json"),
        ("INPUT_SHA", ""),
        ("GITHUB_SHA", SHA),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "org/web"),
        ("SOURCE_DATE_EPOCH", "1709208000"),
    ];
    let run = tag_image(&[], &env);
    run.assert_code(0);
    let json = run.json();
    assert_eq!(json["image"], "ghcr.io/org/web");
    assert_eq!(
        json["tags"],
        serde_json::json!(["sha-abc1234", "v1.4.0", "v1.4", "v1", "latest"])
    );
    assert_eq!(
        json["labels"]["org.opencontainers.image.source"],
        "https://github.com/org/web"
    );
    assert_eq!(
        json["labels"]["org.opencontainers.image.created"],
        "2024-02-29T12:00:00Z"
    );
    assert_eq!(run.outputs["version"], "1.4.0");
    assert_eq!(
        run.outputs["labels"],
        "org.opencontainers.image.created=2024-02-29T12:00:00Z\n\
         org.opencontainers.image.revision=abc1234def567890abc1234def567890abc12345\n\
         org.opencontainers.image.source=https://github.com/org/web\n\
         org.opencontainers.image.version=1.4.0"
    );

    // Flags win over inputs; the underscore spelling of dashed inputs works too.
    let mut env2: Vec<(&str, &str)> = env
        .iter()
        .copied()
        .filter(|(k, _)| *k != "INPUT_ALLOW-LATEST")
        .collect();
    env2.push(("INPUT_ALLOW_LATEST", "false"));
    let run = tag_image(
        &[
            "--release-version",
            "v2.0.0",
            "--floating",
            "false",
            "--sha",
            "1234567",
        ],
        &env2,
    );
    run.assert_code(0);
    assert_eq!(
        run.json()["tags"],
        serde_json::json!(["sha-1234567", "v2.0.0"])
    );
}
