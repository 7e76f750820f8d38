//! Durations as every ship binary reads them: flags, action inputs, environment variables and
//! spec files.

use std::time::Duration;

/// Parses a duration: `90s`, `15m`, `1h30m`, `500ms`, `2 min`, `0.5s`, or a bare number of
/// seconds (`30`, `0`).
///
/// One parser for every binary, so `30` or `1.5m` means the same to `ship-ecs-rollout
/// --timeout`, `ship-run-migrations --lock-timeout`, a smoke spec's `max_latency` and
/// `SHIP_GITHUB_TIMEOUT`. The message names the text and shows the accepted forms.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if let Ok(seconds) = t.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    if let Some(d) = decimal(t) {
        return Ok(d);
    }
    humantime::parse_duration(t)
        .map_err(|e| format!("`{t}` is not a duration ({e}); write e.g. `500ms`, `10s` or `2m`"))
}

/// `0.5s`, `1.5 m`: one decimal number and a unit, which humantime does not read.
fn decimal(t: &str) -> Option<Duration> {
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = (&t[..split], t[split..].trim());
    if !number.contains('.') {
        return None;
    }
    let n: f64 = number.parse().ok()?;
    let seconds_per_unit = match unit.to_ascii_lowercase().as_str() {
        "ms" | "msec" | "millis" | "milliseconds" => 0.001,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hour" | "hours" => 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(n * seconds_per_unit).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_a_binary_accepted_before() {
        let secs = Duration::from_secs;
        assert_eq!(parse_duration("30"), Ok(secs(30)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration(" 90s "), Ok(secs(90)));
        assert_eq!(parse_duration("15m"), Ok(secs(900)));
        assert_eq!(parse_duration("1h30m"), Ok(secs(5400)));
        assert_eq!(parse_duration("2 min"), Ok(secs(120)));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0.5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5m"), Ok(secs(90)));
        assert_eq!(parse_duration("3 days"), Ok(secs(3 * 86_400)));
    }

    #[test]
    fn a_bad_duration_names_the_text_and_the_forms() {
        assert_eq!(
            parse_duration("fast").unwrap_err(),
            "`fast` is not a duration (expected number at 0); write e.g. `500ms`, `10s` or `2m`"
        );
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
    }
}
