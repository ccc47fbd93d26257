//! The `payremind` binary: parse the command line, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = payremind::cli::Cli::parse();
    match payremind::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // Colour only where `--color` and the terminal allow (anstream strips it elsewhere).
            let red = anstyle::AnsiColor::Red.on_default().bold();
            anstream::eprintln!("payremind: {red}error:{red:#} {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
