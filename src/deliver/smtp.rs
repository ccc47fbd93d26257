//! SMTP delivery: lettre speaks the protocol (STARTTLS, TLS, AUTH, the DATA encoding); this
//! module owns the socket and the connections. lettre 0.11.23 leaves Nagle's algorithm on and
//! writes the end-of-data dot apart from the body, so each message would wait for the server's
//! delayed ACK (about 43 ms: 23 messages/s per connection). Opening the TCP socket here with
//! `TCP_NODELAY` and handing it to lettre removes that stall.
//!
//! Each transaction is driven step by step (MAIL, RCPT, DATA, the message) so that a failure
//! is classified by where it happened: before the message is handed over nothing was sent and
//! a retry is safe; once the body is on the wire, a broken connection means *maybe sent*, and
//! that is never retried silently.
//!
//! Fewer writes and round trips per message (each costs a system call on both sides and, per
//! round trip, a wake-up): when the server offers PIPELINING (RFC 2920), MAIL, RCPT and DATA
//! go out in one write and their three replies are read after it; the dot-stuffed message and
//! its end-of-data dot go out in one write too (lettre 0.11 writes them apart). Both go through
//! lettre's `command`, which writes what it is given in one piece and reads one reply; the
//! pipelined replies after the first are read with `read_response`. The classification above
//! does not change: the envelope's replies all come before the message leaves.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use tokio::net::TcpStream;

use super::{BoxFuture, Delivered, HandOver, Recorded, Secret, Transport, Transports, mail};
use crate::config::{PasswordSource, Security, Smtp};
use crate::error::Error;

/// The SMTP transports of a sending run: `max_connections` connections to the server, paced
/// by `rate_limit`. Reads the password now, so that a missing one stops the run before any
/// message is handed over.
///
/// # Errors
/// A login is configured and the password is not there.
pub fn transports(settings: &Smtp) -> Result<Transports, Error> {
    let password = password(settings)?.map(Arc::new);
    let mut shared = settings.clone();
    // Found once per run: the name is the machine's, not the connection's.
    shared.helo_name = Some(helo_name(settings));
    let shared = Arc::new(shared);
    Ok(Transports::new(
        settings.max_connections,
        settings.rate_limit,
        move || Box::new(Connection::new(Arc::clone(&shared), password.clone())),
    ))
}

/// The name payremind gives in EHLO: `[smtp] helo_name`, else this machine's fully qualified
/// name ([`fqdn`]). Servers that check it want a name with a dot.
#[must_use]
pub fn helo_name(settings: &Smtp) -> String {
    settings.helo_name.clone().unwrap_or_else(fqdn)
}

/// This machine's fully qualified name, found without asking DNS: the host name when it has a
/// dot; else the name `/etc/hosts` gives it (the first name on the line that lists the host
/// name, when that one has a dot: what `hostname --fqdn` finds on most systems); else the bare
/// host name (then `check` suggests `[smtp] helo_name`), else `localhost`.
#[must_use]
pub fn fqdn() -> String {
    let short = hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    if short.contains('.') {
        return short;
    }
    std::fs::read_to_string("/etc/hosts")
        .ok()
        .and_then(|hosts| fqdn_in_hosts(&hosts, &short))
        .unwrap_or(short)
}

/// The fully qualified name `/etc/hosts` gives `short`: the first name with a dot on a line
/// that lists `short` (as the canonical name or an alias).
fn fqdn_in_hosts(hosts: &str, short: &str) -> Option<String> {
    hosts.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or_default();
        let names: Vec<&str> = line.split_whitespace().skip(1).collect();
        let lists = names.iter().any(|n| {
            n.eq_ignore_ascii_case(short)
                || n.split('.')
                    .next()
                    .is_some_and(|l| l.eq_ignore_ascii_case(short))
        });
        lists
            .then(|| names.iter().find(|n| n.contains('.') && !n.ends_with('.')))
            .flatten()
            .map(|n| (*n).to_owned())
    })
}

/// A password file other users of the computer can read is a password they can read: say so
/// (on stderr, once per run), without stopping the run.
#[cfg(unix)]
fn warn_if_readable_by_others(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            eprintln!(
                "payremind: warning: [smtp].password_file {} can be read by other users of this computer (mode {mode:o}); make it yours only: chmod 600 {}",
                path.display(),
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &std::path::Path) {}

/// Reads the SMTP password from where `[smtp]` says it is. Only called when sending.
///
/// # Errors
/// A login is configured and the password is not there.
pub fn password(smtp: &Smtp) -> Result<Option<Secret>, Error> {
    if smtp.username.is_none() {
        return Ok(None);
    }
    let setting = |message: String| Error::Secret { message };
    match &smtp.password {
        PasswordSource::Env(name) => match std::env::var(name) {
            Ok(value) if !value.is_empty() => Ok(Some(Secret::new(value))),
            _ => Err(setting(format!(
                "the SMTP password is not set: export {name} (for cron, in an environment file the crontab line sources), or set [smtp].password_file"
            ))),
        },
        PasswordSource::File(path) => match std::fs::read_to_string(path) {
            Ok(text) if !text.trim().is_empty() => {
                warn_if_readable_by_others(path);
                Ok(Some(Secret::new(
                    text.lines().next().unwrap_or_default().to_owned(),
                )))
            }
            Ok(_) => Err(setting(format!(
                "[smtp].password_file {} is empty",
                path.display()
            ))),
            Err(e) => Err(setting(format!(
                "cannot read [smtp].password_file {}: {e}",
                path.display()
            ))),
        },
    }
}

impl Transport for Connection {
    fn deliver<'a>(
        &'a mut self,
        mail: &'a mail::Mail,
        hand_over: HandOver<'a>,
    ) -> BoxFuture<'a, Delivered> {
        Box::pin(self.deliver_with_retries(
            mail,
            hand_over.stop,
            hand_over.idle,
            hand_over.recorded,
        ))
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(self.quit())
    }
}

/// Where a transaction failed.
enum Failure {
    /// Before the message was handed over; a retry is safe. `permanent` for 5xx replies;
    /// `refusal` says whom a 5xx blames.
    Before {
        reason: String,
        permanent: bool,
        refusal: Refusal,
        broken: bool,
    },
    /// The ledger could not record the intent: the message was not handed over and must not
    /// be; the connection, in the DATA phase, is to be closed without a word.
    Unrecorded,
    /// After the message was handed over.
    After {
        reason: String,
        transient: bool,
        permanent: bool,
    },
}

/// Why a connection could not be opened.
enum Opening {
    /// It may work on the next try (refused, timed out, 4xx).
    Retry(String),
    /// It will not (login refused, certificate not trusted, no STARTTLS).
    Fatal(String),
}

impl From<String> for Opening {
    fn from(reason: String) -> Self {
        Opening::Retry(reason)
    }
}

/// One SMTP connection, reconnected as needed.
pub struct Connection {
    settings: Arc<Smtp>,
    password: Option<Arc<Secret>>,
    conn: Option<AsyncSmtpConnection>,
    /// The server of `conn` offers PIPELINING.
    pipelining: bool,
}

impl Connection {
    /// A connection (opened lazily, at the first message).
    #[must_use]
    pub fn new(settings: Arc<Smtp>, password: Option<Arc<Secret>>) -> Self {
        Connection {
            settings,
            password,
            conn: None,
            pipelining: false,
        }
    }

    fn tls(&self) -> Result<TlsParameters, String> {
        let mut builder = TlsParameters::builder(self.settings.host.clone());
        if let Some(path) = &self.settings.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read [smtp].ca_file {}: {e}", path.display()))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| {
                format!(
                    "[smtp].ca_file {} is not a PEM certificate: {e}",
                    path.display()
                )
            })?;
            builder = builder.add_root_certificate(cert);
        }
        builder.build().map_err(|e| crate::error::chain(&e))
    }

    /// A rustls client for implicit TLS: the usual public roots, plus `ca_file`.
    fn implicit_tls(
        &self,
    ) -> Result<
        (
            tokio_rustls::TlsConnector,
            rustls_pki_types::ServerName<'static>,
        ),
        String,
    > {
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = &self.settings.ca_file {
            let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read [smtp].ca_file {}: {e}", path.display()))?;
            for cert in certs {
                let cert = cert.map_err(|e| {
                    format!(
                        "[smtp].ca_file {} is not a PEM certificate: {e}",
                        path.display()
                    )
                })?;
                roots.add(cert).map_err(|e| {
                    format!("[smtp].ca_file {} cannot be trusted: {e}", path.display())
                })?;
            }
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name =
            rustls_pki_types::ServerName::try_from(self.settings.host.clone()).map_err(|e| {
                format!(
                    "[smtp].host {:?} is not a server name: {e}",
                    self.settings.host
                )
            })?;
        Ok((
            tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)),
            name,
        ))
    }

    /// Connects, says EHLO (and STARTTLS, AUTH as configured); also whether the server offers
    /// PIPELINING.
    async fn open(&self) -> Result<(AsyncSmtpConnection, bool), Opening> {
        let s = &self.settings;
        let hello = ClientId::Domain(helo_name(s));
        let wait = s.timeout;
        let mut conn = match s.security {
            Security::Tls => {
                // TLS from the first byte, over our own socket (TCP_NODELAY, as below): lettre's
                // own implicit-TLS connect would stall ~40 ms on every message.
                let tcp = timed(wait, TcpStream::connect((s.host.as_str(), s.port)))
                    .await?
                    .map_err(|e| format!("cannot connect to {}:{}: {e}", s.host, s.port))?;
                tcp.set_nodelay(true)
                    .map_err(|e| format!("cannot set TCP_NODELAY: {e}"))?;
                let (connector, name) = self.implicit_tls().map_err(Opening::Fatal)?;
                let tls = timed(wait, connector.connect(name, tcp)).await?.map_err(|e| {
                    if e.kind() == std::io::ErrorKind::InvalidData {
                        Opening::Fatal(format!(
                            "TLS with {} failed: {e}; if it uses its own certificate, trust it with [smtp].ca_file",
                            s.host
                        ))
                    } else {
                        Opening::Retry(format!("TLS with {} failed: {e}", s.host))
                    }
                })?;
                timed(
                    wait,
                    AsyncSmtpConnection::connect_with_transport(Box::new(TlsSocket(tls)), &hello),
                )
                .await?
                .map_err(|e| crate::error::chain(&e))?
            }
            Security::StartTls | Security::None => {
                let tcp = timed(wait, TcpStream::connect((s.host.as_str(), s.port)))
                    .await?
                    .map_err(|e| format!("cannot connect to {}:{}: {e}", s.host, s.port))?;
                tcp.set_nodelay(true)
                    .map_err(|e| format!("cannot set TCP_NODELAY: {e}"))?;
                let mut conn = timed(
                    wait,
                    AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello),
                )
                .await?
                .map_err(|e| crate::error::chain(&e))?;
                if s.security == Security::StartTls {
                    if !conn.can_starttls() {
                        return Err(Opening::Fatal(format!(
                            "{} does not offer STARTTLS; set [smtp].security = \"tls\" or, for a relay on this machine, \"none\"",
                            s.host
                        )));
                    }
                    let tls = self.tls().map_err(Opening::Fatal)?;
                    timed(wait, conn.starttls(tls, &hello))
                        .await?
                        .map_err(|e| {
                            let reason = crate::error::chain(&e);
                            if e.is_tls() || reason.contains("certificate") { Opening::Fatal(format!("TLS with {} failed: {reason}; if it uses its own certificate, trust it with [smtp].ca_file", s.host)) } else { Opening::Retry(reason) }
                        })?;
                }
                conn
            }
        };
        // lettre keeps only the EHLO keywords it uses itself, not PIPELINING: ask again (EHLO
        // may be repeated, RFC 5321 4.1.4) and read the keyword ourselves. Before AUTH, which
        // a new EHLO might forget on some servers.
        let pipelining = match timed(wait, conn.command(Ehlo::new(hello.clone()))).await? {
            Ok(ehlo) => ehlo.message().skip(1).any(|line| {
                line.split_whitespace()
                    .next()
                    .is_some_and(|word| word.eq_ignore_ascii_case("PIPELINING"))
            }),
            // A server that will not say EHLO twice (its first answer stands, RFC 5321 4.1.4):
            // one command at a time then.
            Err(e) if e.is_permanent() || e.is_transient() => false,
            Err(e) => return Err(Opening::Retry(crate::error::chain(&e))),
        };
        if let Some(user) = &s.username {
            let password = self
                .password
                .as_ref()
                .map(|p| p.expose().to_owned())
                .unwrap_or_default();
            timed(
                wait,
                conn.auth(
                    &[Mechanism::Plain, Mechanism::Login],
                    &Credentials::new(user.clone(), password),
                ),
            )
            .await?
            .map_err(|e| {
                // Only the reply's code: a server may echo the AUTH line (the password, in
                // base64) in its words, and this reason is stored in the ledger and printed.
                let reason = match e.status() {
                    Some(code) => format!("the server refused the login for {user} (reply {code}; check [smtp].username and the password)"),
                    None if e.is_timeout() => format!("the server did not answer the login for {user}"),
                    None => format!("the login for {user} failed: the connection broke"),
                };
                if e.is_permanent() {
                    Opening::Fatal(reason)
                } else {
                    Opening::Retry(reason)
                }
            })?;
        }
        Ok((conn, pipelining))
    }

    /// Hands one message over, retrying failures that happened before the hand-over.
    /// A set `stop` (SIGINT/SIGTERM) ends the retries: the message is then `failed`, not
    /// sent, and goes out on the next run. The message itself leaves only once `recorded`
    /// says its intent is committed; the envelope may go out before, while the commit runs
    /// (MAIL, RCPT and DATA hand nothing over: a connection closed before the end-of-data dot
    /// delivers nothing).
    async fn deliver_with_retries(
        &mut self,
        mail: &mail::Mail,
        stop: &AtomicBool,
        idle: &AtomicUsize,
        recorded: &mut Recorded,
    ) -> Delivered {
        let attempts = self.settings.attempts;
        let mut delay = self.settings.retry_delay;
        let mut last = String::new();
        let mut only_connecting = true;
        for attempt in 1..=attempts {
            if attempt > 1 {
                let until = tokio::time::Instant::now() + delay;
                while tokio::time::Instant::now() < until {
                    if stop.load(Ordering::SeqCst) {
                        return Delivered::Failed(format!(
                            "{last}; the run was stopped before another try"
                        ));
                    }
                    // Nothing handed over yet, and other workers have nothing to do (usually
                    // with their connection open, when the server allows fewer connections):
                    // the message goes to them; one whose connection is gone opens it again.
                    if only_connecting && idle.load(Ordering::SeqCst) > 0 {
                        return Delivered::Unreachable(format!(
                            "{last}; handed to a connection that is open"
                        ));
                    }
                    tokio::time::sleep_until(
                        until.min(tokio::time::Instant::now() + Duration::from_millis(100)),
                    )
                    .await;
                }
                delay = delay.saturating_mul(2);
            }
            if self
                .conn
                .as_ref()
                .is_none_or(AsyncSmtpConnection::has_broken)
            {
                match self.open().await {
                    Ok((conn, pipelining)) => {
                        self.conn = Some(conn);
                        self.pipelining = pipelining;
                    }
                    Err(Opening::Retry(reason)) => {
                        last = reason;
                        continue;
                    }
                    // A refused login or certificate does not get better by trying again.
                    Err(Opening::Fatal(reason)) => return Delivered::Unreachable(reason),
                }
            }
            only_connecting = false;
            match self.transfer(mail, recorded).await {
                Ok(reply) => return Delivered::Sent(reply),
                Err(Failure::Unrecorded) => {
                    self.conn = None;
                    return Delivered::unrecorded();
                }
                Err(Failure::Before {
                    reason,
                    permanent,
                    refusal,
                    broken,
                }) => {
                    if broken {
                        self.conn = None;
                    }
                    match refusal {
                        Refusal::NoSuchMailbox => return Delivered::Bounced(reason),
                        Refusal::SetUp => return Delivered::SetUp(reason),
                        Refusal::Policy => return Delivered::Policy(reason),
                        Refusal::ThisRecipient => return Delivered::Failed(reason),
                        Refusal::Other if permanent => return Delivered::Failed(reason),
                        Refusal::Other => last = reason,
                    }
                }
                Err(Failure::After {
                    reason,
                    transient,
                    permanent,
                }) => {
                    // Refused for good after the data. A 5.7.x there is about the sender (SPF,
                    // DKIM, DMARC: Gmail's 5.7.26 "unauthenticated"): every next message would
                    // be refused alike, so the run stops and nobody's order is charged with it.
                    // Anything else is the message's content: the address is not to blame, and
                    // the order is tried again on a later run, up to max_reminders.
                    if permanent && enhanced_status(&reason).is_some_and(|e| e.starts_with("5.7."))
                    {
                        return Delivered::SetUp(reason);
                    }
                    if permanent {
                        return Delivered::Rejected(reason);
                    }
                    if !transient {
                        self.conn = None;
                        return Delivered::Unknown(reason);
                    }
                    last = reason;
                }
            }
        }
        let last = format!("{last} (tried {attempts} times)");
        if only_connecting {
            Delivered::Unreachable(last)
        } else {
            Delivered::Failed(last)
        }
    }

    /// One SMTP transaction.
    async fn transfer(
        &mut self,
        mail: &mail::Mail,
        recorded: &mut Recorded,
    ) -> Result<String, Failure> {
        let wait = self.settings.timeout;
        let conn = self.conn.as_mut().ok_or_else(|| Failure::Before {
            reason: "not connected".into(),
            permanent: false,
            refusal: Refusal::Other,
            broken: true,
        })?;
        let mut params = Vec::new();
        if !mail.bytes.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let mail_from = Mail::new(Some(lettre::Address::clone(&mail.from)), params);
        let rcpt = Rcpt::new(mail.to.clone(), vec![]);
        let pipelining = self.pipelining;
        let steps = async {
            if pipelining {
                envelope_pipelined(conn, &mail_from, &rcpt).await
            } else {
                envelope_stepwise(conn, mail_from, rcpt).await
            }
        };
        match tokio::time::timeout(wait, steps).await {
            Err(_) => {
                return Err(Failure::Before {
                    reason: format!(
                        "the server did not answer within {}",
                        humantime::format_duration(wait)
                    ),
                    permanent: false,
                    refusal: Refusal::Other,
                    broken: true,
                });
            }
            Ok(Err(refused)) => {
                let e = refused.error;
                if refused.in_data {
                    // Closed by the caller (`broken`), before any message text.
                } else if refused.drop {
                    abort(conn, wait).await;
                } else {
                    // The connection is fine; end the transaction before the next one.
                    let reset = tokio::time::timeout(wait, conn.command(Rset)).await;
                    if !matches!(reset, Ok(Ok(_))) {
                        abort(conn, wait).await;
                    }
                }
                let reason = crate::error::chain(&e);
                return Err(Failure::Before {
                    refusal: Refusal::of(&e, &reason, refused.stage),
                    reason,
                    permanent: e.is_permanent(),
                    broken: refused.drop,
                });
            }
            Ok(Ok(())) => {}
        }
        // The server waits for the message; it leaves only once its intent is committed.
        // Otherwise the connection is closed (by the caller) with no message text sent.
        if recorded.id().await.is_none() {
            return Err(Failure::Unrecorded);
        }
        // The message and its end-of-data dot in one write; lettre's `message` when the bytes
        // are not UTF-8 (they always are: lettre formats from strings), as `command` takes text.
        let handed = async {
            match data_block(&mail.bytes) {
                Some(block) => conn.command(Raw(&block)).await,
                None => conn.message(&mail.bytes).await,
            }
        };
        match tokio::time::timeout(wait, handed).await {
            Err(_) => {
                abort(conn, wait).await;
                Err(Failure::After {
                    reason: format!(
                        "no answer within {} after the message was sent",
                        humantime::format_duration(wait)
                    ),
                    transient: false,
                    permanent: false,
                })
            }
            Ok(Err(e)) => {
                if !(e.is_transient() || e.is_permanent()) {
                    abort(conn, wait).await;
                }
                Err(Failure::After {
                    reason: crate::error::chain(&e),
                    transient: e.is_transient(),
                    permanent: e.is_permanent(),
                })
            }
            Ok(Ok(response)) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
        }
    }

    /// Says goodbye politely, if connected.
    async fn quit(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), conn.quit()).await;
        }
    }
}

/// A TLS stream lettre can speak SMTP over, as it does over a plain one.
#[derive(Debug)]
struct TlsSocket(tokio_rustls::client::TlsStream<TcpStream>);

impl tokio::io::AsyncRead for TlsSocket {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for TlsSocket {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl lettre::transport::smtp::client::AsyncTokioStream for TlsSocket {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

/// Whom a permanent refusal of the envelope blames. Only a refusal that says the mailbox does
/// not exist is the buyer's address (a bounce, never written to again); a refusal of the
/// sender's set-up (relay denied, authentication required, a policy: 530, 5.7.x, 554 at RCPT,
/// anything at MAIL) would refuse every next message too, so the run stops as it does for a
/// server that cannot be reached, and nobody is blamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// 550/551/553 at RCPT with enhanced status 5.1.x, or without one but saying the mailbox
    /// is unknown.
    NoSuchMailbox,
    /// The sender's set-up: the sender address refused (Postfix checks it at RCPT: "Sender
    /// address rejected", 5.1.7, 5.1.8), relay or authentication refused, the client host
    /// refused, anything at MAIL, 5.7.x at DATA.
    SetUp,
    /// A policy refusal at RCPT (5.7.x or 554) that names no cause: the recipient's or the
    /// sender's set-up, told apart by whether it repeats (see `deliver::send`).
    Policy,
    /// A policy refusal at RCPT that says it is about this recipient ("Recipient address
    /// rejected: Access denied"): this message fails, tried again on the next run; the others
    /// go on.
    ThisRecipient,
    /// Anything else (a full mailbox, a temporary failure): failed, tried again later.
    Other,
}

/// Which envelope command a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Mail,
    Rcpt,
    Data,
}

impl Refusal {
    /// Classifies a refusal of the envelope by its code, its enhanced status (RFC 3463) and,
    /// only when the server gives no enhanced status, its words.
    fn of(error: &lettre::transport::smtp::Error, text: &str, stage: Stage) -> Refusal {
        if !error.is_permanent() {
            return Refusal::Other;
        }
        let code = error.status().map(|c| c.to_string()).unwrap_or_default();
        let enhanced = enhanced_status(text);
        let lower = text.to_ascii_lowercase();
        let says = |words: &[&str]| words.iter().any(|w| lower.contains(w));
        // The seller's own address, the relay, the login, the client: never a buyer's.
        let set_up = stage == Stage::Mail
            || code == "530"
            || enhanced.is_some_and(|e| e == "5.1.7" || e == "5.1.8")
            || says(&[
                "sender address",
                "relay access denied",
                "relaying denied",
                "relay not permitted",
                "client host rejected",
                "authentication required",
            ]);
        if set_up {
            return Refusal::SetUp;
        }
        let policy = enhanced.is_some_and(|e| e.starts_with("5.7.")) || code == "554";
        if policy && stage == Stage::Rcpt {
            return if says(&["recipient address rejected"]) {
                Refusal::ThisRecipient
            } else {
                Refusal::Policy
            };
        }
        if policy {
            return Refusal::SetUp;
        }
        if stage != Stage::Rcpt || !matches!(code.as_str(), "550" | "551" | "553") {
            return Refusal::Other;
        }
        let unknown = match enhanced {
            Some(enhanced) => enhanced.starts_with("5.1."),
            None => {
                let text = text.to_ascii_lowercase();
                [
                    "unknown",
                    "no such",
                    "does not exist",
                    "doesn't exist",
                    "not exist",
                    "invalid recipient",
                    "invalid mailbox",
                    "mailbox unavailable",
                    "not found",
                ]
                .iter()
                .any(|words| text.contains(words))
            }
        };
        if unknown {
            Refusal::NoSuchMailbox
        } else {
            Refusal::Other
        }
    }
}

/// The enhanced status code (RFC 3463) in a reply's text, like `5.1.1`: the first word of the
/// form `5.x.y` (after the basic code; `550-5.7.26` counts).
fn enhanced_status(text: &str) -> Option<&str> {
    text.split(|c: char| c.is_whitespace() || c == ':' || c == ',' || c == '(' || c == ')')
        .map(|word| word.rsplit('-').next().unwrap_or(word))
        .find(|word| {
            let parts: Vec<&str> = word.split('.').collect();
            parts.len() == 3
                && parts[0] == "5"
                && parts[1..]
                    .iter()
                    .all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()))
        })
}

/// The envelope was refused (or the connection failed) before the message left.
struct Refused {
    /// The first failure, in the order of the commands.
    error: lettre::transport::smtp::Error,
    /// The command it answered.
    stage: Stage,
    /// The connection must be dropped: it broke, or the server accepted DATA after a refusal
    /// and waits for a message that must not follow (closing before the end-of-data dot
    /// delivers nothing).
    drop: bool,
    /// The server is in the DATA phase: no QUIT (it would be taken as message text), the
    /// connection is just closed.
    in_data: bool,
}

impl Refused {
    fn at(error: lettre::transport::smtp::Error, stage: Stage) -> Refused {
        let drop = !(error.is_transient() || error.is_permanent());
        Refused {
            error,
            stage,
            drop,
            in_data: false,
        }
    }
}

/// MAIL, RCPT and DATA one after the other, each waiting for its reply.
async fn envelope_stepwise(
    conn: &mut AsyncSmtpConnection,
    mail_from: Mail,
    rcpt: Rcpt,
) -> Result<(), Refused> {
    conn.command(mail_from)
        .await
        .map_err(|e| Refused::at(e, Stage::Mail))?;
    conn.command(rcpt)
        .await
        .map_err(|e| Refused::at(e, Stage::Rcpt))?;
    conn.command(Data)
        .await
        .map_err(|e| Refused::at(e, Stage::Data))?;
    Ok(())
}

/// MAIL, RCPT and DATA in one write (RFC 2920), then their three replies, in order. After a
/// refusal the remaining replies are still read (the server answers every command, typically
/// 503 to DATA), so the next command reads its own reply; the first refusal is the one
/// reported. A broken read ends it at once.
async fn envelope_pipelined(
    conn: &mut AsyncSmtpConnection,
    mail_from: &Mail,
    rcpt: &Rcpt,
) -> Result<(), Refused> {
    let group = format!("{mail_from}{rcpt}{Data}");
    let mut refused: Option<Refused> = None;
    for step in 0..3 {
        let reply = if step == 0 {
            conn.command(Raw(&group)).await
        } else {
            conn.read_response().await
        };
        match reply {
            Ok(_) if step == 2 => {
                // DATA accepted: fine after a clean envelope, a dropped connection otherwise.
                return match refused {
                    None => Ok(()),
                    Some(first) => Err(Refused {
                        drop: true,
                        in_data: true,
                        ..first
                    }),
                };
            }
            Ok(_) => {}
            Err(e) => {
                let stage = [Stage::Mail, Stage::Rcpt, Stage::Data][step];
                let this = Refused::at(e, stage);
                let broken = this.drop;
                let mut first = refused.take().unwrap_or(this);
                if broken {
                    first.drop = true;
                    return Err(first);
                }
                refused = Some(first);
            }
        }
    }
    refused.map_or(Ok(()), Err)
}

/// Text for lettre's `command`, which writes it in one piece and reads one reply.
struct Raw<'a>(&'a str);

impl std::fmt::Display for Raw<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Where the dot-stuffing is in a line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Line {
    Start,
    AfterCr,
    Inside,
}

/// The message as it goes after DATA: a dot at the start of a line doubled (RFC 5321 4.5.2,
/// by the same rule as lettre's own encoder), then the end-of-data `CRLF . CRLF`. `None` when
/// the bytes are not UTF-8.
fn data_block(message: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 5);
    let mut line = Line::Start;
    for &b in message {
        out.push(b);
        line = match (b, line) {
            (b'\r', _) => Line::AfterCr,
            (b'.', Line::Start) => {
                out.push(b'.');
                Line::Inside
            }
            (b'\n', Line::AfterCr) => Line::Start,
            (_, Line::Start | Line::AfterCr) => Line::Inside,
            (_, Line::Inside) => Line::Inside,
        };
    }
    out.extend_from_slice(b"\r\n.\r\n");
    String::from_utf8(out).ok()
}

/// Drops a connection that went wrong; lettre's abort says QUIT, which a stuck server may never
/// answer, so it gets `wait` at most.
async fn abort(conn: &mut AsyncSmtpConnection, wait: Duration) {
    let _ = tokio::time::timeout(wait, conn.abort()).await;
}

async fn timed<F: std::future::Future>(wait: Duration, future: F) -> Result<F::Output, String> {
    tokio::time::timeout(wait, future).await.map_err(|_| {
        format!(
            "the server did not answer within {}",
            humantime::format_duration(wait)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fully_qualified_name_comes_from_etc_hosts() {
        let hosts = "127.0.0.1 localhost\n# 10.0.0.9 shop.old.example shop\n10.0.0.5 shop.lotusleaf.example shop\n";
        assert_eq!(
            fqdn_in_hosts(hosts, "shop").as_deref(),
            Some("shop.lotusleaf.example")
        );
        assert_eq!(fqdn_in_hosts("127.0.1.1 shop\n", "shop"), None);
        assert_eq!(fqdn_in_hosts(hosts, "other"), None);
    }

    #[test]
    fn the_data_block_doubles_leading_dots_and_ends_with_the_dot() {
        assert_eq!(
            data_block(b"a\r\n.b\r\n..\r\nc.d").as_deref(),
            Some("a\r\n..b\r\n...\r\nc.d\r\n.\r\n")
        );
        assert_eq!(data_block(b".\r\n").as_deref(), Some("..\r\n\r\n.\r\n"));
        assert_eq!(
            data_block(b"x\r.y").as_deref(),
            Some("x\r.y\r\n.\r\n"),
            "a lone CR does not start a line"
        );
        assert_eq!(data_block(b"\xff"), None);
    }

    #[test]
    fn the_enhanced_status_is_found_in_any_reply_form() {
        for (reply, status) in [
            (
                "permanent error (550): 5.1.1 <a@x.example>: User unknown",
                Some("5.1.1"),
            ),
            (
                "permanent error (550): 550-5.7.26 This mail is unauthenticated",
                Some("5.7.26"),
            ),
            (
                "permanent error (554): 5.7.1 <a@x.example>: Relay access denied",
                Some("5.7.1"),
            ),
            ("permanent error (550): No such user here", None),
            ("permanent error (554): Message rejected as spam", None),
        ] {
            assert_eq!(enhanced_status(reply), status, "{reply}");
        }
    }
}
