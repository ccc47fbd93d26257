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

/// Pipes the message to `sendmail -i -f <sender> -- <recipient>`. Exit status 0, after taking
/// the whole message, means the local MTA took it; another exit status means it refused it.
/// Anything in between is `unknown` (it may have queued the message): a program stopped by a
/// signal, one that exits 0 without reading the whole message, and one still running after
/// `[delivery].sendmail_timeout`, which is stopped (and the run with it: [`Delivered::Stuck`]).
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
    // The message is written and the program's complaints read on threads of their own: a
    // program that reads nothing, or writes much before it reads, must not stall the run; nor
    // must a process it leaves behind holding the pipes.
    let (wrote, written) = mpsc::channel();
    if let Some(mut stdin) = child.stdin.take() {
        let bytes = mail.bytes.clone();
        std::thread::spawn(move || wrote.send(stdin.write_all(&bytes).is_ok()));
    }
    let (said, complaint) = mpsc::channel();
    if let Some(stderr) = child.stderr.take() {
        std::thread::spawn(move || said.send(last_words(stderr)));
    }
    let status = match child.wait_timeout(sendmail.timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            return Delivered::Stuck(format!(
                "{program} did not finish within {}, so it was stopped; it may have queued the message: check the mail log (raise [delivery].sendmail_timeout if it is just slow)",
                humantime::format_duration(sendmail.timeout)
            ));
        }
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Delivered::Unknown(format!("{program} could not be waited for: {e}"));
        }
    };
    let wait = Duration::from_secs(1);
    let complete = written.recv_timeout(wait).unwrap_or(false);
    let said = || complaint.recv_timeout(wait).unwrap_or_default();
    match status.code() {
        Some(0) if complete => Delivered::Sent(format!("handed to {program}")),
        Some(0) => Delivered::Unknown(format!(
            "{program} ended without taking the whole message; it may have queued part of it: check the mail log"
        )),
        Some(_) => Delivered::Failed(format!(
            "{program} refused the message ({status}): {}",
            said()
        )),
        None => Delivered::Unknown(format!(
            "{program} was stopped ({status}); it may have queued the message: check the mail log. {}",
            said()
        )),
    }
}

/// The end of what a program writes to `stream`, read to its end (a program whose pipe is
/// closed early dies of SIGPIPE): the last few KiB, where the reason usually is.
fn last_words(mut stream: impl Read) -> String {
    const KEEP: usize = 4 * 1024;
    let mut kept = Vec::new();
    let mut chunk = [0u8; 8 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Ok(0) | Err(_) => break,
            Ok(n) => {
                kept.extend_from_slice(&chunk[..n]);
                if kept.len() > 2 * KEEP {
                    kept.drain(..kept.len() - KEEP);
                }
            }
        }
    }
    let start = kept.len().saturating_sub(KEEP);
    String::from_utf8_lossy(&kept[start..]).trim().to_owned()
}
