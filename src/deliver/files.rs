//! The two transports that need no mail server: `outbox` writes each message as an `.eml` file
//! into a folder (for review, or for another tool to pick up), `sendmail` hands it to the local
//! MTA's sendmail program, the usual cron set-up.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use wait_timeout::ChildExt;

use super::mail::Mail;
use super::smtp::Delivered;
use crate::config::Sendmail;

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
/// local MTA took it; anything else means it did not. A program still running after
/// `[delivery].sendmail_timeout` is stopped, and the message counts as maybe sent (`unknown`):
/// it may have queued it before it hung.
pub fn sendmail(sendmail: &Sendmail, mail: &Mail) -> Delivered {
    let program = sendmail.program.display();
    let child = Command::new(&sendmail.program)
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
                "cannot run {program}: {e}; install a local MTA or set [delivery].sendmail"
            ));
        }
    };
    // The message is written and the complaints read on threads of their own: a program that
    // reads nothing, or writes much before it reads, must not stall the run; nor must a
    // process it leaves behind holding the pipes.
    let (wrote, written) = mpsc::channel();
    if let Some(mut stdin) = child.stdin.take() {
        let bytes = mail.bytes.clone();
        std::thread::spawn(move || wrote.send(stdin.write_all(&bytes).is_ok()));
    }
    let (said, complaint) = mpsc::channel();
    if let Some(stderr) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = stderr.take(16 * 1024).read_to_end(&mut text);
            said.send(String::from_utf8_lossy(&text).trim().to_owned())
        });
    }
    let status = match child.wait_timeout(sendmail.timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            return Delivered::Unknown(format!(
                "{program} did not finish within {}, so it was stopped; it may have queued the message: check the mail log (raise [delivery].sendmail_timeout if it is just slow)",
                humantime::format_duration(sendmail.timeout)
            ));
        }
        Err(e) => return Delivered::Unknown(format!("{program} did not finish: {e}")),
    };
    let wait = Duration::from_secs(1);
    let complete = written.recv_timeout(wait).unwrap_or(false);
    if status.success() && complete {
        Delivered::Sent(format!("handed to {program}"))
    } else {
        let complaint = complaint.recv_timeout(wait).unwrap_or_default();
        Delivered::Failed(format!(
            "{program} refused the message ({status}): {complaint}"
        ))
    }
}
