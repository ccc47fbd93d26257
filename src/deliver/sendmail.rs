//! The `sendmail` transport: each message is piped to the local MTA's sendmail program, the
//! usual cron set-up. Needs no mail server of its own; a hung program is stopped, and one that
//! ends without reading the whole message leaves it `unknown`.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use wait_timeout::ChildExt;

use super::mail::Mail;
use super::{BoxFuture, Delivered, HandOver, Transport};
use crate::config::Sendmail;

/// Hands each message to the sendmail program, one at a time, off the runtime's thread.
pub struct Program {
    sendmail: Sendmail,
}

impl Program {
    /// The program and its timeout, as `[delivery]` says.
    #[must_use]
    pub fn new(sendmail: Sendmail) -> Program {
        Program { sendmail }
    }
}

impl Transport for Program {
    fn deliver<'a>(
        &'a mut self,
        mail: &'a Mail,
        mut hand_over: HandOver<'a>,
    ) -> BoxFuture<'a, Delivered> {
        Box::pin(async move {
            if !hand_over.recorded().await {
                return Delivered::unrecorded();
            }
            let program = self.sendmail.clone();
            let mail = mail.clone();
            tokio::task::spawn_blocking(move || sendmail(&program, &mail))
                .await
                .unwrap_or_else(|e| Delivered::Unknown(e.to_string()))
        })
    }
}

/// The message as the program's standard input: a file of its own, deleted at once (only this
/// run and the program hold it), not a pipe. The program reads through the descriptor it
/// shares with us, so once it has ended, our position in the file says how much it read: a
/// pipe's buffer takes a whole message whether or not the program reads it.
fn message_file(mail: &Mail) -> std::io::Result<std::fs::File> {
    use std::io::Seek;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let path = std::env::temp_dir().join(format!(
        "payremind-{}-{}.eml",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let mut file = options.open(&path)?;
    let written = file.write_all(&mail.bytes).and_then(|()| file.rewind());
    let _ = std::fs::remove_file(&path);
    written.map(|()| file)
}

/// Pipes the message to `sendmail -i -f <sender> -- <recipient>`. Exit status 0, after taking
/// the whole message, means the local MTA took it; another exit status means it refused it.
/// Anything in between is `unknown` (it may have queued the message): a program stopped by a
/// signal, one that exits 0 without reading the whole message, and one still running after
/// `[delivery].sendmail_timeout`, which is stopped (and the run with it: [`Delivered::Stuck`]).
fn sendmail(sendmail: &Sendmail, mail: &Mail) -> Delivered {
    use std::io::Seek;
    let program = sendmail.program.display();
    let mut message = match message_file(mail) {
        Ok(file) => file,
        Err(e) => {
            return Delivered::Failed(format!(
                "cannot write the message for {program} into {}: {e}",
                std::env::temp_dir().display()
            ));
        }
    };
    let stdin = match message.try_clone() {
        Ok(file) => Stdio::from(file),
        Err(e) => return Delivered::Failed(format!("cannot hand the message to {program}: {e}")),
    };
    let child = Command::new(&sendmail.program)
        .arg("-i")
        .arg("-f")
        .arg(&mail.from)
        .arg("--")
        .arg(&mail.to)
        .stdin(stdin)
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
    // The program's complaints are read on a thread of their own: a program that writes much
    // must not stall the run; nor must a process it leaves behind holding the pipe.
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
    // How far the program read (its reading moved the position it shares with us).
    let complete = message
        .stream_position()
        .is_ok_and(|read| read >= mail.bytes.len() as u64);
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
