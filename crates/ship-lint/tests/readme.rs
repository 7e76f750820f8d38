//! The README's rule tables are generated from the registry: every rule's id, default
//! severity and summary, the settings rules (those that read repository settings) in a table
//! of their own. A rule added, removed or reworded in `src/rules/` changes the README through
//! this test, never by hand:
//!
//! ```sh
//! SHIP_UPDATE_README=1 cargo test -p ship-lint --test readme
//! ```

use ship_lint::{registry, Rule};
use std::path::PathBuf;

const BEGIN: &str = "<!-- rules:begin";
const END: &str = "<!-- rules:end -->";

fn readme_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md")
}

fn table(rules: &[&dyn Rule]) -> String {
    let mut out = String::from("| rule | default | reports |\n| --- | --- | --- |\n");
    for rule in rules {
        let info = rule.info();
        // A `|` would end the cell.
        let summary = info.summary.replace('|', "\\|");
        out.push_str(&format!(
            "| `{}` | {} | {summary} |\n",
            info.id, info.default_severity
        ));
    }
    out
}

/// What goes between the markers.
fn generated() -> String {
    let (settings, files): (Vec<&dyn Rule>, Vec<&dyn Rule>) =
        registry().iter().copied().partition(|r| r.reads_settings());
    format!(
        "\nWorkflow and repository rules:\n\n{}\nRepository settings rules (with `--github OWNER/REPO` or `--settings FILE`):\n\n{}",
        table(&files),
        table(&settings)
    )
}

/// The README with the generated tables between the markers (the begin marker's comment,
/// which says how to regenerate, is kept as written).
fn with_generated_tables(readme: &str) -> String {
    let begin = readme.find(BEGIN).unwrap_or_else(|| {
        panic!("README.md has no `{BEGIN} … -->` marker before the rule tables")
    });
    let body = begin
        + readme[begin..]
            .find("-->")
            .expect("the begin marker's comment is closed with `-->`")
        + "-->".len();
    let end = readme[body..]
        .find(END)
        .map(|i| body + i)
        .unwrap_or_else(|| panic!("README.md has no `{END}` marker after `{BEGIN}`"));
    format!("{}{}{}", &readme[..body], generated(), &readme[end..])
}

#[test]
fn readme_rule_tables_match_the_registry() {
    let path = readme_path();
    let readme = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let expected = with_generated_tables(&readme);
    if expected == readme {
        return;
    }
    if std::env::var_os("SHIP_UPDATE_README").is_some_and(|v| v == "1") {
        std::fs::write(&path, &expected)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let diff = similar::TextDiff::from_lines(&readme, &expected)
        .unified_diff()
        .context_radius(2)
        .header("README.md", "README.md (from the registry)")
        .to_string();
    panic!(
        "README.md's rule tables differ from the rule registry (crates/ship-lint/src/rules/); \
         regenerate them with `SHIP_UPDATE_README=1 cargo test -p ship-lint --test readme`:\n{diff}"
    );
}

/// Every rule appears exactly once in the README's tables.
#[test]
fn generated_tables_list_every_rule_once() {
    let text = generated();
    for rule in registry() {
        let row = format!("| `{}` |", rule.info().id);
        assert_eq!(text.matches(&row).count(), 1, "{row}\n{text}");
    }
}
