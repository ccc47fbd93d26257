//! A real SMTP server process for the tests (tests/smtp/server.py, aiosmtpd) on 127.0.0.1,
//! started per test and killed when dropped. It runs on the Python that [`python`] finds.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The Python that has aiosmtpd and trustme: PAYREMIND_TEST_PYTHON if set (`tests/run` sets
/// it), else the one `tests/install-smtp` installs, so that plain `cargo test` works too.
/// Found once per test process; if that fails, every test that asks panics with the reason.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = PYTHON.get_or_init(|| {
        if let Some(python) = std::env::var_os("PAYREMIND_TEST_PYTHON") {
            return Ok(python.into());
        }
        let install = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/install-smtp");
        // Its stderr (pip's errors, say) goes straight to the terminal, once.
        let output = Command::new(&install)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("could not run {}: {e}", install.display()))?;
        if !output.status.success() {
            return Err(format!("{} failed ({})", install.display(), output.status));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().into())
    });
    match found {
        Ok(python) => python,
        Err(failure) => panic!(
            "{failure}: run tests/run, which installs the test SMTP server (aiosmtpd) from PyPI"
        ),
    }
}

pub struct SmtpServer {
    pub port: u16,
    pub maildir: PathBuf,
    pub tls_dir: PathBuf,
    child: Child,
}

/// A message the server accepted.
pub struct Received {
    pub raw: Vec<u8>,
    pub rcpt_tos: Vec<String>,
    pub authenticated: bool,
    /// The client sent DATA before the server answered RCPT (PIPELINING).
    pub pipelined: bool,
    /// The name the client gave in EHLO (or HELO).
    pub ehlo: String,
    /// When the server took the message (seconds since 1970).
    pub received_at: f64,
}

/// A Message-ID without its ledger tag, `<payremind.ORDER.STEP@domain>`, after checking that
/// the tag is there (12 hex digits before the `@`).
pub fn untagged(id: &str) -> String {
    let (left, domain) = id.rsplit_once('@').expect("an @ in the Message-ID");
    let (rest, tag) = left.rsplit_once('.').expect("a ledger tag");
    assert!(
        tag.len() == 12 && tag.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id} has no ledger tag"
    );
    format!("{rest}@{domain}")
}

/// The text/plain part of a message, decoded (the message itself when it has no parts).
pub fn text_part(raw: &[u8]) -> String {
    let mail = mailparse::parse_mail(raw).expect("a well-formed message");
    let part = if mail.subparts.is_empty() {
        &mail
    } else {
        mail.subparts
            .iter()
            .find(|p| p.ctype.mimetype == "text/plain")
            .expect("a text/plain part")
    };
    part.get_body().expect("a decodable body")
}

impl Received {
    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(&self.raw).expect("a well-formed message")
    }

    pub fn header(&self, name: &str) -> String {
        use mailparse::MailHeaderMap;
        self.parsed()
            .headers
            .get_first_value(name)
            .unwrap_or_default()
    }

    /// The text/plain part, decoded.
    pub fn text(&self) -> String {
        text_part(&self.raw)
    }
}

impl SmtpServer {
    /// Starts the server with extra flags (`--tls-dir` is filled in by `tls`).
    pub fn start(dir: &Path, tls: bool, implicit_tls: bool, auth: Option<&str>) -> SmtpServer {
        Self::start_with(dir, tls, implicit_tls, auth, &[])
    }

    /// [`SmtpServer::start`] with extra server flags (`--max-sessions 2`).
    pub fn start_with(
        dir: &Path,
        tls: bool,
        implicit_tls: bool,
        auth: Option<&str>,
        extra: &[&str],
    ) -> SmtpServer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/server.py");
        let maildir = dir.join("received");
        let tls_dir = dir.join("tls");
        let mut cmd = Command::new(python());
        cmd.arg(script).arg("--maildir").arg(&maildir);
        if tls {
            cmd.arg("--tls-dir").arg(&tls_dir);
        }
        if implicit_tls {
            cmd.arg("--implicit-tls");
        }
        if let Some(auth) = auth {
            cmd.arg("--auth").arg(auth);
        }
        cmd.args(extra);
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Its own log (TLS handshake tracebacks and the like), kept beside the mail it got.
            .stderr(
                std::fs::File::create(dir.join("server.log"))
                    .map_or_else(|_| Stdio::null(), Stdio::from),
            )
            .spawn()
            .expect("start tests/smtp/server.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read READY");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server did not start: {line:?}"));
        SmtpServer {
            port,
            maildir,
            tls_dir,
            child,
        }
    }

    /// How many times a `tempfail-N.` recipient has been refused so far.
    pub fn tempfails(&self) -> usize {
        self.logged("tempfails.log")
    }

    /// How many connections were refused (421) for `--max-sessions` or `--sessions-ever`.
    pub fn refusals(&self) -> usize {
        self.logged("refusals.log")
    }

    /// Waits until a `hold` message is being held (its data received, its reply withheld
    /// until [`SmtpServer::release`]). Panics after 60 s: the run never got there.
    pub fn wait_held(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while self.logged("held.log") == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "no message was held within 60 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Lets the held messages (and every later `hold` one) be accepted.
    pub fn release(&self) {
        std::fs::write(self.maildir.join("release"), b"").expect("write release");
    }

    fn logged(&self, name: &str) -> usize {
        std::fs::read_to_string(self.maildir.join(name))
            .map(|log| log.lines().count())
            .unwrap_or(0)
    }

    /// Every message accepted so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.maildir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        names.sort();
        names
            .into_iter()
            .map(|eml| {
                let envelope: serde_json::Value = serde_json::from_slice(
                    &std::fs::read(eml.with_extension("json")).expect("envelope"),
                )
                .expect("envelope JSON");
                Received {
                    raw: std::fs::read(&eml).expect("message"),
                    rcpt_tos: envelope["rcpt_tos"]
                        .as_array()
                        .expect("rcpt_tos")
                        .iter()
                        .map(|v| v.as_str().unwrap_or_default().to_owned())
                        .collect(),
                    authenticated: envelope["auth"].as_bool().unwrap_or(false),
                    pipelined: envelope["pipelined"].as_bool().unwrap_or(false),
                    ehlo: envelope["ehlo"].as_str().unwrap_or_default().to_owned(),
                    received_at: envelope["received_at"].as_f64().unwrap_or_default(),
                }
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
