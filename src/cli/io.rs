//! Files and streams: the only place that opens paths.

use std::fs::File;
use std::io::{self, BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use demandsim::trace::Bounded;

/// Opens `path` for reading (`-` is stdin), decompressing gzip; a line
/// longer than [`demandsim::trace::MAX_LINE_BYTES`] is an error naming it.
pub fn open_input(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    Ok(Box::new(Bounded::lines(open_raw(path)?)))
}

/// Opens `path` (`-` is stdin, gzip decompressed) as one document, which
/// may be one long line: more than [`demandsim::trace::MAX_DOCUMENT_BYTES`]
/// in all is an error.
pub fn open_document(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    Ok(Box::new(Bounded::document(open_raw(path)?)))
}

/// Reads `path` whole as text (`-` is stdin, gzip decompressed), up to
/// [`demandsim::trace::MAX_DOCUMENT_BYTES`]; the error names the file.
pub fn read_document(path: &Path) -> Result<String> {
    read_text(path).with_context(|| format!("cannot read {}", path.display()))
}

/// [`read_document`] with a bare I/O error, for the library's file
/// callbacks (an empirical distribution's samples).
pub fn read_text(path: &Path) -> io::Result<String> {
    let mut text = String::new();
    Bounded::document(open_io(path)?).read_to_string(&mut text)?;
    Ok(text)
}

/// Opens `path` (`-` is stdin, gzip decompressed) with no limit: for a
/// caller that sets its own with [`Bounded`].
pub fn open_raw(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    open_io(path).with_context(|| match path == Path::new("-") {
        true => "cannot read standard input".to_string(),
        false => format!("cannot open {}", path.display()),
    })
}

/// [`open_raw`] without a line limit or the file's name in its error.
fn open_io(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    if path == Path::new("-") {
        return demandsim::trace::decompress_in_background(io::stdin());
    }
    demandsim::trace::decompress_in_background(File::open(path)?)
}

/// An output that appears whole or not at all: a file is written to a
/// temporary sibling and renamed into place by [`Output::commit`]; `None`
/// or `-` is stdout. A path that names a device, a FIFO or a socket
/// (`-o /dev/null`, a named pipe) is written in place, since renaming over
/// it would replace the device with a file; a symbolic link is followed, so
/// the link stays and its target gets the content.
pub struct Output {
    target: Option<(PathBuf, FileSink)>,
    stdout: Option<io::StdoutLock<'static>>,
}

/// The temporary file (or the special file written in place), plain or
/// through gzip.
enum FileSink {
    Plain(BufWriter<Dest>),
    /// Boxed: the zlib-rs encoder's state is far larger than a buffer.
    Gzip(Box<flate2::write::GzEncoder<BufWriter<Dest>>>),
}

/// Where the bytes go before [`Output::commit`].
enum Dest {
    Temporary(tempfile::NamedTempFile),
    InPlace(File),
}

impl Write for Dest {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Dest::Temporary(t) => t.write(buf),
            Dest::InPlace(f) => f.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Dest::Temporary(t) => t.flush(),
            Dest::InPlace(f) => f.flush(),
        }
    }
}

impl Output {
    pub fn create(path: Option<&Path>) -> Result<Self> {
        match path {
            None => Ok(Self {
                target: None,
                stdout: Some(io::stdout().lock()),
            }),
            Some(p) if p == Path::new("-") => Ok(Self {
                target: None,
                stdout: Some(io::stdout().lock()),
            }),
            Some(p) => Self::file(p, false),
        }
    }

    /// Writes `bytes` as the whole file `path`, atomically.
    pub fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
        let mut o = Self::file(path, false)?;
        o.write_all(bytes)?;
        o.commit()
    }

    /// A gzip-compressed file; the gzip trailer is written, and its errors
    /// reported, by [`Output::commit`].
    pub fn create_gzip(path: &Path) -> Result<Self> {
        Self::file(path, true)
    }

    fn file(p: &Path, gzip: bool) -> Result<Self> {
        let (path, dest) = destination(p)?;
        let w = BufWriter::new(dest);
        let sink = if gzip {
            FileSink::Gzip(Box::new(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::default(),
            )))
        } else {
            FileSink::Plain(w)
        };
        Ok(Self {
            target: Some((path, sink)),
            stdout: None,
        })
    }

    /// Flushes and moves the file into place.
    pub fn commit(self) -> Result<()> {
        match self.target {
            Some((path, sink)) => {
                let w = match sink {
                    FileSink::Plain(w) => w,
                    FileSink::Gzip(g) => g
                        .finish()
                        .with_context(|| format!("cannot write {}", path.display()))?,
                };
                let dest = w
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                match dest {
                    Dest::Temporary(tmp) => persist(tmp, &path),
                    Dest::InPlace(_) => Ok(()),
                }
            }
            None => {
                let mut out = self.stdout.expect("stdout output");
                match out.flush() {
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                    r => r.context("cannot write standard output"),
                }
            }
        }
    }
}

/// The path to write and how: in place for anything that exists and is not
/// a regular file or directory, else a temporary sibling of the path (of
/// its target, for a symbolic link).
fn destination(p: &Path) -> Result<(PathBuf, Dest)> {
    if std::fs::metadata(p).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(p)
            .with_context(|| format!("cannot open {} for writing", p.display()))?;
        return Ok((p.to_path_buf(), Dest::InPlace(f)));
    }
    let is_link = std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    let path = match is_link {
        true => std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()),
        false => p.to_path_buf(),
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    super::staging::remove_stale(dir, std::time::SystemTime::now());
    let tmp = tempfile::Builder::new()
        .prefix(&super::staging::own_prefix())
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    super::staging::live(tmp.path());
    Ok((path, Dest::Temporary(tmp)))
}

/// Renames the finished temporary file to `path`, with the mode of the
/// file it replaces (else as an ordinary file).
fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    // Temporary files are created private (0600).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = super::staging::mode_for(path);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .ok();
    }
    super::staging::done(tmp.path());
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match (&mut self.target, &mut self.stdout) {
            (Some((_, FileSink::Plain(w))), _) => w.write(buf),
            (Some((_, FileSink::Gzip(g))), _) => g.write(buf),
            (None, Some(s)) => s.write(buf),
            _ => unreachable!(),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match (&mut self.target, &mut self.stdout) {
            (Some((_, FileSink::Plain(w))), _) => w.flush(),
            (Some((_, FileSink::Gzip(g))), _) => g.flush(),
            (None, Some(s)) => s.flush(),
            _ => unreachable!(),
        }
    }
}

/// The JSON of `estimate --format json`, read back: the fields that
/// `sweep --bind` and `behavior model --demands` take from it.
#[derive(Debug, serde::Deserialize)]
pub struct EstimatesJson {
    /// The estimated resource.
    pub resource: Option<String>,
    /// The recommended method.
    pub recommended: Option<String>,
    /// Method by method, class by class.
    #[serde(default)]
    pub estimates: Vec<EstimateRow>,
    /// The method whose draws follow.
    pub draws_method: Option<String>,
    /// Joint bootstrap draws, class → seconds (`None` without `--draws`).
    pub draws: Option<Vec<std::collections::BTreeMap<String, Option<f64>>>>,
}

/// One estimate of [`EstimatesJson`].
#[derive(Debug, serde::Deserialize)]
pub struct EstimateRow {
    pub method: String,
    pub class: String,
    /// `None` where the method gave no number.
    pub demand_s: Option<f64>,
}

impl EstimatesJson {
    /// Parses the text; the error says what was expected.
    pub fn parse(text: &str) -> Result<Self> {
        serde_json::from_str(text).context("not the JSON of `estimate --format json`")
    }

    /// `asked`, else the recommended method.
    pub fn method(&self, asked: Option<&str>) -> Result<String> {
        asked
            .map(str::to_string)
            .or_else(|| self.recommended.clone())
            .context("no recommended method; give --estimate-method")
    }

    /// (class, demand) of every estimate of `method` that has a number.
    pub fn demands<'a>(&'a self, method: &'a str) -> impl Iterator<Item = (&'a str, f64)> + 'a {
        self.estimates
            .iter()
            .filter(move |e| e.method == method)
            .filter_map(|e| Some((e.class.as_str(), e.demand_s?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `estimate --format json --draws 2` cut to what is read back.
    const ESTIMATES: &str = r#"{
      "resource": "CO1", "servers": 2, "recommended": "rortu",
      "estimates": [
        {"method": "sdl", "class": "a", "demand_s": 0.125, "ci_low_s": 0.12},
        {"method": "rortu", "class": "a", "demand_s": 0.131},
        {"method": "rortu", "class": "b", "demand_s": 0.052},
        {"method": "ur", "class": "b", "demand_s": null}
      ],
      "draws_method": "rortu",
      "draws": [{"a": 0.13, "b": 0.05}, {"a": 0.132}]
    }"#;

    #[test]
    fn estimates_read_back_by_method_and_class_with_their_draws() {
        let e = EstimatesJson::parse(ESTIMATES).unwrap();
        assert_eq!(e.resource.as_deref(), Some("CO1"));
        assert_eq!(e.method(None).unwrap(), "rortu");
        assert_eq!(e.method(Some("sdl")).unwrap(), "sdl");
        let d: Vec<(&str, f64)> = e.demands("rortu").collect();
        assert_eq!(d, [("a", 0.131), ("b", 0.052)]);
        assert_eq!(e.demands("ur").count(), 0, "no number, no demand");
        let bare = EstimatesJson::parse(r#"{"estimates": []}"#).unwrap();
        assert!(bare.method(None).is_err());
        assert!(EstimatesJson::parse("[1, 2]").is_err());
    }
}
