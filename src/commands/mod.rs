//! The commands a seller types, one module each: each reads its settings, runs the pipeline's
//! stages it needs in order, and returns its exit code. [`crate::run`] picks one.
//!
//! | command | module | stages |
//! | --- | --- | --- |
//! | `run` | [`run`] | config, ingest, decide, render, deliver (with `--send`), output, ledger |
//! | `check` | [`check`] | config, render (every template), ingest: what would be read |
//! | `init` | [`init`] | ingest (headers and statuses of `--from`): a starter config |
//! | `history` | [`history`] | ledger: what was sent |
//! | `forget` | [`forget`] | ledger: undo a wrong bounce or a given-up order |
//! | `suppress` | [`suppress`] | ledger: the addresses that get no reminder ([`crate::unsubscribe`] reads the files) |
//! | `report` | [`report`] | ingest (with `--orders`), ledger, [`crate::recovery`]: what the reminders earned |

pub mod check;
pub mod completions;
pub mod forget;
pub mod history;
pub mod init;
pub mod report;
pub mod run;
pub mod suppress;

use std::io::Write;

use crate::error::Error;

/// Writes `text` to stdout, mapping a failure to [`Error::Output`].
fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = anstream::stdout().lock();
    out.write_all(paint(text).as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}

/// Report lines coloured by what they say: `problem:` and `not ready` red, `warning:` yellow,
/// `ok:` green. The colour codes are dropped on the way out unless `--color` and the terminal
/// allow them ([`anstream`]), so files, pipes and cron logs get the plain text.
fn paint(text: &str) -> String {
    let red = anstyle::AnsiColor::Red.on_default().bold();
    let yellow = anstyle::AnsiColor::Yellow.on_default();
    let green = anstyle::AnsiColor::Green.on_default().bold();
    let mut painted = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let style = if line.starts_with("problem:") || line.starts_with("not ready") {
            Some(red)
        } else if line.starts_with("warning:") {
            Some(yellow)
        } else if line.starts_with("ok:") {
            Some(green)
        } else {
            None
        };
        match style {
            Some(style) => {
                let body = line.trim_end_matches('\n');
                painted.push_str(&format!("{style}{body}{style:#}"));
                painted.push_str(&line[body.len()..]);
            }
            None => painted.push_str(line),
        }
    }
    painted
}
