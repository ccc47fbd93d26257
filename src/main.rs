//! The `payremind` binary: parse the command line, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = payremind::cli::Cli::parse();
    match payremind::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("payremind: error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
