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

/// Pipes the message to `sendmail -i -f <sender> -- <recipient>`. Exit status 0, after taking
/// the whole message, means the local MTA took it; another exit status means it refused it.
/// Anything in between is `unknown` (it may have queued the message): a program stopped by a
/// signal, one that exits 0 without reading the whole message, and one still running after
/// `[delivery].sendmail_timeout`, which is stopped (and the run with it: [`Delivered::Stuck`]).
///
/// The message goes through a pipe, of which this process keeps the reading end open too:
/// once the program has ended, what it did not read is still in the pipe (`FIONREAD`), however
/// it read (its standard input, or `/dev/stdin` opened again, which for a pipe is the same
/// pipe; a file's position would not tell, as a new opening reads from its own).
fn sendmail(sendmail: &Sendmail, mail: &Mail) -> Delivered {
    let program = sendmail.program.display();
    let pipe = std::io::pipe().and_then(|(reader, writer)| {
        let theirs = reader.try_clone()?;
        Ok((reader, writer, theirs))
    });
    let (reader, writer, theirs) = match pipe {
        Ok(pipe) => pipe,
        Err(e) => return Delivered::Failed(format!("cannot hand the message to {program}: {e}")),
    };
    let child = Command::new(&sendmail.program)
        .arg("-i")
        .arg("-f")
        .arg(&mail.from)
        .arg("--")
        .arg(&mail.to)
        .stdin(Stdio::from(theirs))
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
    let deadline = std::time::Instant::now() + sendmail.timeout;
    let fed = feed(&mut child, writer, &mail.bytes, deadline);
    let all_written = matches!(fed, Ok((true, _)));
    let left = deadline.saturating_duration_since(std::time::Instant::now());
    let status = match fed {
        Ok((_, Some(status))) => Ok(Some(status)),
        Ok((_, None)) => child.wait_timeout(left),
        Err(e) => Err(e),
    };
    let status = match status {
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
    // Everything was written into the pipe (`fed` ended with the program still running) and
    // nothing is left in it: the program read it all.
    let complete = all_written && unread(&reader) == Some(0);
    drop(reader);
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

/// Writes `bytes` into the pipe as fast as the program reads them, then closes it (the
/// program's end of input). Says whether all was written, and the program's status if it
/// ended meanwhile; `Err`: it could not be waited for. The write end does not block, so a
/// program that stops reading (or hangs) is noticed, and stopped at `deadline` by the caller.
fn feed(
    child: &mut std::process::Child,
    mut writer: std::io::PipeWriter,
    bytes: &[u8],
    deadline: std::time::Instant,
) -> std::io::Result<(bool, Option<std::process::ExitStatus>)> {
    nonblocking(&writer)?;
    let mut written = 0;
    while written < bytes.len() {
        match writer.write(&bytes[written..]) {
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(status) = child.try_wait()? {
                    return Ok((false, Some(status)));
                }
                if std::time::Instant::now() >= deadline {
                    // The caller's wait ends at once and stops the program.
                    return Ok((false, None));
                }
                writable(&writer, Duration::from_millis(20));
            }
            // The pipe broke (it cannot while this process holds its reading end): the
            // message was not all handed over.
            Err(_) => return Ok((false, None)),
        }
    }
    Ok((true, None))
}

#[cfg(unix)]
fn nonblocking(writer: &std::io::PipeWriter) -> std::io::Result<()> {
    rustix::io::ioctl_fionbio(writer, true).map_err(std::io::Error::from)
}

#[cfg(not(unix))]
fn nonblocking(_: &std::io::PipeWriter) -> std::io::Result<()> {
    Ok(())
}

/// Waits until the pipe takes more, at most `tick`.
#[cfg(unix)]
fn writable(writer: &std::io::PipeWriter, tick: Duration) {
    use rustix::event::{PollFd, PollFlags, Timespec};
    let mut fds = [PollFd::new(writer, PollFlags::OUT)];
    let timeout = Timespec::try_from(tick).ok();
    let _ = rustix::event::poll(&mut fds, timeout.as_ref());
}

#[cfg(not(unix))]
fn writable(_: &std::io::PipeWriter, tick: Duration) {
    std::thread::sleep(tick);
}

/// Bytes still in the pipe, unread by the program; `None` when it cannot be told.
#[cfg(unix)]
fn unread(reader: &std::io::PipeReader) -> Option<u64> {
    rustix::io::ioctl_fionread(reader).ok()
}

#[cfg(not(unix))]
fn unread(_: &std::io::PipeReader) -> Option<u64> {
    None
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
