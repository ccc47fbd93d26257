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

pub mod check;
pub mod completions;
pub mod forget;
pub mod history;
pub mod init;
pub mod run;

use std::io::{self, Write};

use crate::error::Error;

/// Writes `text` to stdout, mapping a failure to [`Error::Output`].
fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}
