//! `--task-definition FILE`: a task definition in JSON, in the RegisterTaskDefinition shape or as
//! DescribeTaskDefinition output (`{"taskDefinition": {...}, "tags": [...]}`).
//!
//! The file is parsed with the SDK's own schema codec (the one the ECS client uses on the wire),
//! so every field ECS knows is read exactly as ECS would read it, without a hand-kept mirror of
//! the ~200 task definition fields. That codec skips unknown fields silently; a typo such as
//! `"imag"` would then register a task definition without an image, so the parsed value is
//! serialised back and every field of the file that did not survive is reported.

use std::path::Path;

use aws_sdk_ecs::types::{Tag, TaskDefinition};
use aws_smithy_json::codec::{JsonCodec, JsonCodecSettings};
use aws_smithy_schema::codec::Codec;
use aws_smithy_schema::serde::ShapeSerializer;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::render::strip_read_only;
use crate::{Error, Result};

/// A task definition read from a file: read-only fields dropped, plus the file's tags.
#[derive(Debug, Clone)]
pub struct FileTaskDefinition {
    pub task_definition: TaskDefinition,
    pub tags: Vec<Tag>,
}

/// Read and check a task definition file.
pub fn load(path: &Path) -> Result<FileTaskDefinition> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Input(format!(
            "cannot read `task-definition` file {}: {e}. Pass the path of a JSON task definition \
             (relative to the working directory)",
            path.display()
        ))
    })?;
    parse(&path.display().to_string(), &text)
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// The line of the first `"key":` in the text, to point at a field found in the parsed value.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let needle = format!("\"{key}\"");
    text.match_indices(&needle)
        .find(|(i, _)| text[i + needle.len()..].trim_start().starts_with(':'))
        .map(|(i, _)| line_col(text, i).0)
}

/// The name of the last `"key":` before a byte offset: the field whose value was refused.
fn key_before(text: &str, offset: usize) -> Option<&str> {
    let before = &text[..offset.min(text.len())];
    let colon = before.rfind(':')?;
    let key = before[..colon].trim_end().strip_suffix('"')?;
    let start = key.rfind('"')?;
    Some(&key[start + 1..])
}

fn bad(file: &str, what: String) -> Error {
    Error::Input(format!(
        "`task-definition` file {file}: {what}. The file must be a task definition in the \
         RegisterTaskDefinition JSON shape (as `aws ecs describe-task-definition` prints it, with \
         or without the `taskDefinition` wrapper)"
    ))
}

pub fn parse(file: &str, text: &str) -> Result<FileTaskDefinition> {
    let whole: Value = serde_json::from_str(text).map_err(|e| {
        bad(
            file,
            format!(
                "invalid JSON at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    let Value::Object(top) = &whole else {
        return Err(bad(file, "the top level is not a JSON object".into()));
    };
    // DescribeTaskDefinition output: the definition is under `taskDefinition`, tags beside it.
    let (inner_text, base, inner, prefix) = if top.contains_key("taskDefinition") {
        #[derive(serde::Deserialize)]
        struct Wrapped<'a> {
            #[serde(borrow, rename = "taskDefinition")]
            task_definition: &'a RawValue,
        }
        let w: Wrapped =
            serde_json::from_str(text).map_err(|e| bad(file, format!("`taskDefinition`: {e}")))?;
        let raw = w.task_definition.get();
        let base = raw.as_ptr() as usize - text.as_ptr() as usize;
        (raw, base, &top["taskDefinition"], "taskDefinition.")
    } else {
        (text, 0, &whole, "")
    };
    let Value::Object(fields) = inner else {
        return Err(bad(file, format!("`{prefix}` is not a JSON object")));
    };
    let tags_value = fields.get("tags").or_else(|| top.get("tags"));
    let tags = parse_tags(file, tags_value)?;

    let codec = JsonCodec::new(
        JsonCodecSettings::builder()
            .use_json_name(false)
            .default_timestamp_format(aws_smithy_types::date_time::Format::EpochSeconds)
            .build(),
    );
    let mut de = codec.create_deserializer(inner_text.as_bytes());
    let mut td = match TaskDefinition::deserialize(&mut de) {
        Ok(td) => td,
        Err(e) => {
            let at = base + de.position();
            let (line, col) = line_col(text, at);
            let field = key_before(text, at)
                .map(|k| format!(" of `{k}`"))
                .unwrap_or_default();
            return Err(bad(
                file,
                format!("wrong value{field} near line {line} column {col}: {e}"),
            ));
        }
    };

    // Fields of the file that the codec did not keep are unknown to ECS.
    let mut ser = codec.create_serializer();
    let kept: Value = match ser.write_struct(TaskDefinition::SCHEMA, &td) {
        Ok(()) => serde_json::from_slice(&ser.finish()).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    let mut unknown = Vec::new();
    unknown_fields(inner, &kept, prefix.trim_end_matches('.'), &mut unknown);
    unknown.retain(|p| p != "tags" && p != "taskDefinition.tags");
    if let Some(path) = unknown.first() {
        let key = path.rsplit(['.', ']']).next().unwrap_or(path);
        let at = line_of_key(text, key)
            .map(|l| format!(" (line {l})"))
            .unwrap_or_default();
        return Err(bad(
            file,
            format!(
                "unknown field `{path}`{at}{}: ECS would ignore it. Fix its name (field names are \
                 camelCase, e.g. containerDefinitions[0].image) or remove it",
                if unknown.len() > 1 {
                    format!(" and {} more", unknown.len() - 1)
                } else {
                    String::new()
                }
            ),
        ));
    }

    if td.family.as_deref().unwrap_or("").is_empty() {
        return Err(bad(file, "`family` is missing".into()));
    }
    if td
        .container_definitions
        .as_deref()
        .unwrap_or_default()
        .is_empty()
    {
        return Err(bad(
            file,
            "`containerDefinitions` is missing or empty".into(),
        ));
    }
    for (i, c) in td
        .container_definitions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        for (field, v) in [("name", &c.name), ("image", &c.image)] {
            if v.as_deref().unwrap_or("").is_empty() {
                return Err(bad(
                    file,
                    format!("`{prefix}containerDefinitions[{i}].{field}` is missing"),
                ));
            }
        }
    }
    strip_read_only(&mut td);
    Ok(FileTaskDefinition {
        task_definition: td,
        tags,
    })
}

fn parse_tags(file: &str, v: Option<&Value>) -> Result<Vec<Tag>> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let items = v
        .as_array()
        .ok_or_else(|| bad(file, "`tags` is not a list of {\"key\", \"value\"}".into()))?;
    items
        .iter()
        .enumerate()
        .map(|(i, t)| match (t["key"].as_str(), t["value"].as_str()) {
            (Some(k), Some(v)) => Ok(Tag::builder().key(k).value(v).build()),
            _ => Err(bad(
                file,
                format!("`tags[{i}]` needs string `key` and `value`"),
            )),
        })
        .collect()
}

/// Paths of the keys in `input` that are not in `kept` (null values are not fields).
fn unknown_fields(input: &Value, kept: &Value, path: &str, out: &mut Vec<String>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (input, kept) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => unknown_fields(v, w, &join(k), out),
                    None if !v.is_null() => out.push(join(k)),
                    None => {}
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                unknown_fields(v, w, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = r#"{
  "family": "api",
  "cpu": "256",
  "memory": "512",
  "networkMode": "awsvpc",
  "containerDefinitions": [
    {"name": "app", "image": "r/api:v1", "essential": true,
     "portMappings": [{"containerPort": 8080}],
     "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/api"}},
     "dockerLabels": {"team": "core"}}
  ],
  "tags": [{"key": "team", "value": "core"}]
}"#;

    #[test]
    fn plain_register_shape() {
        let f = parse("td.json", PLAIN).unwrap();
        let td = &f.task_definition;
        assert_eq!(td.family.as_deref(), Some("api"));
        assert_eq!(td.cpu.as_deref(), Some("256"));
        let c = &td.container_definitions.as_ref().unwrap()[0];
        assert_eq!(c.image.as_deref(), Some("r/api:v1"));
        assert_eq!(
            c.port_mappings.as_ref().unwrap()[0].container_port,
            Some(8080)
        );
        assert_eq!(f.tags.len(), 1);
    }

    #[test]
    fn describe_output_drops_read_only_fields() {
        let text = r#"{"taskDefinition": {"family": "api", "revision": 7, "status": "ACTIVE",
          "taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/api:7",
          "registeredAt": 1700000000.5, "compatibilities": ["FARGATE"],
          "requiresAttributes": [{"name": "x"}],
          "containerDefinitions": [{"name": "app", "image": "r/api:v1"}]},
          "tags": [{"key": "a", "value": "b"}]}"#;
        let f = parse("td.json", text).unwrap();
        assert_eq!(f.task_definition.revision, 0);
        assert_eq!(f.task_definition.task_definition_arn, None);
        assert_eq!(f.task_definition.registered_at, None);
        assert_eq!(f.tags[0].key.as_deref(), Some("a"));
    }

    #[test]
    fn bad_json_names_line() {
        let e = parse("td.json", "{\n  \"family\": \"api\",\n  oops\n}").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("td.json: invalid JSON at line 3"),
            "{e}"
        );
    }

    #[test]
    fn unknown_nested_field_is_named_with_line() {
        let text = PLAIN.replace("\"image\"", "\"imag\"");
        let e = parse("td.json", &text).unwrap_err().to_string();
        assert!(e.contains("`containerDefinitions[0].imag` (line 7)"), "{e}");
    }

    #[test]
    fn wrong_type_names_line() {
        let text = PLAIN.replace("\"containerPort\": 8080", "\"containerPort\": \"http\"");
        let e = parse("td.json", &text).unwrap_err().to_string();
        assert!(e.contains("of `containerPort` near line 8"), "{e}");
    }

    #[test]
    fn missing_family_or_image() {
        let e = parse(
            "td.json",
            r#"{"containerDefinitions": [{"name": "a", "image": "i"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`family`"), "{e}");
        let e = parse(
            "td.json",
            r#"{"family": "x", "containerDefinitions": [{"name": "a"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("containerDefinitions[0].image"), "{e}");
    }
}
