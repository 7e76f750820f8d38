//! Expected HTTP statuses: `200`, `2xx`, `200,204`, or a mix (`2xx,304`).

use std::fmt;

/// A set of acceptable status codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet {
    items: Vec<StatusItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusItem {
    Code(u16),
    /// `2xx`: every code whose first digit is this.
    Class(u16),
}

impl StatusSet {
    /// Any 2xx, the default everywhere.
    pub fn success() -> StatusSet {
        StatusSet {
            items: vec![StatusItem::Class(2)],
        }
    }

    /// Parses a comma- or space-separated list of codes (`200`) and classes (`2xx`).
    pub fn parse(text: &str) -> Result<StatusSet, String> {
        let mut items = Vec::new();
        for token in text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
        {
            let lower = token.to_ascii_lowercase();
            let item = if let Some(class) = lower.strip_suffix("xx") {
                match class.parse::<u16>() {
                    Ok(c @ 1..=5) if class.len() == 1 => StatusItem::Class(c),
                    _ => return Err(bad(token)),
                }
            } else {
                match token.parse::<u16>() {
                    Ok(code @ 100..=599) => StatusItem::Code(code),
                    _ => return Err(bad(token)),
                }
            };
            items.push(item);
        }
        if items.is_empty() {
            return Err("no status given; write e.g. `200`, `2xx` or `200,204`".into());
        }
        Ok(StatusSet { items })
    }

    pub fn contains(&self, status: u16) -> bool {
        self.items.iter().any(|i| match *i {
            StatusItem::Code(c) => c == status,
            StatusItem::Class(c) => status / 100 == c,
        })
    }
}

fn bad(token: &str) -> String {
    format!("`{token}` is not an HTTP status; write a code from 100 to 599 (`200`), a class (`2xx`), or a list (`200,204`)")
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match item {
                StatusItem::Code(c) => write!(f, "{c}")?,
                StatusItem::Class(c) => write!(f, "{c}xx")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_classes_and_lists() {
        let s = StatusSet::parse("200, 204").unwrap();
        assert!(s.contains(200) && s.contains(204) && !s.contains(201));
        assert_eq!(s.to_string(), "200,204");
        let s = StatusSet::parse("2XX,304").unwrap();
        assert!(s.contains(299) && s.contains(304) && !s.contains(301));
        assert!(StatusSet::success().contains(201));
        assert!(StatusSet::parse("20")
            .unwrap_err()
            .contains("not an HTTP status"));
        assert!(StatusSet::parse("6xx").is_err());
        assert!(StatusSet::parse(" ").is_err());
    }
}
