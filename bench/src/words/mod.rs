//! Word lists and templates for seeded data that reads like a real service desk: people,
//! sites, hardware, installed software, and tickets about printers, mail, VPN, passwords
//! and the rest.
//!
//! Templates name slots in braces (`{app}`, `{printer}`); [`fill`] replaces them. The
//! topics' weights set how often each word turns up, which the search benchmark relies on:
//! "plotter" is rare, "vpn" and "printer" are common, "thanks" is everywhere.
//!
//! The lists live in one file per theme; this module fills templates from them.

use crate::rng::Rng;

mod fleet;
mod office;
mod packages;
mod people;
mod programs;
mod replies;
mod topics;

pub use fleet::{FLEET, Fleet};
pub use office::{APPS, MAILBOXES, PLOTTERS, ROOMS, SHARES, SITES, WEEKDAYS};
pub use packages::{DPKG_LIBS, DPKG_TOOLS, RPM_PACKAGES};
pub use people::{DEPARTMENTS, FIRST_NAMES, LAST_NAMES};
pub use programs::{MACOS_PACKAGES, WINDOWS_PROGRAMS};
pub use replies::{CLOSINGS, INTERNAL_NOTES, LOCATIONS, REQUESTER_REPLIES, TECH_FIRST_REPLIES};
pub use topics::{CATEGORIES, GROUPS, TOPICS, Topic};

/// Values for a ticket's slots that should stay the same across its text.
pub struct Slots<'a> {
    pub first: &'a str,
    pub asset: &'a str,
    pub model: &'a str,
    pub fix: &'a str,
    pub site: usize,
}

/// Appends one of `templates`, chosen at random, to `out` with its slots filled in.
pub fn fill_one(out: &mut String, templates: &[&str], rng: &mut Rng, s: &Slots<'_>) {
    let template = *rng.pick(templates);
    fill(out, template, rng, s);
}

/// Appends `template` to `out` with every `{slot}` filled in.
pub fn fill(out: &mut String, template: &str, rng: &mut Rng, s: &Slots<'_>) {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return;
        };
        slot(out, &after[..close], rng, s);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
}

fn slot(out: &mut String, name: &str, rng: &mut Rng, s: &Slots<'_>) {
    use std::fmt::Write;
    let (site, code) = SITES[s.site % SITES.len()];
    // Writing to a String cannot fail.
    let _ = match name {
        "app" => write!(out, "{}", rng.pick(APPS)),
        "site" => write!(out, "{site}"),
        "floor" => write!(out, "{}", floor_name(rng.range(0, 7))),
        "printer" => write!(out, "PRN-{}-{:02}", code.to_uppercase(), rng.range(1, 40)),
        "plotter" => write!(out, "{}", rng.pick(PLOTTERS)),
        "share" => write!(out, "{}", rng.pick(SHARES)),
        "room" => write!(out, "{}", rng.pick(ROOMS)),
        "mailbox" => write!(out, "{}", rng.pick(MAILBOXES)),
        "weekday" => write!(out, "{}", rng.pick(WEEKDAYS)),
        "dept" => write!(out, "{}", rng.pick(DEPARTMENTS)),
        "person" => write!(out, "{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES)),
        "server" => write!(
            out,
            "srv-{code}-{}{:02}",
            rng.pick(&["fs", "app", "db", "print", "dc", "web"]),
            rng.range(1, 20)
        ),
        "code" => match rng.below(3) {
            0 => write!(out, "0x8007{:04X}", rng.below(0x10000)),
            1 => write!(out, "error {}", rng.range(100, 10_000)),
            _ => write!(out, "event ID {}", rng.range(1000, 8000)),
        },
        "n" => write!(out, "{}", rng.range(2, 30)),
        "first" => write!(out, "{}", s.first),
        "asset" => write!(out, "{}", s.asset),
        "model" => write!(out, "{}", s.model),
        "fix" => write!(out, "{}", s.fix),
        other => write!(out, "{{{other}}}"),
    };
}

fn floor_name(n: i64) -> String {
    match n {
        0 => "ground floor".into(),
        1 => "1st floor".into(),
        2 => "2nd floor".into(),
        3 => "3rd floor".into(),
        n => format!("{n}th floor"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_slot_in_the_templates() {
        let mut rng = Rng::new(3);
        let s = Slots {
            first: "Anna",
            asset: "LT-00001",
            model: "Latitude 5440",
            fix: "Fixed.",
            site: 0,
        };
        for t in TOPICS {
            for tpl in t.titles.iter().chain(t.details).chain(t.fixes) {
                let mut out = String::new();
                fill(&mut out, tpl, &mut rng, &s);
                assert!(!out.contains('{'), "{tpl} -> {out}");
            }
            assert!(CATEGORIES.contains(&t.category), "{}", t.category);
            assert!(GROUPS.iter().any(|g| g.0 == t.group), "{}", t.group);
        }
        for tpl in TECH_FIRST_REPLIES
            .iter()
            .chain(REQUESTER_REPLIES)
            .chain(INTERNAL_NOTES)
            .chain(CLOSINGS)
            .chain(LOCATIONS)
        {
            let mut out = String::new();
            fill(&mut out, tpl, &mut rng, &s);
            assert!(!out.contains('{'), "{tpl} -> {out}");
        }
    }
}
