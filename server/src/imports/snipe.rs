//! Snipe-IT's words: the columns of its asset export this importer has no use for, and
//! the categories and status labels it uses, with the types and states they mean here.

use super::mapping::normalize;

/// Snipe-IT columns (normalized) that say nothing this importer keeps, and our own
/// export's agent-reported columns.
pub const SNIPE_IGNORED: &[&str] = &[
    "id",
    "company",
    "model no.",
    "model number",
    "model notes",
    "checked out",
    "checked out to",
    "checkout type",
    "assigned to",
    "employee no.",
    "employee number",
    "username",
    "email",
    "image",
    "device image",
    "age",
    "current value",
    "book value",
    "diff",
    "fully depreciated",
    "depreciation",
    "monthly depreciation",
    "rate of depreciation",
    "eol",
    "eol date",
    "eol rate",
    "checkouts",
    "checkins",
    "requests",
    "created at",
    "updated at",
    "checkout date",
    "last checkout",
    "last checkin",
    "last checkin date",
    "checkin date",
    "expected checkin date",
    "last audit",
    "next audit date",
    "byod",
    "requestable",
    "checkin/checkout",
    "actions",
    "url",
    // Our own export: what agents report is not imported.
    "hostname",
    "os",
    "last seen",
];

/// Singular forms of a word as categories write it ("Laptops", "Switches").
fn singulars(word: &str) -> Vec<String> {
    let mut out = vec![word.to_owned()];
    if let Some(w) = word.strip_suffix("es") {
        out.push(w.to_owned());
    }
    if let Some(w) = word.strip_suffix('s') {
        out.push(w.to_owned());
    }
    out
}

/// Category words (singular, lower case) and the type key they mean.
const CATEGORIES: &[(&str, &[&str])] = &[
    (
        "computer",
        &[
            "computer",
            "laptop",
            "notebook",
            "desktop",
            "workstation",
            "server",
            "tablet",
            "pc",
            "macbook",
            "chromebook",
            "thin client",
            "all-in-one",
        ],
    ),
    ("monitor", &["monitor", "display", "screen"]),
    (
        "printer",
        &[
            "printer",
            "scanner",
            "copier",
            "mfp",
            "multifunction printer",
            "label printer",
        ],
    ),
    (
        "phone",
        &[
            "phone",
            "mobile phone",
            "cell phone",
            "smartphone",
            "voip phone",
            "conference phone",
            "desk phone",
            "mobile device",
            "mobile",
        ],
    ),
    ("projector", &["projector", "beamer"]),
    (
        "network",
        &[
            "network",
            "networking",
            "network device",
            "network equipment",
            "switch",
            "router",
            "firewall",
            "access point",
            "wireless access point",
        ],
    ),
    ("furniture", &["furniture", "chair", "desk"]),
    ("hvac", &["hvac", "air conditioner", "air conditioning"]),
    ("generator", &["generator"]),
    ("elevator", &["elevator", "lift"]),
    ("fire_extinguisher", &["fire extinguisher"]),
];

/// The type key a Snipe-IT category means, if it is one we know.
pub fn category_type(category: &str) -> Option<&'static str> {
    let c = normalize(category);
    singulars(&c).iter().find_map(|w| {
        CATEGORIES
            .iter()
            .find(|(_, words)| words.contains(&w.as_str()))
            .map(|(key, _)| *key)
    })
}

/// Other spellings to try when a category does not name a type exactly ("Vehicles"
/// for a type named "Vehicle").
pub fn category_variants(category: &str) -> Vec<String> {
    singulars(category.trim()).into_iter().skip(1).collect()
}

/// The state a Snipe-IT status label means. Snipe-IT may add the label's kind in
/// parentheses ("Ready to Deploy (Deployable)"); that is ignored.
pub fn status_state(status: &str) -> Option<&'static str> {
    let s = normalize(status);
    let s = match s.find(" (") {
        Some(i) if s.ends_with(')') => &s[..i],
        _ => s.as_str(),
    };
    Some(match s {
        "ready to deploy" | "deployable" | "pending" | "in stock" => "In stock",
        "deployed" | "in use" => "Deployed",
        "out for repair" | "out for diagnostics" | "undeployable" | "in repair" => "In repair",
        "archived" | "retired" => "Retired",
        "broken - not fixable" | "broken" | "lost/stolen" | "lost" | "stolen" | "disposed" => {
            "Disposed"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_statuses_mean_our_types_and_states() {
        assert_eq!(category_type("Laptops"), Some("computer"));
        assert_eq!(category_type("Desktops"), Some("computer"));
        assert_eq!(category_type("Monitors"), Some("monitor"));
        assert_eq!(category_type("Mobile Phones"), Some("phone"));
        assert_eq!(category_type("Switches"), Some("network"));
        assert_eq!(category_type("Projectors"), Some("projector"));
        assert_eq!(category_type("Keyboards"), None);
        assert_eq!(status_state("Ready to Deploy"), Some("In stock"));
        assert_eq!(
            status_state("Ready to Deploy (Deployable)"),
            Some("In stock")
        );
        assert_eq!(status_state("Lost/Stolen"), Some("Disposed"));
        assert_eq!(status_state("Broken - Not Fixable"), Some("Disposed"));
        assert_eq!(status_state("Out for Repair"), Some("In repair"));
        assert_eq!(status_state("Archived"), Some("Retired"));
        assert_eq!(status_state("Shelved"), None);
    }
}
