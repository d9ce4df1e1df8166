//! What a failed collector left out of an inventory, taken from the previous one.
//!
//! A software source that timed out or failed this time (`software.<source>` in
//! `Inventory.errors`; `software` alone on Windows when the whole software part failed)
//! contributed nothing. Sent as it is, the next report would tell the server that all of
//! its packages were removed, and the one after that they were installed again. So the
//! previous inventory's items of that source are kept, as long as it keeps failing; the
//! error says they are stale. Other sections have fallbacks of their own and are sent as
//! collected.

use steward_shared::{Inventory, Software};

/// Whether a software source failed in `new`: only then is the previous inventory needed.
pub fn has_failed_sources(new: &Inventory) -> bool {
    !failed_sources(new).is_empty()
}

/// The software sources that failed: `Some(source)`, or `None` for the whole software part.
fn failed_sources(new: &Inventory) -> Vec<Option<&str>> {
    new.errors
        .iter()
        .filter_map(|e| match e.section.as_str() {
            "software" => Some(None),
            section => section.strip_prefix("software.").map(Some),
        })
        .collect()
}

/// Copy into `new` the software of `base` from each source that failed in `new` and
/// listed nothing there.
pub fn keep_failed_sources(base: &Inventory, new: &mut Inventory) {
    let failed = failed_sources(new);
    if failed.is_empty() {
        return;
    }
    let listed = |source: &str| new.software.iter().any(|s| s.source == source);
    let kept: Vec<Software> = base
        .software
        .iter()
        .filter(|s| {
            let source_failed = failed.iter().any(|f| f.is_none_or(|f| f == s.source));
            source_failed && !listed(&s.source)
        })
        .cloned()
        .collect();
    if !kept.is_empty() {
        tracing::debug!(
            kept = kept.len(),
            "kept the previous software of sources that failed"
        );
    }
    new.software.extend(kept);
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_shared::CollectError;

    fn sw(name: &str, source: &str) -> Software {
        Software {
            name: name.into(),
            version: "1".into(),
            source: source.into(),
            ..Software::default()
        }
    }

    fn failed(section: &str) -> CollectError {
        CollectError {
            section: section.into(),
            message: "timed out after 15 s".into(),
        }
    }

    fn names(inv: &Inventory) -> Vec<&str> {
        let mut names: Vec<&str> = inv.software.iter().map(|s| s.name.as_str()).collect();
        names.sort();
        names
    }

    fn base() -> Inventory {
        Inventory {
            software: vec![
                sw("bash", "dpkg"),
                sw("curl", "dpkg"),
                sw("firefox", "snap"),
                sw("org.gimp.GIMP", "flatpak"),
            ],
            ..Inventory::default()
        }
    }

    #[test]
    fn a_failed_source_keeps_its_previous_items() {
        let mut new = Inventory {
            software: vec![sw("bash", "dpkg"), sw("org.gimp.GIMP", "flatpak")],
            errors: vec![failed("software.snap"), failed("health.temperatures")],
            ..Inventory::default()
        };
        assert!(has_failed_sources(&new));
        keep_failed_sources(&base(), &mut new);
        assert_eq!(names(&new), ["bash", "firefox", "org.gimp.GIMP"]);
    }

    #[test]
    fn only_failed_sources_that_listed_nothing() {
        // No software source failed: curl was removed, and that is what is sent.
        let mut new = Inventory {
            software: vec![sw("bash", "dpkg")],
            errors: vec![failed("health.temperatures")],
            ..Inventory::default()
        };
        assert!(!has_failed_sources(&new));
        keep_failed_sources(&base(), &mut new);
        assert_eq!(names(&new), ["bash"]);
        // A source that failed yet listed something is taken as it is.
        let mut new = Inventory {
            software: vec![sw("bash", "dpkg")],
            errors: vec![failed("software.dpkg")],
            ..Inventory::default()
        };
        keep_failed_sources(&base(), &mut new);
        assert_eq!(names(&new), ["bash"]);
    }

    #[test]
    fn the_whole_software_part_failed() {
        let mut new = Inventory {
            errors: vec![failed("software")],
            ..Inventory::default()
        };
        keep_failed_sources(&base(), &mut new);
        assert_eq!(names(&new), ["bash", "curl", "firefox", "org.gimp.GIMP"]);
    }
}
