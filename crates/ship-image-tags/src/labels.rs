//! OCI image labels (`org.opencontainers.image.*`) for builds that want them.

use std::collections::BTreeMap;

/// The labels: `version`, `revision`, `created` and (when known) `source`.
pub fn oci_labels(
    version: Option<&str>,
    revision: Option<&str>,
    created: &str,
    source: Option<&str>,
) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            labels.insert(format!("org.opencontainers.image.{key}"), v.to_string());
        }
    };
    put("version", version);
    put("revision", revision);
    put("created", Some(created));
    put("source", source);
    labels
}

/// `seconds` since the Unix epoch as RFC 3339 UTC, e.g. `2024-02-29T12:00:00Z`.
pub fn rfc3339_utc(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rem = seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_709_208_000), "2024-02-29T12:00:00Z");
        assert_eq!(rfc3339_utc(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn labels() {
        let l = oci_labels(Some("1.2.3"), Some("abc"), "2024-01-01T00:00:00Z", None);
        assert_eq!(l.len(), 3);
        assert_eq!(l["org.opencontainers.image.version"], "1.2.3");
        assert_eq!(l["org.opencontainers.image.revision"], "abc");
        assert!(!l.contains_key("org.opencontainers.image.source"));
    }
}
