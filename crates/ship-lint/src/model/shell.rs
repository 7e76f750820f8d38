//! The commands a `run:` script runs, as far as a linter can tell without running it.
//!
//! Deploy tools are recognised by the command that runs them, not by the text they appear
//! in: `echo "aws ecs update-service …"`, a `# terraform apply` comment or a here-document
//! body run nothing. So a script is split into simple commands (at `;`, `&&`, `||`, `|`,
//! `&`, newlines and shell keywords), quotes group words, comments and here-documents are
//! dropped, and `$( … )` substitutions are read as commands of their own.
//!
//! This is a reader for recognising tools, not a shell parser: it never fails, and what it
//! cannot follow (functions, `eval`, variables holding commands) it reads as plain words.

/// One simple command of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The words with quotes removed; leading `VAR=value` assignments and wrappers such as
    /// `sudo`, `exec`, `time`, `npx` or `uv run` are skipped.
    pub words: Vec<String>,
    /// 0-based line of the script where the command starts.
    pub line: usize,
    /// The command's first source line, trimmed: what a message quotes.
    pub text: String,
    /// Shell keywords in front of it (`if`, `then`, `fi`…), read to follow `if` blocks.
    pub keywords: Vec<String>,
    /// The conditions of the `if` blocks it runs in (`[ "${{ inputs.command }}" == "apply" ]`),
    /// innermost last; an `else` branch's condition is not known and left out.
    pub guards: Vec<String>,
}

impl Command {
    /// The program: the first word without its directory (`./scripts/deploy.sh` →
    /// `deploy.sh`).
    pub fn program(&self) -> &str {
        let first = self.words.first().map(String::as_str).unwrap_or("");
        first.rsplit('/').next().unwrap_or(first)
    }

    /// The words after the program.
    pub fn args(&self) -> &[String] {
        self.words.get(1..).unwrap_or(&[])
    }

    /// The arguments that are not options (`-x`, `--flag`, `--key=value`), with the values
    /// of options that take one skipped when listed in `valued`.
    pub fn positionals<'a>(&'a self, valued: &[&str]) -> Vec<&'a str> {
        let mut out = Vec::new();
        let mut skip = false;
        for a in self.args() {
            if skip {
                skip = false;
                continue;
            }
            if a.starts_with('-') && a.len() > 1 {
                skip = !a.contains('=') && valued.contains(&a.as_str());
                continue;
            }
            out.push(a.as_str());
        }
        out
    }

    /// The value of `--name value` or `--name=value`.
    pub fn option(&self, name: &str) -> Option<&str> {
        let args = self.args();
        for (i, a) in args.iter().enumerate() {
            if a == name {
                return args.get(i + 1).map(String::as_str);
            }
            if let Some(v) = a.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                return Some(v);
            }
        }
        None
    }

    pub fn has_flag(&self, name: &str) -> bool {
        self.args()
            .iter()
            .any(|a| a == name || a.strip_prefix(name).is_some_and(|r| r.starts_with('=')))
    }
}

thread_local! {
    /// The scripts of the file this thread is linting, read once: the deploy model and the
    /// stage marks both ask for every step's commands.
    static READ: std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<[Command]>>> =
        std::cell::RefCell::default();
}

/// [`commands`], read once per script of the file being linted (see
/// [`forget_read_scripts`]).
pub fn commands_read_once(script: &str) -> std::rc::Rc<[Command]> {
    READ.with(|read| {
        if let Some(cmds) = read.borrow().get(script) {
            return cmds.clone();
        }
        let cmds: std::rc::Rc<[Command]> = commands(script).into();
        let mut read = read.borrow_mut();
        // Bounded, should a caller forget to call `forget_read_scripts`.
        if read.len() >= 1024 {
            read.clear();
        }
        read.insert(script.to_string(), cmds.clone());
        cmds
    })
}

/// Start a new file: the scripts read for the previous one are dropped (so that no file's
/// reading is shared with another's, and memory stays that of one file).
pub fn forget_read_scripts() {
    READ.with(|read| read.borrow_mut().clear());
}

/// The commands of a script, in order.
pub fn commands(script: &str) -> Vec<Command> {
    let mut out = Vec::new();
    let lines: Vec<&str> = script.lines().collect();
    let mut i = 0;
    // Here-document terminators still to skip, in order.
    let mut heredocs: Vec<(String, bool)> = Vec::new();
    while i < lines.len() {
        if let Some((word, strip_tabs)) = heredocs.first().cloned() {
            let line = if strip_tabs {
                lines[i].trim_start_matches('\t')
            } else {
                lines[i]
            };
            if line.trim_end() == word {
                heredocs.remove(0);
            }
            i += 1;
            continue;
        }
        // Join continued lines (`\` at the end) into one logical line.
        let start = i;
        let mut logical = String::new();
        loop {
            let l = lines[i];
            if let Some(cont) = l.strip_suffix('\\').filter(|_| !ends_in_comment(l)) {
                logical.push_str(cont);
                logical.push(' ');
                i += 1;
                if i < lines.len() {
                    continue;
                }
            } else {
                logical.push_str(l);
                i += 1;
            }
            break;
        }
        let first_line = lines[start].trim().to_string();
        split_line(&logical, start, &first_line, &mut out, &mut heredocs, 0);
    }
    attach_guards(out)
}

fn ends_in_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('#')
}

/// Words that start a new command after them.
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "in",
];

/// Wrappers that run the command after them.
const WRAPPERS: &[&str] = &[
    "sudo", "exec", "time", "nohup", "command", "builtin", "env", "xargs", "npx", "bunx", "eval",
];

fn split_line(
    line: &str,
    line_no: usize,
    first_line: &str,
    out: &mut Vec<Command>,
    heredocs: &mut Vec<(String, bool)>,
    depth: usize,
) {
    let chars: Vec<char> = line.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut i = 0;
    let flush_word = |word: &mut String, in_word: &mut bool, words: &mut Vec<String>| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    let finish = |words: &mut Vec<String>, out: &mut Vec<Command>| {
        let taken = std::mem::take(words);
        if let Some(cmd) = command_of(taken, line_no, first_line) {
            out.push(cmd);
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        word.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    // A substitution inside double quotes still runs.
                    if chars[i] == '$' && chars.get(i + 1) == Some(&'(') {
                        let (inner, end) = balanced(&chars, i + 2);
                        if depth < 4 {
                            split_line(&inner, line_no, first_line, out, heredocs, depth + 1);
                        }
                        word.push_str("$(…)");
                        i = end;
                        continue;
                    }
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '\\' => {
                if let Some(&n) = chars.get(i + 1) {
                    word.push(n);
                    in_word = true;
                }
                i += 2;
            }
            '#' if !in_word => break,
            '$' if chars.get(i + 1) == Some(&'(') => {
                let (inner, end) = balanced(&chars, i + 2);
                if depth < 4 {
                    split_line(&inner, line_no, first_line, out, heredocs, depth + 1);
                }
                word.push_str("$(…)");
                in_word = true;
                i = end;
            }
            '$' if chars.get(i + 1) == Some(&'{') && chars.get(i + 2) == Some(&'{') => {
                // A `${{ … }}` expression is one opaque word part.
                let mut j = i + 3;
                while j + 1 < chars.len() && !(chars[j] == '}' && chars[j + 1] == '}') {
                    j += 1;
                }
                let end = (j + 2).min(chars.len());
                word.extend(&chars[i..end]);
                in_word = true;
                i = end;
            }
            '`' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j] != '`' {
                    j += 1;
                }
                let inner: String = chars[i + 1..j.min(chars.len())].iter().collect();
                if depth < 4 {
                    split_line(&inner, line_no, first_line, out, heredocs, depth + 1);
                }
                word.push_str("`…`");
                in_word = true;
                i = j + 1;
            }
            // `(( … ))`: an arithmetic test, one word (the condition of an `if`).
            '(' if chars.get(i + 1) == Some(&'(') => {
                let mut j = i + 2;
                while j + 1 < chars.len() && !(chars[j] == ')' && chars[j + 1] == ')') {
                    j += 1;
                }
                let end = (j + 2).min(chars.len());
                word.extend(&chars[i..end]);
                in_word = true;
                i = end;
            }
            ';' | '&' | '|' | '(' | ')' | '\n' => {
                flush_word(&mut word, &mut in_word, &mut words);
                finish(&mut words, out);
                i += 1;
            }
            '<' if chars.get(i + 1) == Some(&'<') && chars.get(i + 2) != Some(&'<') => {
                flush_word(&mut word, &mut in_word, &mut words);
                // `<<EOF`, `<<-EOF`, `<< 'EOF'`: the lines up to EOF are data.
                let mut j = i + 2;
                let strip_tabs = chars.get(j) == Some(&'-');
                if strip_tabs {
                    j += 1;
                }
                while j < chars.len() && chars[j] == ' ' {
                    j += 1;
                }
                let mut delim = String::new();
                while j < chars.len() && !chars[j].is_whitespace() && !";|&<>".contains(chars[j]) {
                    if chars[j] != '\'' && chars[j] != '"' {
                        delim.push(chars[j]);
                    }
                    j += 1;
                }
                if !delim.is_empty() {
                    heredocs.push((delim, strip_tabs));
                }
                i = j;
            }
            c if c.is_whitespace() => {
                flush_word(&mut word, &mut in_word, &mut words);
                i += 1;
            }
            _ => {
                word.push(c);
                in_word = true;
                i += 1;
            }
        }
    }
    flush_word(&mut word, &mut in_word, &mut words);
    finish(&mut words, out);
}

/// The text up to the `)` that closes a `$(` opened before `start`, and the index after it.
fn balanced(chars: &[char], start: usize) -> (String, usize) {
    let mut depth = 1;
    let mut j = start;
    let mut quote: Option<char> = None;
    while j < chars.len() {
        let c = chars[j];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return (chars[start..j].iter().collect(), j + 1);
                    }
                }
                _ => {}
            },
        }
        j += 1;
    }
    (
        chars[start.min(chars.len())..].iter().collect(),
        chars.len(),
    )
}

/// Drop keywords, assignments and wrappers in front of the program.
fn command_of(mut words: Vec<String>, line: usize, first_line: &str) -> Option<Command> {
    let mut keywords = Vec::new();
    while let Some(first) = words.first() {
        let is_assignment = first.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if KEYWORDS.contains(&first.as_str()) {
            keywords.push(words.remove(0));
            continue;
        }
        if is_assignment {
            words.remove(0);
            continue;
        }
        if WRAPPERS.contains(&first.as_str()) {
            words.remove(0);
            // Wrapper options (`sudo -E`, `env -i`, `npx --yes`).
            while words.first().is_some_and(|w| w.starts_with('-')) {
                words.remove(0);
            }
            continue;
        }
        // `uv run`, `poetry run`, `pipenv run`, `bundle exec`, `pnpm exec|dlx`, `yarn dlx`.
        let two = words.get(1).map(String::as_str);
        let runner = matches!(
            (first.as_str(), two),
            ("uv", Some("run"))
                | ("poetry", Some("run"))
                | ("pipenv", Some("run"))
                | ("pdm", Some("run"))
                | ("hatch", Some("run"))
                | ("bundle", Some("exec"))
                | ("pnpm", Some("exec" | "dlx"))
                | ("yarn", Some("dlx" | "exec"))
                | ("npm", Some("exec"))
        );
        if runner {
            words.drain(..2);
            while words.first().is_some_and(|w| w.starts_with('-')) {
                words.remove(0);
            }
            continue;
        }
        break;
    }
    if words.is_empty() && keywords.is_empty() {
        return None;
    }
    Some(Command {
        words,
        line,
        text: first_line.to_string(),
        keywords,
        guards: Vec::new(),
    })
}

/// Follow `if … then … elif … else … fi` through the commands: each command learns the
/// conditions it runs under; the keyword-only commands (`fi`, `else`) are dropped.
fn attach_guards(commands: Vec<Command>) -> Vec<Command> {
    let mut stack: Vec<Option<String>> = Vec::new();
    let mut out = Vec::with_capacity(commands.len());
    for mut cmd in commands {
        cmd.guards = stack.iter().flatten().cloned().collect();
        let condition = cmd.words.join(" ");
        for kw in &cmd.keywords {
            match kw.as_str() {
                "if" => stack.push(Some(condition.clone())),
                "elif" => {
                    if let Some(top) = stack.last_mut() {
                        *top = Some(condition.clone());
                    }
                }
                "else" => {
                    if let Some(top) = stack.last_mut() {
                        *top = None;
                    }
                }
                "fi" => {
                    stack.pop();
                }
                _ => {}
            }
        }
        if cmd.keywords.iter().any(|k| k == "if" || k == "elif") {
            // The condition runs under the enclosing guards only.
            cmd.guards = stack[..stack.len().saturating_sub(1)]
                .iter()
                .flatten()
                .cloned()
                .collect();
        }
        if !cmd.words.is_empty() {
            out.push(cmd);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programs(script: &str) -> Vec<String> {
        commands(script).iter().map(|c| c.words.join(" ")).collect()
    }

    #[test]
    fn splits_commands_and_skips_what_never_runs() {
        assert_eq!(
            programs("# terraform apply\necho \"aws ecs update-service --x\" && aws ecs wait services-stable # done\n"),
            vec!["echo aws ecs update-service --x", "aws ecs wait services-stable"]
        );
        assert_eq!(
            programs("cat <<EOF > f\naws ecs update-service\nEOF\nhelm upgrade x ./c"),
            vec!["cat > f", "helm upgrade x ./c"]
        );
        assert_eq!(
            programs("if [ -n \"$X\" ]; then sudo -E terraform apply -auto-approve; fi"),
            vec!["[ -n $X ]", "terraform apply -auto-approve"]
        );
        assert_eq!(
            programs("for d in a b; do helm upgrade $d ./c; done"),
            vec!["for d in a b", "helm upgrade $d ./c"]
        );
    }

    #[test]
    fn substitutions_and_continuations() {
        let cmds = commands(
            "TASK=$(aws ecs run-task \\\n  --cluster c \\\n  --task-definition t)\necho \"$TASK\"",
        );
        assert_eq!(cmds[0].words[..3], ["aws", "ecs", "run-task"]);
        assert_eq!(cmds[0].option("--cluster"), Some("c"));
        assert_eq!(cmds[0].line, 0);
        assert_eq!(cmds.last().unwrap().line, 3);
    }

    #[test]
    fn wrappers_and_assignments() {
        let cmds =
            commands("AWS_REGION=eu uv run --frozen cdk deploy --all\nnpx --yes aws-cdk deploy");
        assert_eq!(cmds[0].program(), "cdk");
        assert_eq!(cmds[1].program(), "aws-cdk");
        assert_eq!(
            commands("./scripts/deploy.sh staging")[0].program(),
            "deploy.sh"
        );
    }

    #[test]
    fn expressions_are_one_word() {
        let cmds =
            commands("terragrunt run-all ${{ inputs.command }} --terragrunt-non-interactive");
        assert_eq!(cmds[0].words[1], "run-all");
        assert_eq!(cmds[0].words[2], "${{ inputs.command }}");
    }
}
