//! actions/install-ship.sh against a local release server (docs/install.md): a verified
//! download is cached and the next run needs no network; a wrong checksum fails with both sums
//! and caches nothing; a missing release or asset falls back to a source build (of a tiny fake
//! workspace holding a copy of the script, so the test does not rebuild ship); an unreachable
//! server fails instead of building.

use ship_e2e::{host_target, sha256_hex, workspace_version, write_release, FileServer, BINARIES};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

/// Fake binaries (scripts printing their name): the script only copies and checks them.
fn fake_binaries(dir: &Path) -> impl Fn(&str) -> PathBuf {
    let bins = dir.join("bins");
    std::fs::create_dir_all(&bins).unwrap();
    for name in BINARIES {
        std::fs::write(
            bins.join(name),
            format!("#!/bin/sh\necho \"{name} from the release\"\n"),
        )
        .unwrap();
    }
    move |name| bins.join(name)
}

struct Run {
    out: Output,
    stdout: String,
    stderr: String,
}

fn install(script: &Path, tmp: &Path, base: &str, bins: &[&str], extra: &[(&str, &Path)]) -> Run {
    let github_path = tmp.join("github_path");
    let mut cmd = Command::new(script);
    cmd.args(bins)
        .env("RUNNER_TOOL_CACHE", tmp.join("toolcache"))
        .env("RUNNER_TEMP", tmp)
        .env("GITHUB_PATH", &github_path)
        .env("SHIP_DOWNLOAD_BASE", base)
        .env("SHIP_ACTION_REPOSITORY", "org/ship")
        .env_remove("CARGO_TARGET_DIR");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run install-ship.sh");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        out,
    }
}

fn script() -> PathBuf {
    ship_e2e::repo_root().join("actions/install-ship.sh")
}

#[test]
fn verified_download_is_cached_and_reused_without_network() {
    let tmp = TempDir::new().unwrap();
    let (target, arch) = host_target();
    let version = workspace_version();
    let releases = tmp.path().join("releases");
    write_release(&releases, &version, target, fake_binaries(tmp.path()));
    let server = FileServer::start(&releases);

    let run = install(
        &script(),
        tmp.path(),
        &server.url,
        &["ship", "ship-smoke-test"],
        &[],
    );
    assert!(run.out.status.success(), "install failed: {}", run.stderr);
    let cache = tmp.path().join(format!("toolcache/ship/{version}/{arch}"));
    assert_eq!(Path::new(&run.stdout), cache, "stdout is the bin dir");
    assert!(Path::new(&format!("{}.complete", cache.display())).exists());
    for name in BINARIES {
        let out = Command::new(cache.join(name)).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("{name} from the release")
        );
    }
    let github_path = std::fs::read_to_string(tmp.path().join("github_path")).unwrap();
    assert_eq!(github_path.trim(), cache.to_string_lossy());
    assert!(run.stderr.contains("verified"), "{}", run.stderr);
    assert_eq!(
        server.paths(),
        vec![
            format!("/v{version}/ship-v{version}-SHA256SUMS"),
            format!("/v{version}/ship-v{version}-{target}.tar.gz"),
        ]
    );

    // Second run: from the cache. The base now points nowhere, and the server sees nothing.
    let before = server.requests();
    let nowhere = format!("http://127.0.0.1:{}", ship_e2e::free_port());
    let run = install(&script(), tmp.path(), &nowhere, &["ship-rollback"], &[]);
    assert!(
        run.out.status.success(),
        "cached install failed: {}",
        run.stderr
    );
    assert_eq!(Path::new(&run.stdout), cache);
    assert!(run.stderr.contains("from the tool cache"), "{}", run.stderr);
    assert_eq!(server.requests(), before, "the cached run used the network");

    // A directory without its .complete marker (an interrupted install) is not trusted.
    std::fs::remove_file(format!("{}.complete", cache.display())).unwrap();
    let run = install(&script(), tmp.path(), &server.url, &["ship"], &[]);
    assert!(run.out.status.success(), "{}", run.stderr);
    assert_eq!(
        server.requests(),
        before + 2,
        "an unmarked cache must be downloaded again"
    );
}

#[test]
fn checksum_mismatch_fails_with_both_sums_and_caches_nothing() {
    let tmp = TempDir::new().unwrap();
    let (target, arch) = host_target();
    let version = workspace_version();
    let releases = tmp.path().join("releases");
    let archive = write_release(&releases, &version, target, fake_binaries(tmp.path()));
    let actual = sha256_hex(&std::fs::read(&archive).unwrap());
    let wrong = sha256_hex(b"not the archive");
    std::fs::write(
        releases.join(format!("v{version}/ship-v{version}-SHA256SUMS")),
        format!("{wrong}  ship-v{version}-{target}.tar.gz\n"),
    )
    .unwrap();
    let server = FileServer::start(&releases);

    let run = install(&script(), tmp.path(), &server.url, &["ship"], &[]);
    assert_eq!(run.out.status.code(), Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("checksum mismatch"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&wrong),
        "expected sum missing: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&actual),
        "actual sum missing: {}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let versions = tmp.path().join(format!("toolcache/ship/{version}"));
    assert!(!versions.join(arch).exists(), "a bad archive was cached");
    assert!(!versions.join(format!("{arch}.complete")).exists());
    let github_path = std::fs::read_to_string(tmp.path().join("github_path")).unwrap_or_default();
    assert!(github_path.is_empty(), "PATH was changed: {github_path}");
}

/// A workspace with the script's layout (actions/install-ship.sh next to a Cargo.toml) whose
/// `ship-cli` package builds a `ship` that says it came from source.
fn fake_workspace(dir: &Path, version: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join("actions")).unwrap();
    std::fs::create_dir_all(dir.join("ship-cli/src")).unwrap();
    std::fs::copy(script(), dir.join("actions/install-ship.sh")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"2\"\nmembers = [\"ship-cli\"]\n\n[workspace.package]\nversion = \"{version}\"\nedition = \"2021\"\nrepository = \"https://github.com/org/ship\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("ship-cli/Cargo.toml"),
        "[package]\nname = \"ship-cli\"\nversion.workspace = true\nedition.workspace = true\n\n[[bin]]\nname = \"ship\"\npath = \"src/main.rs\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("ship-cli/src/main.rs"),
        "fn main() { println!(\"ship from source\"); }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("Cargo.lock"),
        format!("# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n\n[[package]]\nname = \"ship-cli\"\nversion = \"{version}\"\n"),
    )
    .unwrap();
    dir.join("actions/install-ship.sh")
}

#[test]
fn missing_release_or_asset_builds_from_source() {
    let tmp = TempDir::new().unwrap();
    let version = "0.0.7";
    let script = fake_workspace(&tmp.path().join("ws"), version);
    let target_dir = tmp.path().join("target");
    let releases = tmp.path().join("releases");
    // The release exists but has no archive for this target.
    std::fs::create_dir_all(releases.join(format!("v{version}"))).unwrap();
    std::fs::write(
        releases.join(format!("v{version}/ship-v{version}-SHA256SUMS")),
        format!(
            "{}  ship-v{version}-riscv64gc-unknown-linux-gnu.tar.gz\n",
            "0".repeat(64)
        ),
    )
    .unwrap();
    let server = FileServer::start(&releases);

    let run = install(
        &script,
        tmp.path(),
        &server.url,
        &["ship"],
        &[("CARGO_TARGET_DIR", &target_dir)],
    );
    assert!(run.out.status.success(), "{}", run.stderr);
    assert!(run.stderr.contains("has no ship-v0.0.7-"), "{}", run.stderr);
    assert!(
        run.stderr.contains("building ship v0.0.7 from source"),
        "{}",
        run.stderr
    );
    let bin_dir = target_dir.join("release");
    assert_eq!(Path::new(&run.stdout), bin_dir);
    let out = Command::new(bin_dir.join("ship")).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ship from source"
    );
    let github_path = std::fs::read_to_string(tmp.path().join("github_path")).unwrap();
    assert_eq!(github_path.trim(), bin_dir.to_string_lossy());
    assert!(
        !tmp.path().join("toolcache/ship").exists(),
        "a source build must not be cached"
    );

    // No release at all (a branch ref): the checksums file is a 404 too.
    std::fs::remove_dir_all(releases.join(format!("v{version}"))).unwrap();
    let run = install(
        &script,
        tmp.path(),
        &server.url,
        &["ship"],
        &[("CARGO_TARGET_DIR", &target_dir)],
    );
    assert!(run.out.status.success(), "{}", run.stderr);
    assert!(run.stderr.contains("no release v0.0.7"), "{}", run.stderr);
    assert_eq!(Path::new(&run.stdout), bin_dir);
}

#[test]
fn unreachable_server_fails_without_building() {
    let tmp = TempDir::new().unwrap();
    let script = fake_workspace(&tmp.path().join("ws"), "0.0.8");
    let target_dir = tmp.path().join("target");
    let nowhere = format!("http://127.0.0.1:{}", ship_e2e::free_port());
    let run = install(
        &script,
        tmp.path(),
        &nowhere,
        &["ship"],
        &[("CARGO_TARGET_DIR", &target_dir)],
    );
    assert_eq!(run.out.status.code(), Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("::error title=ship install::downloading"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("no response"), "{}", run.stderr);
    assert!(
        !target_dir.exists(),
        "it built from source on a network error"
    );
}

#[test]
fn unknown_binary_is_a_usage_error() {
    let tmp = TempDir::new().unwrap();
    let run = install(
        &script(),
        tmp.path(),
        "http://127.0.0.1:1",
        &["ship-nope"],
        &[],
    );
    assert_eq!(run.out.status.code(), Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown binary `ship-nope`"),
        "{}",
        run.stderr
    );
}

/// The action's repository and ref come from its checkout path, as the runner lays it out
/// (`_actions/OWNER/REPO/REF`): a branch ref is built from source without looking at releases
/// or the tool cache (its code may differ from the release's), a release ref downloads.
#[test]
fn a_branch_ref_builds_from_source_and_a_release_ref_downloads() {
    let tmp = TempDir::new().unwrap();
    let version = "0.0.7";
    let target_dir = tmp.path().join("target");
    let releases = tmp.path().join("releases");
    std::fs::create_dir_all(&releases).unwrap();
    let server = FileServer::start(&releases);

    let branch = fake_workspace(&tmp.path().join("_actions/acme/ship/main"), version);
    let run = install(
        &branch,
        tmp.path(),
        &server.url,
        &["ship"],
        &[("CARGO_TARGET_DIR", &target_dir)],
    );
    assert!(run.out.status.success(), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("runs at ref `main` of acme/ship, not a release of v0.0.7"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("no release v0.0.7"), "{}", run.stderr);
    assert_eq!(Path::new(&run.stdout), target_dir.join("release"));

    // `v0` is the release's major tag: it goes to the release (absent here, so it says so
    // and builds).
    let release = fake_workspace(&tmp.path().join("_actions/acme/ship/v0"), version);
    let run = install(
        &release,
        tmp.path(),
        &server.url,
        &["ship"],
        &[("CARGO_TARGET_DIR", &target_dir)],
    );
    assert!(run.out.status.success(), "{}", run.stderr);
    assert!(run.stderr.contains("no release v0.0.7"), "{}", run.stderr);
    assert!(!run.stderr.contains("not a release of"), "{}", run.stderr);
}
