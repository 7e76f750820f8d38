//! What a job pushes to a registry, and with which tags.
//!
//! Read in step order, as the runner would run them:
//!
//! - `docker build -t …` / `docker buildx build -t … --push|--load|--output type=registry`,
//!   `docker tag SRC DST`, `docker pull`, then `docker push REF` or `docker push --all-tags
//!   REPO` (every tag this job gave that repository). `docker image …`, `podman` and
//!   `buildah` spell the same commands. `docker buildx imagetools create -t …` pushes the
//!   tags it names. `crane copy|tag`, `skopeo copy`, `regctl image copy` copy or retag an
//!   existing image. Tags written through a shell array (`TAGS=(-t …)`, `"${TAGS[@]}"`) are
//!   read from the array.
//! - `docker/build-push-action` (`push: true`, or an `outputs:` that pushes) with its `tags:`,
//!   including the rules of the `docker/metadata-action` step they come from
//!   ([`super::metadata`]).
//! - Well-known actions that push: rust-lang/simpleinfra `upload-docker-image` (`latest`
//!   unless given a `tag`, and it redeploys the ECS service when told to), mbta
//!   `build-push-ecr` (`git-<short sha>`), bcgov `builder-ghcr` (its `tags:`, by default the
//!   pull request number), `redhat-actions/push-to-registry`,
//!   `mr-smithers-excellent/docker-build-push`; `shrink/actions-docker-registry-tag` retags.
//! - A reusable workflow of another repository named for building images
//!   (`…/image_build.yml`, `…/build-docker.yml`), with the tags its `with:` gives it.
//! - Local composite actions (`uses: ./.github/actions/x`) and reusable workflows (`uses:
//!   ./.github/workflows/x.yml`) are read from their files, with the values the step or job
//!   passes to their inputs.
//!
//! A push records whether it builds a new image ([`PushKind::Build`]), copies an existing
//! image into another repository ([`PushKind::Copy`]) or adds a tag to an image already in
//! the same repository ([`PushKind::Retag`]), and where to point: where the tags are given
//! and where the push runs.

use super::metadata;
use super::tags::Tag;
use super::value::{scalar, At, Given, Part, Scope, Template, Value};
use crate::model::{shell, Repository};
use ship_policy::CompiledPolicy;
use ship_workflow::yaml::{self, Limits};
use ship_workflow::{ActionRef, Job, Node, Source, Span, Step, Workflow};
use std::path::Path;

/// How deep local actions and called workflows are followed.
const MAX_FOLLOW: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushKind {
    /// A newly built image.
    Build,
    /// An existing image copied into another repository.
    Copy,
    /// Another tag on an image already in the same repository (a promotion).
    Retag,
}

/// One image repository pushed by a step, with every tag the job gave it.
#[derive(Debug, Clone)]
pub struct Push {
    /// The step (or 0 for a job that calls a workflow).
    pub step: usize,
    /// The repository as written (`$REGISTRY/api`).
    pub image: String,
    /// The repository as read (what tells two spellings of one repository apart).
    pub key: String,
    pub tags: Vec<Tag>,
    /// Where the tags are given (the build command, `tags:`), in this file.
    pub anchor: Span,
    /// Where the push runs (`docker push`), in this file.
    pub push_anchor: Span,
    pub kind: PushKind,
    /// For a copy or a retag: the source's tag and where it is written.
    pub source: Option<(Tag, Span)>,
    /// Inputs of this file's workflow or action the tags are built from.
    pub inputs: Vec<String>,
    /// Read from this composite action or called workflow (its path); the anchors are then
    /// the `uses:` here.
    pub via: Option<String>,
    /// For a push followed into another file: the `with:` keys here, by input name.
    pub given: Vec<(String, Span)>,
    /// For a push followed into another file: its tags with the values given here.
    pub caller_tags: Option<Vec<Tag>>,
}

/// A rollout that restarts the service on whatever its task definition names
/// (`aws ecs update-service --force-new-deployment` without a new task definition).
#[derive(Debug, Clone)]
pub struct Redeploy {
    pub step: usize,
    pub what: String,
    /// The command's line (or line in a followed file) for messages.
    pub line: u32,
    pub via: Option<String>,
}

/// What a job pushes and whether it redeploys as is.
#[derive(Debug, Default)]
pub struct JobImages {
    pub pushes: Vec<Push>,
    pub redeploys: Vec<Redeploy>,
}

/// Reads the images of jobs in one file.
pub struct Reader<'r> {
    /// The file the jobs are in, for positions and line numbers.
    pub source: &'r Source<'r>,
    pub policy: &'r CompiledPolicy,
    pub repo: &'r Repository,
    pub dir: &'r Path,
    /// Inside a followed file: every anchor is this span of the file being linted.
    pub outer: Option<Span>,
    pub depth: u8,
}

/// A local image this job knows by a name (`docker build -t`, `docker tag`, `docker pull`).
struct Local {
    repo_key: String,
    tag: Option<Value>,
    object: usize,
    /// Where the name was given.
    anchor: Span,
}

/// An image in the job: built here, or an existing one (pulled or named).
struct Object {
    anchor: Span,
    /// An existing image: its repository key, tag and where it is written.
    existing: Option<(String, Tag, Span)>,
    /// The tags came from inputs (names).
    inputs: Vec<String>,
}

/// A reference split into repository and tag.
struct Ref {
    repo_key: String,
    repo_shown: String,
    /// `None`: no tag (the registry serves `latest`); a digest pins it.
    tag: RefTag,
    inputs: Vec<String>,
}

enum RefTag {
    Tag(Value),
    Missing,
    Digest,
    /// The tag may be inside a value the file does not define (`docker push $IMAGE`).
    Unknown(Value),
}

/// What a job has done so far.
#[derive(Default)]
struct State {
    locals: Vec<Local>,
    objects: Vec<Object>,
    pushes: Vec<Push>,
    redeploys: Vec<Redeploy>,
}

impl State {
    fn object(&mut self, anchor: Span) -> usize {
        self.objects.push(Object {
            anchor,
            existing: None,
            inputs: Vec::new(),
        });
        self.objects.len() - 1
    }

    fn find(&self, r: &Ref) -> Option<usize> {
        // No tag is `latest`.
        let want = match &r.tag {
            RefTag::Tag(v) | RefTag::Unknown(v) => v.describe(),
            RefTag::Missing => "latest".to_string(),
            RefTag::Digest => return None,
        };
        self.locals
            .iter()
            .rev()
            .find(|l| {
                l.repo_key == r.repo_key
                    && l.tag
                        .as_ref()
                        .map(Value::describe)
                        .unwrap_or_else(|| "latest".into())
                        == want
            })
            .map(|l| l.object)
    }

    /// Where the local name `r` was given.
    fn find_anchor(&self, r: &Ref) -> Option<Span> {
        let o = self.find(r)?;
        self.locals
            .iter()
            .rev()
            .find(|l| l.object == o && l.repo_key == r.repo_key)
            .map(|l| l.anchor)
    }

    fn name(&mut self, r: &Ref, object: usize, anchor: Span) {
        let tag = match &r.tag {
            RefTag::Tag(v) | RefTag::Unknown(v) => Some(v.clone()),
            _ => None,
        };
        self.locals.push(Local {
            repo_key: r.repo_key.clone(),
            tag,
            object,
            anchor,
        });
        for i in &r.inputs {
            if !self.objects[object].inputs.contains(i) {
                self.objects[object].inputs.push(i.clone());
            }
        }
    }
}

/// Where a pushed tag comes from, for [`Reader::push`].
struct Pushed<'t> {
    object: usize,
    /// Where this name was given (`docker tag`), for a copy or retag.
    named: Option<Span>,
    repo_key: &'t str,
    repo_shown: &'t str,
    tag: Tag,
    step: usize,
    push_anchor: Span,
}

impl<'r> Reader<'r> {
    /// The images of one job.
    pub fn job(&self, scope: &Scope<'_>) -> JobImages {
        let mut state = State::default();
        let job = scope.job;
        if let Some(uses) = job.uses {
            self.called(scope, uses, &mut state);
        }
        for step in &job.steps {
            if let Some(run) = step.run {
                if let Some(script) = run.as_str() {
                    self.script(scope, step, run, script, &mut state);
                }
            }
            if step.uses.is_some() {
                self.action(scope, step, &mut state);
            }
        }
        JobImages {
            pushes: state.pushes,
            redeploys: state.redeploys,
        }
    }

    fn forbidden(&self) -> &[String] {
        &self.policy.policy.images.forbidden_tags
    }

    fn span(&self, node: &Node) -> Span {
        self.outer.unwrap_or(node.span)
    }

    /// The span of line `line` (0-based) of a script.
    fn line_span(&self, run: &Node, script: &str, line: usize) -> Span {
        if let Some(o) = self.outer {
            return o;
        }
        self.own_line_span(run, script, line)
    }

    /// The line number of a script line, in the file the script is in.
    fn line_number(&self, run: &Node, script: &str, line: usize) -> u32 {
        self.own_line_span(run, script, line).start.line
    }

    fn own_line_span(&self, run: &Node, script: &str, line: usize) -> Span {
        let src = self.source;
        let text = script.lines().nth(line).map(str::trim).unwrap_or("");
        if text.is_empty() {
            return run.span;
        }
        let nth = script
            .lines()
            .take(line)
            .filter(|l| l.contains(text))
            .count();
        src.find_nth_in_span(run.span, text, nth)
            .map(|s| Span {
                start: s.start,
                end: s.start,
            })
            .map(|s| {
                // The whole line, for the caret.
                let width = text.chars().count() as u32;
                Span {
                    start: s.start,
                    end: ship_workflow::Pos {
                        line: s.start.line,
                        column: s.start.column + width,
                    },
                }
            })
            .unwrap_or(run.span)
    }

    /// Split a reference (`registry/repo:tag`) written as `written`, read as `value`.
    fn reference(&self, written: &str, value: &Value) -> Ref {
        let mut repo_key = String::new();
        let mut tag: Option<RefTag> = None;
        for t in &value.alternatives {
            let (repo, this) = split_ref(t);
            if repo_key.is_empty() {
                repo_key = super::value::describe_template(&repo);
            }
            tag = Some(match (tag, this) {
                (None, x) => x,
                (Some(RefTag::Tag(a)), RefTag::Tag(b)) => RefTag::Tag(a.or(b)),
                (
                    Some(RefTag::Tag(a) | RefTag::Unknown(a)),
                    RefTag::Unknown(b) | RefTag::Tag(b),
                ) => RefTag::Unknown(a.or(b)),
                (Some(prev), _) => prev,
            });
        }
        let repo_shown = written_repository(written).unwrap_or_else(|| repo_key.clone());
        Ref {
            repo_key,
            repo_shown,
            tag: tag.unwrap_or(RefTag::Missing),
            inputs: value.inputs().into_iter().map(str::to_string).collect(),
        }
    }

    fn tag_of(&self, r: &Ref) -> Option<Tag> {
        match &r.tag {
            RefTag::Tag(v) => Some(Tag::of(v.clone(), self.forbidden())),
            // `docker push $IMAGE`: neither the image nor its tags are known; it may be one
            // of several pushes of one image under names this file does not define.
            RefTag::Unknown(v) => {
                let mut tag = Tag::of(v.clone(), self.forbidden());
                tag.multi = true;
                Some(tag)
            }
            RefTag::Missing => Some(Tag::of(Value::lit("latest"), self.forbidden())),
            RefTag::Digest => None,
        }
    }

    /// Record a pushed tag, merged with the other tags of the same image and repository.
    fn push(&self, state: &mut State, p: Pushed<'_>) {
        let object = &state.objects[p.object];
        let kind = match &object.existing {
            None => PushKind::Build,
            Some((key, _, _)) if key == p.repo_key => PushKind::Retag,
            Some(_) => PushKind::Copy,
        };
        let source = object
            .existing
            .as_ref()
            .map(|(_, tag, span)| (tag.clone(), *span));
        // A build is pointed at where it is tagged; a copy or retag where the new name is
        // given.
        let anchor = match kind {
            PushKind::Build => object.anchor,
            _ => p.named.unwrap_or(p.push_anchor),
        };
        let mut inputs = object.inputs.clone();
        for i in p.tag.value.inputs() {
            if !inputs.iter().any(|x| x == i) {
                inputs.push(i.to_string());
            }
        }
        if let Some(existing) = state.pushes.iter_mut().find(|e| {
            e.key == p.repo_key && e.anchor == anchor && e.kind == kind && e.via.is_none()
        }) {
            // Prefer the name as written over the name as read.
            if existing.image == existing.key && p.repo_shown != p.repo_key {
                existing.image = p.repo_shown.to_string();
            }
            if !existing.tags.iter().any(|t| t.value == p.tag.value) {
                existing.tags.push(p.tag);
            }
            for i in inputs {
                if !existing.inputs.contains(&i) {
                    existing.inputs.push(i);
                }
            }
            return;
        }
        state.pushes.push(Push {
            step: p.step,
            image: p.repo_shown.to_string(),
            key: p.repo_key.to_string(),
            tags: vec![p.tag],
            anchor,
            push_anchor: p.push_anchor,
            kind,
            source,
            inputs,
            via: None,
            given: Vec::new(),
            caller_tags: None,
        });
    }

    /// The commands of a `run:` script.
    fn script(
        &self,
        scope: &Scope<'_>,
        step: &Step<'_>,
        run: &Node,
        script: &str,
        state: &mut State,
    ) {
        // One pass for all of them: most scripts run none of these tools.
        static TOOLS: std::sync::LazyLock<aho_corasick::AhoCorasick> =
            std::sync::LazyLock::new(|| {
                aho_corasick::AhoCorasick::new([
                    "docker", "podman", "buildah", "crane", "skopeo", "regctl", "aws ", "kubectl",
                ])
                .expect("literal patterns")
            });
        if !TOOLS.is_match(script) {
            return;
        }
        // Comments are skipped by the command reader; the script keeps its lines, so line
        // numbers agree with the assignments `Scope` reads.
        for cmd in shell::commands_read_once(script).iter() {
            let at = At {
                step: Some(step.index),
                line: cmd.line,
            };
            // Array words (`"${TAGS[@]}"`) become the array's elements, each with its line.
            let mut words: Vec<(String, usize)> = Vec::new();
            for w in cmd.args() {
                match array_name(w).and_then(|n| scope.array(n, at)) {
                    Some(items) => words.extend(items.into_iter().map(|(l, w)| (w, l))),
                    None => words.push((w.clone(), cmd.line)),
                }
            }
            let plain: Vec<String> = words.iter().map(|(w, _)| unquote(w)).collect();
            let here = self.line_span(run, script, cmd.line);
            let program = cmd.program();
            match program {
                "docker" | "podman" | "buildah" => self.docker(
                    scope, step, program, run, script, at, &words, &plain, here, state,
                ),
                "crane" | "gcrane" | "skopeo" | "regctl" => {
                    self.copy_tool(scope, step, program, at, &plain, here, state)
                }
                "aws" | "kubectl" => {
                    let sub = |i: usize| plain.get(i).map(String::as_str).unwrap_or("");
                    // Restarts on the same task definition or image: whatever its tag names.
                    let redeploy = match (program, sub(0), sub(1)) {
                        ("aws", "ecs", "update-service") => {
                            cmd.has_flag("--force-new-deployment")
                                && !cmd.has_flag("--task-definition")
                        }
                        ("aws", "apprunner", "start-deployment") => true,
                        ("kubectl", "rollout", "restart") => true,
                        _ => false,
                    };
                    if redeploy {
                        state.redeploys.push(Redeploy {
                            step: step.index,
                            what: format!("`{}`", crate::model::shorten(&cmd.words.join(" "), 70)),
                            line: self.line_number(run, script, cmd.line),
                            via: None,
                        });
                    }
                }
                _ => {}
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn docker(
        &self,
        scope: &Scope<'_>,
        step: &Step<'_>,
        program: &str,
        run: &Node,
        script: &str,
        at: At,
        words: &[(String, usize)],
        plain: &[String],
        here: Span,
        state: &mut State,
    ) {
        let mut i = 0;
        if plain.first().map(String::as_str) == Some("image") {
            i = 1;
        }
        let verb = plain.get(i).map(String::as_str).unwrap_or("");
        let (verb, rest_at) = match (verb, plain.get(i + 1).map(String::as_str)) {
            ("buildx", Some("build")) | ("builder", Some("build")) => ("build", i + 2),
            ("buildx", Some("imagetools"))
                if plain.get(i + 2).map(String::as_str) == Some("create") =>
            {
                ("imagetools", i + 3)
            }
            ("bud", _) => ("build", i + 1),
            (v, _) => (v, i + 1),
        };
        let args = &words[rest_at.min(words.len())..];
        let flat = &plain[rest_at.min(plain.len())..];
        let read = |w: &str, line: usize| {
            let at = At {
                step: Some(step.index),
                line: line.max(at.line),
            };
            let v = scope.word(w, at);
            self.reference(&unquote(w), &v)
        };
        match verb {
            "build" | "imagetools" => {
                let tags = tag_flags(args);
                if tags.is_empty() {
                    return;
                }
                let pushes = verb == "imagetools"
                    || flat.iter().any(|a| a == "--push")
                    || flat
                        .windows(2)
                        .any(|w| (w[0] == "--output" || w[0] == "-o") && output_pushes(&w[1]))
                    || flat
                        .iter()
                        .any(|a| a.strip_prefix("--output=").is_some_and(output_pushes));
                // Point at where the tags are written: the command, or the array's line.
                let first_line = tags[0].1;
                let anchor = if first_line < at.line {
                    self.line_span(run, script, first_line)
                } else {
                    here
                };
                let object = state.object(anchor);
                for (w, line) in &tags {
                    let r = read(w, *line);
                    state.name(&r, object, anchor);
                    if pushes {
                        if let Some(tag) = self.tag_of(&r) {
                            self.push(
                                state,
                                Pushed {
                                    named: None,
                                    object,
                                    repo_key: &r.repo_key,
                                    repo_shown: &r.repo_shown,
                                    tag,
                                    step: step.index,
                                    push_anchor: here,
                                },
                            );
                        }
                    }
                }
            }
            "tag" => {
                let pos = positionals(args, &[]);
                if let [src, dst, ..] = pos.as_slice() {
                    let s = read(&src.0, src.1);
                    let object = match state.find(&s) {
                        Some(o) => o,
                        None => {
                            let o = state.object(here);
                            if let Some(tag) = self.tag_of(&s) {
                                state.objects[o].existing = Some((s.repo_key.clone(), tag, here));
                            }
                            state.name(&s, o, here);
                            o
                        }
                    };
                    let d = read(&dst.0, dst.1);
                    state.name(&d, object, here);
                    // buildah names extra tags after the first.
                    for extra in pos.iter().skip(2) {
                        let e = read(&extra.0, extra.1);
                        state.name(&e, object, here);
                    }
                }
            }
            "pull" => {
                let pos = positionals(args, &["--platform"]);
                if let Some(src) = pos.first() {
                    let s = read(&src.0, src.1);
                    let o = state.object(here);
                    if let Some(tag) = self.tag_of(&s) {
                        state.objects[o].existing = Some((s.repo_key.clone(), tag, here));
                    }
                    state.name(&s, o, here);
                }
            }
            "push" => {
                let all = flat.iter().any(|a| a == "--all-tags" || a == "-a");
                let pos = positionals(args, &[]);
                // `buildah push IMAGE DEST`: the destination is what gets pushed.
                let target = if program == "buildah" {
                    pos.get(1).or(pos.first())
                } else {
                    pos.first()
                };
                let Some(target) = target else { return };
                let target_word = target.0.strip_prefix("docker://").unwrap_or(&target.0);
                if all {
                    // Every tag this job gave that repository.
                    let v = scope.word(target_word, at);
                    let key = v
                        .alternatives
                        .first()
                        .map(|t| super::value::describe_template(t))
                        .unwrap_or_default();
                    let shown = unquote(target_word);
                    let named: Vec<(usize, Option<Value>, Span)> = state
                        .locals
                        .iter()
                        .filter(|l| l.repo_key == key)
                        .map(|l| (l.object, l.tag.clone(), l.anchor))
                        .collect();
                    for (object, tag, anchor) in named {
                        let tag = Tag::of(
                            tag.unwrap_or_else(|| Value::lit("latest")),
                            self.forbidden(),
                        );
                        self.push(
                            state,
                            Pushed {
                                named: Some(anchor),
                                object,
                                repo_key: &key,
                                repo_shown: &shown,
                                tag,
                                step: step.index,
                                push_anchor: here,
                            },
                        );
                    }
                    return;
                }
                let r = read(target_word, target.1);
                let Some(tag) = self.tag_of(&r) else { return };
                let object = match state.find(&r) {
                    Some(o) => o,
                    None => {
                        let o = state.object(here);
                        state.name(&r, o, here);
                        o
                    }
                };
                let named = state.find_anchor(&r);
                self.push(
                    state,
                    Pushed {
                        named,
                        object,
                        repo_key: &r.repo_key,
                        repo_shown: &r.repo_shown,
                        tag,
                        step: step.index,
                        push_anchor: here,
                    },
                );
            }
            _ => {}
        }
    }

    /// `crane copy|tag`, `skopeo copy`, `regctl image copy`.
    #[allow(clippy::too_many_arguments)]
    fn copy_tool(
        &self,
        scope: &Scope<'_>,
        step: &Step<'_>,
        program: &str,
        at: At,
        plain: &[String],
        here: Span,
        state: &mut State,
    ) {
        let words: Vec<(String, usize)> = plain.iter().map(|w| (w.clone(), at.line)).collect();
        let (verb_len, verb) = match (
            program,
            plain.first().map(String::as_str),
            plain.get(1).map(String::as_str),
        ) {
            ("regctl", Some("image"), Some(v)) => (2, v),
            (_, Some(v), _) => (1, v),
            _ => return,
        };
        let pos = positionals(
            &words[verb_len.min(words.len())..],
            &[
                "--src-creds",
                "--dest-creds",
                "--authfile",
                "--platform",
                "--format",
                "-f",
            ],
        );
        let read = |w: &str| {
            let w = strip_transport(w);
            let v = scope.word(w, at);
            self.reference(w, &v)
        };
        match (verb, pos.as_slice()) {
            ("copy" | "cp", [src, dst, ..]) => {
                let s = read(&src.0);
                let d = read(&dst.0);
                let o = state.object(here);
                if let Some(tag) = self.tag_of(&s) {
                    state.objects[o].existing = Some((s.repo_key.clone(), tag, here));
                }
                if let Some(tag) = self.tag_of(&d) {
                    self.push(
                        state,
                        Pushed {
                            named: None,
                            object: o,
                            repo_key: &d.repo_key,
                            repo_shown: &d.repo_shown,
                            tag,
                            step: step.index,
                            push_anchor: here,
                        },
                    );
                }
            }
            ("tag", [img, new, ..]) if program != "regctl" => {
                let s = read(&img.0);
                let o = state.object(here);
                if let Some(tag) = self.tag_of(&s) {
                    state.objects[o].existing = Some((s.repo_key.clone(), tag, here));
                }
                let tag = Tag::of(scope.word(&new.0, at), self.forbidden());
                self.push(
                    state,
                    Pushed {
                        named: None,
                        object: o,
                        repo_key: &s.repo_key,
                        repo_shown: &s.repo_shown,
                        tag,
                        step: step.index,
                        push_anchor: here,
                    },
                );
            }
            ("push", [_, img, ..]) if program != "regctl" => {
                let d = read(&img.0);
                let o = state.object(here);
                if let Some(tag) = self.tag_of(&d) {
                    self.push(
                        state,
                        Pushed {
                            named: None,
                            object: o,
                            repo_key: &d.repo_key,
                            repo_shown: &d.repo_shown,
                            tag,
                            step: step.index,
                            push_anchor: here,
                        },
                    );
                }
            }
            _ => {}
        }
    }

    /// A step that uses an action.
    fn action(&self, scope: &Scope<'_>, step: &Step<'_>, state: &mut State) {
        let Some(uses) = step.uses else { return };
        let Some(action) = step.action() else { return };
        let at = At::step(step.index);
        let with = |k: &str| step.with.and_then(|w| w.get(k));
        let with_text = |k: &str| with(k).and_then(scalar);
        let uses_span = self.span(uses);
        if let ActionRef::Local(local) = action {
            self.follow_action(scope, step, local, state);
            return;
        }
        let name = action.lowercase_name();
        let read_value = |text: &str| scope.text(text, at);
        match name.as_str() {
            "docker/build-push-action" => {
                let pushes = match with_text("push") {
                    Some(p) => p.trim() != "false",
                    None => false,
                } || ["outputs", "output"]
                    .iter()
                    .filter_map(|k| with_text(k))
                    .any(|o| output_pushes(&o));
                let loads = with_text("load").is_some_and(|l| l.trim() == "true");
                if !pushes && !loads {
                    return;
                }
                let Some(tags_node) = with("tags") else {
                    return;
                };
                let Some(text) = scalar(tags_node) else {
                    return;
                };
                let tags_span = self.span(tags_node);
                // Items from a metadata-action step are its rules; others are references.
                let mut by_object: Option<usize> = None;
                for item in list_items(&text) {
                    if let Some(meta) = metadata_step(scope.job, &item) {
                        let m = metadata::read(scope, meta, self.forbidden());
                        let anchor = if self.outer.is_some() {
                            uses_span
                        } else {
                            m.anchor
                        };
                        let object = state.object(anchor);
                        for image in &m.images {
                            let r = self.reference(image, &read_value(image));
                            for tag in &m.tags {
                                state.locals.push(Local {
                                    repo_key: r.repo_key.clone(),
                                    tag: Some(tag.value.clone()),
                                    object,
                                    anchor,
                                });
                                if pushes {
                                    self.push(
                                        state,
                                        Pushed {
                                            named: None,
                                            object,
                                            repo_key: &r.repo_key,
                                            repo_shown: &r.repo_shown,
                                            tag: tag.clone(),
                                            step: step.index,
                                            push_anchor: tags_span,
                                        },
                                    );
                                }
                            }
                        }
                        continue;
                    }
                    let object = *by_object.get_or_insert_with(|| state.object(tags_span));
                    let v = read_value(&item);
                    for item_value in split_value_list(&v) {
                        let r = self.reference(&item, &item_value);
                        state.name(&r, object, tags_span);
                        if !pushes {
                            continue;
                        }
                        if let Some(mut tag) = self.tag_of(&r) {
                            if is_whole_list_input(&item, &item_value) {
                                tag.multi = true;
                            }
                            self.push(
                                state,
                                Pushed {
                                    named: None,
                                    object,
                                    repo_key: &r.repo_key,
                                    repo_shown: &r.repo_shown,
                                    tag,
                                    step: step.index,
                                    push_anchor: tags_span,
                                },
                            );
                        }
                    }
                }
            }
            "rust-lang/simpleinfra/github-actions/upload-docker-image" => {
                let Some(repository) = with_text("repository") else {
                    return;
                };
                let tag = match with_text("tag").filter(|t| !t.trim().is_empty()) {
                    Some(t) => read_value(&t),
                    // The action pushes `latest` when it is not given a tag.
                    None => Value::lit("latest"),
                };
                let object = state.object(uses_span);
                let repo = read_value(&repository);
                let key = repo.describe();
                self.push(
                    state,
                    Pushed {
                        named: None,
                        object,
                        repo_key: &key,
                        repo_shown: &repository,
                        tag: Tag::of(tag, self.forbidden()),
                        step: step.index,
                        push_anchor: uses_span,
                    },
                );
                if with_text("redeploy_ecs_service").is_some_and(|s| !s.trim().is_empty()) {
                    state.redeploys.push(Redeploy {
                        step: step.index,
                        what: "upload-docker-image with `redeploy_ecs_service` (a forced new deployment)".into(),
                        line: uses.span.start.line,
                        via: None,
                    });
                }
            }
            "mbta/actions/build-push-ecr" => {
                let repository = with_text("docker-repo").unwrap_or_else(|| "<docker-repo>".into());
                let object = state.object(uses_span);
                let key = read_value(&repository).describe();
                let mut tags = vec![
                    Value::lit("git-").concat(&Value::known(super::value::Origin::ShortCommit))
                ];
                if let Some(extra) = with_text("docker-additional-tags") {
                    tags.extend(extra.split_whitespace().map(&read_value));
                }
                for tag in tags {
                    self.push(
                        state,
                        Pushed {
                            named: None,
                            object,
                            repo_key: &key,
                            repo_shown: &repository,
                            tag: Tag::of(tag, self.forbidden()),
                            step: step.index,
                            push_anchor: uses_span,
                        },
                    );
                }
            }
            "bcgov/action-builder-ghcr"
            | "bcgov/actions/builder-ghcr"
            | "bcgov-nr/action-builder-ghcr" => {
                let package = with_text("image")
                    .or_else(|| with_text("package"))
                    .unwrap_or_else(|| "<package>".into());
                let repository = format!("ghcr.io/${{{{ github.repository }}}}/{package}");
                let (anchor, text) = match with("tags") {
                    Some(n) => (self.span(n), scalar(n).unwrap_or_default()),
                    // Its default: the pull request number.
                    None => (uses_span, "${{ github.event.number }}".to_string()),
                };
                let object = state.object(anchor);
                let key = read_value(&repository).describe();
                for item in list_items(&text) {
                    let v = read_value(&item);
                    for one in split_value_list(&v) {
                        let mut tag = Tag::of(one.clone(), self.forbidden());
                        if is_whole_list_input(&item, &one) {
                            tag.multi = true;
                        }
                        self.push(
                            state,
                            Pushed {
                                named: None,
                                object,
                                repo_key: &key,
                                repo_shown: &repository,
                                tag,
                                step: step.index,
                                push_anchor: anchor,
                            },
                        );
                    }
                }
            }
            "shrink/actions-docker-registry-tag" => {
                let registry = with_text("registry").unwrap_or_default();
                let repository = with_text("repository").unwrap_or_default();
                let image = format!("{registry}/{repository}");
                let key = read_value(&image).describe();
                let Some(target) = with("target") else { return };
                let source = Tag::of(
                    read_value(&scalar(target).unwrap_or_default()),
                    self.forbidden(),
                );
                let anchor = with("tags").map(|n| self.span(n)).unwrap_or(uses_span);
                let object = state.object(anchor);
                state.objects[object].existing = Some((key.clone(), source, self.span(target)));
                for item in list_items(&with_text("tags").unwrap_or_default()) {
                    for one in split_value_list(&read_value(&item)) {
                        self.push(
                            state,
                            Pushed {
                                named: None,
                                object,
                                repo_key: &key,
                                repo_shown: &image,
                                tag: Tag::of(one, self.forbidden()),
                                step: step.index,
                                push_anchor: anchor,
                            },
                        );
                    }
                }
            }
            "redhat-actions/push-to-registry" | "mr-smithers-excellent/docker-build-push" => {
                let Some(image) = with_text("image") else {
                    return;
                };
                let image = match with_text("registry") {
                    Some(r) if !r.trim().is_empty() => {
                        format!("{}/{image}", r.trim_end_matches('/'))
                    }
                    _ => image,
                };
                let key = read_value(&image).describe();
                let (anchor, text) = match with("tags") {
                    Some(n) => (self.span(n), scalar(n).unwrap_or_default()),
                    None if name.starts_with("redhat") => (uses_span, "latest".to_string()),
                    None => return,
                };
                let object = state.object(anchor);
                let mut items = split_items(&text, true);
                if with_text("addLatest").is_some_and(|l| l.trim() == "true") {
                    items.push("latest".into());
                }
                for item in items {
                    let v = read_value(&item);
                    let mut tag = Tag::of(v.clone(), self.forbidden());
                    tag.multi = is_whole_list_input(&item, &v);
                    self.push(
                        state,
                        Pushed {
                            named: None,
                            object,
                            repo_key: &key,
                            repo_shown: &image,
                            tag,
                            step: step.index,
                            push_anchor: anchor,
                        },
                    );
                }
            }
            _ => {}
        }
    }

    /// A job that calls a reusable workflow: this repository's is read; another
    /// repository's is read from its name and `with:` when it builds images.
    fn called(&self, scope: &Scope<'_>, uses: &Node, state: &mut State) {
        let Some(uses_str) = uses.as_str() else {
            return;
        };
        let job = scope.job;
        let uses_span = self.span(uses);
        if Repository::is_local_call(uses_str) {
            self.follow_workflow(scope, uses, uses_str, state);
            return;
        }
        // `…/image_build.yml@ref`, `…/build-docker.yml@ref`.
        let file = uses_str.split('@').next().unwrap_or(uses_str);
        let stem = crate::model::file_stem(file).to_ascii_lowercase();
        let builds_images = ["image", "docker", "container", "ecr", "ghcr"]
            .iter()
            .any(|w| stem.contains(w))
            && ["build", "push", "publish"]
                .iter()
                .any(|w| stem.contains(w));
        if !builds_images {
            return;
        }
        let Some(entries) = job.with.and_then(|w| w.as_map()) else {
            return;
        };
        let at = At::default();
        let key_of = |k: &str| k.to_ascii_lowercase().replace('-', "_");
        let tags_entry = entries.iter().find(|e| {
            matches!(
                key_of(e.key.as_str().unwrap_or("")).as_str(),
                "image_tags" | "tags" | "image_tag" | "tag" | "docker_tag" | "image_version"
            )
        });
        // Given only a commit to tag with (`COMMIT_HASH: …`), that is the tag.
        let commit_entry = entries.iter().find(|e| {
            matches!(
                key_of(e.key.as_str().unwrap_or("")).as_str(),
                "commit_hash" | "commit_sha" | "git_sha" | "sha" | "commit"
            )
        });
        let Some(entry) = tags_entry.or(commit_entry) else {
            return;
        };
        let anchor = self.outer.unwrap_or(entry.key.span);
        let object = state.object(anchor);
        let text = scalar(&entry.value).unwrap_or_default();
        let image_input = entries
            .iter()
            .find(|e| key_of(e.key.as_str().unwrap_or("")).contains("image_name"))
            .and_then(|e| scalar(&e.value));
        let tool = format!("`{}`", file.rsplit('/').next().unwrap_or(file));
        for item in list_items(&text) {
            let v = scope.text(&item, at);
            for one in split_value_list(&v) {
                let r = self.reference(&item, &one);
                // A bare tag (no repository) is the tag of the image the workflow names.
                let (key, shown, tag) = if item.contains('/') || item.contains(':') {
                    (r.repo_key.clone(), r.repo_shown.clone(), self.tag_of(&r))
                } else {
                    let shown = image_input
                        .clone()
                        .unwrap_or_else(|| format!("the image {tool} builds"));
                    (
                        shown.clone(),
                        shown,
                        Some(Tag::of(one.clone(), self.forbidden())),
                    )
                };
                let Some(tag) = tag else { continue };
                self.push(
                    state,
                    Pushed {
                        named: None,
                        object,
                        repo_key: &key,
                        repo_shown: &shown,
                        tag,
                        step: 0,
                        push_anchor: uses_span,
                    },
                );
            }
        }
    }

    /// Read a followed file: its text and tree.
    fn read_file(&self, shown: &str) -> Option<(String, Node)> {
        let path = self.dir.join(shown);
        let meta = std::fs::metadata(&path).ok()?;
        if meta.len() > self.policy.max_file_size {
            return None;
        }
        let text = std::fs::read_to_string(&path).ok()?;
        let root = yaml::parse(&text, Limits::default()).ok()??;
        Some((text, root))
    }

    /// A local composite action: what it pushes, given what this step passes.
    fn follow_action(&self, scope: &Scope<'_>, step: &Step<'_>, local: &str, state: &mut State) {
        if self.depth >= MAX_FOLLOW {
            return;
        }
        let dir = local
            .trim()
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_string();
        let Some(shown) = self
            .repo
            .action_files
            .iter()
            .map(|(_, s)| s)
            .find(|s| {
                s.strip_prefix(&dir)
                    .is_some_and(|rest| rest == "/action.yml" || rest == "/action.yaml")
            })
            .cloned()
        else {
            return;
        };
        let Some((text, root)) = self.read_file(&shown) else {
            return;
        };
        let Some(wf) = ship_workflow::action::workflow_of_action(&root) else {
            return;
        };
        let Some(uses) = step.uses else { return };
        let given = self.given_to(scope, step.with, At::step(step.index), &root.get("inputs"));
        let keys = with_keys(step.with, self.outer);
        let source = Source::new(&text);
        self.follow(
            &wf, &source, true, uses, &shown, &given, keys, step.index, state,
        );
    }

    /// A local reusable workflow a job calls.
    fn follow_workflow(&self, scope: &Scope<'_>, uses: &Node, uses_str: &str, state: &mut State) {
        if self.depth >= MAX_FOLLOW {
            return;
        }
        let Some(callee) = self.repo.callee(uses_str) else {
            return;
        };
        let shown = callee.path.clone();
        let Some((text, root)) = self.read_file(&shown) else {
            return;
        };
        let wf = Workflow::from_root(&root);
        let source = Source::new(&text);
        let inputs = wf
            .trigger("workflow_call")
            .and_then(|t| t.config)
            .and_then(|c| c.get("inputs"));
        let given = self.given_to(scope, scope.job.with, At::default(), &inputs);
        let keys = with_keys(scope.job.with, self.outer);
        self.follow(&wf, &source, false, uses, &shown, &given, keys, 0, state);
    }

    /// What a caller passes to a followed file's inputs (its defaults for the others).
    fn given_to(
        &self,
        scope: &Scope<'_>,
        with: Option<&Node>,
        at: At,
        inputs: &Option<&Node>,
    ) -> Given {
        let mut given = Given::default();
        for e in with.and_then(|w| w.as_map()).unwrap_or_default() {
            if let (Some(k), Some(v)) = (e.key.as_str(), scalar(&e.value)) {
                given.values.push((k.to_string(), scope.text(&v, at)));
            }
        }
        for e in inputs.and_then(|i| i.as_map()).unwrap_or_default() {
            let Some(k) = e.key.as_str() else { continue };
            if given.values.iter().any(|(g, _)| g == k) {
                continue;
            }
            if let Some(d) = e.value.get("default").and_then(scalar) {
                if !d.contains("${{") {
                    given.values.push((k.to_string(), Value::lit(d)));
                } else {
                    given.values.push((k.to_string(), scope.text(&d, at)));
                }
            }
        }
        given
    }

    /// Read every job of a followed file; anchors become `uses` here.
    #[allow(clippy::too_many_arguments)]
    fn follow(
        &self,
        wf: &Workflow<'_>,
        source: &Source<'_>,
        is_action: bool,
        uses: &Node,
        shown: &str,
        given: &Given,
        keys: Vec<(String, Span)>,
        step: usize,
        state: &mut State,
    ) {
        let inner = Reader {
            source,
            policy: self.policy,
            repo: self.repo,
            dir: self.dir,
            outer: Some(self.span(uses)),
            depth: self.depth + 1,
        };
        for job in &wf.jobs {
            // Own values: inputs stay inputs, so a push that is wrong whatever the caller
            // passes is told apart (it is reported in its own file).
            let scope = Scope::new(wf, job, is_action, None);
            let images = inner.job(&scope);
            for mut p in images.pushes {
                p.step = step;
                p.via.get_or_insert_with(|| shown.to_string());
                if p.given.is_empty() {
                    p.given = keys.clone();
                }
                p.caller_tags = Some(
                    p.tags
                        .iter()
                        .flat_map(|t| t.given(given, self.forbidden()))
                        .collect(),
                );
                state.pushes.push(p);
            }
            for mut r in images.redeploys {
                r.step = step;
                r.via.get_or_insert_with(|| shown.to_string());
                state.redeploys.push(r);
            }
        }
    }
}

/// `with:` keys and their spans (the anchors for findings that depend on them).
fn with_keys(with: Option<&Node>, outer: Option<Span>) -> Vec<(String, Span)> {
    with.and_then(|w| w.as_map())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| Some((e.key.as_str()?.to_string(), outer.unwrap_or(e.key.span))))
        .collect()
}

/// `${NAME[@]}` → `NAME`.
fn array_name(word: &str) -> Option<&str> {
    let w = unquote_str(word);
    let inner = w.strip_prefix("${")?.strip_suffix('}')?;
    inner
        .strip_suffix("[@]")
        .or_else(|| inner.strip_suffix("[*]"))
}

fn unquote_str(w: &str) -> &str {
    let w = w.trim();
    for q in ['"', '\''] {
        if w.len() >= 2 && w.starts_with(q) && w.ends_with(q) {
            return &w[1..w.len() - 1];
        }
    }
    w
}

fn unquote(w: &str) -> String {
    unquote_str(w).to_string()
}

/// `docker://x` → `x` (other transports are local files).
fn strip_transport(w: &str) -> &str {
    w.strip_prefix("docker://").unwrap_or(w)
}

/// `--output type=registry`, `type=image,push=true`.
fn output_pushes(o: &str) -> bool {
    o.contains("type=registry") || o.contains("push=true")
}

/// `-t X`, `--tag X`, `--tag=X`, `-tX`: each tag word with its line.
fn tag_flags(args: &[(String, usize)]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let w = unquote(&args[i].0);
        if w == "-t" || w == "--tag" {
            if let Some(v) = args.get(i + 1) {
                out.push(v.clone());
            }
            i += 2;
            continue;
        }
        if let Some(v) = w.strip_prefix("--tag=") {
            out.push((v.to_string(), args[i].1));
        } else if let Some(v) = w
            .strip_prefix("-t")
            .filter(|v| !v.is_empty() && !w.starts_with("--"))
        {
            out.push((v.to_string(), args[i].1));
        }
        i += 1;
    }
    out
}

/// The arguments that are not options; options in `valued` take the next word.
fn positionals<'w>(args: &'w [(String, usize)], valued: &[&str]) -> Vec<&'w (String, usize)> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        let w = unquote(&a.0);
        if w.starts_with('-') && w.len() > 1 {
            skip = !w.contains('=') && valued.contains(&w.as_str());
            continue;
        }
        out.push(a);
    }
    out
}

/// Items of a list input (`tags:`): lines, or comma-separated, outside `${{ }}`.
pub fn list_items(text: &str) -> Vec<String> {
    split_items(text, false)
}

/// Items separated by newlines, commas and (with `spaces`) whitespace, outside `${{ }}`.
fn split_items(text: &str, spaces: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '$' && chars.get(i + 1) == Some(&'{') && chars.get(i + 2) == Some(&'{') {
            depth += 1;
            cur.push_str("${{");
            i += 3;
            continue;
        }
        if c == '}' && chars.get(i + 1) == Some(&'}') && depth > 0 {
            depth -= 1;
            cur.push_str("}}");
            i += 2;
            continue;
        }
        if depth == 0 && (c == '\n' || c == ',' || spaces && c.is_whitespace()) {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
        i += 1;
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().trim_matches(['"', '\'']).trim().to_string())
        .filter(|s| !s.is_empty() && !s.starts_with('#'))
        .collect()
}

/// A value that holds a list (an input or output with several lines) as separate values.
pub fn split_value_list(v: &Value) -> Vec<Value> {
    let split: Vec<Vec<Template>> = v
        .alternatives
        .iter()
        .map(|t| {
            let mut items: Vec<Template> = vec![Vec::new()];
            for p in t {
                match p {
                    Part::Lit(l) if l.contains(['\n', ',']) => {
                        for (n, piece) in l.split(['\n', ',']).enumerate() {
                            if n > 0 {
                                items.push(Vec::new());
                            }
                            let piece = piece.trim();
                            if !piece.is_empty() {
                                if let Some(last) = items.last_mut() {
                                    last.push(Part::Lit(piece.to_string()));
                                }
                            }
                        }
                    }
                    other => {
                        if let Some(last) = items.last_mut() {
                            last.push(other.clone());
                        }
                    }
                }
            }
            items.retain(|i| !i.is_empty());
            items
        })
        .collect();
    let n = split.first().map_or(0, Vec::len);
    if n <= 1 && split.iter().all(|s| s.len() <= 1) {
        return vec![v.clone()];
    }
    if split.iter().all(|s| s.len() == n) {
        // Same shape in every alternative: item i is one tag with alternatives.
        return (0..n)
            .map(|i| {
                let mut alternatives: Vec<Template> = Vec::new();
                for s in &split {
                    if !alternatives.contains(&s[i]) {
                        alternatives.push(s[i].clone());
                    }
                }
                Value { alternatives }
            })
            .collect();
    }
    split
        .into_iter()
        .flatten()
        .map(|t| Value {
            alternatives: vec![t],
        })
        .collect()
}

/// An item that is one expression the file does not resolve to a list it can read
/// (`${{ inputs.tags }}`): it may stand for several tags.
fn is_whole_list_input(item: &str, v: &Value) -> bool {
    let t = item.trim();
    t.starts_with("${{")
        && t.ends_with("}}")
        && t.matches("${{").count() == 1
        && v.alternatives
            .iter()
            .any(|a| a.len() == 1 && matches!(a[0], Part::Input(_) | Part::Unknown(_)))
}

/// The metadata-action step a `tags:` item reads (`${{ steps.meta.outputs.tags }}`).
fn metadata_step<'j>(job: &'j Job<'j>, item: &str) -> Option<&'j Step<'j>> {
    let inner = item.trim().strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let id = inner
        .strip_prefix("steps.")?
        .strip_suffix(".outputs.tags")?;
    let step = job
        .steps
        .iter()
        .find(|s| s.id.and_then(|n| n.as_str()) == Some(id))?;
    let name = step.action()?.lowercase_name();
    (name == "docker/metadata-action" || name == "crazy-max/ghaction-docker-meta").then_some(step)
}

/// The repository part of a reference as written (`$REGISTRY/api` of `$REGISTRY/api:$TAG`),
/// when the written text has a tag to split off.
fn written_repository(written: &str) -> Option<String> {
    let w = unquote_str(written);
    let masked = mask(w);
    let slash = masked.rfind('/').map(|i| i + 1).unwrap_or(0);
    let colon = masked[slash..].rfind(':')? + slash;
    let at = masked.find('@');
    let end = match at {
        Some(a) if a < colon => a,
        _ => colon,
    };
    Some(w[..end].to_string())
}

/// `${{ … }}`, `${ … }` and `$( … )` blanked out (same length), so their `:` and `/` do not
/// split a reference.
fn mask(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && i + 1 < bytes.len() && (bytes[i + 1] == b'{' || bytes[i + 1] == b'(')
        {
            let (open, close) = if bytes[i + 1] == b'{' {
                (b'{', b'}')
            } else {
                (b'(', b')')
            };
            let mut depth = 0;
            let mut j = i + 1;
            while j < bytes.len() {
                if bytes[j] == open {
                    depth += 1;
                } else if bytes[j] == close {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                j += 1;
            }
            for b in out.iter_mut().take((j + 1).min(bytes.len())).skip(i) {
                *b = b'x';
            }
            i = j + 1;
            continue;
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// Split a resolved reference into repository and tag.
fn split_ref(t: &Template) -> (Template, RefTag) {
    // The last `/` and the last `:` after it, in literal parts.
    let mut last_slash: Option<(usize, usize)> = None;
    for (i, p) in t.iter().enumerate() {
        if let Part::Lit(l) = p {
            if let Some(b) = l.rfind('/') {
                last_slash = Some((i, b));
            }
        }
    }
    if t.iter()
        .any(|p| matches!(p, Part::Lit(l) if l.contains("@sha256:")))
    {
        return (t.clone(), RefTag::Digest);
    }
    let mut colon: Option<(usize, usize)> = None;
    for (i, p) in t.iter().enumerate() {
        if let Part::Lit(l) = p {
            let from = match last_slash {
                Some((si, sb)) if si == i => sb + 1,
                Some((si, _)) if i < si => continue,
                _ => 0,
            };
            if let Some(c) = l[from..].rfind(':') {
                colon = Some((i, from + c));
            }
        }
    }
    match colon {
        Some((i, c)) => {
            let mut repo: Template = t[..i].to_vec();
            let mut tag: Template = Vec::new();
            if let Part::Lit(l) = &t[i] {
                if c > 0 {
                    repo.push(Part::Lit(l[..c].to_string()));
                }
                if c + 1 < l.len() {
                    tag.push(Part::Lit(l[c + 1..].to_string()));
                }
            }
            tag.extend(t[i + 1..].iter().cloned());
            if tag.is_empty() {
                return (repo, RefTag::Missing);
            }
            (
                repo,
                RefTag::Tag(Value {
                    alternatives: vec![tag],
                }),
            )
        }
        None => {
            // A value the file does not define may hold the tag (`$IMAGE`).
            let after = match last_slash {
                Some((i, _)) => &t[i + 1..],
                None => &t[..],
            };
            if after
                .iter()
                .any(|p| matches!(p, Part::Unknown(_) | Part::Input(_)))
            {
                let open = Value {
                    alternatives: vec![vec![Part::Unknown(super::value::describe_template(t))]],
                };
                (t.clone(), RefTag::Unknown(open))
            } else {
                (t.clone(), RefTag::Missing)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_references() {
        let t = vec![
            Part::Unknown("$R".into()),
            Part::Lit("/api:production-".into()),
            Part::Known(super::super::value::Origin::ShortCommit),
        ];
        let (repo, tag) = split_ref(&t);
        assert_eq!(super::super::value::describe_template(&repo), "$R/api");
        match tag {
            RefTag::Tag(v) => assert_eq!(v.describe(), "production-<short commit>"),
            _ => panic!("no tag"),
        }
        let (_, tag) = split_ref(&vec![Part::Lit("localhost:5000/api".into())]);
        assert!(matches!(tag, RefTag::Missing));
        let (_, tag) = split_ref(&vec![Part::Unknown("$IMAGE".into())]);
        assert!(matches!(tag, RefTag::Unknown(_)));
        assert_eq!(
            written_repository("\"$ECR/${{ env.REPO }}:${GITHUB_SHA::7}\"").as_deref(),
            Some("$ECR/${{ env.REPO }}")
        );
    }

    #[test]
    fn list_items_split_outside_expressions() {
        assert_eq!(
            list_items("${{ github.event.number || 'manual' }}\nlatest\n"),
            vec!["${{ github.event.number || 'manual' }}", "latest"]
        );
        assert_eq!(list_items("a:1, b:2"), vec!["a:1", "b:2"]);
    }
}
