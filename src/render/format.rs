//! Amounts, durations and deadlines as a buyer of each language writes them, from CLDR's data
//! (ICU4X): `1.234,50 €` in German, `R$ 1.234,50` in Brazilian Portuguese, `1小时30分钟` in
//! Chinese, `23.11.2026, 17:05 GMT+8`. Each formatter is made once per language (and currency)
//! and run, never per order.

use chrono::{Datelike, TimeDelta, Timelike};
use fixed_decimal::Decimal as FixedDecimal;
use icu_calendar::{Date, Gregorian};
use icu_datetime::FixedCalendarDateTimeFormatter;
use icu_datetime::fieldsets::{self, Combo, YMDT};
use icu_datetime::options::TimePrecision;
use icu_decimal::DecimalFormatter;
use icu_experimental::dimension::currency::CurrencyType;
use icu_experimental::dimension::currency::formatter::CurrencyFormatter;
use icu_experimental::duration::options::{BaseStyle, DurationFormatterOptions};
use icu_experimental::duration::{Duration, DurationFormatter, ValidatedDurationFormatterOptions};
use icu_locale::Locale;
use icu_time::zone::UtcOffset;
use icu_time::{Time, ZonedDateTime};
use rustc_hash::FxHashMap;

use crate::order::{Money, StoreTime, Text};

type DateTimeFormatter =
    FixedCalendarDateTimeFormatter<Gregorian, Combo<YMDT, fieldsets::zone::LocalizedOffsetShort>>;

/// The formatters of one language.
struct Language {
    locale: Locale,
    decimal: Option<DecimalFormatter>,
    duration: Option<DurationFormatter>,
    date_time: Option<DateTimeFormatter>,
    /// Currency code -> its formatter (`None`: not a currency ICU4X can format).
    currencies: FxHashMap<Text, Option<CurrencyFormatter<DecimalFormatter>>>,
}

impl Language {
    fn new(tag: &str) -> Language {
        let locale = Locale::try_from_str(tag).unwrap_or(Locale::UNKNOWN);
        let mut duration_options = DurationFormatterOptions::default();
        duration_options.base = BaseStyle::Short;
        Language {
            decimal: DecimalFormatter::try_new((&locale).into(), Default::default()).ok(),
            duration: ValidatedDurationFormatterOptions::validate(duration_options)
                .ok()
                .and_then(|options| DurationFormatter::try_new((&locale).into(), options).ok()),
            date_time: DateTimeFormatter::try_new(
                (&locale).into(),
                YMDT::medium()
                    .with_time_precision(TimePrecision::Minute)
                    .with_zone(fieldsets::zone::LocalizedOffsetShort),
            )
            .ok(),
            currencies: FxHashMap::default(),
            locale,
        }
    }
}

/// Every language's formatters, made when first needed.
#[derive(Default)]
pub struct Formats {
    languages: FxHashMap<&'static str, Language>,
}

impl std::fmt::Debug for Formats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Formats")
            .field("languages", &self.languages.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Formats {
    fn language(&mut self, tag: &'static str) -> &mut Language {
        self.languages
            .entry(tag)
            .or_insert_with(|| Language::new(tag))
    }

    /// `money` as the language writes an amount of its currency, rounded to the currency's
    /// digits (`¥128.00`, `1 234,50 ₽`). A currency ICU4X does not know is written as its code
    /// after the localized number; no currency, the number alone.
    pub fn money(&mut self, tag: &'static str, money: &Money) -> String {
        let Ok(value) = FixedDecimal::try_from_str(&money.amount.to_string()) else {
            return money.to_string();
        };
        let language = self.language(tag);
        let locale = &language.locale;
        let formatter = language
            .currencies
            .entry(money.currency.clone())
            .or_insert_with(|| {
                let code = CurrencyType::try_from_str(&money.currency).ok()?;
                CurrencyFormatter::try_new_symbol(locale.into(), code, Default::default()).ok()
            });
        if let Some(formatter) = formatter {
            return formatter.format_fixed_decimal(&value).to_string();
        }
        let number = language
            .decimal
            .as_ref()
            .map_or_else(|| value.to_string(), |d| d.format(&value).to_string());
        if money.currency.is_empty() {
            number
        } else {
            format!("{number} {}", money.currency)
        }
    }

    /// Time left as the language says a duration, hours and minutes (`1 hr, 30 min`,
    /// `1 Std., 30 Min.`, `1小时30分钟`); under a minute is 1 minute (CLDR writes nothing for
    /// a zero duration).
    pub fn time_left(&mut self, tag: &'static str, left: TimeDelta) -> String {
        let minutes = u64::try_from(left.num_minutes()).unwrap_or(0).max(1);
        let duration = Duration {
            hours: minutes / 60,
            minutes: minutes % 60,
            ..Default::default()
        };
        match &self.language(tag).duration {
            Some(formatter) => formatter.format(&duration).to_string(),
            None => super::time_left(left),
        }
    }

    /// A deadline in the store's zone, in the language's medium date and time with the UTC
    /// offset (`Nov 23, 2026, 5:05 PM GMT+8`): a buyer abroad can place it.
    pub fn date_time(&mut self, tag: &'static str, at: &StoreTime) -> String {
        let fallback = || super::store_time(at);
        let Ok(date) = Date::try_new_gregorian(
            at.year(),
            u8::try_from(at.month()).unwrap_or(1),
            u8::try_from(at.day()).unwrap_or(1),
        ) else {
            return fallback();
        };
        let Ok(time) = Time::try_new(
            u8::try_from(at.hour()).unwrap_or(0),
            u8::try_from(at.minute()).unwrap_or(0),
            0,
            0,
        ) else {
            return fallback();
        };
        let Ok(zone) = UtcOffset::try_from_seconds(at.offset().local_minus_utc()) else {
            return fallback();
        };
        match &self.language(tag).date_time {
            Some(formatter) => formatter
                .format(&ZonedDateTime { date, time, zone })
                .to_string(),
            None => fallback(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn money(amount: &str, currency: &str) -> Money {
        Money {
            amount: Decimal::from_str(amount).unwrap(),
            currency: currency.into(),
        }
    }

    /// Every shipped language's amounts, durations and deadlines, as one snapshot.
    #[test]
    fn each_language_writes_amounts_durations_and_deadlines_its_way() {
        let mut formats = Formats::default();
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-23T17:05:00+08:00").unwrap();
        let mut out = String::new();
        for tag in ["en", "zh-CN", "es", "pt-BR", "ru", "fr", "de"] {
            out.push_str(&format!("{tag}:\n"));
            for (amount, currency) in [
                ("1234.5", "EUR"),
                ("1234.5", "USD"),
                ("1234.50", "BRL"),
                ("128", "CNY"),
                ("1234.5", "RUB"),
                ("1234", "JPY"),
                ("9.90", "XYZ"),
                ("19.99", ""),
            ] {
                out.push_str(&format!(
                    "  {amount} {currency}: {}\n",
                    formats.money(tag, &money(amount, currency))
                ));
            }
            for minutes in [90, 45, 120, 0, -5, 49 * 60 + 5] {
                out.push_str(&format!(
                    "  {minutes} min: {}\n",
                    formats.time_left(tag, TimeDelta::minutes(minutes))
                ));
            }
            out.push_str(&format!("  close_at: {}\n", formats.date_time(tag, &at)));
        }
        insta::assert_snapshot!(out);
    }

    #[test]
    fn the_issue_s_examples_come_out_as_cldr_writes_them() {
        let mut f = Formats::default();
        let nbsp = |s: String| s.replace(['\u{a0}', '\u{202f}'], " ");
        assert_eq!(nbsp(f.money("de", &money("1234.50", "EUR"))), "1.234,50 €");
        assert_eq!(
            nbsp(f.money("pt-BR", &money("1234.50", "BRL"))),
            "R$ 1.234,50"
        );
        assert_eq!(f.money("zh-CN", &money("128", "CNY")), "¥128.00");
        assert_eq!(nbsp(f.money("ru", &money("1234.50", "RUB"))), "1 234,50 ₽");
        assert_eq!(nbsp(f.money("fr", &money("1234.50", "EUR"))), "1 234,50 €");
        assert_eq!(f.money("en", &money("1234.50", "USD")), "$1,234.50");
        assert_eq!(f.time_left("zh-CN", TimeDelta::minutes(90)), "1小时30分钟");
        assert_eq!(f.time_left("de", TimeDelta::minutes(90)), "1 Std., 30 Min.");
    }
}
