//! Files and streams: the only place that opens paths.

use std::fs::File;
use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Opens `path` for reading (`-` is stdin), decompressing gzip.
pub fn open_input(path: &Path) -> Result<Box<dyn BufRead>> {
    if path == Path::new("-") {
        return demandsim::trace::decompress(io::stdin().lock())
            .context("cannot read standard input");
    }
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    demandsim::trace::decompress(file).with_context(|| format!("cannot read {}", path.display()))
}

/// An output that appears whole or not at all: a file is written to a
/// temporary sibling and renamed into place by [`Output::commit`]; `None`
/// or `-` is stdout.
pub struct Output {
    target: Option<(PathBuf, FileSink)>,
    stdout: Option<io::StdoutLock<'static>>,
}

/// The temporary file, written plain or through gzip.
enum FileSink {
    Plain(BufWriter<tempfile::NamedTempFile>),
    /// Boxed: the zlib-rs encoder's state is far larger than a buffer.
    Gzip(Box<flate2::write::GzEncoder<BufWriter<tempfile::NamedTempFile>>>),
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
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(".demandsim-")
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a file in {}", dir.display()))?;
        let w = BufWriter::new(tmp);
        let sink = if gzip {
            FileSink::Gzip(Box::new(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::default(),
            )))
        } else {
            FileSink::Plain(w)
        };
        Ok(Self {
            target: Some((p.to_path_buf(), sink)),
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
                let tmp = w
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                // Temporary files are created private (0600); the result is
                // an ordinary file.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    tmp.as_file()
                        .set_permissions(std::fs::Permissions::from_mode(0o644))
                        .ok();
                }
                tmp.persist(&path)
                    .map_err(|e| e.error)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Ok(())
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
