//! `--send`: the decided reminders are handed over, each recorded in the ledger before (intent)
//! and after (outcome). `max_connections` workers share the queue; `rate_limit` paces them;
//! SIGINT or SIGTERM lets the messages in flight finish and be recorded, starts no new one, and
//! ends the run.
//!
//! The ledger has one writer, a task on the runtime's thread: the workers' writes that arrive
//! together are committed together (group commit), so durability costs one commit per batch
//! rather than two per message. A worker hands a message over only after its intent is
//! committed; outcomes are queued (a worker's outcome and its next intent share a commit), and
//! all are committed before `send` returns.
//!
//! Some refusals mean one thing alone and another together, so the run judges them together
//! (`Judge`): a policy refusal at RCPT that names no cause ([`Delivered::Policy`]) stops the
//! run when no recipient was accepted yet or when it repeats at another domain, and is that
//! message's failure otherwise; bounces in a row at several domains with nobody accepted in
//! between trip a breaker (the server's resolver, not the buyers), which stops the run and
//! records them as failed. Orders that failed last time go last ([`retried_last`]).

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::mail::Draft;
use super::{Delivered, HandOver, Recorded};
use crate::config::Delivery;
use crate::error::Error;
use crate::ledger::{BatchError, Intent, Ledger, Status, Write};

/// One message to hand over.
pub struct Job {
    /// Index of its entry in the run's entries.
    pub entry: usize,
    /// The order's last attempt failed (see [`retried_last`]).
    pub retried: bool,
    /// This run tried it and its connection failed (the ledger has it as failed): handed back
    /// for another connection. Left over at the end, it counts as failed, as the ledger says,
    /// not as never attempted.
    pub failed: Option<String>,
    /// What the ledger records first.
    pub intent: Intent,
    /// The message, dated and signed when it leaves.
    pub draft: Arc<Draft>,
}

/// What became of every job.
#[derive(Debug, Default)]
pub struct Results {
    /// Entry index, status, server reply or error.
    pub outcomes: Vec<(usize, Status, String)>,
    /// The run was interrupted; the jobs without an outcome were not attempted.
    pub interrupted: bool,
    /// Why the remaining jobs were not attempted, when the run stopped early.
    pub stopped: Option<String>,
}

/// Puts the orders whose last attempt failed after the others (in their order). A refusal
/// that stopped the last run (a set-up refusal that was in fact about one buyer, bounces the
/// circuit breaker did not believe) then cannot stop every run at the same buyer: the others
/// are handed over first, and what a repeated refusal means is judged with them.
pub fn retried_last(jobs: &mut [Job], memory: &crate::ledger::Memory) {
    for job in jobs.iter_mut() {
        job.retried = memory
            .attempts(&job.intent.order_id)
            .last()
            .is_some_and(|a| a.status == Status::Failed);
    }
    jobs.sort_by_key(|job| job.retried);
}

/// Bounces in a row at this many different domains, with no recipient accepted in between,
/// are the mail server's problem (a broken resolver says "550 5.1.2 Domain not found" for
/// everyone), not the buyers'.
const BREAKER: usize = 3;

/// What the refusals of one run say together: a refusal that may be one buyer's or the
/// set-up's is judged by what came before it.
#[derive(Debug, Default)]
struct Judge {
    /// A recipient was accepted in this run.
    accepted: bool,
    /// Domains refused by a policy at RCPT (no cause named) in this run.
    policy_domains: Vec<String>,
    /// Bounces since the last recipient accepted: ledger id, entry, domain.
    streak: Vec<(i64, usize, String)>,
    /// The breaker tripped: every bounce of this run is recorded as failed.
    tripped: bool,
    /// Entries whose bounce was recorded as failed after all.
    demoted: std::collections::HashSet<usize>,
}

/// The note on a bounce the circuit breaker did not believe.
const NOT_BELIEVED: &str = "recorded as failed, not bounced: addresses at several domains in a row were refused as not existing";

/// A shared pace: at most `rate` messages per second across all workers.
struct Pace {
    gap: Option<Duration>,
    next: Mutex<Instant>,
}

impl Pace {
    fn new(rate: Option<f64>) -> Pace {
        Pace {
            gap: rate.map(|r| Duration::from_secs_f64(1.0 / r)),
            next: Mutex::new(Instant::now()),
        }
    }

    async fn wait(&self) {
        let Some(gap) = self.gap else { return };
        let slot = {
            let mut next = self
                .next
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + gap;
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
    }
}

/// Hands every job over and records it.
///
/// # Errors
/// The ledger cannot record an intent or an outcome (then nothing more is sent), or the
/// password is missing.
pub fn send(jobs: Vec<Job>, delivery: &Delivery, mut ledger: Ledger) -> Result<Results, Error> {
    // The commits run on the thread that serves the connections and the signals: SQLite may
    // block it only briefly; longer waits for a lock are taken asleep (`commit`).
    ledger.set_busy_timeout(Duration::from_millis(50))?;
    let transports = Arc::new(super::open(delivery)?);
    let workers = transports.workers.min(jobs.len().max(1));
    let progress = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(jobs.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} sent  {elapsed} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Output)?;
    let queue = Arc::new(Mutex::new(Queue {
        jobs: jobs.into_iter().collect(),
        out: 0,
    }));
    let (writer, requests) = tokio::sync::mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    let down: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let dead = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let idle = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let pace = Arc::new(Pace::new(transports.rate_limit));
    let judge = Arc::new(Mutex::new(Judge::default()));
    let results = runtime.block_on(async {
        let signals = tokio::spawn(watch_signals(Arc::clone(&stop)));
        let written = tokio::spawn(write_ledger(ledger, requests));
        let mut handles = Vec::new();
        for _ in 0..workers {
            let queue = Arc::clone(&queue);
            let writer = writer.clone();
            let stop = Arc::clone(&stop);
            let down = Arc::clone(&down);
            let dead = Arc::clone(&dead);
            let idle = Arc::clone(&idle);
            let pace = Arc::clone(&pace);
            let judge = Arc::clone(&judge);
            let transports = Arc::clone(&transports);
            let progress = progress.clone();
            handles.push(tokio::spawn(async move {
                let shared = Shared {
                    queue: &queue,
                    writer: &writer,
                    stop: &stop,
                    down: &down,
                    dead: &dead,
                    idle: &idle,
                    workers,
                    pace: &pace,
                    judge: &judge,
                };
                worker(&shared, transports.connect(), progress.as_ref()).await
            }));
        }
        let mut results = Results::default();
        let mut failure = None;
        for handle in handles {
            match handle.await {
                Ok(Ok(outcomes)) => results.outcomes.extend(outcomes),
                Ok(Err(e)) => failure = Some(e),
                Err(e) => failure = Some(Error::Output(std::io::Error::other(e.to_string()))),
            }
        }
        signals.abort();
        // A message handed back after its connection failed, and not taken again: the ledger
        // recorded that attempt as failed, and so does the summary.
        for job in &lock(&queue).jobs {
            if let Some(reply) = &job.failed {
                results
                    .outcomes
                    .push((job.entry, Status::Failed, reply.clone()));
            }
        }
        // Every outcome is queued; close the queue and wait until the last one is committed.
        drop(writer);
        match written.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failure = Some(e),
            Err(_) => {
                failure = Some(Error::Output(std::io::Error::other(
                    "the ledger writer stopped",
                )));
            }
        }
        results.stopped = down
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        results.interrupted = stop.load(Ordering::SeqCst) && results.stopped.is_none();
        let demoted = &lock_judge(&judge).demoted;
        for (entry, status, reply) in &mut results.outcomes {
            if demoted.contains(entry) && *status == Status::Bounced {
                *status = Status::Failed;
                *reply = format!("{reply} ({NOT_BELIEVED})");
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(results),
        }
    });
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    results
}

/// A write for the ledger task, with where to say it is committed (intents only).
struct Request {
    write: Write,
    reply: Option<tokio::sync::oneshot::Sender<Option<i64>>>,
}

/// The ledger's writer: takes every request waiting, commits them in one transaction, then
/// answers. Ends when every sender is dropped; returns the first error.
///
/// It runs on the runtime's own thread, not a thread of its own: handing each commit to
/// another thread and the answer back cost two thread wake-ups per message, more than the
/// commit itself (about 120 µs a message at one connection on a 2-core machine, against
/// about 70 µs per commit). A commit blocks this thread for its duration (WAL with
/// `synchronous = NORMAL`: a few writes, no flush); the workers' replies wait in the socket
/// buffers meanwhile, and the workers that wake up after it queue their writes for the next
/// batch. Readers never block a commit in WAL mode, and the lock file keeps other sending
/// runs out; only another tool writing to the file makes a commit wait, and then the wait is
/// taken asleep in short steps (`commit`), so the connections and the signals are still served.
async fn write_ledger(
    mut ledger: Ledger,
    mut requests: tokio::sync::mpsc::UnboundedReceiver<Request>,
) -> Result<(), Error> {
    while let Some(first) = requests.recv().await {
        // Let the sockets be polled twice first (a yield puts this task after the next poll):
        // the workers whose replies came in meanwhile queue their writes into this batch. At
        // 4 connections that is ~3 900 commits for 10 000 messages instead of ~5 300; the wait
        // costs nothing at one connection, as the intent's commit overlaps its envelope.
        for _ in 0..2 {
            tokio::task::yield_now().await;
        }
        let mut batch = vec![first];
        while batch.len() < 512 {
            match requests.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (writes, replies): (Vec<Write>, Vec<_>) =
            batch.into_iter().map(|r| (r.write, r.reply)).unzip();
        let result = commit(&mut ledger, &writes).await;
        let ids = result.as_ref().ok();
        for (i, reply) in replies.into_iter().enumerate() {
            if let Some(reply) = reply {
                let _ = reply.send(ids.and_then(|ids| ids[i]));
            }
        }
        if let Err(e) = result {
            // What is certain still goes in: the outcomes of messages already handed over
            // (rolled back with the batch, they would show as unknown). The batch's intents
            // are answered "not recorded", so their messages are not sent.
            let outcomes: Vec<Write> = writes
                .into_iter()
                .filter(|w| matches!(w, Write::Outcome { .. }))
                .collect();
            if !outcomes.is_empty() {
                commit(&mut ledger, &outcomes).await.ok();
            }
            return Err(e);
        }
    }
    // Every outcome is in: a copy of the ledger made before now is an older copy.
    ledger.seal()
}

/// How long a sending run waits for a ledger another tool keeps locked.
const LOCK_PATIENCE: Duration = Duration::from_secs(30);

/// Commits one batch. SQLite waits for another connection's lock only briefly (the busy
/// timeout set in [`send`]); longer waits happen here, asleep, so that the connections and
/// the signals are served meanwhile. A failed batch is rolled back whole, so trying it again
/// is safe: while the database is locked, for up to [`LOCK_PATIENCE`]; after other failures,
/// three more times a second apart.
async fn commit(ledger: &mut Ledger, writes: &[Write]) -> Result<Vec<Option<i64>>, Error> {
    let deadline = Instant::now() + LOCK_PATIENCE;
    let mut failures = 0;
    loop {
        match ledger.write_batch(writes) {
            Ok(ids) => return Ok(ids),
            Err(BatchError::Busy(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(BatchError::Failed(_)) if failures < 3 => {
                failures += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e.into_error()),
        }
    }
}

async fn watch_signals(stop: Arc<AtomicBool>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        // First signal: finish the messages in flight, start no new one.
        stop.store(true, Ordering::SeqCst);
        // A second one: stop now. What was in flight stays "unknown" in the ledger and is
        // listed by the next run.
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        eprintln!(
            "payremind: stopped at once (second signal); the messages in flight are listed as unknown by the next run"
        );
        std::process::exit(130);
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        stop.store(true, Ordering::SeqCst);
    }
}

type Outcomes = Vec<(usize, Status, String)>;

/// The messages not yet taken by a worker, and how many are out with one. A worker whose
/// connection cannot be opened hands its message back, so an empty queue means the work is
/// done only when no message is out.
struct Queue {
    jobs: VecDeque<Job>,
    out: usize,
}

/// What a worker gets from the [`Queue`].
#[allow(clippy::large_enum_variant)] // Matched at once; boxing would allocate per message.
enum Take {
    Job(Job),
    /// None now, but a message that is out may come back.
    Wait,
    Done,
}

impl Queue {
    fn take(&mut self) -> Take {
        match self.jobs.pop_front() {
            Some(job) => {
                self.out += 1;
                Take::Job(job)
            }
            None if self.out > 0 => Take::Wait,
            None => Take::Done,
        }
    }
}

fn lock(queue: &Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    queue
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A worker counted in [`Shared::idle`] until dropped.
struct Idle<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Idle<'a> {
    fn new(idle: &'a std::sync::atomic::AtomicUsize) -> Self {
        idle.fetch_add(1, Ordering::SeqCst);
        Idle(idle)
    }
}

impl Drop for Idle<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A message out with a worker; dropped when the worker is done with it (after handing it
/// back, if it does).
struct Out<'a>(&'a Mutex<Queue>);

impl Drop for Out<'_> {
    fn drop(&mut self) {
        lock(self.0).out -= 1;
    }
}

/// What the workers share.
struct Shared<'a> {
    queue: &'a Mutex<Queue>,
    writer: &'a tokio::sync::mpsc::UnboundedSender<Request>,
    /// Set by SIGINT/SIGTERM or by an unreachable server: take no new job.
    stop: &'a AtomicBool,
    /// Why the server is considered down.
    down: &'a Mutex<Option<String>>,
    /// Workers that gave up on their connection.
    dead: &'a std::sync::atomic::AtomicUsize,
    /// Workers with nothing to do while a message is still out: a worker that cannot open
    /// its connection hands its message to them rather than wait out its retries.
    idle: &'a std::sync::atomic::AtomicUsize,
    /// Workers started.
    workers: usize,
    pace: &'a Pace,
    /// What the refusals of the run say together.
    judge: &'a Mutex<Judge>,
}

fn lock_judge(judge: &Mutex<Judge>) -> std::sync::MutexGuard<'_, Judge> {
    judge
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The domain of a recipient, lower-cased.
fn domain(recipient: &str) -> String {
    recipient
        .rsplit_once('@')
        .map_or(recipient, |(_, d)| d)
        .to_ascii_lowercase()
}

impl Shared<'_> {
    /// What the ledger records of a hand-over, and (third) why this worker's connection is no
    /// good, when it is not. A stuck transport stops the whole run.
    fn settle(&self, delivered: Delivered, job: &Job, id: i64) -> (Status, String, Option<String>) {
        match delivered {
            Delivered::Sent(r) => {
                self.accepted();
                (Status::Sent, r, None)
            }
            Delivered::Failed(r) => (Status::Failed, r, None),
            Delivered::Bounced(r) => self.bounced(r, job, id),
            Delivered::Rejected(r) => {
                self.accepted();
                (Status::Rejected, r, None)
            }
            Delivered::Unknown(r) => {
                self.accepted();
                (Status::Unknown, r, None)
            }
            Delivered::Policy(r) => {
                let here = domain(&job.intent.recipient);
                let mut judge = lock_judge(self.judge);
                let elsewhere = judge.policy_domains.iter().any(|d| *d != here);
                if judge.accepted && !elsewhere {
                    // Recipients were accepted, and this is the first domain refused so:
                    // this buyer's address, not the set-up. The others go on.
                    judge.policy_domains.push(here);
                    (
                        Status::Failed,
                        format!(
                            "{r} (refused for this address only: the other reminders went on; it is tried again on the next run)"
                        ),
                        None,
                    )
                } else {
                    drop(judge);
                    self.settle(Delivered::SetUp(r), job, id)
                }
            }
            Delivered::Stuck(r) => {
                // Each next message would hang as long: the rest go out on the next run.
                self.down
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get_or_insert_with(|| r.clone());
                self.stop.store(true, Ordering::SeqCst);
                (Status::Unknown, r, None)
            }
            Delivered::SetUp(r) => {
                // Every next message would be refused alike: the run stops, as for a server
                // that cannot be reached; this one is tried again on the next run.
                self.down
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get_or_insert_with(|| format!("the server refuses to take mail from this set-up: {r}; check [smtp] (login, relay permission) and [shop].sender (the address itself; SPF, DKIM, DMARC of its domain) with your mail provider"));
                self.stop.store(true, Ordering::SeqCst);
                (Status::Failed, r, None)
            }
            Delivered::Unreachable(r) => {
                // This connection slot is no good (server down, or it allows fewer
                // connections than max_connections): this worker stops and gives its message
                // back to the others. When no worker is left, the rest go out on the next run
                // instead of each waiting out the same retries.
                let lost = Some(r.clone());
                (Status::Failed, r, lost)
            }
        }
    }

    /// A recipient was accepted: bounces before it are not a streak.
    fn accepted(&self) {
        let mut judge = lock_judge(self.judge);
        judge.accepted = true;
        judge.streak.clear();
    }

    /// A bounce, unless it is the latest of [`BREAKER`] in a row at different domains with
    /// nobody accepted in between: then the mail server is to blame, not the buyers; the run
    /// stops as for a set-up refusal, and this bounce and those before it in the streak are
    /// recorded as failed (tried again on the next run).
    fn bounced(&self, reply: String, job: &Job, id: i64) -> (Status, String, Option<String>) {
        let mut judge = lock_judge(self.judge);
        if judge.tripped {
            judge.demoted.insert(job.entry);
            return (Status::Failed, format!("{reply} ({NOT_BELIEVED})"), None);
        }
        // Failed last time and refused again after others were accepted in this run: the
        // address itself (this is how a buyer the breaker did not believe is bounced at last).
        if job.retried && judge.accepted {
            return (Status::Bounced, reply, None);
        }
        judge
            .streak
            .push((id, job.entry, domain(&job.intent.recipient)));
        let mut domains: Vec<&str> = judge.streak.iter().map(|(_, _, d)| d.as_str()).collect();
        domains.sort_unstable();
        domains.dedup();
        if domains.len() < BREAKER {
            return (Status::Bounced, reply, None);
        }
        judge.tripped = true;
        let streak = std::mem::take(&mut judge.streak);
        for (earlier, entry, _) in &streak {
            judge.demoted.insert(*entry);
            if *earlier != id {
                let _ = self.writer.send(Request {
                    write: Write::Outcome {
                        id: *earlier,
                        status: Status::Failed,
                        reply: format!("{NOT_BELIEVED}; the last refusal: {reply}"),
                        at: crate::clock::wall_clock(),
                    },
                    reply: None,
                });
            }
        }
        drop(judge);
        self.down
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_or_insert_with(|| format!(
                "{} addresses at {} different domains in a row were refused as not existing, with no recipient accepted in between: that is the mail server's doing (its resolver or its configuration), not the buyers'; they are recorded as failed, not bounced. Check the server, then run again",
                streak.len(),
                streak.iter().map(|(_, _, d)| d.as_str()).collect::<std::collections::BTreeSet<_>>().len()
            ));
        self.stop.store(true, Ordering::SeqCst);
        (Status::Failed, format!("{reply} ({NOT_BELIEVED})"), None)
    }

    /// Puts the job of a worker that gives up its connection back in the queue. The attempt is
    /// in the ledger (failed, nothing handed over); the job's outcome is whatever the worker
    /// that takes it gets. The last worker to give up stops the run.
    fn give_back(&self, job: Job, reason: String) {
        lock(self.queue).jobs.push_front(job);
        if self.dead.fetch_add(1, Ordering::SeqCst) + 1 == self.workers {
            self.down
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get_or_insert(reason);
            self.stop.store(true, Ordering::SeqCst);
        }
    }
}

/// The draft dated `at`, and signed on a blocking thread when it is signed: the signatures
/// use every core and never hold up the ledger's writer (the body's hash was made ahead, when
/// the draft was). Even an Ed25519 signature (about 35 µs here) is handed over: signed on the
/// runtime's thread, which is what limits an unsigned run, it measured slower.
async fn finish(
    draft: &Arc<Draft>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<super::mail::Mail, String> {
    if !draft.signs() {
        return draft.finish(at);
    }
    let draft = Arc::clone(draft);
    tokio::task::spawn_blocking(move || draft.finish(at))
        .await
        .unwrap_or_else(|e| Err(e.to_string()))
}

async fn worker(
    shared: &Shared<'_>,
    mut transport: Box<dyn super::Transport>,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<Outcomes, Error> {
    let Shared {
        queue,
        writer,
        stop,
        idle,
        pace,
        ..
    } = *shared;
    let mut idling: Option<Idle<'_>> = None;
    let mut outcomes = Vec::new();
    loop {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let taken = lock(queue).take();
        let job = match taken {
            Take::Job(job) => {
                idling = None;
                job
            }
            // Another worker may still give its message back (its connection failing): wait
            // for it rather than leave the message for the next run.
            Take::Wait => {
                idling.get_or_insert_with(|| Idle::new(idle));
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            Take::Done => break,
        };
        // However this job ends (sent, given back, or the run stopping), it is no longer out.
        let _out = Out(queue);
        pace.wait().await;
        if stop.load(Ordering::SeqCst) {
            break;
        }
        // The intent is committed before the message leaves: over SMTP the envelope (MAIL,
        // RCPT, DATA) goes out while the commit runs, and the message itself only once
        // `Recorded::id` says it is committed; the other deliveries wait for it first.
        let (reply, committed) = tokio::sync::oneshot::channel();
        let intent = Write::Intent {
            intent: job.intent.clone(),
            at: crate::clock::wall_clock(),
        };
        let request = Request {
            write: intent,
            reply: Some(reply),
        };
        if writer.send(request).is_err() {
            break;
        }
        let mut recorded = Recorded::new(committed);
        // Dated now, as it is handed over (a rate-limited run stretches over hours), and
        // signed over those final bytes while the intent commits: on a blocking thread, so
        // that the signatures use every core and never hold up the ledger's writer.
        let finished = finish(&job.draft, crate::clock::wall_clock()).await;
        let delivered = match &finished {
            Ok(mail) => {
                let hand_over = HandOver {
                    stop,
                    idle,
                    recorded: &mut recorded,
                };
                transport.deliver(mail, hand_over).await
            }
            Err(why) => {
                Delivered::Failed(format!("not sent: the message could not be signed: {why}"))
            }
        };
        let Some(id) = recorded.id().await else {
            // The ledger could not record the intent, so nothing was handed over: send
            // nothing more (the writer says why).
            stop.store(true, Ordering::SeqCst);
            break;
        };
        let (mut status, mut reply, lost) = shared.settle(delivered, &job, id);
        {
            // Under the judge's lock, so that a breaker tripping on another worker either
            // sees this outcome queued (and queues its correction after it) or has already
            // demoted this entry.
            let judge = lock_judge(shared.judge);
            if status == Status::Bounced && judge.demoted.contains(&job.entry) {
                status = Status::Failed;
                reply = format!("{reply} ({NOT_BELIEVED})");
            }
            let outcome = Write::Outcome {
                id,
                status,
                reply: reply.clone(),
                at: crate::clock::wall_clock(),
            };
            let request = Request {
                write: outcome,
                reply: None,
            };
            if writer.send(request).is_err() {
                stop.store(true, Ordering::SeqCst);
            }
        }
        if let Some(reason) = lost {
            let job = Job {
                failed: Some(reply),
                ..job
            };
            shared.give_back(job, reason);
            break;
        }
        if let Some(bar) = progress {
            bar.inc(1);
        }
        outcomes.push((job.entry, status, reply));
    }
    transport.close().await;
    Ok(outcomes)
}
