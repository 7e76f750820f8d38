//! Render a new task definition revision from the service's current one.

use aws_sdk_ecs::types::{Tag, TaskDefinition};

use crate::image::ImageRef;
use crate::{Error, Result};

/// One container whose image changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerChange {
    pub container: String,
    pub from: String,
    pub to: String,
}

/// A task definition ready to register: read-only fields dropped, images replaced.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub task_definition: TaskDefinition,
    pub changes: Vec<ContainerChange>,
}

/// Drop the fields ECS sets itself and refuses on registration.
pub fn strip_read_only(td: &mut TaskDefinition) {
    td.task_definition_arn = None;
    td.revision = 0;
    td.status = None;
    td.requires_attributes = None;
    td.compatibilities = None;
    td.registered_at = None;
    td.registered_by = None;
    td.deregistered_at = None;
    td.delete_requested_at = None;
}

/// Replace the image of the selected containers: those named in `containers`, or, when it is
/// empty, those whose image repository is the new image's repository.
pub fn render(current: &TaskDefinition, image: &str, containers: &[String]) -> Result<Rendered> {
    let new = ImageRef::parse(image)?;
    let mut td = current.clone();
    strip_read_only(&mut td);
    let family = current.family.clone().unwrap_or_default();
    let defs = td.container_definitions.get_or_insert_with(Vec::new);
    let names: Vec<String> = defs.iter().filter_map(|c| c.name.clone()).collect();
    for wanted in containers {
        if !names.iter().any(|n| n == wanted) {
            return Err(Error::Input(format!(
                "`container` {wanted:?} is not in task definition family {family:?} (containers: {}). \
                 Pass one of those names, or omit `container` to replace the containers whose \
                 image repository matches.",
                names.join(", ")
            )));
        }
    }
    let mut changes = Vec::new();
    for c in defs.iter_mut() {
        let name = c.name.clone().unwrap_or_default();
        let old = c.image.clone().unwrap_or_default();
        let selected = if containers.is_empty() {
            ImageRef::parse(&old)
                .map(|o| o.repository == new.repository)
                .unwrap_or(false)
        } else {
            containers.contains(&name)
        };
        if selected {
            c.image = Some(image.to_string());
            changes.push(ContainerChange {
                container: name,
                from: old,
                to: image.to_string(),
            });
        }
    }
    if changes.is_empty() {
        let images: Vec<String> = defs
            .iter()
            .map(|c| {
                format!(
                    "{}={}",
                    c.name.as_deref().unwrap_or("?"),
                    c.image.as_deref().unwrap_or("?")
                )
            })
            .collect();
        return Err(Error::Input(format!(
            "no container of task definition family {family:?} uses repository {:?} ({}). \
             Pass `container` to name the container(s) that get the image.",
            new.repository,
            images.join(", ")
        )));
    }
    Ok(Rendered {
        task_definition: td,
        changes,
    })
}

/// The tags ship writes on a revision it registers. Empty values are skipped.
pub fn ship_tags(pairs: &[(&str, Option<&str>)]) -> Vec<Tag> {
    pairs
        .iter()
        .filter_map(|(k, v)| {
            let v = v.filter(|v| !v.is_empty())?;
            Some(Tag::builder().key(*k).value(v).build())
        })
        .collect()
}

/// A unified diff between the current and the rendered task definition, for `--dry-run`.
pub fn diff(current: &TaskDefinition, rendered: &Rendered, tags: &[Tag]) -> String {
    let mut cur = current.clone();
    strip_read_only(&mut cur);
    let a = format!("{:#?}\n", cur);
    let b = format!("{:#?}\n", rendered.task_definition);
    let name = format!(
        "{}:{}",
        current.family.as_deref().unwrap_or("?"),
        current.revision
    );
    let mut out = similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header(
            &name,
            &format!(
                "{} (new revision)",
                current.family.as_deref().unwrap_or("?")
            ),
        )
        .to_string();
    out.push_str("tags on the new revision:\n");
    for t in tags {
        out.push_str(&format!(
            "+ {} = {}\n",
            t.key.as_deref().unwrap_or(""),
            t.value.as_deref().unwrap_or("")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{ContainerDefinition, TaskDefinitionStatus};

    fn td() -> TaskDefinition {
        TaskDefinition::builder()
            .family("api")
            .revision(7)
            .task_definition_arn("arn:aws:ecs:us-east-1:1:task-definition/api:7")
            .status(TaskDefinitionStatus::Active)
            .cpu("256")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("app")
                    .image("1.dkr.ecr.us-east-1.amazonaws.com/api:v1.0.0")
                    .build(),
            )
            .container_definitions(
                ContainerDefinition::builder()
                    .name("envoy")
                    .image("public.ecr.aws/envoy:v1.27")
                    .build(),
            )
            .container_definitions(
                ContainerDefinition::builder()
                    .name("migrate")
                    .image("1.dkr.ecr.us-east-1.amazonaws.com/api:v1.0.0")
                    .build(),
            )
            .build()
    }

    #[test]
    fn replaces_matching_repository_and_drops_read_only() {
        let r = render(&td(), "1.dkr.ecr.us-east-1.amazonaws.com/api:v1.1.0", &[]).unwrap();
        assert_eq!(r.changes.len(), 2);
        let t = &r.task_definition;
        assert_eq!(t.task_definition_arn, None);
        assert_eq!(t.status, None);
        assert_eq!(t.revision, 0);
        assert_eq!(t.cpu.as_deref(), Some("256"));
        let imgs: Vec<_> = t
            .container_definitions
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| c.image.clone().unwrap())
            .collect();
        assert_eq!(imgs[1], "public.ecr.aws/envoy:v1.27");
        assert!(imgs[0].ends_with("v1.1.0") && imgs[2].ends_with("v1.1.0"));
    }

    #[test]
    fn explicit_container_only() {
        let r = render(&td(), "x/other:v2", &["envoy".into()]).unwrap();
        assert_eq!(r.changes.len(), 1);
        assert_eq!(r.changes[0].container, "envoy");
        let e = render(&td(), "x/other:v2", &["nope".into()]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("app, envoy, migrate"));
    }

    #[test]
    fn no_matching_repository_is_an_input_error() {
        let e = render(&td(), "elsewhere/api:v2", &[]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("`container`"));
    }

    #[test]
    fn diff_shows_image_and_tags() {
        let r = render(&td(), "1.dkr.ecr.us-east-1.amazonaws.com/api:v1.1.0", &[]).unwrap();
        let tags = ship_tags(&[("ship:version", Some("v1.1.0")), ("ship:git-sha", None)]);
        let d = diff(&td(), &r, &tags);
        assert!(
            d.lines()
                .any(|l| l.starts_with('-') && l.contains("api:v1.0.0")),
            "{d}"
        );
        assert!(d.contains("+ ship:version = v1.1.0"));
        assert!(!d.contains("ship:git-sha"));
    }
}
