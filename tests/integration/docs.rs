//! The documents' examples, run: every ```` ```console ```` block of
//! `README.md` and `docs/*.md` is executed with the built binary and its
//! output checked, so that an example cannot go stale (issue 29: several
//! printed something else than the README said). The rules a writer
//! follows are in `docs/testing.md`, "How the docs are tested".

use std::path::{Path, PathBuf};
use std::process::Command;

/// Folders of the repository that a document's scratch folder links to, so
/// that examples name `models/…` and `traces/…` as a user in a checkout
/// does. Examples must not write into them.
const LINKED: [&str; 8] = [
    "models", "traces", "tests", "testbed", "examples", "benches", "scripts", "deploy",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fenced block: the line its fence is on, the words of its info string,
/// its lines (the fence's indentation removed).
struct Block {
    line: usize,
    info: Vec<String>,
    body: Vec<String>,
}

impl Block {
    /// The value of `KEY=VALUE` in the info string.
    fn attr(&self, key: &str) -> Option<&str> {
        self.info
            .iter()
            .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
    }

    fn lang(&self) -> &str {
        self.info.first().map_or("", String::as_str)
    }
}

fn fenced_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(Block, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match open.take() {
            None if trimmed.starts_with("```") => {
                let info = trimmed.trim_start_matches('`');
                let info = info.split_whitespace().map(str::to_string).collect();
                let block = Block {
                    line: i + 1,
                    info,
                    body: Vec::new(),
                };
                open = Some((block, indent));
            }
            None => {}
            Some((block, _)) if trimmed.trim_end() == "```" => blocks.push(block),
            Some((mut block, indent)) => {
                let cut = indent.min(line.len() - trimmed.len());
                block.body.push(line[cut..].to_string());
                open = Some((block, indent));
            }
        }
    }
    assert!(open.is_none(), "a fenced block is not closed");
    blocks
}

/// One `$ command` of a console block: its line, words, the exit code it
/// expects (`? N` under it; 0 without) and the output shown under it.
struct Example {
    line: usize,
    text: String,
    argv: Vec<String>,
    code: i32,
    expected: Vec<String>,
}

fn examples(block: &Block) -> Result<Vec<Example>, String> {
    let mut out: Vec<Example> = Vec::new();
    let mut lines = block.body.iter().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let Some(first) = line.strip_prefix("$ ") else {
            match out.last_mut() {
                Some(ex) => ex.expected.push(line.clone()),
                None => {
                    return Err(format!(
                        "line {}: text before the first `$ `",
                        block.line + 1 + i
                    ));
                }
            }
            continue;
        };
        let mut text = first.to_string();
        while text.ends_with('\\') {
            text.pop();
            let Some((_, more)) = lines.next() else { break };
            text.push_str(more);
        }
        let mut code = 0;
        if let Some((_, status)) = lines.next_if(|(_, l)| l.starts_with("? ")) {
            code = status[2..]
                .trim()
                .parse()
                .map_err(|_| format!("bad status line `{status}`"))?;
        }
        let argv = shell_words(&text)?;
        out.push(Example {
            line: block.line + 1 + i,
            text,
            argv,
            code,
            expected: Vec::new(),
        });
    }
    Ok(out)
}

/// Splits a command line as a POSIX shell does for plain words and quotes;
/// anything that would need a shell (pipes, redirections, variables) is
/// refused: an example is one command a user can paste.
fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                w.extend(chars.by_ref().take_while(|&q| q != '\''));
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        '$' | '`' => return Err(format!("a shell expansion in `{line}`")),
                        _ => w.push(q),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            '|' | '>' | '<' | ';' | '&' | '$' | '`' | '*' => {
                return Err(format!("`{c}` needs a shell: `{line}`"));
            }
            _ => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// What the harness does with a command.
enum Action {
    /// Run the binary with these arguments.
    Run(Vec<String>),
    /// Not run (the test suite itself, a benchmark, a script, an example
    /// program): the file it names must exist.
    Exists(PathBuf),
    /// Not run, nothing to check (`cargo test`, `cargo doc`).
    Nothing,
}

fn action(argv: &[String]) -> Result<Action, String> {
    let words: Vec<&str> = argv.iter().map(String::as_str).collect();
    let rest = || argv[argv.len().min(4)..].to_vec();
    Ok(match words.as_slice() {
        ["demandsim", ..] => Action::Run(argv[1..].to_vec()),
        ["cargo", "run", "--release", "--", ..] => Action::Run(rest()),
        ["cargo", "run", "--release", "--example", name, ..] => {
            Action::Exists(root().join("examples").join(format!("{name}.rs")))
        }
        ["cargo", "bench", "--bench", name, ..] => {
            Action::Exists(root().join("benches").join(format!("{name}.rs")))
        }
        ["cargo", "test" | "doc" | "bench", ..] => Action::Nothing,
        ["bash", script, ..] => Action::Exists(root().join(script)),
        _ => return Err("only demandsim, cargo and bash scripts are examples".into()),
    })
}

/// An output path inside the repository's linked folders would change the
/// checkout (the scratch folder links to them).
fn writes_into_the_checkout(args: &[String]) -> Option<&str> {
    args.windows(2).find_map(|w| {
        let out = matches!(w[0].as_str(), "-o" | "--output" | "--out");
        let path = Path::new(&w[1]);
        let inside =
            path.is_absolute() || w[1].contains("..") || LINKED.iter().any(|d| path.starts_with(d));
        (out && inside).then_some(w[1].as_str())
    })
}

/// `MODULE::TEST` names a test of this binary: its module is declared in
/// `main.rs` and its file has `fn TEST(`.
fn test_exists(name: &str) -> bool {
    let Some((module, test)) = name.split_once("::") else {
        return false;
    };
    let dir = root().join("tests/integration");
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap_or_default();
    let file = std::fs::read_to_string(dir.join(format!("{module}.rs"))).unwrap_or_default();
    main.contains(&format!("mod {module};")) && file.contains(&format!("fn {test}("))
}

/// Lines compared: trailing spaces and trailing empty lines do not count.
fn normalized<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut lines: Vec<&str> = lines.map(str::trim_end).collect();
    while lines.last() == Some(&"") {
        lines.pop();
    }
    lines
}

/// The expected lines against the actual ones: a line `...` stands for any
/// number of lines, `[..]` inside a line for any text.
fn matches(expected: &[&str], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((&"...", rest)) => (0..=actual.len()).any(|k| matches(rest, &actual[k..])),
        Some((pattern, rest)) => actual
            .split_first()
            .is_some_and(|(line, more)| line_matches(pattern, line) && matches(rest, more)),
    }
}

fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return pattern == line;
    }
    if line.len() < first.len() + last.len() || !line.starts_with(first) || !line.ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// Runs one example in `dir`; what is wrong with it, if anything.
fn run(ex: &Example, args: &[String], dir: &Path) -> Option<String> {
    if let Some(path) = writes_into_the_checkout(args) {
        return Some(format!("writes to {path}, inside the checkout"));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_demandsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let code = out.status.code().unwrap_or(-1);
    let shown = if ex.code == 0 { &stdout } else { &stderr };
    let expected = normalized(ex.expected.iter().map(String::as_str));
    if code == ex.code && matches(&expected, &normalized(shown.lines())) {
        return None;
    }
    Some(format!(
        "exit {code} (expected {}); expected:\n{}\n--- got ({}):\n{}\n--- stderr:\n{stderr}",
        ex.code,
        expected.join("\n"),
        if ex.code == 0 { "stdout" } else { "stderr" },
        shown.trim_end()
    ))
}

/// Checks one example of a console block; `covered` is the block's
/// `covered-by` test, whose examples are not run here.
fn check_example(ex: &Example, covered: Option<&str>, dir: &Path) -> Option<String> {
    let shown = ex.expected.iter().any(|l| !l.trim().is_empty());
    match action(&ex.argv) {
        Err(e) => Some(e),
        Ok(Action::Run(args)) if covered.is_none() => run(ex, &args, dir),
        Ok(Action::Exists(path)) if !path.exists() => {
            Some(format!("{} does not exist", path.display()))
        }
        Ok(_) if shown => Some("output shown for a command this test does not run".into()),
        Ok(_) => None,
    }
}

/// The examples of one document, run in order in one scratch folder (so a
/// file one example writes is there for the next); every failure, each
/// with its line.
fn check_document(doc: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(doc).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for d in LINKED {
        std::os::unix::fs::symlink(root().join(d), dir.path().join(d)).unwrap();
    }
    let name = doc
        .strip_prefix(root())
        .unwrap_or(doc)
        .display()
        .to_string();
    let mut failures: Vec<String> = check_links(doc, &text)
        .into_iter()
        .map(|e| format!("{name}: {e}"))
        .collect();
    for block in fenced_blocks(&text) {
        let mut fail = |line: usize, what: String| failures.push(format!("{name}:{line}: {what}"));
        if let Some(file) = block.attr("file") {
            let body = block.body.join("\n") + "\n";
            if let Some(same) = block.attr("same-as")
                && std::fs::read_to_string(root().join(same)).ok().as_deref() != Some(&body)
            {
                fail(
                    block.line,
                    format!("{file} is not {same} as it is in the repository"),
                );
            }
            std::fs::write(dir.path().join(file), body).unwrap();
        } else if block.lang() == "console" {
            let covered = block.attr("covered-by");
            if covered.is_some_and(|t| !test_exists(t)) {
                fail(
                    block.line,
                    format!("covered-by={}: no such test", covered.unwrap()),
                );
            }
            match examples(&block) {
                Err(e) => fail(block.line, e),
                Ok(list) => list.iter().for_each(|ex| {
                    if let Some(e) = check_example(ex, covered, dir.path()) {
                        fail(ex.line, format!("`$ {}`: {e}", ex.text));
                    }
                }),
            }
        } else if let Some((i, line)) = command_outside_console(&block) {
            fail(
                block.line + 1 + i,
                format!("a command outside a console block is never run: `{line}`"),
            );
        }
    }
    failures
}

/// A line of a non-console block that reads as a command.
fn command_outside_console(block: &Block) -> Option<(usize, &str)> {
    block.body.iter().enumerate().find_map(|(i, line)| {
        let l = line.trim_start();
        let command = l.starts_with("$ ")
            || l.starts_with("cargo ")
            || l.strip_prefix("demandsim ")
                .is_some_and(|r| !r.starts_with(' '));
        command.then_some((i, l))
    })
}

/// GitHub's anchor for a heading: lower case, spaces to hyphens, other
/// punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The lines of a document outside its fenced blocks.
fn prose(text: &str) -> Vec<&str> {
    let mut inside = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
        } else if !inside {
            lines.push(line);
        }
    }
    lines
}

/// Every relative link `](path#anchor)` names a file that exists and, with
/// an anchor, a heading of that file.
fn check_links(doc: &Path, text: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for (line, target) in prose(text)
        .iter()
        .flat_map(|l| l.split("](").skip(1).map(move |t| (l, t)))
    {
        let Some(target) = target.split(')').next() else {
            continue;
        };
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
        let file = if path.is_empty() {
            doc.to_path_buf()
        } else {
            doc.parent().unwrap().join(path)
        };
        let Ok(linked) = std::fs::read_to_string(&file) else {
            failures.push(format!("link to {target}: no such file (in `{line}`)"));
            continue;
        };
        let headings: Vec<String> = prose(&linked)
            .iter()
            .filter_map(|l| l.strip_prefix('#'))
            .map(|h| anchor(h.trim_start_matches('#').trim()))
            .collect();
        if !fragment.is_empty() && !headings.iter().any(|h| h == fragment) {
            failures.push(format!("link to {target}: no such heading"));
        }
    }
    failures
}

/// `README.md` and every `docs/*.md`, found rather than listed, so a new
/// document cannot be left out.
fn documents() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    docs.retain(|p| p.extension().is_some_and(|e| e == "md"));
    docs.sort();
    docs.insert(0, root().join("README.md"));
    docs
}

#[test]
fn every_example_in_the_docs_runs_and_prints_what_the_docs_say() {
    let failures: Vec<String> = documents().iter().flat_map(|d| check_document(d)).collect();
    assert!(
        failures.is_empty(),
        "{} stale example(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_matcher_takes_wildcards_and_refuses_a_changed_number() {
    let actual = [
        "model qpn5: seed 42, 330005 events in 0.083 s",
        "a",
        "b",
        "response 0.7269",
    ];
    assert!(matches(
        &[
            "model qpn5: seed 42, [..] in [..] s",
            "...",
            "response 0.7269"
        ],
        &actual
    ));
    assert!(!matches(
        &[
            "model qpn5: seed 42, [..] in [..] s",
            "...",
            "response 0.7270"
        ],
        &actual
    ));
    assert!(
        !matches(&["model qpn5: seed 42, [..]"], &actual),
        "lines after it need `...`"
    );
    assert!(!matches(&["model qpn5: seed 43[..]", "..."], &actual));
}

#[test]
fn a_console_block_reads_commands_continuations_and_statuses() {
    let text = "x\n```console covered-by=a::b\n$ demandsim solve 'a b' \\\n  --set \"x=1\"\nout\n$ demandsim x\n? 2\nerr\n```\n";
    let blocks = fenced_blocks(text);
    assert_eq!(
        (blocks.len(), blocks[0].attr("covered-by")),
        (1, Some("a::b"))
    );
    let ex = examples(&blocks[0]).unwrap();
    assert_eq!(ex[0].argv, ["demandsim", "solve", "a b", "--set", "x=1"]);
    assert_eq!(
        (ex[0].code, ex[0].expected.as_slice()),
        (0, &["out".to_string()][..])
    );
    assert_eq!((ex[1].line, ex[1].code), (6, 2));
    assert!(shell_words("demandsim x | head").is_err());
    assert!(writes_into_the_checkout(&["-o".into(), "traces/x.csv".into()]).is_some());
}

#[test]
fn anchors_are_githubs() {
    assert_eq!(anchor("`sweep` and `merge`"), "sweep-and-merge");
    assert_eq!(
        anchor("A real system: the testbed"),
        "a-real-system-the-testbed"
    );
    assert_eq!(anchor("`intervals.csv`"), "intervalscsv");
}

/// The first cells of the Markdown table in `doc` whose header starts with
/// `| HEADER |` (indented or not): each cell's first backticked word.
fn first_column(doc: &str, header: &str) -> Vec<String> {
    let mut words: Vec<String> = table(doc, header)
        .iter()
        .filter_map(|row| {
            row[0]
                .split('`')
                .nth(1)?
                .split_whitespace()
                .next()
                .map(str::to_string)
        })
        .collect();
    words.dedup();
    words
}

/// The names `demandsim import --help` lists under "Formats:" (the
/// importers' table and the two model formats beside it).
fn import_formats() -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_demandsim"))
        .args(["import", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let lines = help.lines().skip_while(|l| l.trim() != "Formats:").skip(1);
    let formats = lines.take_while(|l| l.starts_with("  "));
    formats
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// Whether `text` has `flag` as a whole word (`--name`, not `--names`).
fn mentions(text: &str, flag: &str) -> bool {
    text.match_indices(flag).any(|(at, _)| {
        let next = text[at + flag.len()..].chars().next();
        !next.is_some_and(|c| c.is_alphanumeric() || c == '-')
    })
}

/// The rows of the Markdown table in `doc` whose header starts with
/// `| HEADER |` (indented or not), as cells.
fn table(doc: &str, header: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(root().join(doc)).unwrap();
    let start = format!("| {header} |");
    let lines = text.lines().map(str::trim_start);
    let rows = lines.skip_while(|l| !l.starts_with(&start)).skip(2);
    rows.take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn the_docs_say_what_each_estimator_assumes_as_its_table_does() {
    use demandsim::estimate::{BackgroundUse, Method};
    let yes = |b: bool| if b { "yes" } else { "no" };
    let want: Vec<Vec<String>> = Method::ALL
        .iter()
        .map(|m| {
            let t = m.traits();
            let background = match t.background {
                BackgroundUse::Counted => "yes",
                BackgroundUse::CountedWithoutIntercept => "without `--intercept`",
                BackgroundUse::NotCounted => "no",
            };
            let cells = [
                &format!("`{}`", m.id()),
                yes(t.splits_by_discipline),
                background,
                yes(t.fits_response_times),
                yes(t.upper_bound),
            ];
            cells.iter().map(|c| c.to_string()).collect()
        })
        .collect();
    assert_eq!(table("docs/accuracy.md", "method"), want);
}

#[test]
fn the_docs_say_what_each_queue_discipline_allows_as_its_table_does() {
    use demandsim::qpn::queue::{Capacity, ProductForm, Scheduling};
    let want: Vec<Vec<String>> = Scheduling::ALL
        .iter()
        .map(|s| {
            let servers = match s.capacity_rule() {
                Capacity::Unlimited => "none (infinite)",
                Capacity::Servers => "`servers`, at least 1",
                Capacity::OneServer => "exactly 1",
            };
            let priorities = if s.has_priorities() {
                "`priority: {colour: n}`"
            } else {
                "no"
            };
            let solve = match s.product_form() {
                ProductForm::AnyService => "any service distribution",
                ProductForm::ExponentialEqualMeans => {
                    "exponential service, one mean for all colours"
                }
            };
            let qpme = if s.qpme().is_some() { "yes" } else { "refused" };
            let load = if s.has_load_dependence() {
                "`load_dependence: [...]`"
            } else {
                "no"
            };
            let limit = if s.has_cpu_limit() {
                "`cpu_limit: {...}`"
            } else {
                "no"
            };
            let cells = [
                &format!("`{}`", s.name()),
                servers,
                priorities,
                load,
                limit,
                solve,
                qpme,
            ];
            cells.iter().map(|c| c.to_string()).collect()
        })
        .collect();
    assert_eq!(table("docs/models.md", "queue"), want);
}

#[test]
fn the_docs_list_every_estimator_discipline_importer_and_import_option() {
    use demandsim::estimate::Method;
    use demandsim::qpn::Scheduling;
    let methods: Vec<&str> = Method::ALL.iter().map(|m| m.id()).collect();
    assert_eq!(first_column("docs/accuracy.md", "id"), methods);
    let queues: Vec<&str> = Scheduling::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(first_column("docs/models.md", "queue"), queues);
    let mut formats = first_column("docs/traces.md", "format");
    let mut cli = import_formats();
    formats.sort();
    cli.sort();
    assert_eq!(
        formats, cli,
        "docs/traces.md's importers against `import --help`"
    );
    let traces = std::fs::read_to_string(root().join("docs/traces.md")).unwrap();
    for importer in demandsim::import::ALL {
        assert!(
            formats.iter().any(|f| f == importer.name()),
            "{}",
            importer.name()
        );
        for opt in importer.options() {
            let flag = format!("--{}", opt.name);
            assert!(
                mentions(&traces, &flag),
                "docs/traces.md does not mention {flag} of {}",
                importer.name()
            );
        }
    }
}
