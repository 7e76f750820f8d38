//! `on:`: the events, their filters and activity types, `schedule`, and the inputs of
//! `workflow_dispatch` and `workflow_call`.

use super::sections::or_list;
use super::{did_you_mean, shape, suggest};
use crate::context::Diagnostic;
use ship_workflow::spec::{
    self, Event, CALL_INPUT_KEYS, CALL_INPUT_TYPES, CALL_OUTPUT_KEYS, CALL_SECRET_KEYS,
    DISPATCH_INPUT_KEYS, DISPATCH_INPUT_TYPES, DISPATCH_MAX_INPUTS, EXCLUSIVE_FILTERS,
    SCHEDULE_KEYS,
};
use ship_workflow::{Entry, Node, Value};

pub(super) fn check(on: &Node, out: &mut Vec<Diagnostic>) {
    match &on.value {
        _ if on.is_null() || on.as_str() == Some("") => out.push(Diagnostic::new(
            on.span,
            "`on:` names no event: GitHub never runs this workflow",
            "name the events that start it, e.g. `on: [push, pull_request]`",
        )),
        Value::Scalar { .. } => {
            event_named(on, out);
        }
        Value::Seq(items) => {
            for item in items {
                if item.as_str().is_some() {
                    event_named(item, out);
                } else {
                    out.push(Diagnostic::new(
                        item.span,
                        format!("an item of `on:` must be an event name, not {}", shape::shown(item)),
                        "to configure an event, write `on:` as a mapping: `on: { push: { branches: [main] } }`",
                    ));
                }
            }
        }
        Value::Map(entries) => {
            for e in entries {
                if let Some(event) = event_named(&e.key, out) {
                    config(event, e, out);
                }
            }
        }
    }
}

/// The event `node` names, or a finding that there is none by that name.
fn event_named(node: &Node, out: &mut Vec<Diagnostic>) -> Option<&'static Event> {
    let name = node.as_str()?;
    if let Some(event) = spec::event_named(name) {
        return Some(event);
    }
    let names: Vec<&str> = spec::event_names().collect();
    let help = match suggest(name, &names) {
        Some(s) => format!("did you mean `{s}`? GitHub refuses a workflow with an unknown event"),
        None => format!("events: {}", names.join(", ")),
    };
    out.push(Diagnostic::new(
        node.span,
        format!("unknown event `{name}`"),
        help,
    ));
    None
}

/// What an event is configured with: `on: { <event>: <value> }`.
fn config(event: &Event, entry: &Entry, out: &mut Vec<Diagnostic>) {
    let value = &entry.value;
    if value.is_null() {
        return;
    }
    if event.name == "schedule" {
        return schedule(value, out);
    }
    let entries = match &value.value {
        Value::Map(entries) => entries,
        _ => {
            let how = if event.keys.is_empty() {
                format!(
                    "`{}` takes no configuration: write `{}:` alone",
                    event.name, event.name
                )
            } else {
                format!(
                    "write its settings below it, one per line: {}",
                    event.keys.join(", ")
                )
            };
            out.push(Diagnostic::new(
                value.span,
                format!(
                    "event `{}` must be configured with a mapping, not {}",
                    event.name,
                    shape::shown(value)
                ),
                how,
            ));
            return;
        }
    };
    for e in entries {
        let Some(key) = e.key.as_str() else { continue };
        if !event.keys.contains(&key) {
            if !spec::EVENT_KEYS.contains(&key) && key != "<<" && !key.contains("${{") {
                out.push(unknown_filter(event, key, e));
            }
            continue;
        }
        match key {
            "types" => types(event, &e.value, out),
            "inputs" if event.name == "workflow_dispatch" => dispatch_inputs(entry, e, out),
            "inputs" => call_inputs(&e.value, out),
            "outputs" => call_outputs(&e.value, out),
            "secrets" => call_secrets(&e.value, out),
            _ => shape::names(&e.value, key, out),
        }
    }
    for (a, b) in EXCLUSIVE_FILTERS {
        // Filters the event does not take are ignored by GitHub, both of a pair too.
        if !event.keys.contains(a) {
            continue;
        }
        let mut pair = entries
            .iter()
            .filter(|e| e.key.as_str() == Some(a) || e.key.as_str() == Some(b));
        if let (Some(_), Some(second)) = (pair.next(), pair.next()) {
            if second.key.as_str() == pair_first_key(entries, a, b) {
                continue;
            }
            out.push(Diagnostic::new(
                second.key.span,
                format!("`{}` has both `{a}` and `{b}`", event.name),
                format!("use one of them: `{a}` with a `!pattern` for what to leave out"),
            ));
        }
    }
}

/// The key of the pair written first (a repeated key is not a pair).
fn pair_first_key<'e>(entries: &'e [Entry], a: &str, b: &str) -> Option<&'e str> {
    entries
        .iter()
        .filter_map(|e| e.key.as_str())
        .find(|k| *k == a || *k == b)
}

/// A key that no event takes (a typo, usually). A filter that only other events take
/// (`branches` on `release`) is not reported: GitHub runs such a workflow and ignores the
/// filter.
fn unknown_filter(event: &Event, key: &str, e: &Entry) -> Diagnostic {
    let keys: &[&str] = if event.keys.is_empty() {
        spec::EVENT_KEYS
    } else {
        event.keys
    };
    let takes = if event.keys.is_empty() {
        format!("`{}` takes no filters or settings", event.name)
    } else {
        format!("`{}` takes: {}", event.name, event.keys.join(", "))
    };
    Diagnostic::new(
        e.key.span,
        format!("unknown key `{key}` in event `{}`", event.name),
        format!("{}{takes}", did_you_mean(key, keys)),
    )
}

/// `types:` of an event: its activity types (any name for `repository_dispatch`).
fn types(event: &Event, value: &Node, out: &mut Vec<Diagnostic>) {
    shape::names(value, "types", out);
    if event.types.is_empty() {
        return;
    }
    let items: &[Node] = match &value.value {
        Value::Seq(items) => items,
        Value::Scalar { .. } => std::slice::from_ref(value),
        Value::Map(_) => return,
    };
    for item in items {
        let Some(t) = item.as_str().filter(|t| !t.is_empty()) else {
            continue;
        };
        if !event.types.contains(&t) && !shape::is_expr(item) {
            out.push(Diagnostic::new(
                item.span,
                format!("`{t}` is not an activity type of `{}`", event.name),
                format!(
                    "{}`{}` types: {}",
                    did_you_mean(t, event.types),
                    event.name,
                    event.types.join(", ")
                ),
            ));
        }
    }
}

/// `schedule:` is a list of `- cron: '…'` entries, each with an optional `timezone:`.
fn schedule(value: &Node, out: &mut Vec<Diagnostic>) {
    let Some(items) = value.as_seq() else {
        out.push(Diagnostic::new(
            value.span,
            format!(
                "`schedule:` must be a list of `cron:` entries, not {}",
                shape::shown(value)
            ),
            "write `schedule:` with one `- cron: '30 5 * * 1'` item per schedule",
        ));
        return;
    };
    for item in items {
        if item.as_map().is_none() {
            out.push(Diagnostic::new(
                item.span,
                format!(
                    "a `schedule:` entry must be a mapping with `cron:`, not {}",
                    shape::shown(item)
                ),
                "write each entry as `- cron: '30 5 * * 1'`",
            ));
            continue;
        }
        shape::unknown_keys(item, SCHEDULE_KEYS, &|| "a `schedule:` entry".into(), out);
        match item.get("cron") {
            Some(cron) => match cron.as_str().map(str::trim) {
                Some(text) if !text.is_empty() && !valid_cron(text) => {
                    out.push(Diagnostic::new(
                        cron.span,
                        format!("`{text}` is not a cron schedule GitHub understands"),
                        "write five fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or jan-dec), day of week (0-6 or sun-sat); each `*`, a number, a range `1-5`, a list `1,3` or a step `*/15`",
                    ))
                }
                _ => shape::name(cron, "cron", out),
            },
            None => out.push(Diagnostic::new(
                item.span,
                "a `schedule:` entry has no `cron:`",
                "add `cron: '<minute> <hour> <day> <month> <weekday>'`, e.g. `cron: '30 5 * * 1'`",
            )),
        }
        if let Some(tz) = item.get("timezone") {
            shape::name(tz, "timezone", out);
        }
    }
}

/// A cron expression as GitHub reads it: five fields separated by spaces, each `*`, a value
/// in the field's range (or a month or weekday name), a range `a-b`, a step `x/n`, or a
/// comma-separated list of those.
fn valid_cron(cron: &str) -> bool {
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    // (min, max, names; a name's value is its index plus `first`).
    const FIELDS: [(u32, u32, &[&str], u32); 5] = [
        (0, 59, &[], 0),
        (0, 23, &[], 0),
        (1, 31, &[], 0),
        (1, 12, MONTHS, 1),
        (0, 6, DAYS, 0),
    ];
    fn value(v: &str, (min, max, names, first): (u32, u32, &[&str], u32)) -> Option<u32> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
            return Some(i as u32 + first);
        }
        v.parse::<u32>().ok().filter(|n| (min..=max).contains(n))
    }
    fn part(p: &str, field: (u32, u32, &[&str], u32)) -> bool {
        if p == "*" {
            return true;
        }
        if p.contains(',') {
            return p.split(',').all(|v| !v.is_empty() && part(v, field));
        }
        if let Some((start, step)) = p.split_once('/') {
            return !start.is_empty()
                && part(start, field)
                && value(step, field).is_some_and(|s| s > 0);
        }
        if let Some((a, b)) = p.split_once('-') {
            return matches!((value(a, field), value(b, field)), (Some(a), Some(b)) if b >= a);
        }
        value(p, field).is_some()
    }
    let parts: Vec<&str> = cron.split(' ').filter(|p| !p.is_empty()).collect();
    parts.len() == 5 && parts.iter().zip(FIELDS).all(|(p, f)| part(p, f))
}

/// `workflow_dispatch.inputs`.
fn dispatch_inputs(event: &Entry, inputs: &Entry, out: &mut Vec<Diagnostic>) {
    let Some(entries) = shape::map(
        &inputs.value,
        "inputs",
        "write each input as `<name>:` with `type:`, `description:`… below it",
        out,
    ) else {
        return;
    };
    if entries.len() > DISPATCH_MAX_INPUTS {
        out.push(Diagnostic::new(
            event.key.span,
            format!(
                "`workflow_dispatch` has {} inputs; GitHub allows at most {DISPATCH_MAX_INPUTS}",
                entries.len()
            ),
            "merge related inputs (e.g. into one JSON `string` input) or split the workflow",
        ));
    }
    for e in entries {
        let Some(name) = e.key.as_str().filter(|k| *k != "<<") else {
            continue;
        };
        let input = &e.value;
        if input.is_null() {
            continue;
        }
        let how = "write the input's `type:`, `description:`, `required:`, `default:` below it";
        if shape::map(input, name, how, out).is_none() {
            continue;
        }
        shape::unknown_keys(
            input,
            DISPATCH_INPUT_KEYS,
            &|| format!("input `{name}`"),
            out,
        );
        if let Some(required) = input.get("required") {
            shape::boolean(required, "required", out);
        }
        if let Some(d) = input.get("description") {
            shape::scalar(d, "description", out);
        }
        let ty = input.get("type");
        let ty_name = ty.and_then(Node::as_str).unwrap_or("string");
        if let Some(ty) = ty {
            if !DISPATCH_INPUT_TYPES.contains(&ty_name) {
                out.push(Diagnostic::new(
                    ty.span,
                    format!("`{ty_name}` is not a type of `workflow_dispatch` input"),
                    format!(
                        "{}types: {}",
                        did_you_mean(ty_name, DISPATCH_INPUT_TYPES),
                        DISPATCH_INPUT_TYPES.join(", ")
                    ),
                ));
                continue;
            }
        }
        let options = input.entry("options");
        let listed = options
            .and_then(|o| o.value.as_seq())
            .is_some_and(|o| !o.is_empty());
        match (ty_name, options) {
            ("choice", Some(opts)) if listed => {
                choice_options(name, opts, input.get("default"), out)
            }
            ("choice", _) => out.push(Diagnostic::new(
                e.key.span,
                format!("input `{name}` is a `choice` without `options:`"),
                "list the choices under `options:`, one `- value` per line",
            )),
            (_, Some(_)) => out.push(Diagnostic::new(
                e.key.span,
                format!("input `{name}` has `options:` but its type is `{ty_name}`"),
                "`options:` is for `type: choice`; set that type, or remove the options",
            )),
            _ => {}
        }
        if let Some(default) = input.get("default") {
            typed_default(name, ty_name, default, out);
        }
    }
}

/// The options of a `choice` input: a non-empty list of distinct values holding the default.
fn choice_options(name: &str, opts: &Entry, default: Option<&Node>, out: &mut Vec<Diagnostic>) {
    let Some(items) = opts.value.as_seq() else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            None => out.push(Diagnostic::new(
                item.span,
                format!(
                    "an option of input `{name}` must be a single value, not {}",
                    shape::shown(item)
                ),
                "write each option as text",
            )),
            Some(text) if items[..i].iter().any(|o| o.as_str() == Some(text)) => {
                out.push(Diagnostic::new(
                    item.span,
                    format!("option `{text}` of input `{name}` is listed twice"),
                    "remove one of them",
                ))
            }
            Some(_) => {}
        }
    }
    if let Some(default) = default.filter(|d| !shape::is_expr(d)) {
        let d = default.as_str().unwrap_or("");
        if !items.iter().any(|o| o.as_str() == Some(d)) {
            out.push(Diagnostic::new(
                default.span,
                format!("the default of input `{name}`, `{d}`, is not one of its options"),
                "make the default one of the `options:`",
            ));
        }
    }
}

/// A default that fits the input's type (`boolean`: `true`/`false`; `number`: a number).
fn typed_default(name: &str, ty: &str, default: &Node, out: &mut Vec<Diagnostic>) {
    if shape::is_expr(default) || default.is_null() {
        return;
    }
    let text = default.as_str().unwrap_or("");
    let fits = match ty {
        "boolean" => matches!(text, "true" | "false"),
        "number" => text.parse::<f64>().is_ok(),
        _ => default.as_str().is_some(),
    };
    if !fits {
        out.push(Diagnostic::new(
            default.span,
            format!(
                "the default of `{ty}` input `{name}` cannot be {}",
                shape::shown(default)
            ),
            match ty {
                "boolean" => "write `default: true` or `default: false`".to_string(),
                "number" => "write a number, e.g. `default: 3`".to_string(),
                _ => "write the default as text".to_string(),
            },
        ));
    }
}

/// `workflow_call.inputs`: each with a `type:`.
fn call_inputs(value: &Node, out: &mut Vec<Diagnostic>) {
    let how = "write each input as `<name>:` with `type:` (and `description:`, `required:`, `default:`) below it";
    let Some(entries) = shape::map(value, "inputs", how, out) else {
        return;
    };
    for e in entries {
        let Some(name) = e.key.as_str().filter(|k| *k != "<<") else {
            continue;
        };
        let input = &e.value;
        if shape::map(input, name, how, out).is_none() {
            continue;
        }
        shape::unknown_keys(input, CALL_INPUT_KEYS, &|| format!("input `{name}`"), out);
        if let Some(required) = input.get("required") {
            shape::boolean(required, "required", out);
        }
        match input.get("type") {
            None => out.push(Diagnostic::new(
                e.key.span,
                format!("input `{name}` of `workflow_call` has no `type:`"),
                format!("add `type:` ({})", or_list(CALL_INPUT_TYPES)),
            )),
            Some(ty) => {
                let t = ty.as_str().unwrap_or("");
                if !CALL_INPUT_TYPES.contains(&t) {
                    out.push(Diagnostic::new(
                        ty.span,
                        format!("`{t}` is not a type of `workflow_call` input"),
                        format!(
                            "{}types: {}",
                            did_you_mean(t, CALL_INPUT_TYPES),
                            CALL_INPUT_TYPES.join(", ")
                        ),
                    ));
                } else if let Some(default) = input.get("default") {
                    typed_default(name, t, default, out);
                }
            }
        }
    }
}

/// `workflow_call.outputs`: each with a `value:`.
fn call_outputs(value: &Node, out: &mut Vec<Diagnostic>) {
    let how =
        "write each output as `<name>:` with `value: ${{ jobs.<job>.outputs.<name> }}` below it";
    let Some(entries) = shape::map(value, "outputs", how, out) else {
        return;
    };
    for e in entries {
        let Some(name) = e.key.as_str().filter(|k| *k != "<<") else {
            continue;
        };
        if shape::map(&e.value, name, how, out).is_none() {
            continue;
        }
        shape::unknown_keys(
            &e.value,
            CALL_OUTPUT_KEYS,
            &|| format!("output `{name}`"),
            out,
        );
        if e.value.get("value").is_none() {
            out.push(Diagnostic::new(
                e.key.span,
                format!("output `{name}` of `workflow_call` has no `value:`"),
                "add `value: ${{ jobs.<job>.outputs.<name> }}`",
            ));
        }
    }
}

/// `workflow_call.secrets`: each empty or with `description:`/`required:`.
fn call_secrets(value: &Node, out: &mut Vec<Diagnostic>) {
    let how =
        "write each secret as `<name>:` (with `required: true` below it if it must be passed)";
    let Some(entries) = shape::map(value, "secrets", how, out) else {
        return;
    };
    for e in entries {
        let Some(name) = e.key.as_str().filter(|k| *k != "<<") else {
            continue;
        };
        if e.value.is_null() {
            continue;
        }
        if shape::map(&e.value, name, how, out).is_some() {
            shape::unknown_keys(
                &e.value,
                CALL_SECRET_KEYS,
                &|| format!("secret `{name}`"),
                out,
            );
            if let Some(required) = e.value.get("required") {
                shape::boolean(required, "required", out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::valid_cron;

    #[test]
    fn cron_expressions() {
        for ok in [
            "0 0 * * *",
            "*/15 * * * *",
            "30 5 * * 1-5",
            "0 0 1 jan,jul *",
            "0 12 * * MON-fri",
            "5,35 0-23/2 1-31 1-12 0-6",
            "  0 0 * * *  ",
        ] {
            assert!(valid_cron(ok), "{ok}");
        }
        for bad in [
            "0 */3 * *",
            "0 0 * * * *",
            "60 0 * * *",
            "0 24 * * *",
            "0 0 0 * *",
            "0 0 * 13 *",
            "0 0 * * 7",
            "5-1 * * * *",
            "*/0 * * * *",
            "1,,2 * * * *",
            "@daily",
            "$cron-weekly",
        ] {
            assert!(!valid_cron(bad), "{bad}");
        }
    }
}
