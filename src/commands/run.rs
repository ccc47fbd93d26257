//! `payremind run`: the pipeline end to end. A preview (the default) decides every order and
//! prints each entry as it is decided; a sending run decides the reminders, hands them over,
//! then prints every entry with what became of its message.
//!
//! How often the export is read, and why: [`decide`] reads it twice (a verdict can depend on
//! rows anywhere in the file, and memory must not grow with it). A sending run reads it a
//! third time: the reminders are collected first (and the reading stops at `--limit`), sent,
//! and only then is every entry printed in file order with its outcome, without holding the
//! skipped orders in memory meanwhile.

use std::collections::BTreeMap;
use std::io::{self, BufRead, IsTerminal, Write};
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::cli::{Format, RunArgs};
use crate::config::Settings;
use crate::decide::ladder::Action;
use crate::decide::{self, Options, Surveyed};
use crate::deliver;
use crate::error::Error;
use crate::ingest::{ExportInfo, Grouping, Source, Stream};
use crate::ledger::{Adopt, Ledger, Memory, Run, Status};
use crate::output::Sink;
use crate::plan::{self, Gate, Review};
use crate::render::Templates;
use crate::report::{Decision, Entry, Reason, Summary};
use crate::{clock, guard, output, recovery};

/// Runs `payremind run`: a preview, or with `--send` a sending run.
///
/// # Errors
/// Anything a seller must fix before the run can go on: see [`Error`].
pub fn run(args: &RunArgs) -> Result<u8, Error> {
    let started = Instant::now();
    let now = clock::evaluation_instant(args.now.as_deref())?;
    let settings = Settings::from_args(args.config.as_deref(), true)?;
    settings.ready_to_run()?;
    if args.send {
        clock::not_ahead(args.now.as_deref(), now)?;
    }
    // The export is opened (standard input read whole, anything else but a regular file
    // refused) before a sending run takes the ledger's lock: a reading that fails or waits
    // holds no other run back.
    let source = Source::new(&args.orders).rereadable()?;
    // Only the header is read: whether the export has its own currency.
    let header = Stream::open(&source, &settings, Grouping::Adjacent)?.info;
    let unfinished = settings.unfinished(header.has_currency(), args.send);
    if args.send {
        // Every problem is shown, the last as the error that ends the run.
        if let Some(((setting, message), before)) = unfinished.split_last() {
            for (setting, message) in before {
                eprintln!(
                    "payremind: error: {}",
                    settings.setting_error(setting, message)
                );
            }
            return Err(settings.setting_error(setting, message));
        }
        send(args, &settings, &source, now, started)
    } else {
        for (setting, message) in &unfinished {
            eprintln!(
                "payremind: warning: {setting} {message} (a dry run goes on; `run --send` refuses)"
            );
        }
        preview(args, &settings, &source, now, started)
    }
}

/// A dry run: every entry printed as it is decided; nothing is kept for the end, nothing
/// is written to the ledger (which is only read, when there is one).
fn preview(
    args: &RunArgs,
    settings: &Settings,
    source: &Source,
    now: DateTime<Utc>,
    started: Instant,
) -> Result<u8, Error> {
    let templates = templates(settings)?;
    let ledger = Ledger::open_read_only(&settings.ledger_path, adopt(args))?;
    let (memory, runs) = match &ledger {
        Some(ledger) => (ledger.memory()?, ledger.runs(guard::RUNS_COMPARED)?),
        None => (Memory::default(), Vec::new()),
    };
    let mut review = match &args.save_plan {
        Some(path) => Some(Review::new(path, settings, source, ledger.as_ref(), now)?),
        None => None,
    };
    drop(ledger);
    let surveyed = decide::survey(source, settings, now, &memory, None)?;
    let options = options(args, &memory);
    let mut summary = summary(source, &surveyed, settings, now, false);
    let mut sink = sink(args, settings);
    let read = decide::decide_each(
        source,
        &surveyed,
        settings,
        &templates,
        now,
        &options,
        &mut |entry| {
            if let Some(review) = &mut review {
                review.note(&entry);
            }
            summary.record(&entry);
            sink.order(&entry).map_err(Error::Output)
        },
    )?;
    // What `--send` would refuse (the placeholders were warned about above).
    let (report, _) = judge(args, settings, source, now, &runs, summary.reminders)?;
    for (name, refusal) in report.refusals(settings, &source.display()) {
        if name != "placeholders" {
            eprintln!("payremind: warning: {refusal} (a dry run goes on; `run --send` refuses)");
        }
    }
    summary.guard = Some(report.to_json());
    let saved = review.map(|review| review.save(&args.orders)).transpose()?;
    let code = finish(summary, Ok(read), started, sink.as_mut())?;
    if let Some(saved) = saved {
        eprintln!("{saved}");
    }
    Ok(code)
}

/// `--send`: the ledger is held for the whole run; the export's paid orders are remembered
/// for later exports; the reminders are handed over, then every entry is printed with its
/// outcome.
fn send(
    args: &RunArgs,
    settings: &Settings,
    source: &Source,
    now: DateTime<Utc>,
    started: Instant,
) -> Result<u8, Error> {
    let sender = deliver::ready_to_send(settings)?;
    let templates = templates(settings)?;
    // A plan that cannot be followed is refused before the ledger is touched.
    let mut gate = match &args.plan {
        Some(path) => Some(Gate::load(path, settings, now)?),
        None => None,
    };
    let mut ledger = Ledger::open_for_send(&settings.ledger_path, args.wait, adopt(args))?;
    let held = ledger.held()?;
    let memory = ledger.memory()?;
    let mut paid = ledger.remember_paid()?;
    let surveyed = decide::survey(source, settings, now, &memory, Some(&mut paid))?;
    paid.commit()?;
    let options = options(args, &memory);
    if let Some(gate) = &mut gate {
        gate.rehearse(source, settings, &templates, &options)?;
    }
    let mut summary = summary(source, &surveyed, settings, now, true);
    let mut sink = sink(args, settings);
    // One more reading of the export with these options.
    let pass = |options: &Options<'_>, emit: &mut dyn FnMut(Entry) -> Result<(), Error>| {
        decide::decide_each(source, &surveyed, settings, &templates, now, options, emit)
    };

    // The reminders first (the reading stops once `--limit` are found)...
    let mut reminders = Vec::new();
    let mut held_out = Vec::new();
    let only = Options {
        reminders_only: true,
        ..options
    };
    pass(&only, &mut |entry| {
        if entry.reason == Some(Reason::ControlGroup) {
            held_out.push(entry.into_owned());
        } else {
            reminders.push(plan::judge(gate.as_ref(), entry).into_owned());
        }
        Ok(())
    })?;
    // The guard, before the first message: a morning that looks wrong stops here. It counts
    // what this run would send (a plan's skips are not sent).
    let due = reminders
        .iter()
        .filter(|entry| entry.decision == Decision::Remind)
        .count() as u64;
    let runs = ledger.runs(guard::RUNS_COMPARED)?;
    let (report, today) = judge(args, settings, source, now, &runs, due)?;
    let mut refusals = report.refusals(settings, &source.display());
    if let Some((_, last)) = refusals.pop() {
        for (_, refusal) in refusals {
            eprintln!("payremind: error: {refusal}");
        }
        return Err(last);
    }
    let (mut jobs, unmade) = deliver::jobs(&reminders, settings, &sender, ledger.identity(), now);
    if gate.is_none() && !args.yes && !confirmed(&reminders, &jobs)? {
        eprintln!("payremind: nothing sent");
        return Ok(0);
    }
    // Recorded once the seller (or cron) goes ahead: a run declined at the question is no run.
    ledger.record_run(&Run {
        at: clock::wall_clock().to_rfc3339(),
        evaluated_at: now.to_rfc3339(),
        orders: today.orders,
        unpaid: today.unpaid,
        due,
        sent: 0,
        forced: report.forced(),
    })?;
    summary.guard = Some(report.to_json());
    // What the report measures: the exposures of this run, and what the export says of
    // every order reminded or held out so far (before the first message: nothing sent is
    // ever missing from it).
    recovery::record_send(&mut ledger, settings, source, now, &reminders, &held_out)?;
    deliver::send::retried_last(&mut jobs, &memory);
    for (index, why) in unmade {
        if let Some(entry) = reminders.get_mut(index) {
            entry.status = Some(Status::Failed);
            entry.server_reply = Some(format!("not sent: {why}"));
        }
    }
    let results = deliver::send::send(jobs, &settings.delivery, ledger)?;
    summary.interrupted = results.interrupted;
    summary.stopped = results.stopped;
    for (index, status, reply) in results.outcomes {
        if let Some(entry) = reminders.get_mut(index) {
            entry.status = Some(status);
            entry.server_reply = Some(reply);
        }
    }

    // ...then every entry in file order, each reminder with what became of it (the same
    // decisions: the ledger's memory is the one read before sending).
    let again = Options {
        render: false,
        ..options
    };
    let mut reminders = reminders.into_iter().peekable();
    let read = pass(&again, &mut |entry| {
        let entry = match entry.decision {
            Decision::Remind => reminders
                .next_if(|sent| sent.order_id == entry.order_id)
                .ok_or_else(|| decide::changed(source))?,
            Decision::Skip => plan::judge(gate.as_ref(), entry),
        };
        summary.record(&entry);
        sink.order(&entry).map_err(Error::Output)
    });
    let read = match read {
        Ok(read) if reminders.peek().is_none() => Ok(read),
        read => {
            // The export cannot be read as before now that the mail is out (changed, gone):
            // the reminders not shown yet still are, with the summary, then the error. The
            // ledger has every outcome; nothing is sent twice.
            for entry in reminders {
                summary.record(&entry);
                sink.order(&entry).map_err(Error::Output)?;
            }
            Err(read.err().unwrap_or_else(|| decide::changed(source)))
        }
    };
    let code = finish(summary, read, started, sink.as_mut())?;
    // The outcomes are committed; are they in the file later runs read?
    held.check()?;
    Ok(code)
}

/// In a terminal (standard input, and standard error where the question is written), the
/// seller's yes before the messages leave: the counts by step, then `Send N reminders?
/// [y/N]`. Standard output may go to a file or `tee` (`run --send | tee log` still asks).
/// Under cron, or with nothing to send, there is no one to ask, and no question.
fn confirmed(reminders: &[Entry<'_>], jobs: &[deliver::send::Job]) -> Result<bool, Error> {
    if jobs.is_empty() || !io::stdin().is_terminal() || !io::stderr().is_terminal() {
        return Ok(true);
    }
    let mut by_step: BTreeMap<&str, usize> = BTreeMap::new();
    for job in jobs {
        let step = reminders
            .get(job.entry)
            .and_then(|entry| entry.template.as_deref())
            .unwrap_or_default();
        *by_step.entry(step).or_default() += 1;
    }
    let counts: Vec<String> = by_step
        .iter()
        .map(|(step, n)| format!("{step} {n}"))
        .collect();
    let mut err = io::stderr().lock();
    let mut ask = || -> io::Result<String> {
        let plural = if jobs.len() == 1 { "" } else { "s" };
        writeln!(err, "payremind: ready to send: {}", counts.join(", "))?;
        write!(err, "Send {} reminder{plural}? [y/N] ", jobs.len())?;
        err.flush()?;
        let mut answer = String::new();
        io::stdin().lock().read_line(&mut answer)?;
        Ok(answer)
    };
    let answer = ask().map_err(Error::Output)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// The guard's breakers for this run ([`guard`]): `check`'s reading of the export (the same
/// verdict `check` prints), the earlier sending runs, and the reminders due.
fn judge(
    args: &RunArgs,
    settings: &Settings,
    source: &Source,
    now: DateTime<Utc>,
    runs: &[Run],
    reminders: u64,
) -> Result<(guard::Report, guard::Today), Error> {
    let mut today = super::check::examine(settings, source, now)?.today;
    today.reminders = Some(reminders);
    let report = guard::Report::judge(&today, runs, settings, now, args.force);
    Ok((report, today))
}

/// The templates, checked (every one the ladder can pick) before the first real message.
fn templates(settings: &Settings) -> Result<Templates, Error> {
    let templates = Templates::load(settings)?;
    let used = settings
        .rules
        .iter()
        .filter_map(|rule| match &rule.action {
            Action::Template(name) => Some(name.as_str()),
            Action::Skip(_) => None,
        })
        // The words an offer step takes for a buyer without marketing consent.
        .chain([crate::decide::consent::PLAIN]);
    let (languages, default) = crate::render::languages_to_check(settings, None);
    templates.check(settings, &languages, default, used, false)?;
    Ok(templates)
}

/// How the run takes a ledger that is not quite the one its sidecar remembers.
fn adopt(args: &RunArgs) -> Adopt {
    if args.new_ledger {
        Adopt::New
    } else if args.accept_restored_ledger {
        Adopt::Restored
    } else {
        Adopt::Compare
    }
}

fn options<'m>(args: &RunArgs, memory: &'m Memory) -> Options<'m> {
    Options {
        limit: args.limit,
        memory,
        retry_unknown: args.retry_unknown,
        reminders_only: false,
        render: true,
    }
}

/// An empty tally of the run, with what the survey found.
fn summary(
    source: &Source,
    surveyed: &Surveyed,
    settings: &Settings,
    now: DateTime<Utc>,
    sending: bool,
) -> Summary {
    // `now` as the shop reads it: in the shop's zone, with its offset.
    let mut summary = Summary::new(
        source.display().display().to_string(),
        surveyed.info.encoding,
        now.with_timezone(&settings.timezone).to_rfc3339(),
        !sending,
    );
    summary.rows = surveyed.info.rows;
    summary.orders = surveyed.orders() as u64;
    summary
}

/// Where the entries go: `--format`, on stdout (the summary of the text format on stderr).
/// A preview stops quietly when its reader goes away; a sending run's output outlives it
/// ([`output::Tolerant`]), so that its exit code is the one the sends earned.
fn sink(args: &RunArgs, settings: &Settings) -> Box<dyn Sink> {
    if args.send {
        let out =
            io::BufWriter::with_capacity(64 * 1024, output::Tolerant::new(io::stdout().lock()));
        text_or_json(
            args,
            settings,
            out,
            output::Tolerant::new(io::stderr().lock()),
        )
    } else {
        let out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
        text_or_json(args, settings, out, io::stderr().lock())
    }
}

fn text_or_json<W: io::Write + 'static, E: io::Write + 'static>(
    args: &RunArgs,
    settings: &Settings,
    out: W,
    err: E,
) -> Box<dyn Sink> {
    match args.format {
        Format::Text => Box::new(output::text::Text::new(
            out,
            err,
            &settings.shop.sender,
            args.send,
        )),
        Format::Json => Box::new(output::json::JsonLines::new(out)),
    }
}

/// Closes the run: the summary (with the last complete reading's warnings: it read every
/// detail), then the exit code, or the error that ended the reading.
fn finish(
    mut summary: Summary,
    read: Result<ExportInfo, Error>,
    started: Instant,
    sink: &mut dyn Sink,
) -> Result<u8, Error> {
    let error = match read {
        Ok(read) => {
            summary.warnings = read.warnings;
            None
        }
        Err(error) => Some(error),
    };
    summary.elapsed_seconds = started.elapsed().as_secs_f64();
    sink.finish(&summary).map_err(Error::Output)?;
    match error {
        Some(error) => Err(error),
        None => Ok(summary.exit_code()),
    }
}
