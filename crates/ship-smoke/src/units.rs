//! How durations and rates are written for people (`1.2s`, `340ms`, `5.0%`) and for machines
//! (milliseconds in the JSON report).

use serde::Serializer;
use std::time::Duration;

/// `12ms`, `1.25s`, `5m`, `2m30s`: short, and exact enough for latencies and waits.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        let s = format!("{ms:.1}");
        format!("{}ms", s.trim_end_matches(".0"))
    } else if ms < 1000.0 {
        format!("{ms:.0}ms")
    } else if ms < 60_000.0 {
        let s = format!("{:.2}", ms / 1000.0);
        format!("{}s", s.trim_end_matches('0').trim_end_matches('.'))
    } else {
        let secs = d.as_secs();
        match secs % 60 {
            0 => format!("{}m", secs / 60),
            rest => format!("{}m{rest}s", secs / 60),
        }
    }
}

/// `0.3%`, `5%`, `12.5%`.
pub fn format_percent(fraction: f64) -> String {
    let s = format!("{:.1}", fraction * 100.0);
    format!("{}%", s.trim_end_matches(".0"))
}

/// An optional duration as milliseconds (fractional), or null.
pub fn serialize_millis<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(millis(*d)),
        None => s.serialize_none(),
    }
}

/// A duration as milliseconds (fractional).
pub fn serialize_millis_plain<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(millis(*d))
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        let ms = Duration::from_millis;
        assert_eq!(format_duration(Duration::from_micros(1500)), "1.5ms");
        assert_eq!(format_duration(ms(2)), "2ms");
        assert_eq!(format_duration(ms(340)), "340ms");
        assert_eq!(format_duration(ms(1250)), "1.25s");
        assert_eq!(format_duration(ms(2000)), "2s");
        assert_eq!(format_duration(ms(300_000)), "5m");
        assert_eq!(format_duration(ms(150_000)), "2m30s");
        assert_eq!(format_percent(0.05), "5%");
        assert_eq!(format_percent(0.1234), "12.3%");
    }
}
