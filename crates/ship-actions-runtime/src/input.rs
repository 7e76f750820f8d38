//! Action inputs, read from `INPUT_*` environment variables.

use crate::RuntimeError;

/// Reads the action input `name` from the process environment.
///
/// See [`input_from`] for the lookup rules.
pub fn input(name: &str) -> Option<String> {
    input_from(|key| std::env::var(key).ok(), name)
}

/// Reads the action input `name` through `env`.
///
/// The runner exports an input as `INPUT_<NAME>`: upper-cased, spaces replaced by `_`,
/// dashes kept (`fail-on` becomes `INPUT_FAIL-ON`). Composite actions cannot export a
/// variable with a dash from YAML conveniently and conventionally pass
/// `INPUT_FAIL_ON` instead, so that form is tried when the first is missing or empty.
///
/// The value is trimmed, and an empty value is `None`: the runner sets every declared
/// input, empty when the workflow did not provide it, so empty means "not given".
pub fn input_from(env: impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    let runner_key = format!("INPUT_{}", name.replace(' ', "_").to_uppercase());
    let lookup = |key: &str| {
        env(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    lookup(&runner_key).or_else(|| {
        let underscored = runner_key.replace('-', "_");
        if underscored == runner_key {
            None
        } else {
            lookup(&underscored)
        }
    })
}

/// Reads the boolean action input `name` from the process environment.
///
/// See [`bool_input_from`].
pub fn bool_input(name: &str) -> Result<Option<bool>, RuntimeError> {
    bool_input_from(|key| std::env::var(key).ok(), name)
}

/// Reads the boolean action input `name` through `env`.
///
/// `Ok(None)` when the input is not given, so the caller picks the default. A value
/// outside the accepted spellings is an error rather than `false`, because silently
/// disabling a check on a typo (`ture`) is worse than failing the step.
pub fn bool_input_from(
    env: impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<bool>, RuntimeError> {
    input_from(env, name)
        .map(|v| parse_bool_input(name, &v))
        .transpose()
}

/// Parses a boolean input value: `true`/`false`/`yes`/`no`/`1`/`0`, case-insensitive,
/// surrounding whitespace ignored. `name` is only used in the error message.
pub fn parse_bool_input(name: &str, value: &str) -> Result<bool, RuntimeError> {
    let trimmed = value.trim();
    match trimmed.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(RuntimeError::InvalidBoolInput {
            name: name.to_owned(),
            value: trimmed.to_owned(),
        }),
    }
}

/// The value parser of every boolean flag that is also an action input: `--dry-run` alone
/// (clap's `default_missing_value = "true"`), `--dry-run=false`, or `INPUT_DRY_RUN=true` from
/// the action's `env:`. One list of spellings for every binary, the one
/// [`parse_bool_input`] accepts; a bad value names the flag, the input and its variable,
/// since on a runner the value came from the workflow, not from a command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct BoolFlag;

impl clap::builder::TypedValueParser for BoolFlag {
    type Value = bool;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<bool, clap::Error> {
        let text = value.to_string_lossy();
        parse_bool_input("flag", &text).map_err(|_| {
            let flag = arg.and_then(|a| a.get_long()).unwrap_or("flag");
            let from = match arg.and_then(|a| a.get_env()) {
                Some(var) => format!(
                    "--{flag}, the action input `{flag}` ({})",
                    var.to_string_lossy()
                ),
                None => format!("--{flag}"),
            };
            let message = format!(
                "expected true or false (or yes/no, 1/0) for {from}, got `{}`\n",
                text.trim()
            );
            clap::Error::raw(clap::error::ErrorKind::InvalidValue, message).with_cmd(cmd)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn runner_form_keeps_dashes_and_uppercases() {
        let e = env(&[("INPUT_FAIL-ON", " warning \n")]);
        assert_eq!(input_from(&e, "fail-on").as_deref(), Some("warning"));
        assert_eq!(input_from(&e, "Fail-On").as_deref(), Some("warning"));
    }

    #[test]
    fn spaces_become_underscores() {
        let e = env(&[("INPUT_MY_INPUT", "x")]);
        assert_eq!(input_from(&e, "my input").as_deref(), Some("x"));
    }

    #[test]
    fn underscore_form_is_a_fallback() {
        let e = env(&[("INPUT_FAIL_ON", "error")]);
        assert_eq!(input_from(&e, "fail-on").as_deref(), Some("error"));

        // The runner's form wins when both are present...
        let e = env(&[("INPUT_FAIL-ON", "warning"), ("INPUT_FAIL_ON", "error")]);
        assert_eq!(input_from(&e, "fail-on").as_deref(), Some("warning"));

        // ...but an empty runner value means "not given", so the fallback is used.
        let e = env(&[("INPUT_FAIL-ON", "  "), ("INPUT_FAIL_ON", "error")]);
        assert_eq!(input_from(&e, "fail-on").as_deref(), Some("error"));
    }

    #[test]
    fn empty_or_missing_is_none() {
        let e = env(&[("INPUT_A", ""), ("INPUT_B", " \t\n")]);
        assert_eq!(input_from(&e, "a"), None);
        assert_eq!(input_from(&e, "b"), None);
        assert_eq!(input_from(&e, "c"), None);
    }

    #[test]
    fn bool_spellings() {
        for (v, want) in [
            ("true", true),
            ("TRUE", true),
            ("Yes", true),
            ("1", true),
            ("false", false),
            ("No", false),
            ("0", false),
            (" FaLsE ", false),
        ] {
            let e = env(&[("INPUT_FLAG", v)]);
            assert_eq!(bool_input_from(&e, "flag").unwrap(), Some(want), "{v:?}");
        }
        assert_eq!(bool_input_from(env(&[]), "flag").unwrap(), None);
    }

    #[test]
    fn bool_error_names_input_and_allowed_values() {
        let e = env(&[("INPUT_FAIL-ON-WARNING", "ture")]);
        let err = bool_input_from(&e, "fail-on-warning").unwrap_err();
        assert!(matches!(
            &err,
            RuntimeError::InvalidBoolInput { name, value }
                if name == "fail-on-warning" && value == "ture"
        ));
        let msg = err.to_string();
        assert!(msg.contains("`fail-on-warning`"), "{msg}");
        assert!(msg.contains("`ture`"), "{msg}");
        for allowed in ["true", "false", "yes", "no", "1", "0"] {
            assert!(msg.contains(allowed), "{msg}");
        }
    }
}
