//! The tags a `docker/metadata-action` step produces, read from its `tags:` rules and
//! `flavor:` (or its defaults), as the action documents them:
//!
//! - `type=semver|pep440,pattern=…`: `{{version}}`, `{{raw}}` or `{{major}}.{{minor}}.{{patch}}`
//!   is the release version (`v` prefix or none); `{{major}}`, `{{major}}.{{minor}}` are
//!   version lines that every release moves. Produced only when a git tag starts the run.
//! - `type=sha`: `sha-<short sha>` (`prefix=` replaces `sha-`, `format=long` the full SHA).
//! - `type=ref,event=branch|tag|pr`: the branch name, the git tag, `pr-<number>`.
//! - `type=raw,value=…` (or a bare line): the value, with `{{sha}}`, `{{branch}}`,
//!   `{{tag}}`, `{{date …}}` and `${{ … }}` read.
//! - `type=schedule` (`nightly`), `type=edge` (`edge`), `type=match` (a version).
//! - `enable=false` drops a rule; `prefix=`/`suffix=` and the flavor's apply.
//! - `flavor: latest=auto` (the default) adds `latest` when a semver, match or git-tag rule
//!   is there; `latest=true` always, `latest=false` never.
//! - No `tags:`: `type=schedule`, `type=ref,event=branch`, `type=ref,event=tag`,
//!   `type=ref,event=pr`.

use super::pushes::list_items;
use super::tags::{Tag, TagKind};
use super::value::{scalar, At, Origin, Scope, Value};
use ship_workflow::{Span, Step};

/// What one metadata-action step produces.
pub struct Meta {
    /// The images (`images:` entries), as written.
    pub images: Vec<String>,
    pub tags: Vec<Tag>,
    /// Where the rules are written: the `tags:` key, else `images:`, else the step's `uses:`.
    pub anchor: Span,
}

const DEFAULT_RULES: &str =
    "type=schedule\ntype=ref,event=branch\ntype=ref,event=tag\ntype=ref,event=pr";

/// `key=value` attributes of a rule, split at commas outside `{{ }}` and `${{ }}`.
fn attributes(rule: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    let mut chars = rule.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                depth += 1;
                cur.push(c);
            }
            '}' if chars.peek() == Some(&'}') && depth > 0 => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
            None => (String::new(), a.trim().to_string()),
        })
        .collect()
}

/// `{{sha}}`, `{{branch}}`, `{{tag}}`, `{{date …}}` in a value, and `${{ }}`.
fn handlebars(scope: &Scope<'_>, text: &str, at: At) -> Value {
    let mut acc = Value::lit("");
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let github = open > 0 && rest.as_bytes()[open - 1] == b'$';
        let Some(close) = rest[open..].find("}}").map(|c| c + open) else {
            break;
        };
        if github {
            // GitHub's expression: read with the text before it.
            acc = acc.concat(&scope.text(&rest[..close + 2], at));
        } else {
            acc = acc.concat(&scope.text(&rest[..open], at));
            let name = rest[open + 2..close].trim();
            acc = acc.concat(&match name.split_whitespace().next().unwrap_or("") {
                "sha" => Value::known(Origin::ShortCommit),
                "branch" | "base_ref" => Value::known(Origin::Branch),
                "tag" => Value::known(Origin::GitTag {
                    semver: scope.refs.semver_tags,
                }),
                "date" | "commit_date" => Value::known(Origin::Date),
                _ => Value::unknown(format!("{{{{{name}}}}}")),
            });
        }
        rest = &rest[close + 2..];
    }
    acc.concat(&scope.text(rest, at))
}

/// Read a metadata-action step.
pub fn read(scope: &Scope<'_>, step: &Step<'_>, forbidden: &[String]) -> Meta {
    let at = At::step(step.index);
    let with = |k: &str| step.with.and_then(|w| w.entry(k));
    let images = with("images")
        .and_then(|e| scalar(&e.value))
        .map(|t| {
            list_items(&t.replace(',', "\n"))
                .into_iter()
                .filter(|i| !i.starts_with("enable=") && !i.starts_with("name="))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    // Images written as `name=ghcr.io/x,enable=…` keep their name.
    let images = if images.is_empty() {
        with("images")
            .and_then(|e| scalar(&e.value))
            .map(|t| {
                t.lines()
                    .filter_map(|l| {
                        attributes(l)
                            .into_iter()
                            .find(|(k, _)| k == "name")
                            .map(|(_, v)| v)
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        images
    };
    let anchor = with("tags")
        .or_else(|| with("images"))
        .map(|e| e.key.span)
        .or(step.uses.map(|u| u.span))
        .unwrap_or(step.node.span);

    let mut latest = "auto".to_string();
    let mut global_prefix = String::new();
    let mut global_suffix = String::new();
    if let Some(flavor) = with("flavor").and_then(|e| scalar(&e.value)) {
        for line in flavor.lines() {
            let attrs = attributes(line);
            match attrs.first() {
                Some((k, v)) if k == "latest" => latest = v.clone(),
                Some((k, v)) if k == "prefix" => global_prefix = v.clone(),
                Some((k, v)) if k == "suffix" => global_suffix = v.clone(),
                _ => {}
            }
        }
    }

    let rules_text = with("tags")
        .and_then(|e| scalar(&e.value))
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_RULES.to_string());
    let tag_runs = scope.refs.tags;
    let pull_requests = scope.is_action
        || scope.wf.triggers.iter().any(|t| {
            matches!(
                t.event,
                "pull_request" | "pull_request_target" | "workflow_call"
            )
        });
    let mut tags: Vec<Tag> = Vec::new();
    let mut latest_auto = false;
    for rule in rules_text.lines().map(str::trim) {
        if rule.is_empty() || rule.starts_with('#') {
            continue;
        }
        let attrs = attributes(rule);
        let get = |k: &str| {
            attrs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        if get("enable").is_some_and(|e| e.trim() == "false") {
            continue;
        }
        let kind = get("type").unwrap_or("raw");
        let prefix = format!("{global_prefix}{}", get("prefix").unwrap_or(""));
        let suffix = format!("{}{global_suffix}", get("suffix").unwrap_or(""));
        let wrap = |v: Value| {
            Value::lit(prefix.clone())
                .concat(&v)
                .concat(&Value::lit(suffix.clone()))
        };
        let version_prefix_ok = prefix.is_empty() || prefix == "v" || prefix == "V";
        let tag = match kind {
            "semver" | "pep440" | "match" => {
                if !tag_runs && get("value").is_none_or(str::is_empty) {
                    // Only a git tag (or a `value=`) produces these.
                    continue;
                }
                latest_auto = true;
                let pattern = get("pattern").unwrap_or("{{version}}");
                let full = kind == "match"
                    || pattern.contains("{{version}}")
                    || pattern.contains("{{raw}}")
                    || pattern.contains("{{major}}")
                        && pattern.contains("{{minor}}")
                        && pattern.contains("{{patch}}");
                let value = wrap(Value::known(Origin::Version));
                if !full {
                    Tag::made(
                        Value::lit(format!("{prefix}{pattern}{suffix}")),
                        TagKind::Moving("a major or minor version line, moved by each release"),
                    )
                } else if version_prefix_ok && suffix.is_empty() {
                    Tag::made(value, TagKind::Semver)
                } else {
                    Tag::made(
                        value,
                        TagKind::Immutable("a version with a prefix, not `vX.Y.Z`"),
                    )
                }
            }
            "sha" => {
                let prefix = match get("prefix") {
                    Some(p) => format!("{global_prefix}{p}"),
                    None => format!("{global_prefix}sha-"),
                };
                let origin = if get("format") == Some("long") {
                    Origin::Commit
                } else {
                    Origin::ShortCommit
                };
                Tag::of(
                    Value::lit(prefix)
                        .concat(&Value::known(origin))
                        .concat(&Value::lit(suffix.clone())),
                    forbidden,
                )
            }
            "ref" => match get("event") {
                Some("branch") if scope.refs.branches => {
                    Tag::of(wrap(Value::known(Origin::Branch)), forbidden)
                }
                Some("tag") => {
                    if !tag_runs {
                        continue;
                    }
                    latest_auto = true;
                    Tag::of(
                        wrap(Value::known(Origin::GitTag {
                            semver: scope.refs.semver_tags,
                        })),
                        forbidden,
                    )
                }
                Some("pr") if pull_requests => {
                    let prefix = match get("prefix") {
                        Some(p) => format!("{global_prefix}{p}"),
                        None => format!("{global_prefix}pr-"),
                    };
                    Tag::of(
                        Value::lit(prefix)
                            .concat(&Value::known(Origin::PrNumber))
                            .concat(&Value::lit(suffix.clone())),
                        forbidden,
                    )
                }
                _ => continue,
            },
            "schedule" => {
                if !scope.wf.triggers.iter().any(|t| t.event == "schedule") {
                    continue;
                }
                match get("pattern") {
                    Some(p) if p.contains("date") => {
                        Tag::of(wrap(Value::known(Origin::Date)), forbidden)
                    }
                    Some(p) => Tag::of(wrap(Value::lit(p)), forbidden),
                    None => Tag::of(wrap(Value::lit("nightly")), forbidden),
                }
            }
            "edge" => Tag::of(wrap(Value::lit("edge")), forbidden),
            _ => {
                let value = get("value").unwrap_or_else(|| {
                    attrs
                        .iter()
                        .find(|(k, _)| k.is_empty())
                        .map(|(_, v)| v.as_str())
                        .unwrap_or("")
                });
                if value.is_empty() {
                    continue;
                }
                Tag::of(wrap(handlebars(scope, value, at)), forbidden)
            }
        };
        tags.push(tag);
    }
    let add_latest = match latest.as_str() {
        "true" => true,
        "false" => false,
        _ => latest_auto,
    };
    if add_latest && !tags.iter().any(|t| t.value.as_literal() == Some("latest")) {
        tags.push(Tag::of(Value::lit("latest"), forbidden));
    }
    Meta {
        images,
        tags,
        anchor,
    }
}
