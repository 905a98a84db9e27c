//! `demandsim watch`: follows growing files into a [`Watch`] and prints
//! its updates as they come.
//!
//! Each file is polled for growth; the complete lines that appeared go
//! through the library's [`LineFeed`] (the last, unfinished line waits
//! for its newline). A file that shrinks (truncated) or is replaced
//! (rotated: another file under the same name) is said on stderr and read
//! again from its start. Ctrl-C ends the run after the update being
//! written: every line printed is whole.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use demandsim::estimate::Method;
use demandsim::import::{self, ReadRequests, ReadUtilization, Reader, Value, Values};
use demandsim::watch::{
    Config, LineFeed, Update, Watch, canonical_requests, canonical_utilization, live_methods,
};

use super::UsageError;

/// The canonical formats' name for `--requests-format`/`--utilization-format`.
const CANONICAL: &str = "canonical";

/// Most bytes read from a file before an update is considered: a large
/// backlog is read in pieces, so memory stays bounded.
const PIECE: usize = 1 << 20;

/// Bytes read at a time when replaying a finished trace: a few dozen
/// lines, of the file that is behind, so that the window, which keeps
/// only the newest intervals, sees requests and utilization advance
/// together.
const REPLAY_PIECE: usize = 1 << 10;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Requests as they are written: a canonical requests.csv, or any
    /// format of `import` that gives requests (--requests-format).
    #[arg(long, value_name = "FILE")]
    requests: PathBuf,
    /// The requests file's format: `canonical`, or an importer's name
    /// (`access-log`, `otlp`, `jmeter`, …).
    #[arg(long, value_name = "FORMAT", default_value = CANONICAL)]
    requests_format: String,
    /// Utilization samples as they are written: a canonical
    /// utilization.csv, or an importer's format that gives utilization
    /// (--utilization-format, e.g. `sadf`).
    #[arg(long, value_name = "FILE")]
    utilization: PathBuf,
    /// The utilization file's format.
    #[arg(long, value_name = "FORMAT", default_value = CANONICAL)]
    utilization_format: String,
    /// An option of the importer, as `import FORMAT --NAME VALUE` takes it
    /// (repeat; a switch as NAME alone): `--import-option log-format='%h %t "%r" %>s %D'`.
    #[arg(long, value_name = "NAME=VALUE")]
    import_option: Vec<String>,
    /// The resource of the utilization file to read.
    #[arg(long, default_value = "cpu")]
    resource: String,
    /// Its servers (cores).
    #[arg(long, default_value_t = 1)]
    servers: u32,
    /// Interval length, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0)]
    interval: f64,
    /// The sliding window the demands are fitted over, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    window: f64,
    /// Seconds between updates (of the data's clock with --until-eof).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    every: f64,
    /// Seconds an interval stays open after the newest completion.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    lag: f64,
    /// Methods, comma-separated [default: the Kalman filter and the
    /// regression on the utilization law].
    #[arg(long, value_delimiter = ',')]
    methods: Vec<String>,
    /// Bootstrap resamples for each update's intervals.
    #[arg(long, default_value_t = 100)]
    bootstrap: usize,
    /// Stop at the end of the files (a finished trace, replayed on the
    /// data's own clock) instead of following them.
    #[arg(long)]
    until_eof: bool,
    /// Seconds between looks at the files for growth.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.5)]
    poll: f64,
    /// Output: plain lines, or JSON lines (one object per class and method
    /// at each update).
    #[arg(long, value_enum, default_value_t)]
    format: super::Format,
}

/// A file followed as it grows.
struct Followed {
    path: PathBuf,
    name: String,
    file: File,
    /// Bytes read so far.
    offset: u64,
    /// The unfinished last line.
    carry: Vec<u8>,
    feed: LineFeed,
    /// Whether the last read found nothing new.
    done: bool,
}

impl Followed {
    fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            name: path.display().to_string(),
            file,
            offset: 0,
            carry: Vec::new(),
            feed: LineFeed::new(),
            done: false,
        })
    }

    /// Starts over on what the name holds now, saying why.
    fn reopen(&mut self, why: &str) -> Result<()> {
        log::warn!("{}: {why}; reading it again from its start", self.name);
        *self = Self::open(&self.path)?;
        Ok(())
    }

    /// The complete lines that appeared since the last call (at most
    /// about [`PIECE`] bytes, or [`REPLAY_PIECE`] when `small`), or `None`
    /// at the end of the file.
    fn next_piece(&mut self, small: bool) -> Result<Option<Vec<u8>>> {
        let len = self.file.metadata()?.len();
        if len < self.offset {
            self.reopen(&format!(
                "truncated (now {len} bytes, {} read)",
                self.offset
            ))?;
        } else if len == self.offset && self.replaced() {
            self.reopen("replaced by a new file (rotated)")?;
        }
        let mut buf = std::mem::take(&mut self.carry);
        let start = buf.len();
        buf.resize(start + if small { REPLAY_PIECE } else { PIECE }, 0);
        self.file.seek(SeekFrom::Start(self.offset))?;
        let n = self.file.read(&mut buf[start..])?;
        buf.truncate(start + n);
        self.offset += n as u64;
        self.done = n == 0;
        let Some(end) = buf.iter().rposition(|&b| b == b'\n') else {
            if buf.len() > demandsim::trace::MAX_LINE_BYTES as usize {
                anyhow::bail!("{}: a line longer than 1 MiB", self.name);
            }
            self.carry = buf;
            return Ok(None);
        };
        self.carry = buf.split_off(end + 1);
        Ok(Some(buf))
    }

    /// Whether the name now holds another file than the one open.
    fn replaced(&self) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            match (std::fs::metadata(&self.path), self.file.metadata()) {
                (Ok(now), Ok(open)) => now.ino() != open.ino() || now.dev() != open.dev(),
                _ => false,
            }
        }
        #[cfg(not(unix))]
        false
    }
}

/// How each file's pieces are read.
struct Readers {
    requests: ReadRequests,
    utilization: ReadUtilization,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let cfg = config(&a)?;
    let mut readers = readers(&a)?;
    let mut watch = Watch::new(cfg).map_err(|e| UsageError(format!("--{e}")))?;
    let mut requests = Followed::open(&a.requests)?;
    let mut utilization = Followed::open(&a.utilization)?;
    let interrupt = Arc::new(AtomicBool::new(false));
    super::staging::stop_cleanly_on_interrupt(interrupt.clone());
    let mut out = std::io::stdout().lock();
    let mut printed = 0;
    loop {
        let more = read_all(&mut watch, &mut readers, &mut requests, &mut utilization)?;
        let mut lines = watch.take_updates();
        if !a.until_eof {
            lines.extend(watch.tick(wall_clock()));
        }
        printed += print(&mut out, &lines, a.format)?;
        if interrupt.load(Ordering::Relaxed) {
            eprintln!("interrupted");
            return Ok(ExitCode::from(130));
        }
        if !more && a.until_eof {
            printed += print(&mut out, &watch.update(), a.format)?;
            if watch.late() > 0 {
                log::warn!(
                    "{} records came after their interval had left the window",
                    watch.late()
                );
            }
            return match printed {
                0 => Err(silent(&watch, &utilization.name)),
                _ => Ok(ExitCode::SUCCESS),
            };
        }
        if !more {
            std::thread::sleep(Duration::from_secs_f64(a.poll.clamp(0.01, 60.0)));
        }
    }
}

/// Why a finished trace gave no update.
fn silent(watch: &Watch, utilization: &str) -> anyhow::Error {
    let resource = &watch.config().resource;
    let seen = watch.resources();
    if seen.first() != Some(resource) {
        let has = match seen.is_empty() {
            true => "no samples".to_string(),
            false => format!("samples of {}", seen.join(", ")),
        };
        anyhow::anyhow!(
            "{utilization}: no utilization of resource `{resource}` (it has {has}); name one with --resource"
        )
    } else {
        anyhow::anyhow!(
            "fewer than {} closed intervals with both completions and utilization: no estimate",
            demandsim::watch::MIN_ROWS
        )
    }
}

/// Reads one piece of each file (replaying, of the one whose data are
/// behind: the window keeps only the newest intervals); whether either
/// had more.
fn read_all(
    watch: &mut Watch,
    readers: &mut Readers,
    requests: &mut Followed,
    utilization: &mut Followed,
) -> Result<bool> {
    let (completed, sampled) = watch.newest();
    let replay = watch.config().replay;
    let mut more = false;
    if (!replay || completed <= sampled || utilization.done)
        && let Some(piece) = requests.next_piece(replay)?
    {
        more = true;
        let f = &mut *requests;
        watch
            .read_requests(&mut f.feed, &mut readers.requests, &f.name, &piece)
            .with_context(|| f.name.clone())?;
    }
    if (!replay || !more)
        && let Some(piece) = utilization.next_piece(replay)?
    {
        more = true;
        let f = &mut *utilization;
        watch
            .read_utilization(&mut f.feed, &mut readers.utilization, &f.name, &piece)
            .with_context(|| f.name.clone())?;
    }
    if replay && !more && !(requests.done && utilization.done) {
        return read_all(watch, readers, requests, utilization);
    }
    Ok(more)
}

fn wall_clock() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Writes `updates`, each line whole, and flushes; how many.
fn print(out: &mut impl Write, updates: &[Update], format: super::Format) -> Result<usize> {
    let mut text = String::new();
    for u in updates {
        match format {
            super::Format::Json => text += &serde_json::to_string(u)?,
            _ => text += &plain(u),
        }
        text.push('\n');
    }
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(updates.len())
}

/// One update as a plain line.
fn plain(u: &Update) -> String {
    let ms = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{:.3}", v * 1e3));
    format!(
        "{:.0} {} {} {}: {:.3} ms [{}, {}] U={:.3} X={:.2}/s{}",
        u.time,
        u.resource,
        u.class,
        u.method,
        u.demand_s * 1e3,
        ms(u.low_s),
        ms(u.high_s),
        u.utilization,
        u.throughput,
        u.reason
            .as_ref()
            .map(|r| format!(" ALARM: {r}"))
            .unwrap_or_default()
    )
}

fn config(a: &Args) -> Result<Config> {
    let methods = if a.methods.is_empty() {
        live_methods()
    } else {
        a.methods
            .iter()
            .map(|id| {
                Method::from_id(id).ok_or_else(|| {
                    UsageError(format!("--methods: `{id}` is not one of {}", Method::ids()))
                })
            })
            .collect::<Result<_, _>>()?
    };
    if a.servers == 0 {
        return Err(UsageError("--servers must be at least 1".into()).into());
    }
    Ok(Config {
        interval_s: a.interval,
        window_s: a.window,
        every_s: a.every,
        lag_s: a.lag,
        resource: a.resource.clone(),
        servers: a.servers,
        methods,
        bootstrap: a.bootstrap,
        replay: a.until_eof,
        ..Config::default()
    })
}

fn readers(a: &Args) -> Result<Readers> {
    let values = values(&a.import_option)?;
    let formats = [&a.requests_format, &a.utilization_format];
    let takes = |key: &str| {
        formats
            .iter()
            .filter_map(|f| import::find(f))
            .any(|i| i.options().iter().any(|o| o.name == key))
    };
    if let Some((key, _)) = values.iter().find(|(k, _)| !takes(k)) {
        return Err(UsageError(format!(
            "--import-option {key}: not an option of {} (see `demandsim import FORMAT --help`)",
            formats.map(|f| f.as_str()).join(" or ")
        ))
        .into());
    }
    let requests = match a.requests_format.as_str() {
        CANONICAL => canonical_requests(),
        name => match importer(name, &values, "--requests-format")? {
            Reader::Requests { read, .. } => read,
            _ => {
                return Err(UsageError(format!(
                    "--requests-format: `{name}` does not give requests"
                ))
                .into());
            }
        },
    };
    let utilization = match a.utilization_format.as_str() {
        CANONICAL => canonical_utilization(),
        name => match importer(name, &values, "--utilization-format")? {
            Reader::Utilization(read) => read,
            _ => {
                return Err(UsageError(format!(
                    "--utilization-format: `{name}` does not give utilization"
                ))
                .into());
            }
        },
    };
    Ok(Readers {
        requests,
        utilization,
    })
}

/// The importer `name`, set up with the options it declares among `values`.
fn importer(name: &str, values: &[(String, Option<String>)], flag: &str) -> Result<Reader> {
    let Some(importer) = import::find(name) else {
        let names: Vec<&str> = import::ALL.iter().map(|i| i.name()).collect();
        return Err(UsageError(format!(
            "{flag}: `{name}` is not one of {CANONICAL}, {}",
            names.join(", ")
        ))
        .into());
    };
    let mut set = Values::new();
    for (key, value) in values {
        let Some(opt) = importer.options().iter().find(|o| o.name == key) else {
            continue;
        };
        let v = match (value, opt.takes) {
            (None, _) => Value::Set,
            (Some(v), import::Takes::Number) => Value::Number(v.parse().map_err(|_| {
                UsageError(format!("--import-option {key}: `{v}` is not a number"))
            })?),
            (Some(v), _) => Value::Text(v.clone()),
        };
        set.set(opt.name, v);
    }
    importer
        .configure(&set)
        .map_err(|e| UsageError(format!("{flag} {name}: {e}")).into())
}

/// `--import-option`s as (name, value).
fn values(options: &[String]) -> Result<Vec<(String, Option<String>)>> {
    Ok(options
        .iter()
        .map(|o| match o.split_once('=') {
            Some((k, v)) => (k.trim_start_matches("--").to_string(), Some(v.to_string())),
            None => (o.trim_start_matches("--").to_string(), None),
        })
        .collect())
}
