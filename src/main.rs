//! The `demandsim` command line: parses arguments, opens files, prints.
//! Everything else lives in the library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging(args.verbose, args.quiet);
    cli::staging::on_interrupt();
    match cli::run(args) {
        Ok(code) => code,
        // A reader that stopped early (`| head`) is not an error.
        Err(err)
            if err.chain().any(|e| {
                let kind = e
                    .downcast_ref::<std::io::Error>()
                    .map(std::io::Error::kind)
                    .or_else(|| e.downcast_ref::<serde_json::Error>()?.io_error_kind());
                kind == Some(std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            // serde's words for what it expected are the names of types.
            eprintln!(
                "error: {}",
                demandsim::words::serde_words(&format!("{err:#}"))
            );
            if err.downcast_ref::<cli::UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
