//! Naming a value inside a JSON response: a JSON Pointer (`/data/items/0/id`) or the dotted
//! path people write in YAML (`data.items[0].id`, `data.items.0.id`).

use serde_json::Value;
use std::fmt;

/// A parsed path to a value in a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    /// As written, for messages.
    text: String,
    segments: Vec<String>,
}

impl JsonPath {
    /// Parses `text`. A leading `/` means JSON Pointer (RFC 6901, with `~0`/`~1` escapes);
    /// anything else is a dotted path where `[n]` and `.n` both index arrays. An empty path
    /// or `/` names the whole document.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let trimmed = text.trim();
        let segments = if let Some(pointer) = trimmed.strip_prefix('/') {
            if pointer.is_empty() {
                Vec::new()
            } else {
                pointer
                    .split('/')
                    .map(|s| s.replace("~1", "/").replace("~0", "~"))
                    .collect()
            }
        } else if trimmed.is_empty() || trimmed == "." || trimmed == "$" {
            Vec::new()
        } else {
            let body = trimmed
                .strip_prefix("$.")
                .or_else(|| trimmed.strip_prefix('$'))
                .unwrap_or(trimmed);
            let mut segments = Vec::new();
            for part in body.split('.') {
                // `items[0][1]` is `items`, `0`, `1`.
                let (name, mut rest) = match part.find('[') {
                    Some(i) => (&part[..i], &part[i..]),
                    None => (part, ""),
                };
                if !name.is_empty() {
                    segments.push(name.to_string());
                } else if rest.is_empty() {
                    return Err(format!(
                        "`{text}` has an empty segment; write `a.b.c`, `a.items[0]` or a JSON Pointer such as `/a/b`"
                    ));
                }
                while !rest.is_empty() {
                    let close = rest
                        .find(']')
                        .filter(|_| rest.starts_with('['))
                        .ok_or_else(|| {
                            format!("`{text}` has an unclosed `[`; write indices as `items[0]`")
                        })?;
                    let index = &rest[1..close];
                    if index.parse::<usize>().is_err() {
                        return Err(format!(
                            "`{text}`: `[{index}]` is not an array index; use a number such as `[0]`"
                        ));
                    }
                    segments.push(index.to_string());
                    rest = &rest[close + 1..];
                }
            }
            segments
        };
        Ok(JsonPath {
            text: trimmed.to_string(),
            segments,
        })
    }

    /// The value this path names in `doc`, if there is one.
    pub fn lookup<'a>(&self, doc: &'a Value) -> Option<&'a Value> {
        let mut here = doc;
        for seg in &self.segments {
            here = match here {
                Value::Object(map) => map.get(seg)?,
                Value::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(here)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_and_dotted_forms_agree() {
        let doc = json!({"data": {"items": [{"id": 7}, {"id": 8}], "a/b": 1, "v": "x"}});
        for p in [
            "/data/items/1/id",
            "data.items[1].id",
            "data.items.1.id",
            "$.data.items[1].id",
        ] {
            assert_eq!(
                JsonPath::parse(p).unwrap().lookup(&doc),
                Some(&json!(8)),
                "{p}"
            );
        }
        assert_eq!(
            JsonPath::parse("/data/a~1b").unwrap().lookup(&doc),
            Some(&json!(1))
        );
        assert_eq!(JsonPath::parse("").unwrap().lookup(&doc), Some(&doc));
        assert_eq!(JsonPath::parse("data.missing").unwrap().lookup(&doc), None);
        assert_eq!(JsonPath::parse("data.v.x").unwrap().lookup(&doc), None);
    }

    #[test]
    fn bad_paths_say_how_to_write_them() {
        assert!(JsonPath::parse("a..b")
            .unwrap_err()
            .contains("empty segment"));
        assert!(JsonPath::parse("a[x]")
            .unwrap_err()
            .contains("not an array index"));
        assert!(JsonPath::parse("a[0").unwrap_err().contains("unclosed"));
    }
}
