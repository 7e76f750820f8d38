//! Container image references and the tags a build pushes, as far as a workflow file says.

use ship_workflow::expr::{context_references, expressions};
use ship_workflow::{ActionRef, Job, Node, Step};

/// The tag part of an image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageTag {
    /// Pinned by `@sha256:…`.
    Digest,
    /// A literal tag.
    Literal(String),
    /// No tag at all: the registry serves `latest`.
    Missing,
    /// Decided at run time; these are the context references the tag is built from.
    Dynamic(Vec<String>),
}

/// Read the tag of `reference` (`registry/repo:tag`, `repo@sha256:…`, with `${{ }}` parts).
pub fn image_tag(reference: &str) -> ImageTag {
    let r = reference.trim();
    if r.contains("@sha256:") {
        return ImageTag::Digest;
    }
    let exprs = expressions(r);
    // Blank out expressions so their `:`/`/` do not confuse the split.
    let mut masked = r.to_string();
    for e in exprs.iter().rev() {
        masked.replace_range(
            e.offset..e.offset + e.raw.len(),
            &"\u{1}".repeat(e.raw.len()),
        );
    }
    let last_slash = masked.rfind('/').map(|i| i + 1).unwrap_or(0);
    let last_segment = &masked[last_slash..];
    match last_segment.rfind(':') {
        Some(colon) => {
            let start = last_slash + colon + 1;
            let tag = &r[start..];
            let tag_exprs: Vec<String> = exprs
                .iter()
                .filter(|e| e.offset >= start)
                .flat_map(|e| context_references(e.inner))
                .collect();
            if masked[start..].contains('\u{1}') {
                ImageTag::Dynamic(tag_exprs)
            } else if tag.contains('$') {
                ImageTag::Dynamic(vec![tag.to_string()])
            } else {
                ImageTag::Literal(tag.to_string())
            }
        }
        None if masked.contains('\u{1}') || r.contains('$') => ImageTag::Dynamic(
            exprs
                .iter()
                .flat_map(|e| context_references(e.inner))
                .collect(),
        ),
        None => ImageTag::Missing,
    }
}

/// Keys whose values are whole image references.
pub fn is_image_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace('_', "-");
    matches!(
        k.as_str(),
        "image" | "image-uri" | "image-ref" | "image-name" | "container-image" | "docker-image"
    )
}

/// Keys whose values are image tags.
pub fn is_image_tag_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace('_', "-");
    k == "image-tag"
}

/// How a pushed tag relates to the release policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    Semver,
    Sha,
    Other,
}

/// Classify one pushed tag (the part after `:`, or a metadata-action rule).
pub fn tag_kind(tag: &str) -> TagKind {
    let t = tag.trim();
    if t.starts_with("sha-") {
        return TagKind::Sha;
    }
    let lower = t.to_ascii_lowercase();
    let literal_semver = {
        let v = t.strip_prefix('v').unwrap_or(t);
        let mut parts = v.splitn(3, '.');
        parts
            .next()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            && parts
                .next()
                .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            && parts
                .next()
                .is_some_and(|p| p.chars().next().is_some_and(|c| c.is_ascii_digit()))
    };
    let dynamic_version = (t.contains("${{") || t.contains('$'))
        && [
            "version",
            "ref_name",
            "github.ref",
            "tag",
            "release",
            "semver",
        ]
        .iter()
        .any(|w| lower.contains(w));
    if literal_semver || dynamic_version {
        TagKind::Semver
    } else {
        TagKind::Other
    }
}

/// The tags a pushing step applies, with the node to point at.
pub struct PushedTags<'a> {
    pub node: &'a Node,
    /// Each pushed tag, as text (`repo:tag` references or bare tags).
    pub tags: Vec<String>,
    /// Tags come from a metadata-action whose rules we read; kinds are already known.
    pub kinds: Vec<TagKind>,
    /// The step is ship's tag-image action, which always applies both tags.
    pub ship_tag_image: bool,
}

/// Join shell lines continued with a trailing backslash.
fn logical_lines(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in script.lines() {
        let t = line.trim_end();
        if let Some(stripped) = t.strip_suffix('\\') {
            cur.push_str(stripped);
            cur.push(' ');
        } else {
            cur.push_str(t);
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `-t X`/`--tag X`/`--tag=X` values on a command line.
fn tag_flags(words: &[&str]) -> Vec<String> {
    let mut tags = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        if w == "-t" || w == "--tag" {
            if let Some(v) = words.get(i + 1) {
                tags.push(v.trim_matches(['"', '\'']).to_string());
            }
            i += 2;
            continue;
        }
        if let Some(v) = w.strip_prefix("--tag=") {
            tags.push(v.trim_matches(['"', '\'']).to_string());
        }
        i += 1;
    }
    tags
}

/// Tags pushed by `docker push`, `docker buildx build --push` and `imagetools create` in
/// `script`; `job_scripts` is every script of the job, for `docker push --all-tags`.
fn script_pushes(script: &str, job_scripts: &[&str]) -> Vec<String> {
    let mut tags = Vec::new();
    for line in logical_lines(script) {
        for command in line.split(['&', ';', '|']) {
            let words: Vec<&str> = command.split_whitespace().collect();
            let Some(docker) = words.iter().position(|w| *w == "docker") else {
                continue;
            };
            let rest = &words[docker + 1..];
            match rest {
                ["push", args @ ..] => {
                    if args.iter().any(|a| *a == "--all-tags" || *a == "-a") {
                        for s in job_scripts {
                            for l in logical_lines(s) {
                                let w: Vec<&str> = l.split_whitespace().collect();
                                tags.extend(tag_flags(&w));
                                if let Some(p) = w.iter().position(|x| *x == "tag") {
                                    if w.get(p.wrapping_sub(1)) == Some(&"docker") {
                                        if let Some(dst) = w.get(p + 2) {
                                            tags.push(dst.trim_matches(['"', '\'']).to_string());
                                        }
                                    }
                                }
                            }
                        }
                    } else if let Some(r) = args.iter().find(|a| !a.starts_with('-')) {
                        tags.push(r.trim_matches(['"', '\'']).to_string());
                    }
                }
                ["buildx", "build", args @ ..] | ["build", args @ ..]
                    if args
                        .iter()
                        .any(|a| *a == "--push" || a.starts_with("--output=type=registry")) =>
                {
                    tags.extend(tag_flags(args));
                }
                ["buildx", "imagetools", "create", args @ ..] => tags.extend(tag_flags(args)),
                _ => {}
            }
        }
    }
    tags
}

/// The kinds of tags a `docker/metadata-action` step produces from its `tags:` rules.
fn metadata_action_kinds(step: &Step<'_>) -> Vec<TagKind> {
    let Some(rules) = step.with_str("tags") else {
        // Its defaults tag branches, PRs and git tags: no `sha-` tag.
        return vec![TagKind::Other];
    };
    rules
        .split(['\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|rule| {
            let fields: Vec<&str> = rule.split(',').map(str::trim).collect();
            let get = |k: &str| {
                fields
                    .iter()
                    .find_map(|f| f.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
            };
            match get("type") {
                Some("semver") | Some("pep440") => TagKind::Semver,
                Some("sha") => match get("prefix") {
                    Some(p) if p != "sha-" => TagKind::Other,
                    _ => TagKind::Sha,
                },
                Some("raw") => get("value").map(tag_kind).unwrap_or(TagKind::Other),
                Some("ref") if get("event") == Some("tag") => TagKind::Semver,
                _ => TagKind::Other,
            }
        })
        .collect()
}

/// What the step at `index` in `job` pushes, if it pushes images.
pub fn pushed_tags<'a>(
    job: &Job<'a>,
    step: &Step<'a>,
    policy: &ship_policy::CompiledPolicy,
) -> Option<PushedTags<'a>> {
    let action = step.action();
    if let Some(a) = &action {
        if crate::model::is_ship_action(a, "tag-image", policy) {
            return Some(PushedTags {
                node: step.uses?,
                tags: Vec::new(),
                kinds: vec![TagKind::Semver, TagKind::Sha],
                ship_tag_image: true,
            });
        }
        if let ActionRef::Repository {
            owner,
            repo,
            path: None,
            ..
        } = a
        {
            if owner.eq_ignore_ascii_case("docker")
                && repo.eq_ignore_ascii_case("build-push-action")
            {
                let push = step.with.and_then(|w| w.get("push"))?;
                if push.as_str() == Some("false") {
                    return None;
                }
                let tags_node = step.with.and_then(|w| w.get("tags"));
                let text = tags_node.and_then(|n| n.as_str()).unwrap_or("");
                let mut tags = Vec::new();
                let mut kinds = Vec::new();
                for t in text
                    .split(['\n', ','])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                {
                    // `${{ steps.meta.outputs.tags }}`: read that metadata-action's rules.
                    let from_meta = expressions(t).iter().find_map(|e| {
                        let inner = e.inner;
                        let id = inner.strip_prefix("steps.")?.split('.').next()?;
                        if !inner.ends_with(".outputs.tags") {
                            return None;
                        }
                        job.steps
                            .iter()
                            .find(|s| s.id.and_then(|n| n.as_str()) == Some(id))
                    });
                    match from_meta {
                        Some(meta) => kinds.extend(metadata_action_kinds(meta)),
                        None => tags.push(t.to_string()),
                    }
                }
                return Some(PushedTags {
                    node: tags_node.unwrap_or(push),
                    tags,
                    kinds,
                    ship_tag_image: false,
                });
            }
        }
    }
    let run = step.run?;
    let script = run.as_str()?;
    let job_scripts: Vec<&str> = job.steps.iter().filter_map(|s| s.run_str()).collect();
    let tags = script_pushes(&crate::model::strip_shell_comments(script), &job_scripts);
    if tags.is_empty() {
        return None;
    }
    Some(PushedTags {
        node: run,
        tags,
        kinds: Vec::new(),
        ship_tag_image: false,
    })
}

impl PushedTags<'_> {
    /// Every tag's kind: known kinds plus those read from the literal tags.
    pub fn all_kinds(&self) -> Vec<TagKind> {
        let mut kinds = self.kinds.clone();
        for t in &self.tags {
            kinds.push(match image_tag(t) {
                ImageTag::Literal(tag) => tag_kind(&tag),
                ImageTag::Dynamic(_) => tag_kind(t.rsplit(':').next().unwrap_or(t)),
                _ => TagKind::Other,
            });
        }
        kinds
    }

    /// The literal tags (after `:`); `latest` for references without a tag.
    pub fn literal_tags(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter_map(|t| match image_tag(t) {
                ImageTag::Literal(tag) => Some(tag),
                ImageTag::Missing => Some("latest".to_string()),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tags() {
        assert_eq!(
            image_tag("123.dkr.ecr.us-east-1.amazonaws.com/api:latest"),
            ImageTag::Literal("latest".into())
        );
        assert_eq!(image_tag("localhost:5000/api"), ImageTag::Missing);
        assert_eq!(image_tag("ghcr.io/o/api@sha256:abc"), ImageTag::Digest);
        assert_eq!(
            image_tag("${{ env.REGISTRY }}/api:${{ inputs.version }}"),
            ImageTag::Dynamic(vec!["inputs.version".into()])
        );
        assert_eq!(
            image_tag("${{ inputs.image }}"),
            ImageTag::Dynamic(vec!["inputs.image".into()])
        );
    }

    #[test]
    fn kinds() {
        assert_eq!(tag_kind("v1.2.3"), TagKind::Semver);
        assert_eq!(tag_kind("1.2.3-rc.1"), TagKind::Semver);
        assert_eq!(tag_kind("sha-${{ github.sha }}"), TagKind::Sha);
        assert_eq!(tag_kind("${{ inputs.version }}"), TagKind::Semver);
        assert_eq!(tag_kind("latest"), TagKind::Other);
        assert_eq!(tag_kind("${{ github.sha }}"), TagKind::Other);
    }

    #[test]
    fn script_pushes_found() {
        let tags = script_pushes(
            "docker build -t r/api:v1 .\ndocker push r/api:v1 && docker push r/api:sha-1",
            &[],
        );
        assert_eq!(tags, vec!["r/api:v1", "r/api:sha-1"]);
        let tags = script_pushes("docker buildx build \\\n  --push -t r/a:latest .", &[]);
        assert_eq!(tags, vec!["r/a:latest"]);
    }
}
