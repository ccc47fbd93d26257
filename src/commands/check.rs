//! `payremind check`: the pipeline's first stages run on an export without deciding anything,
//! and a report of what was found: the mapping in use, every status and what it means, every
//! channel, payment method and fulfilment value and which rule it triggers, the rows that
//! cannot be read, how fresh the export is, whether every template renders, and what each of
//! the guard's breakers would say to `run --send` today. It ends with a verdict: "ready"
//! (exit 0) only when nothing a run depends on is missing or broken. The verdict is
//! [`examine`]'s, which `run --send` asks too before its first message.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::cli::CheckArgs;
use crate::clock;
use crate::config::Settings;
use crate::decide::ladder::Action;
use crate::decide::select::{is_renewal, is_shipped};
use crate::error::Error;
use crate::guard;
use crate::ingest::{self, Detail, ExportInfo, Item, Source};
use crate::ledger::{Adopt, Ledger};
use crate::order::{
    Consent, Field, InvalidRow, Order, StatusClass, StoreTime, Text, describe_bad_row, hours,
};
use crate::render::Templates;
use crate::report::{BAD_ROWS_SHOWN, more_bad_rows};
use crate::units::{Phrases, normalize_label};

/// Checks config, templates and export; 0 when ready to run, 2 when something must be fixed.
///
/// # Errors
/// A config, template or export problem that stops even the check.
pub fn check(args: &CheckArgs) -> Result<u8, Error> {
    let now = clock::evaluation_instant(args.now.as_deref())?;
    let settings = Settings::from_args(args.config.as_deref(), false)?;
    let templates = Templates::load(&settings)?;
    let names: Vec<&str> = templates.names().collect();
    let (every, default) = crate::render::languages_to_check(&settings, None);
    templates.check(&settings, &every, default, names.iter().copied(), false)?;
    let source = Source::new(&args.orders);
    let examined = examine(&settings, &source, now)?;
    let mut problems = examined.problems;
    // Every language the shop sends has its own text of every step.
    let layout = crate::config::Languages::of_layout(examined.layout);
    let default = settings.languages.default_for(layout);
    let enabled = settings.languages.enabled_for(layout);
    templates.check(&settings, &enabled, default, names.iter().copied(), true)?;

    let mut out = examined.text;
    let w = &mut out;
    writeln!(
        w,
        "languages: {} (the shop's own: {default}{})",
        enabled.join(", "),
        if settings.languages.enabled.is_none() {
            "; set [shop] languages to write to buyers in theirs"
        } else {
            ""
        }
    )
    .ok();
    writeln!(
        w,
        "templates: {} render ({})",
        names.len(),
        names.join(", ")
    )
    .ok();
    for line in mail_lines(&settings, &templates, default, &enabled)? {
        writeln!(w, "{line}").ok();
    }
    let unset = settings.shop.unset_promises();
    if !unset.is_empty() {
        writeln!(
            w,
            "not promised (set these [shop] keys and the messages say them): {}",
            unset.join(", ")
        )
        .ok();
    }
    // What each breaker of `run --send` would say today (counted above where it is a problem
    // of the export or the config: unmapped statuses, placeholders).
    let (lines, refusing) = guard_lines(&settings, &examined.today, now);
    for line in lines {
        writeln!(w, "{line}").ok();
    }
    // A breaker that would stop `run --send` today makes `check` not ready too, so that
    // `payremind check && payremind run --send` never surprises (the others are counted above).
    problems += refusing;
    if problems == 0 {
        writeln!(w, "ok: ready for `payremind run`").ok();
    } else {
        writeln!(
            w,
            "not ready: {problems} problem{} above; fix them before sending",
            if problems == 1 { "" } else { "s" }
        )
        .ok();
    }
    super::print_stdout(&out)?;
    Ok(if problems == 0 { 0 } else { 2 })
}

/// What the messages carry beside the words, and what would hurt their delivery: the DKIM
/// record to publish, a free-mail sender relayed through another server (DMARC fails), an
/// EHLO name without a dot, a seller's HTML that says what the text does not. Warnings only:
/// none stops a run.
///
/// # Errors
/// A template does not render against the sample.
fn mail_lines(
    settings: &Settings,
    templates: &Templates,
    default: &'static str,
    enabled: &[&'static str],
) -> Result<Vec<String>, Error> {
    use crate::config::Delivery;
    let mut lines = Vec::new();
    if let Some(signer) = &settings.mail.dkim {
        lines.push(format!(
            "dkim: signing {} for {} with selector {}; publish this DNS record (TXT) before sending:",
            signer.algorithm().as_str(),
            signer.dns_name().split_once("._domainkey.").map_or("", |(_, d)| d),
            signer.dns_name().split_once("._domainkey.").map_or("", |(s, _)| s),
        ));
        lines.push(format!("  {}", crate::deliver::dkim::dns_lines(signer)));
        if signer.dns_record().len() > 255 {
            lines.push("  (longer than 255 characters: most DNS panels take it whole; a zone file needs it as quoted pieces of at most 255 characters, side by side)".into());
        }
    } else {
        lines.push("dkim: off (set [dkim] to sign the messages: Gmail, Yahoo and Microsoft expect it of bulk senders)".into());
    }
    let from = settings
        .shop
        .sender
        .parse::<lettre::message::Mailbox>()
        .ok()
        .map(|m| m.email.domain().to_ascii_lowercase());
    if let Some(domain) = from.as_deref().filter(|d| crate::config::free_mail(d)) {
        let relay = match &settings.delivery {
            Delivery::Smtp(smtp) => Some(smtp.host.as_str()),
            Delivery::Sendmail(_) => Some("this computer's mail server"),
            Delivery::Outbox(_) => None,
        };
        if let Some(relay) = relay.filter(|r| !crate::config::relay_is_provider(domain, r)) {
            lines.push(format!(
                "warning: [shop].sender is at {domain}, a free-mail provider, but the messages leave through {relay}: receivers check {domain}'s DMARC policy and will refuse them or file them as spam; send through {domain}'s own server, or from an address at your shop's own domain"
            ));
        }
    }
    if let Delivery::Smtp(smtp) = &settings.delivery
        && !smtp.host.is_empty()
    {
        let helo = crate::deliver::smtp::helo_name(smtp);
        if !helo.contains('.') {
            lines.push(format!(
                "warning: payremind introduces itself (EHLO) as {helo:?}, a name without a domain, which some servers score as spam; set [smtp].helo_name to this computer's full name, like \"mail.myshop.example\""
            ));
        }
    }
    // A seller's HTML that says what the text does not (MPART_ALT_DIFF in SpamAssassin), in
    // each language the shop sends: its flat folder's in the shop's own.
    let mut formats = crate::render::format::Formats::default();
    for (own, step) in templates.seller_html() {
        let Some(language) = enabled
            .iter()
            .copied()
            .find(|l| *l == own.unwrap_or(default))
        else {
            continue;
        };
        if !templates.contains(step) {
            continue;
        }
        let samples = crate::render::samples(&settings.shop, language, &mut formats)?;
        let Some(sample) = samples.first() else {
            continue;
        };
        let text = templates.render(language, default, step, sample)?;
        let Some(html) = templates.render_html(language, default, step, sample)? else {
            continue;
        };
        let said: std::collections::HashSet<String> =
            crate::render::html::words(&format!("{}\n{}", text.subject, text.body))
                .into_iter()
                .collect();
        let mut extra: Vec<String> = crate::render::html::visible_words(&html)
            .into_iter()
            .filter(|w| !said.contains(w))
            .collect();
        extra.sort_unstable();
        extra.dedup();
        if !extra.is_empty() {
            let key = own.map_or(format!("own/{step}.html"), |l| {
                format!("own/{l}/{step}.html")
            });
            let origin = templates.origin(&key).unwrap_or(step);
            let shown: Vec<String> = extra.iter().take(5).map(|w| format!("{w:?}")).collect();
            lines.push(format!(
                "warning: {origin} says what {step}.txt does not ({} word{}: {}{}): spam filters score an HTML part that differs from the text; say the same in both, or remove the .html (payremind then makes one from the text)",
                extra.len(),
                if extra.len() == 1 { "" } else { "s" },
                shown.join(", "),
                if extra.len() > 5 { ", …" } else { "" }
            ));
        }
    }
    Ok(lines)
}

/// The guard's breakers as they stand today, one line each: the earlier sending runs are read
/// from the ledger when there is one (and when it cannot be read, the line says so).
/// What each breaker would say today, and how many of those not counted among `check`'s own
/// problems (an old export, a jump in the unpaid share) would stop `run --send`.
fn guard_lines(
    settings: &Settings,
    today: &guard::Today,
    now: DateTime<Utc>,
) -> (Vec<String>, usize) {
    let runs =
        Ledger::open_read_only(&settings.ledger_path, Adopt::Inspect).and_then(
            |ledger| match ledger {
                Some(ledger) => ledger.runs(guard::RUNS_COMPARED),
                None => Ok(Vec::new()),
            },
        );
    let mut lines = Vec::new();
    let runs = runs.unwrap_or_else(|e| {
        lines.push(format!(
            "guard: the ledger's earlier runs cannot be read ({e}); compared as if there were none"
        ));
        Vec::new()
    });
    let report = guard::Report::judge(today, &runs, settings, now, false);
    let refusing = [&report.stale_export, &report.unpaid_share]
        .iter()
        .filter(|breaker| breaker.verdict == guard::Verdict::Refuse)
        .count();
    lines.extend(report.lines());
    (lines, refusing)
}

/// What `check` finds in an export, and what the guard of `run --send` measures of it.
pub struct Examined {
    /// The report up to the templates line.
    pub text: String,
    /// The problems counted in it: the verdict is "ready" only at 0.
    pub problems: usize,
    /// What the guard measures (everything but the reminders, which `check` does not decide).
    pub today: guard::Today,
    /// The export's layout (`None`: an empty file).
    pub layout: Option<crate::ingest::layout::Layout>,
}

/// Reads the export once and describes it as `check` does, counting the problems: the one
/// verdict `check` prints and `run --send` stops on.
///
/// # Errors
/// The export cannot be read.
pub fn examine(
    settings: &Settings,
    source: &Source,
    now: DateTime<Utc>,
) -> Result<Examined, Error> {
    let (tally, info) = Tally::read(source, settings, now)?;

    let mut out = String::new();
    let w = &mut out;
    let mut problems = describe_config(w, settings, source);
    problems += describe_export(w, settings, source, &info);
    if let Some(dates) = &info.dates {
        problems += usize::from(dates.order().is_err());
        writeln!(w, "dates: {dates}").ok();
    }
    problems += describe_statuses(w, &info);
    let placeholders = settings.unfinished(info.has_currency(), true);
    for (setting, message) in &placeholders {
        problems += 1;
        writeln!(w, "problem: {setting} {message}").ok();
    }
    describe_values(w, settings, &tally, &info);
    describe_consent(w, settings, &tally, &info);
    problems += describe_orders(w, source, &tally, &info, now);
    // Missing bank details make `check` not ready, but do not stop a send: the bank_transfer
    // message asks the buyer to reply for them, and every other buyer is still reminded.
    let bank_details = describe_payment_details(w, settings, &tally);
    describe_experiment(w, settings, &tally);

    let unmapped = info
        .statuses
        .iter()
        .filter(|(label, _)| {
            info.mapping
                .as_ref()
                .and_then(|m| m.status_class(label))
                .is_none()
        })
        .map(|(label, count)| (label.clone(), *count))
        .collect();
    let first_problem = out
        .lines()
        .filter(|line| !line.contains("bank_details is empty"))
        .find_map(|line| line.strip_prefix("problem: "))
        .map(str::to_owned);
    let today = guard::Today {
        orders: tally.orders,
        unpaid: tally.unpaid,
        newest: tally.newest,
        unmapped,
        check_problems: problems,
        first_problem,
        placeholders,
        reminders: None,
    };
    Ok(Examined {
        text: out,
        problems: problems + bank_details,
        today,
        layout: info.mapping.as_ref().map(|m| m.layout),
    })
}

/// Which config, and the settings a run cannot do without: returns how many are missing.
fn describe_config(w: &mut String, settings: &Settings, source: &Source) -> usize {
    let mut problems = 0;
    match &settings.path {
        Some(path) => writeln!(w, "config: {}", path.display()),
        None => writeln!(
            w,
            "config: none found, using built-in defaults (`payremind init --from {}` writes one)",
            source.display().display()
        ),
    }
    .ok();
    for (setting, message) in settings.missing() {
        problems += 1;
        writeln!(w, "problem: {setting} {message}").ok();
    }
    if !settings.timezone_set {
        writeln!(
            w,
            "  (until then, times without an offset are read as UTC below)"
        )
        .ok();
    }
    problems
}

/// `[experiment]`: whether a control group is held out, and how many of the export's unpaid
/// orders are its buyers'.
fn describe_experiment(w: &mut String, settings: &Settings, tally: &Tally) {
    if settings.experiment.is_on() {
        writeln!(
            w,
            "experiment: control group {} of buyers: {} of the {} unpaid orders are theirs, held out (skipped control_group, never reminded while the experiment runs; `payremind report` compares them)",
            settings.experiment.share(),
            tally.held_out,
            tally.unpaid
        )
        .ok();
    }
}

/// The file as read: encoding, delimiter, rows, the layout and every column it maps. Returns
/// 1 when no column holds an e-mail address (nobody could be reminded).
fn describe_export(
    w: &mut String,
    settings: &Settings,
    source: &Source,
    info: &ExportInfo,
) -> usize {
    let delimiter = match info.delimiter {
        b'\t' => "tab".to_owned(),
        d => format!("{:?}", char::from(d)),
    };
    writeln!(
        w,
        "export: {} ({}, delimiter {delimiter}, {} rows)",
        source.display().display(),
        info.encoding,
        info.rows
    )
    .ok();
    if info.encoding == "gb18030" && settings.encoding.is_none() {
        writeln!(
            w,
            "  (not UTF-8, so read as GB18030, the Chinese Windows encoding; if names below look wrong, set [source].encoding, like \"windows-1252\")"
        )
        .ok();
    }
    if let Some(mapping) = &info.mapping {
        let how = if mapping.detected {
            "recognised from the headers"
        } else {
            "set by [source].format"
        };
        writeln!(
            w,
            "layout: {} ({how}): {}",
            mapping.layout,
            mapping.layout.preset().description
        )
        .ok();
    }
    writeln!(w, "columns:").ok();
    let mut unused = Vec::new();
    for (field, header, column) in &info.mapped {
        match column {
            Some(c) => {
                writeln!(w, "  {:<18} <- {header:?} (column {c})", field.key()).ok();
            }
            None => unused.push(field.key()),
        }
    }
    if !unused.is_empty() {
        writeln!(w, "  not in this export (not used): {}", unused.join(", ")).ok();
    }
    let has_email = info
        .mapped
        .iter()
        .any(|(field, _, column)| *field == Field::Email && column.is_some());
    if info.mapping.is_some() && !has_email {
        writeln!(
            w,
            "problem: no column holds the buyers' e-mail addresses, so nobody can be reminded; set [columns] email to the header that has them"
        )
        .ok();
        return 1;
    }
    0
}

/// Every status label and its class: returns how many labels no class claims.
fn describe_statuses(w: &mut String, info: &ExportInfo) -> usize {
    let mut problems = 0;
    writeln!(w, "statuses:").ok();
    if info.statuses.is_empty() {
        writeln!(w, "  (none)").ok();
    }
    for (label, count) in &info.statuses {
        let shown = padded(label, 30);
        let class = info.mapping.as_ref().and_then(|m| m.status_class(label));
        match class {
            Some(class) => writeln!(w, "  {shown} {count:>7} rows  {}", class.as_str()),
            None => {
                problems += 1;
                writeln!(
                    w,
                    "  {shown} {count:>7} rows  NOT MAPPED: add {label:?} to [statuses] unpaid, paid or closed; these orders are skipped until then"
                )
            }
        }
        .ok();
    }

    problems
}

/// Every channel (source), payment method and fulfilment value with its count of orders, and
/// what payremind makes of it: a seller sees the reseller, cash-on-delivery or shipped orders
/// before the first reminder goes out.
fn describe_values(w: &mut String, settings: &Settings, tally: &Tally, info: &ExportInfo) {
    let mapped = |field: Field| {
        info.mapped
            .iter()
            .any(|(f, _, column)| *f == field && column.is_some())
    };
    let select = &settings.select;
    let resellers = Phrases::new(RESELLER_WORDS);
    let channel = |value: &str| {
        if select
            .distribution_channels
            .contains(&normalize_label(value))
        {
            "distribution: never reminded"
        } else if value.trim().eq_ignore_ascii_case("subscription_contract") {
            "subscription renewals: never reminded (unless a [[rules]] entry names this source)"
        } else if resellers.find(value).is_some() {
            "LOOKS LIKE RESELLERS: reminded as retail buyers unless you add it to [select] distribution_channels"
        } else {
            ""
        }
    };
    let method = |value: &str| {
        if select.pay_later_methods.find(value).is_some() {
            "pay later: never reminded"
        } else if select.bank_transfer_methods.find(value).is_some() {
            "bank transfer: the bank_transfer message"
        } else {
            ""
        }
    };
    let fulfillment = |value: &str| {
        if is_shipped(value) {
            "shipped: never reminded"
        } else {
            "not shipped"
        }
    };
    let lists: [(Field, &str, &BTreeMap<Text, u64>, &Mark<'_>); 3] = [
        (Field::Channel, "channels", &tally.channels, &channel),
        (
            Field::PaymentMethod,
            "payment methods",
            &tally.methods,
            &method,
        ),
        (
            Field::Fulfillment,
            "fulfilment",
            &tally.fulfillment,
            &fulfillment,
        ),
    ];
    for (field, title, values, mark) in lists {
        if values.is_empty() || !mapped(field) {
            continue;
        }
        writeln!(w, "{title} (orders):").ok();
        let mut by_count: Vec<(&Text, &u64)> = values.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (value, count) in by_count.iter().take(VALUES_SHOWN) {
            let shown = if value.is_empty() { "(empty)" } else { value };
            let mark = if value.is_empty() { "" } else { mark(value) };
            let line = format!("  {} {count:>7}  {mark}", padded(shown, 30));
            writeln!(w, "{}", line.trim_end()).ok();
        }
        if by_count.len() > VALUES_SHOWN {
            writeln!(w, "  … and {} more values", by_count.len() - VALUES_SHOWN).ok();
        }
    }
    for (count, what) in [
        (
            tally.cancelled,
            "cancelled (a cancellation time is set): closed, whatever the status says",
        ),
        (
            tally.tracked,
            "with a ship time or tracking number: shipped, never reminded",
        ),
        (
            tally.terms,
            "on payment terms: never reminded, the buyer pays by the agreed date",
        ),
        (
            tally.renewals,
            "subscription renewals: never reminded, unless a [[rules]] entry names their source",
        ),
    ] {
        if count > 0 {
            writeln!(w, "{}: {what}", orders(count)).ok();
        }
    }
}

/// How many buyers' orders accept marketing, and what that means for the offer steps.
fn describe_consent(w: &mut String, settings: &Settings, tally: &Tally, info: &ExportInfo) {
    let Some(column) = info
        .mapped
        .iter()
        .find(|(field, _, column)| *field == Field::AcceptsMarketing && column.is_some())
        .map(|(_, header, _)| header.as_str())
    else {
        if tally.orders > 0 {
            writeln!(
                w,
                "marketing consent: unknown (no consent column): offers go to every buyer; map [columns] accepts_marketing if the export has one"
            )
            .ok();
        }
        return;
    };
    let [accepted, declined, blank, unreadable] = tally.consent;
    let routing = if settings.select.offers_need_consent {
        "offer steps go to them in the plain wording"
    } else {
        "[select] offers_need_consent = false: they get the offers anyway"
    };
    writeln!(
        w,
        "marketing consent ({column}), by order: {accepted} accepted, {} did not ({declined} no, {blank} empty, {unreadable} unreadable): {routing}",
        declined + blank + unreadable
    )
    .ok();
    if unreadable > 0 {
        writeln!(
            w,
            "  {unreadable} order(s) have a consent word payremind does not know (yes/no, true/false, 1/0, subscribed/unsubscribed, 是/否 are known): read as not accepted"
        )
        .ok();
    }
}

/// Words in a channel's name that say its buyers are resellers (Taobao's 分销店, a Shopify
/// wholesale channel): `check` points them out when `[select].distribution_channels` does not
/// list them.
const RESELLER_WORDS: &[&str] = &[
    "分销",
    "供销",
    "批发",
    "wholesale",
    "b2b",
    "reseller",
    "resellers",
    "distributor",
    "distribution",
    "dropship",
];

/// What `check` says a value of a column means for a reminder (empty: nothing special).
type Mark<'a> = dyn Fn(&str) -> &'static str + 'a;

/// `text` and spaces up to `width` columns as a terminal shows them (a Chinese character takes
/// two), so the counts after it line up.
fn padded(text: &str, width: usize) -> String {
    let shown = unicode_width::UnicodeWidthStr::width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(shown)))
}

/// `1 order`, `3 orders`.
fn orders(count: u64) -> String {
    format!("{count} order{}", if count == 1 { "" } else { "s" })
}

/// How many values of a column `check` lists; the rest are counted.
const VALUES_SHOWN: usize = 30;

/// Whether the order is one the `bank_transfer` message may go to: unpaid, recent enough,
/// paid by a bank-transfer method, not kept out by an earlier rule that needs only the order,
/// and a `[[rules]]` entry sends that message at all.
fn waits_for_transfer(order: &Order, settings: &Settings, now: DateTime<Utc>) -> bool {
    let select = &settings.select;
    let sends_it = settings
        .rules
        .iter()
        .any(|rule| matches!(&rule.action, Action::Template(t) if t == "bank_transfer"));
    sends_it
        && order.status == StatusClass::Unpaid
        && order.age(now) <= select.max_age
        && order.payment_terms.trim().is_empty()
        && !order.tracked
        && !is_shipped(&order.fulfillment)
        && !select
            .distribution_channels
            .contains(&normalize_label(&order.channel))
        && select
            .bank_transfer_methods
            .find(&order.payment_method)
            .is_some()
        && select
            .pay_later_methods
            .find(&order.payment_method)
            .is_none()
}

/// With `[select] send_before_dispatch` or `quiet_hours`: when an unpaid order with an address,
/// young enough, gets its reminder today, as a label for `check`'s count.
fn due_window(order: &Order, settings: &Settings, now: DateTime<Utc>) -> Option<String> {
    let select = &settings.select;
    if (select.send_before_dispatch.is_none() && select.quiet_hours.is_none())
        || order.status != StatusClass::Unpaid
        || order.created_at > now
        || order.age(now) > select.max_age
        || crate::address::recipient(&order.email).is_err()
    {
        return None;
    }
    let closing = order
        .close_at
        .is_some_and(|close| close.signed_duration_since(now) <= select.closing_window);
    let ripe = order.created_at.with_timezone(&Utc) + select.min_age;
    let from = if closing { now } else { now.max(ripe) };
    let due = crate::decide::timing::first_due(order, settings, from)?;
    let dispatch = &settings.shop.dispatch;
    let label = if dispatch.local(due).date_naive() != dispatch.local(now).date_naive() {
        "after today".to_owned()
    } else if let Some(cutoff) = select
        .send_before_dispatch
        .and_then(|w| dispatch.window_of(due, w))
    {
        format!("before {}", dispatch.local(cutoff).format("%H:%M"))
    } else if due == now {
        "now".to_owned()
    } else {
        "later today".to_owned()
    };
    Some(label)
}

/// Bank-transfer buyers are told where to pay: without `[shop].bank_details`, they cannot be.
/// Returns 1 when such orders exist and the details are not set.
fn describe_payment_details(w: &mut String, settings: &Settings, tally: &Tally) -> usize {
    if tally.unpaid_bank_transfers == 0 || !settings.shop.bank_details.is_empty() {
        return 0;
    }
    writeln!(
        w,
        "problem: unpaid orders waiting for a bank transfer: {}, but [shop] bank_details is empty; write the account they should pay into (bank, account holder, IBAN or account number)",
        tally.unpaid_bank_transfers
    )
    .ok();
    1
}

/// Orders, the first bad rows, warnings, and how fresh the export is. Returns 1 when most rows
/// cannot be read (the mapping, the encoding or the date format is wrong, not the rows).
fn describe_orders(
    w: &mut String,
    source: &Source,
    tally: &Tally,
    info: &ExportInfo,
    now: DateTime<Utc>,
) -> usize {
    writeln!(
        w,
        "orders: {} ({} with several rows); invalid rows: {}",
        tally.orders, tally.multi_row, tally.invalid_rows
    )
    .ok();
    let file = source.display().display().to_string();
    for row in &tally.invalid {
        let line = describe_bad_row(&file, row.line, row.column, &row.value, &row.error);
        writeln!(w, "  {line}").ok();
    }
    if let Some(more) = more_bad_rows(tally.invalid_rows) {
        writeln!(w, "  {more}").ok();
    }
    if tally.no_contact > 0 {
        writeln!(
            w,
            "orders without an address a reminder can go to (no_contact): {}",
            tally.no_contact
        )
        .ok();
        for (line, why) in &tally.no_contact_shown {
            writeln!(w, "  {file}:{line}: {why}").ok();
        }
    }
    let mut problems = 0;
    if tally.orders > 0 && tally.no_contact == tally.orders {
        problems += 1;
        writeln!(
            w,
            "problem: no order has an e-mail address a reminder can go to, so nobody can be reminded; is [columns] email the right column?"
        )
        .ok();
    } else if tally.no_contact * 10 > tally.orders * 9 {
        writeln!(
            w,
            "warning: only {} of {} orders have an e-mail address a reminder can go to",
            tally.orders - tally.no_contact,
            tally.orders
        )
        .ok();
    }
    if !tally.due_by_window.is_empty() {
        let counts: Vec<String> = tally
            .due_by_window
            .iter()
            .map(|(window, n)| format!("{window} {n}"))
            .collect();
        writeln!(
            w,
            "reminders by send window today (unpaid orders with an address; the ledger and per-buyer rules may skip some): {}",
            counts.join(", ")
        )
        .ok();
    }
    for warning in &info.warnings {
        writeln!(w, "warning: {warning}").ok();
    }
    if tally.in_future > 0 {
        writeln!(
            w,
            "warning: {} dated after now: check the computer's clock, --now and [source] timezone (they are never reminded)",
            orders(tally.in_future)
        )
        .ok();
    }
    if let Some(newest) = tally.newest {
        writeln!(
            w,
            "newest order: {} ({} h before now: an old export means old decisions)",
            newest.format("%Y-%m-%d %H:%M (UTC%:z)"),
            hours(now.signed_duration_since(newest))
        )
        .ok();
    }
    // Rows, not orders: a bad row of a multi-row order is one of its rows.
    if tally.invalid_rows > 0 && tally.invalid_rows * 2 >= info.rows {
        writeln!(
            w,
            "problem: {} of {} rows cannot be read: the export, not the rows, is wrong (look at the first bad rows above: a re-saved file, another date format, or a column mapped to the wrong header)",
            tally.invalid_rows, info.rows
        )
        .ok();
        problems += 1;
    }
    problems
}

/// What `check` keeps of the export's orders: counts, not the orders.
#[derive(Default)]
struct Tally {
    orders: u64,
    /// Orders whose status is in the unpaid class.
    unpaid: u64,
    multi_row: u64,
    newest: Option<StoreTime>,
    invalid_rows: u64,
    /// The first [`BAD_ROWS_SHOWN`] bad rows.
    invalid: Vec<InvalidRow>,
    /// Orders per channel (source), payment method and fulfilment value, as exported.
    channels: BTreeMap<Text, u64>,
    methods: BTreeMap<Text, u64>,
    fulfillment: BTreeMap<Text, u64>,
    /// Orders with payment terms.
    terms: u64,
    /// Subscription renewal orders.
    renewals: u64,
    /// Unpaid orders that get the bank-transfer message.
    unpaid_bank_transfers: u64,
    /// Orders with a cancellation time.
    cancelled: u64,
    /// Orders with a ship time or a tracking number.
    tracked: u64,
    /// Orders whose buyer accepted marketing, declined, left it empty, or wrote a word
    /// payremind does not know.
    consent: [u64; 4],
    /// Orders dated after `now` (not counted in `newest`).
    in_future: u64,
    /// Orders without an address a reminder can go to (`no_contact` in a run).
    no_contact: u64,
    /// The first [`BAD_ROWS_SHOWN`] of them: line, and why.
    no_contact_shown: Vec<(u64, String)>,
    /// With dispatch windows or quiet hours: unpaid orders with an address by when their
    /// reminder goes out today (`before 11:00`, `now`, `later today`, `after today`).
    due_by_window: BTreeMap<String, u64>,
    /// Unpaid orders whose buyer is in `[experiment]`'s control group (held out, never
    /// reminded while the experiment runs).
    held_out: u64,
}

impl Tally {
    /// Reads the export once, keeping counts and bad rows, not orders.
    fn read(
        source: &Source,
        settings: &Settings,
        now: DateTime<Utc>,
    ) -> Result<(Tally, ExportInfo), Error> {
        ingest::visit(
            source,
            settings,
            Detail::Full,
            || Ok(Tally::default()),
            |tally, item| {
                match item {
                    Item::Order(order) => {
                        tally.orders += 1;
                        tally.unpaid += u64::from(order.status == StatusClass::Unpaid);
                        tally.held_out += u64::from(
                            order.status == StatusClass::Unpaid
                                && crate::decide::experiment::hold_out(
                                    &settings.experiment,
                                    &order.buyer,
                                )
                                .is_some(),
                        );
                        if let Err(why) = crate::address::recipient(&order.email) {
                            tally.no_contact += 1;
                            if tally.no_contact_shown.len() < BAD_ROWS_SHOWN {
                                tally.no_contact_shown.push((order.line, why));
                            }
                        }
                        tally.multi_row += u64::from(order.rows > 1);
                        if order.created_at <= now {
                            tally.newest = tally.newest.max(Some(order.created_at));
                        }
                        for (values, value) in [
                            (&mut tally.channels, &order.channel),
                            (&mut tally.methods, &order.payment_method),
                            (&mut tally.fulfillment, &order.fulfillment),
                        ] {
                            *values.entry(value.clone()).or_default() += 1;
                        }
                        tally.terms += u64::from(!order.payment_terms.trim().is_empty());
                        tally.renewals += u64::from(is_renewal(order));
                        tally.cancelled += u64::from(order.cancelled);
                        tally.in_future += u64::from(order.created_at > now);
                        tally.tracked += u64::from(order.tracked);
                        let slot = match order.consent {
                            Consent::NoColumn => None,
                            Consent::Accepted => Some(0),
                            Consent::Declined => Some(1),
                            Consent::Blank => Some(2),
                            Consent::Unreadable => Some(3),
                        };
                        if let Some(slot) = slot {
                            tally.consent[slot] += 1;
                        }
                        tally.unpaid_bank_transfers +=
                            u64::from(waits_for_transfer(order, settings, now));
                        if let Some(window) = due_window(order, settings, now) {
                            *tally.due_by_window.entry(window).or_default() += 1;
                        }
                    }
                    Item::Invalid(row) => {
                        tally.invalid_rows += 1;
                        if tally.invalid.len() < BAD_ROWS_SHOWN {
                            tally.invalid.push(row.clone());
                        }
                    }
                }
                Ok(())
            },
        )
    }
}
