//! Comparing package versions the way the fleet's sources need, and what a report did to
//! each software title on one machine.
//!
//! The order is Debian's (dpkg's `verrevcmp`): an optional numeric epoch (`1:`), the
//! upstream version, and an optional revision after the last `-`. Within each part, runs
//! of non-digits compare character by character (`~` before everything, even the end of
//! the string; then the end; then letters; then every other character) and runs of digits
//! compare as numbers. The same rules order RPM versions (`1.1.1k-9.el8_6`), OpenSSL's
//! letter releases (`1.1.1n < 1.1.1w`) and Windows or macOS dotted versions
//! (`10.0.19045.3803`) the way people expect.

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Compares two versions by dpkg's rules. Leading and trailing whitespace is ignored.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (Parts::of(a.trim()), Parts::of(b.trim()));
    a.epoch
        .cmp(&b.epoch)
        .then_with(|| verrevcmp(a.upstream.as_bytes(), b.upstream.as_bytes()))
        .then_with(|| verrevcmp(a.revision.as_bytes(), b.revision.as_bytes()))
}

/// Versions ordered by [`compare`], ties (`1.0` and `1.00`) broken by the text so the
/// order is total.
pub fn compare_total(a: &str, b: &str) -> Ordering {
    compare(a, b).then_with(|| a.cmp(b))
}

/// A version split into epoch, upstream version and revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parts<'a> {
    epoch: u64,
    upstream: &'a str,
    revision: &'a str,
}

impl<'a> Parts<'a> {
    /// Lenient where dpkg would refuse: text before a `:` that is not a number is part of
    /// the upstream version, and an epoch too big for 64 bits counts as the largest.
    fn of(v: &'a str) -> Parts<'a> {
        let (epoch, rest) = match v.split_once(':') {
            Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
                (e.parse().unwrap_or(u64::MAX), rest)
            }
            _ => (0, v),
        };
        let (upstream, revision) = rest.rsplit_once('-').unwrap_or((rest, ""));
        Parts {
            epoch,
            upstream,
            revision,
        }
    }
}

/// dpkg's weight of one character of a non-digit run; 0 stands for the end of the string.
fn order(c: u8) -> i32 {
    match c {
        b'~' => -1,
        0 => 0,
        c if c.is_ascii_digit() => 0,
        c if c.is_ascii_alphabetic() => i32::from(c),
        c => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`: alternate runs of non-digits and digits.
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let (ac, bc) = (order(at(a, i)), order(at(b, j)));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while at(a, i) == b'0' {
            i += 1;
        }
        while at(b, j) == b'0' {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while at(a, i).is_ascii_digit() && at(b, j).is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if at(a, i).is_ascii_digit() {
            return Ordering::Greater;
        }
        if at(b, j).is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

/// Longest version accepted as a bound or an exact version in a query.
pub const MAX_VERSION_LEN: usize = 200;

/// Checks a version typed into a query: 1 to [`MAX_VERSION_LEN`] bytes after trimming,
/// no control characters.
pub fn check(v: &str) -> Result<&str, String> {
    let v = v.trim();
    if v.is_empty() {
        return Err("a version cannot be empty".into());
    }
    if v.len() > MAX_VERSION_LEN {
        return Err(format!(
            "a version has at most {MAX_VERSION_LEN} characters"
        ));
    }
    if v.chars().any(char::is_control) {
        return Err("a version cannot contain control characters".into());
    }
    Ok(v)
}

/// Which versions a query asks for: all bounds given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Range {
    /// Strictly below this version.
    pub below: Option<String>,
    /// This version or above.
    pub at_or_above: Option<String>,
    /// Exactly this version, as reported.
    pub exact: Option<String>,
}

impl Range {
    /// A range from checked bounds; refuses one that no version can match
    /// (`at_or_above` not below `below`).
    pub fn new(
        below: Option<String>,
        at_or_above: Option<String>,
        exact: Option<String>,
    ) -> Result<Range, String> {
        if let (Some(lo), Some(hi)) = (&at_or_above, &below)
            && compare(lo, hi) != Ordering::Less
        {
            return Err(format!("no version is at or above {lo:?} and below {hi:?}"));
        }
        Ok(Range {
            below,
            at_or_above,
            exact,
        })
    }

    pub fn contains(&self, v: &str) -> bool {
        self.below
            .as_deref()
            .is_none_or(|b| compare(v, b) == Ordering::Less)
            && self
                .at_or_above
                .as_deref()
                .is_none_or(|b| compare(v, b) != Ordering::Less)
            && self.exact.as_deref().is_none_or(|e| v == e)
    }
}

/// What one report did to a title on one machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TitleChange {
    /// The machine did not have the title and now has it.
    Installed,
    /// The machine had the title and no longer has it.
    Removed,
    /// Its newest installed version went up.
    Upgraded,
    /// Its newest installed version went down.
    Downgraded,
}

/// Per title, how it changed between two software lists of one machine, given as
/// (name, version) pairs. A title whose newest version stayed the same (another version
/// added beside it, another architecture) did not change.
pub fn title_changes<'a>(
    old: impl IntoIterator<Item = (&'a str, &'a str)>,
    new: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(&'a str, TitleChange)> {
    fn newest<'a>(
        list: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> BTreeMap<&'a str, &'a str> {
        let mut m: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, version) in list {
            m.entry(name)
                .and_modify(|v| {
                    if compare_total(version, v) == Ordering::Greater {
                        *v = version;
                    }
                })
                .or_insert(version);
        }
        m
    }
    let (old, new) = (newest(old), newest(new));
    let mut out = Vec::new();
    for (name, v_new) in &new {
        match old.get(name) {
            None => out.push((*name, TitleChange::Installed)),
            Some(v_old) => match compare(v_new, v_old) {
                Ordering::Greater => out.push((*name, TitleChange::Upgraded)),
                Ordering::Less => out.push((*name, TitleChange::Downgraded)),
                Ordering::Equal => {}
            },
        }
    }
    for name in old.keys().filter(|n| !new.contains_key(*n)) {
        out.push((*name, TitleChange::Removed));
    }
    out
}

#[cfg(test)]
#[path = "versions_tests.rs"]
mod tests;
