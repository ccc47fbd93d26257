//! `payremind completions SHELL` and `payremind man`: shell completions and the manual page,
//! generated from the command line's own definition (clap), so they never drift from `--help`.

use std::io::Write as _;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Error;

/// Prints the completion script for `shell` on standard output.
///
/// # Errors
/// Standard output cannot be written.
pub fn completions(shell: clap_complete::Shell) -> Result<u8, Error> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "payremind", &mut script);
    write_stdout(&script)
}

/// Prints the manual page (roff) on standard output.
///
/// # Errors
/// The page cannot be rendered, or standard output cannot be written.
pub fn man() -> Result<u8, Error> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(Error::Output)?;
    write_stdout(&page)
}

fn write_stdout(bytes: &[u8]) -> Result<u8, Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(Error::Output)?;
    Ok(0)
}
