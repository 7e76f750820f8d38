//! One input convention for every action (README "Action inputs and flags"): each input
//! `foo-bar` is handed to the step in an explicit `env:` entry `INPUT_FOO_BAR: ${{
//! inputs.foo-bar }}`, and the binary reads that variable through clap's `env`, which its
//! `--help` shows next to the flag. No action builds a command line in bash.

use ship_e2e::act::bin_dir;
use ship_e2e::repo_root;
use std::process::Command;

/// An action, the binary invocations whose `--help` must name its inputs' variables, and the
/// inputs no binary flag reads (with why).
struct ActionInputs {
    dir: &'static str,
    helps: &'static [&'static [&'static str]],
    not_flags: &'static [&'static str],
}

const ACTIONS: &[ActionInputs] = &[
    ActionInputs {
        dir: ".",
        helps: &[&["ship", "lint"]],
        // upload-sarif drives the action's upload step; token is GITHUB_TOKEN.
        not_flags: &["upload-sarif", "token"],
    },
    ActionInputs {
        dir: "ecs-rollout",
        helps: &[&["ship-ecs-rollout"]],
        not_flags: &[],
    },
    ActionInputs {
        dir: "rollback",
        helps: &[&["ship-rollback"]],
        not_flags: &[],
    },
    ActionInputs {
        dir: "run-migrations",
        helps: &[&["ship-run-migrations"], &["ship-ecs-rollout", "run-task"]],
        // database-url is DATABASE_URL (never a command line); subcommand is the positional
        // subcommand; runner picks the binary.
        not_flags: &["database-url", "subcommand", "runner"],
    },
    ActionInputs {
        dir: "smoke-test",
        helps: &[&["ship-smoke-test"]],
        not_flags: &[],
    },
    // tag-image: ship-tag-image reads the same INPUT_* names itself (see the README).
    ActionInputs {
        dir: "tag-image",
        helps: &[],
        not_flags: &["registry-username", "registry-password"],
    },
];

/// The input names of an action.yml: the keys indented two spaces under `inputs:`.
fn inputs_of(text: &str) -> Vec<String> {
    let mut inside = false;
    let mut names = Vec::new();
    for line in text.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() && !line.starts_with('#') {
            inside = line.trim_end() == "inputs:";
            continue;
        }
        if inside {
            if let Some(key) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
                if !key.starts_with(' ') {
                    names.push(key.to_string());
                }
            }
        }
    }
    names
}

fn variable(input: &str) -> String {
    format!("INPUT_{}", input.to_ascii_uppercase().replace('-', "_"))
}

#[test]
fn every_input_goes_through_one_env_variable_that_the_binary_reads() {
    let root = repo_root();
    for action in ACTIONS {
        let path = root.join(action.dir).join("action.yml");
        let text = std::fs::read_to_string(&path).unwrap();
        let inputs = inputs_of(&text);
        assert!(!inputs.is_empty(), "{}: no inputs found", path.display());
        assert!(
            !text.contains("args=(") && !text.contains("args+=("),
            "{}: builds a command line in bash; pass the inputs through env: instead",
            path.display()
        );
        let helps: Vec<String> = action
            .helps
            .iter()
            .map(|argv| {
                let out = Command::new(bin_dir().join(argv[0]))
                    .args(&argv[1..])
                    .arg("--help")
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{argv:?} --help: {:?}", out.status);
                // clap wraps help text at spaces: compare without whitespace.
                String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .collect()
            })
            .collect();
        for input in &inputs {
            if matches!(input.as_str(), "database-url" | "token")
                || action.dir == "tag-image" && input.starts_with("registry-")
            {
                continue; // DATABASE_URL, GITHUB_TOKEN, REGISTRY_*: their usual names
            }
            let entry = format!("{}: ${{{{ inputs.{input} }}}}", variable(input));
            assert!(
                text.contains(&entry),
                "{}: input `{input}` is not handed over as `{entry}`",
                path.display()
            );
            if action.helps.is_empty() || action.not_flags.contains(&input.as_str()) {
                continue;
            }
            let shown = format!("[env:{}=", variable(input));
            assert!(
                helps.iter().any(|h| h.contains(&shown)),
                "{}: input `{input}`: no binary in {:?} reads {} (clap `env`)",
                path.display(),
                action.helps,
                variable(input)
            );
        }
    }
}
