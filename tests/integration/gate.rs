//! The bad-input gate: every command that reads a file is run on every
//! file of the bad-input corpus (`tests/fixtures/bad/`), on large inputs
//! made here (a line of 2 MiB, a gzip of 8 MiB of NULs, `/dev/zero`), each
//! under a 10 s deadline and a 500 MB data limit. Each must end with exit 1
//! or 2 and a message that names the input, holds no Rust or serde type
//! name and no number longer than 17 significant digits.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::fixture;

/// The deadline of one run (a guard: a run that needs it has failed).
const DEADLINE: Duration = Duration::from_secs(10);

/// The data limit of one run, KiB (`ulimit -d`: heap and private maps).
const MEMORY_KIB: u64 = 500 * 1000;

/// The commands, `{}` standing for the input and `@name` for a good file
/// made by [`Inputs::new`]. Each reads the input in another role.
const FORMS: &[&[&str]] = &[
    &["inspect", "--requests", "{}"],
    &["inspect", "--requests", "@requests", "--utilization", "{}"],
    &[
        "estimate",
        "--requests",
        "{}",
        "--utilization",
        "@utilization",
    ],
    &["estimate", "--requests", "@requests", "--utilization", "{}"],
    &["import", "jmeter", "{}"],
    &["import", "k6", "{}"],
    &[
        "import",
        "access-log",
        "--log-format",
        "$msec $request_time \"$request\"",
        "{}",
    ],
    &["import", "sadf", "{}"],
    &["import", "prometheus", "{}"],
    &["import", "prometheus", "--histogram", "{}"],
    &["import", "librede", "--metric", "utilization", "{}"],
    &["import", "librede", "--metric", "response-time", "{}"],
    &["import", "locust", "{}"],
    &["import", "wessbas", "{}"],
    &["import", "lodestone", "{}"],
    &["import", "otlp", "{}"],
    &["import", "pgbench", "{}"],
    &["import", "pgbench", "--aggregate-interval", "1", "{}"],
    &["import", "m4j", "{}"],
    &["import", "qpe", "{}"],
    &["simulate", "{}", "--requests", "200", "--seed", "1"],
    &["simulate", "@empirical", "--requests", "200", "--seed", "1"],
    &["solve", "{}"],
    &["study", "{}"],
    &[
        "generate",
        "{}",
        "--requests",
        "200",
        "--seed",
        "1",
        "--out",
        "@out",
    ],
    &["compare", "--requests", "{}", "--simulated", "@simulated"],
    &["compare", "--requests", "@requests", "--simulated", "{}"],
    &["behavior", "learn", "--requests", "{}"],
    &[
        "behavior",
        "model",
        "{}",
        "--users",
        "5",
        "--demands",
        "@demands",
    ],
    &["sweep", "{}", "--grid", "demand=0.1..0.2:3"],
    &["capacity", "{}", "--find", "demand", "--slo", "mean<=1s"],
    &["merge", "{}", "{}"],
    &["export", "qpe", "{}"],
    &["export", "librede", "--requests", "{}", "--out", "@out"],
];

/// Commands that take a corpus file as it is: requests with absurd but
/// valid numbers compared or exported (only interval aggregation refuses
/// their span), a model with an immediate cycle exported (only running it
/// finds the cycle), pgbench's aggregated log read as one (it is bad only
/// as a transaction log).
const VALID: &[(&str, &str)] = &[
    ("compare", "absurd-timestamps.csv"),
    ("compare", "huge-response.csv"),
    ("compare", "mixed-units.csv"),
    ("librede", "absurd-timestamps.csv"),
    ("librede", "huge-response.csv"),
    ("librede", "mixed-units.csv"),
    ("qpe", "model-immediate-cycle.yaml"),
    ("--aggregate-interval", "pgbench-aggregated.log"),
];

/// Words of Rust or serde that must not reach a message.
const FORBIDDEN: &[&str] = &[
    "struct ",
    "enum ",
    "variant",
    "untagged",
    "Raw",
    "::",
    "invalid type:",
    "Options",
    "DuplicateKeyPolicy",
    "NumSrc",
    "ParamSpec",
    "Spanned",
    "panicked",
    "RUST_BACKTRACE",
    "Some(",
    "None",
    "Ok(",
    "Err(",
];

/// The good files some forms need beside the input, and the large inputs.
struct Inputs {
    dir: tempfile::TempDir,
}

impl Inputs {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
        std::fs::write(at("requests"), "timestamp,response_time\n10,0.5\n20,0.5\n").unwrap();
        std::fs::write(
            at("utilization"),
            "timestamp,resource,utilization\n30,cpu,0.3\n60,cpu,0.4\n",
        )
        .unwrap();
        std::fs::write(at("demands"), "class,resource,demand_s\nA,cpu,0.01\n").unwrap();
        let sim = super::demandsim(
            &[
                "simulate",
                concat!(env!("CARGO_MANIFEST_DIR"), "/models/qpn1-open.yaml"),
                "--requests",
                "200",
                "--seed",
                "1",
                "--format",
                "json",
            ],
            b"",
        );
        assert_eq!(sim.code, 0, "{}", sim.stderr);
        std::fs::write(at("simulated"), sim.stdout).unwrap();
        // A line of 2 MiB: twice the longest a reader takes.
        let mut long = b"timestamp,response_time\n1,".to_vec();
        long.resize(2 << 20, b'x');
        std::fs::write(at("long-line.csv"), long).unwrap();
        // 8 MiB of NULs in 8 KB of gzip (a 14 MB gzip of NULs held 4.2 GB
        // as one line); `/dev/zero` is the endless one.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..8 {
            enc.write_all(&zeros).unwrap();
        }
        std::fs::write(at("nul.csv.gz"), enc.finish().unwrap()).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The bad inputs: the corpus, the large files, `/dev/zero`.
    fn bad(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(fixture("bad"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                !p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("good-")
            })
            .collect();
        files.sort();
        files.extend([self.path("long-line.csv"), self.path("nul.csv.gz")]);
        if Path::new("/dev/zero").exists() {
            files.push("/dev/zero".into());
        }
        files
    }

    /// `form` with `input` in place of `{}` and the good files named.
    fn args(&self, form: &[&str], input: &Path) -> Vec<String> {
        form.iter()
            .map(|a| match (*a, a.strip_prefix('@')) {
                ("{}", _) => input.to_string_lossy().into_owned(),
                (_, Some("empirical")) => self.empirical(input),
                (_, Some(name)) => self.path(name).to_string_lossy().into_owned(),
                (a, None) => a.to_string(),
            })
            .collect()
    }

    /// A model whose service times are `input`'s samples.
    fn empirical(&self, input: &Path) -> String {
        let name = input.file_name().unwrap().to_string_lossy();
        let model = self.path(&format!("empirical-{name}.yaml"));
        let text = format!(
            "colors: [a]\nplaces:\n  Q: {{queue: fcfs, service: {{a: {{empirical: {{file: \"{}\"}}}}}}, initial: {{a: 1}}}}\n",
            input.display()
        );
        std::fs::write(&model, text).unwrap();
        model.to_string_lossy().into_owned()
    }
}

/// One run's end: exit code (`None` when killed), stderr, time taken.
struct End {
    code: Option<i32>,
    stderr: String,
    took: Duration,
}

/// Runs the binary on `args` under the memory limit and the deadline.
fn run(args: &[String]) -> End {
    let start = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -d {MEMORY_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_demandsim"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs the binary");
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut s).ok();
        String::from_utf8_lossy(&s).into_owned()
    });
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if start.elapsed() > DEADLINE {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    End {
        code,
        stderr: reader.join().unwrap(),
        took: start.elapsed(),
    }
}

/// What is wrong with a run's end, if anything.
fn verdict(end: &End, args: &[String], input: &Path) -> Option<String> {
    let name = input.file_name().unwrap().to_string_lossy();
    let msg = &end.stderr;
    match end.code {
        None => return Some(format!("not done in {:?}", end.took)),
        Some(1 | 2) => {}
        Some(0)
            if VALID
                .iter()
                .any(|(cmd, f)| args.contains(&cmd.to_string()) && name == *f) =>
        {
            return None;
        }
        Some(c) => return Some(format!("exit {c}")),
    }
    // A usage error names the flag at fault (`--grid: the model has no
    // parameter`), which is not the input's.
    let flag = end.code == Some(2) && msg.starts_with("error: --");
    if !msg.contains(name.as_ref()) && !flag {
        return Some("the message does not name the input".into());
    }
    if let Some(w) = FORBIDDEN.iter().find(|w| msg.contains(*w)) {
        return Some(format!("the message says `{w}`"));
    }
    if let Some(n) = longest_number(msg).filter(|n| significant(n) > 17) {
        return Some(format!("a number of {} digits: {n:.40}…", significant(&n)));
    }
    None
}

/// The number of the most significant digits in `text` (digits with at
/// most one point between them).
fn longest_number(text: &str) -> Option<String> {
    let mut best: Option<String> = None;
    let mut cur = String::new();
    for c in text.chars().chain([' ']) {
        if c.is_ascii_digit() || (c == '.' && !cur.contains('.') && !cur.is_empty()) {
            cur.push(c);
            continue;
        }
        let n = cur.trim_end_matches('.').to_string();
        if best
            .as_ref()
            .is_none_or(|b| significant(&n) > significant(b))
        {
            best = Some(n);
        }
        cur.clear();
    }
    best
}

/// Significant digits of a decimal numeral.
fn significant(n: &str) -> usize {
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    let s = digits.trim_start_matches('0');
    match n.contains('.') {
        true => s.len(),
        false => s.trim_end_matches('0').len().max(s.len().min(1)),
    }
}

#[test]
fn numbers_are_counted_by_significant_digits() {
    assert_eq!(significant("1000000000000000000000"), 1);
    assert_eq!(significant("0.30000000000000004"), 17);
    assert_eq!(significant("0.300000000000000044408920985006"), 30);
    assert_eq!(significant("123456789012345678"), 18);
    let text = "got 1.5 and 3.14159265358979323846, then 7";
    assert_eq!(
        longest_number(text).as_deref(),
        Some("3.14159265358979323846")
    );
}

#[test]
fn every_command_on_every_bad_input_ends_in_time_and_memory_with_a_clear_message() {
    let inputs = Inputs::new();
    let bad = inputs.bad();
    let cases: Vec<(Vec<String>, &PathBuf)> = FORMS
        .iter()
        .flat_map(|form| bad.iter().map(|b| (inputs.args(form, b), b)))
        .collect();
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((args, input)) = cases.get(i) else {
                        break;
                    };
                    let end = run(args);
                    if let Some(why) = verdict(&end, args, input) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{args:?}: {why}\n    {:.400}", end.stderr.trim()));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} runs:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
