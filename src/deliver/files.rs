//! The two transports that need no mail server: `outbox` writes each message as an `.eml` file
//! into a folder (for review, or for another tool to pick up), `sendmail` hands it to the local
//! MTA's sendmail program, the usual cron set-up.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::mail::Mail;
use super::smtp::Delivered;

/// Writes the message into `dir` as `<Message-ID>.eml`, atomically (a temporary file renamed),
/// so a reader never sees half a message. Writing the same step again replaces nothing.
pub fn outbox(dir: &Path, mail: &Mail) -> Delivered {
    let name: String = mail
        .message_id
        .trim_matches(|c| c == '<' || c == '>')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '=' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(format!("{name}.eml"));
    if path.exists() {
        return Delivered::Sent(format!("already in the outbox: {}", path.display()));
    }
    let tmp = dir.join(format!(".{name}.tmp"));
    let result = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&tmp, &mail.bytes))
        .and_then(|()| std::fs::rename(&tmp, &path));
    match result {
        Ok(()) => Delivered::Sent(format!("written to {}", path.display())),
        Err(e) => Delivered::Failed(format!("cannot write {}: {e}", path.display())),
    }
}

/// Pipes the message to `sendmail -i -f <sender> -- <recipient>`. Exit status 0 means the
/// local MTA took it; anything else means it did not.
pub fn sendmail(program: &Path, mail: &Mail) -> Delivered {
    let child = Command::new(program)
        .arg("-i")
        .arg("-f")
        .arg(&mail.from)
        .arg("--")
        .arg(&mail.to)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            return Delivered::Failed(format!(
                "cannot run {}: {e}; install a local MTA or set [delivery].sendmail",
                program.display()
            ));
        }
    };
    let written = child
        .stdin
        .take()
        .map(|mut stdin| stdin.write_all(&mail.bytes));
    match child.wait_with_output() {
        Ok(out) if out.status.success() && matches!(written, Some(Ok(()))) => {
            Delivered::Sent(format!("handed to {}", program.display()))
        }
        Ok(out) => Delivered::Failed(format!(
            "{} refused the message ({}): {}",
            program.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Delivered::Unknown(format!("{} did not finish: {e}", program.display())),
    }
}
