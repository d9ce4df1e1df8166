//! Property tests of schedule parsing: any text is parsed or refused with a message, a
//! parsed expression reads back as itself, and the next run of a random crontab expression
//! is the one a plain minute-by-minute scan of the calendar finds.
#![allow(clippy::unwrap_used)]

use super::*;
use chrono::{Datelike, Duration, NaiveDate, TimeZone, Timelike};
use proptest::prelude::*;

/// Pieces people (and attackers) put in cron fields.
const TOKENS: &[&str] = &[
    "*",
    "?",
    "0",
    "1",
    "7",
    "8",
    "12",
    "23",
    "24",
    "31",
    "32",
    "59",
    "60",
    "-1",
    "1-5",
    "5-1",
    "0-7",
    "*/0",
    "*/7",
    "*/99999999999",
    "1/2",
    "MON",
    "sun-sat",
    "FRI-MON",
    "Jan",
    "DEC",
    "L",
    "5L",
    "1#2",
    "15W",
    ",",
    "1,,2",
    "/",
    "-",
    "--",
    "99999999999999999999",
    "2100",
    "1970",
    "1969-2100",
    "@hourly",
    "@reboot",
    "@",
    "mon/2",
    "7/2",
    "é",
    "\u{0}",
];

fn cron_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..9).prop_map(|t| t.join(" "))
}

/// A field of a crontab expression: its text and the values it matches.
#[derive(Debug, Clone)]
struct Field {
    text: String,
    values: Vec<u32>,
}

/// One item of a field over `lo..=hi`: a value, a range or a step.
fn item(lo: u32, hi: u32) -> impl Strategy<Value = (String, Vec<u32>)> {
    (lo..=hi, lo..=hi, 1..=hi.max(2), 0u8..4).prop_map(move |(a, b, step, shape)| {
        let (a, b) = (a.min(b), a.max(b));
        match shape {
            0 => (a.to_string(), vec![a]),
            1 => (format!("{a}-{b}"), (a..=b).collect()),
            2 => (
                format!("{a}-{b}/{step}"),
                (a..=b).step_by(step as usize).collect(),
            ),
            _ => (
                format!("*/{step}"),
                (lo..=hi).step_by(step as usize).collect(),
            ),
        }
    })
}

/// A field over `lo..=hi`: `*`, or a list of items.
fn field(lo: u32, hi: u32) -> impl Strategy<Value = Field> {
    prop_oneof![
        1 => Just(Field { text: "*".into(), values: (lo..=hi).collect() }),
        3 => prop::collection::vec(item(lo, hi), 1..4).prop_map(|items| {
            let text = items.iter().map(|i| i.0.as_str()).collect::<Vec<_>>().join(",");
            let mut values: Vec<u32> = items.into_iter().flat_map(|i| i.1).collect();
            values.sort_unstable();
            values.dedup();
            Field { text, values }
        }),
    ]
}

/// Day-of-week as crontab has it (0 and 7 are Sunday), sometimes written with names.
fn day_of_week() -> impl Strategy<Value = Field> {
    (field(0, 7), any::<bool>()).prop_map(|(f, names)| {
        let text = if names && !f.text.contains('/') && f.text != "*" {
            // Names for plain values and ranges: "1-5" becomes "MON-FRI".
            f.text
                .split(',')
                .map(|i| {
                    i.split('-')
                        .map(|d| match d.parse::<usize>() {
                            Ok(n) if n < 7 => DAY_NAMES[n][..3].to_uppercase(),
                            _ => d.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join("-")
                })
                .collect::<Vec<_>>()
                .join(",")
        } else {
            f.text
        };
        let mut values: Vec<u32> = f.values.iter().map(|d| d % 7).collect();
        values.sort_unstable();
        values.dedup();
        Field { text, values }
    })
}

#[derive(Debug, Clone)]
struct Expr {
    minute: Field,
    hour: Field,
    dom: Field,
    month: Field,
    dow: Field,
}

impl Expr {
    fn text(&self) -> String {
        [&self.minute, &self.hour, &self.dom, &self.month, &self.dow]
            .map(|f| f.text.as_str())
            .join(" ")
    }

    /// Whether the expression runs on `d`: crontab's day rule, OR when both day fields
    /// are restricted (do not start with `*`), AND otherwise.
    fn runs_on(&self, d: NaiveDate) -> bool {
        let dom = self.dom.values.contains(&d.day());
        let dow = self
            .dow
            .values
            .contains(&d.weekday().num_days_from_sunday());
        let day = if self.dom.text.starts_with('*') || self.dow.text.starts_with('*') {
            dom && dow
        } else {
            dom || dow
        };
        day && self.month.values.contains(&d.month())
    }

    /// The first run strictly after `t`, scanning the calendar day by day and each day
    /// that runs minute by minute, for at most `days` days.
    fn scan(&self, t: DateTime<Utc>, days: i64) -> Option<DateTime<Utc>> {
        let first = t.with_second(0).unwrap().with_nanosecond(0).unwrap() + Duration::minutes(1);
        let mut day = first.date_naive();
        for _ in 0..days {
            if self.runs_on(day) {
                let from = if day == first.date_naive() {
                    first.hour() * 60 + first.minute()
                } else {
                    0
                };
                for m in from..24 * 60 {
                    if self.hour.values.contains(&(m / 60))
                        && self.minute.values.contains(&(m % 60))
                    {
                        let at = day.and_hms_opt(m / 60, m % 60, 0).unwrap();
                        return Some(Utc.from_utc_datetime(&at));
                    }
                }
            }
            day = day.succ_opt()?;
        }
        None
    }
}

fn expr() -> impl Strategy<Value = Expr> {
    (
        field(0, 59),
        field(0, 23),
        field(1, 31),
        field(1, 12),
        day_of_week(),
    )
        .prop_map(|(minute, hour, dom, month, dow)| Expr {
            minute,
            hour,
            dom,
            month,
            dow,
        })
}

/// 1990 to 2080, to the second.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (631_152_000i64..3_471_292_800).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

/// Nine years hold every date a crontab expression can name (29 February included,
/// across a century year that is not a leap year).
const SCAN_DAYS: i64 = 9 * 366;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Any text: no panic; a refusal repeats the expression and says what is wrong; an
    /// accepted one fires, reads back as itself and its runs only move forward.
    #[test]
    fn any_text_is_parsed_or_refused_with_a_reason(
        s in prop_oneof![cron_soup(), "(?s).{0,40}"],
        t in instant(),
    ) {
        match Schedule::parse(&s) {
            Err(e) => {
                prop_assert!(!e.message.trim().is_empty());
                prop_assert_eq!(&e.expr, &s);
                let quoted = format!("{:?}", s);
                prop_assert!(e.to_string().contains(&quoted));
            }
            Ok(parsed) => {
                prop_assert_eq!(parsed.as_str(), s.trim());
                let again = Schedule::parse(&parsed.to_string()).unwrap();
                let mut at = t;
                for _ in 0..5 {
                    let next = parsed.next_after(at);
                    prop_assert_eq!(next, again.next_after(at));
                    match next {
                        Some(n) => prop_assert!(n > at, "{} after {} for {:?}", n, at, s),
                        None => break,
                    }
                    at = next.unwrap();
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// A random 5-field expression runs exactly when a scan of the calendar says, run
    /// after run; one the calendar never matches is refused as never firing.
    #[test]
    fn next_runs_match_a_calendar_scan(e in expr(), t in instant()) {
        let text = e.text();
        match Schedule::parse(&text) {
            Err(err) => {
                prop_assert!(err.message.contains("never fires"), "{}", err);
                prop_assert_eq!(e.scan(t, SCAN_DAYS), None, "{:?} refused", text);
            }
            Ok(s) => {
                prop_assert_eq!(s.as_str(), text.as_str());
                let mut at = t;
                for _ in 0..4 {
                    let want = e.scan(at, SCAN_DAYS);
                    let got = s.next_after(at);
                    prop_assert_eq!(got, want, "{:?} after {}", text, at);
                    match got {
                        Some(n) => at = n,
                        None => break,
                    }
                }
            }
        }
    }
}
