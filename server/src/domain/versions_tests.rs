use super::*;
use std::cmp::Ordering::{Equal, Greater, Less};

fn lt(a: &str, b: &str) {
    assert_eq!(compare(a, b), Less, "{a} < {b}");
    assert_eq!(compare(b, a), Greater, "{b} > {a}");
}

fn eq(a: &str, b: &str) {
    assert_eq!(compare(a, b), Equal, "{a} == {b}");
    assert_eq!(compare(b, a), Equal, "{b} == {a}");
}

#[test]
fn debian_examples_from_the_fleet() {
    lt("1.1.1n-0+deb11u5", "3.0.11-1~deb12u2");
    lt("3.0.11-1~deb12u2", "3.0.11-1");
    lt("3.0.11-1~deb12u1", "3.0.11-1~deb12u2");
    lt("3.0.13-1~deb12u1", "3.0.15-1~deb12u1");
    lt("1.1.1n-0+deb11u4", "1.1.1n-0+deb11u5");
    lt("2.36-9+deb12u7", "2.36-9+deb12u8");
    lt("7.88.1-10+deb12u7", "8.5.0-2");
    lt("6.1.0-26-amd64", "6.1.0-27-amd64");
}

#[test]
fn tilde_sorts_before_everything_even_the_end() {
    lt("3.0.0~alpha1", "3.0.0");
    lt("3.0.0~alpha1", "3.0.0~beta1");
    lt("3.0.0~beta1", "3.0.0~rc1");
    lt("3.0.0~~", "3.0.0~");
    lt("1.0~rc1", "1.0");
    lt("1.0", "1.0+nmu1");
    lt("1.0~", "1.0");
}

#[test]
fn epochs_win_over_everything_else() {
    assert_eq!(compare("1:1.0", "2.0"), Greater);
    lt("2.0", "1:1.0");
    lt("1:9.9", "2:0.1");
    eq("0:1.0", "1.0");
    lt("1:2.30-1", "1:2.31-1");
    // Text before a colon that is not a number is no epoch.
    lt("abc:1", "abd:1");
}

#[test]
fn letters_before_other_characters_as_dpkg_does() {
    lt("1.0a", "1.0+");
    lt("1.0a", "1.0.");
    lt("1.0Z", "1.0a");
    lt("1.0", "1.0a");
    lt("1.0-a", "1.0-+");
}

#[test]
fn digits_compare_as_numbers() {
    lt("1.9", "1.10");
    lt("1.2", "1.10");
    eq("1.01", "1.1");
    eq("1.0", "1.00");
    lt("2.9.9", "10.0");
    eq("", "0");
    lt("0", "0.0");
}

#[test]
fn revisions() {
    eq("1.0", "1.0-0");
    lt("1.0-1", "1.0-2");
    lt("1.0-9", "1.0-10");
    lt("1.0-1", "1.0.1");
    // The revision is what follows the last hyphen.
    lt("1.0-beta-1", "1.0-beta-2");
    lt("2024-01-15", "2024-02-01");
}

#[test]
fn openssl_letter_releases() {
    lt("1.1.1", "1.1.1a");
    lt("1.1.1n", "1.1.1w");
    lt("1.1.1w", "3.0.0");
    lt("1.0.2u", "1.1.0");
    lt("1.1.1n", "3.0");
    assert_ne!(compare("3.0.11", "3.0"), Less);
}

#[test]
fn rpm_windows_and_macos_versions() {
    lt("1.1.1k-9.el8_6", "1.1.1k-12.el8_9");
    lt("3.0.7-24.el9", "3.0.7-27.el9");
    lt("10.0.19045.3803", "10.0.19045.4046");
    lt("10.0.19045.4046", "10.0.22631.2861");
    lt("120.0.6099.130", "121.0.6167.85");
    lt("16.0.17126.20132", "16.0.17231.20194");
    lt("14.6", "14.6.1");
    lt("14.6.1", "15.1");
    lt("23.01", "24.07");
    lt("3.0.11", "3.0.12");
}

#[test]
fn whitespace_around_is_ignored() {
    eq(" 1.0 ", "1.0");
    lt("1.0\t", "1.1");
}

#[test]
fn huge_numbers_do_not_overflow() {
    lt("1.99999999999999999999999", "1.100000000000000000000000");
    lt("99999999999999999999999:1", "99999999999999999999999:2");
}

/// Versions in increasing order, with no two equal.
const ASCENDING: &[&str] = &[
    "0.9",
    "1.0~~",
    "1.0~rc1",
    "1.0",
    "1.0-1",
    "1.0-1+b1",
    "1.0a",
    "1.0+dfsg",
    "1.0.1",
    "1.1.1",
    "1.1.1n-0+deb11u4",
    "1.1.1n-0+deb11u5",
    "1.1.1w",
    "3.0~alpha1",
    "3.0",
    "3.0.0~alpha1",
    "3.0.0~beta2",
    "3.0.0",
    "3.0.2-0ubuntu1.15",
    "3.0.11",
    "3.0.11-1~deb12u2",
    "3.0.11-1",
    "3.0.13-1~deb12u1",
    "10.0.19045.3803",
    "10.0.19045.4046",
    "10.0.22631.2861",
    "120.0.6099.130",
    "1:0.1",
    "1:2.3",
    "2:0",
];

#[test]
fn ascending_list_is_strictly_ordered() {
    for w in ASCENDING.windows(2) {
        lt(w[0], w[1]);
    }
}

#[test]
fn the_order_is_consistent() {
    let mut all: Vec<&str> = ASCENDING.to_vec();
    all.extend(["1.00", "3.0-0", "0:3.0.11", " 1.0 "]);
    for a in &all {
        assert_eq!(compare(a, a), Equal);
        for b in &all {
            assert_eq!(compare(a, b), compare(b, a).reverse(), "{a} vs {b}");
            for c in &all {
                if compare(a, b) != Greater && compare(b, c) != Greater {
                    assert_ne!(compare(a, c), Greater, "{a} <= {b} <= {c}");
                }
            }
        }
    }
    let mut shuffled: Vec<&str> = ASCENDING.iter().rev().copied().collect();
    shuffled.swap(3, 17);
    shuffled.sort_by(|a, b| compare_total(a, b));
    assert_eq!(shuffled, ASCENDING);
}

/// Where dpkg itself is installed, it agrees with every neighbouring pair.
#[test]
fn agrees_with_dpkg_when_present() {
    let Ok(probe) = std::process::Command::new("dpkg")
        .args(["--compare-versions", "1", "lt", "2"])
        .status()
    else {
        return;
    };
    assert!(probe.success());
    for w in ASCENDING.windows(2) {
        let ok = std::process::Command::new("dpkg")
            .args(["--compare-versions", w[0], "lt", w[1]])
            .status()
            .expect("dpkg runs");
        assert!(ok.success(), "dpkg says {} is not below {}", w[0], w[1]);
    }
}

#[test]
fn ranges() {
    let below = Range::new(Some("3.0".into()), None, None).expect("range");
    assert!(below.contains("1.1.1n-0+deb11u5"));
    // A pre-release of 3.0.0 is above 3.0 (3.0 < 3.0.0~alpha1 < 3.0.0), one of 3.0 is not.
    assert!(!below.contains("3.0.0~alpha1"));
    assert!(
        Range::new(Some("3.0.0".into()), None, None)
            .expect("range")
            .contains("3.0.0~alpha1")
    );
    assert!(below.contains("3.0~rc1"));
    assert!(!below.contains("3.0"));
    assert!(!below.contains("3.0.11-1~deb12u2"));
    assert!(!below.contains("1:0.1"));

    let band = Range::new(Some("3.1".into()), Some("3.0".into()), None).expect("range");
    assert!(band.contains("3.0"));
    assert!(band.contains("3.0.11"));
    assert!(!band.contains("3.1"));
    assert!(!band.contains("2.9"));

    let exact = Range::new(None, None, Some("3.0.11".into())).expect("range");
    assert!(exact.contains("3.0.11"));
    assert!(!exact.contains("3.0.011"));
    assert!(Range::default().contains("anything"));

    assert!(Range::new(Some("3.0".into()), Some("3.0".into()), None).is_err());
    assert!(Range::new(Some("2.0".into()), Some("3.0".into()), None).is_err());
}

#[test]
fn checking_query_versions() {
    assert_eq!(check(" 3.0 "), Ok("3.0"));
    assert!(check("").is_err());
    assert!(check("   ").is_err());
    assert!(check("1.0\n2").is_err());
    assert!(check(&"1".repeat(MAX_VERSION_LEN + 1)).is_err());
    assert!(check(&"1".repeat(MAX_VERSION_LEN)).is_ok());
}

#[test]
fn title_changes_between_reports() {
    let old = [
        ("openssl", "1.1.1n-0+deb11u5"),
        ("curl", "7.88.1-10"),
        ("vim", "9.0"),
        ("linux-image", "6.1"),
        ("libc6", "2.36-9+deb12u8"),
        ("libc6", "2.36-9+deb12u8"),
        ("tzdata", "2024b"),
    ];
    let new = [
        ("openssl", "3.0.11-1~deb12u2"),
        ("curl", "7.88.1-10"),
        ("linux-image", "6.1"),
        ("linux-image", "6.2"),
        ("libc6", "2.36-9+deb12u8"),
        ("htop", "3.2"),
        ("tzdata", "2024a"),
    ];
    let mut c = title_changes(old, new);
    c.sort();
    assert_eq!(
        c,
        vec![
            ("htop", TitleChange::Installed),
            ("linux-image", TitleChange::Upgraded),
            ("openssl", TitleChange::Upgraded),
            ("tzdata", TitleChange::Downgraded),
            ("vim", TitleChange::Removed),
        ]
    );
    assert!(title_changes(new, new).is_empty());
    // A second version beside the newest is no change of the title.
    assert!(title_changes([("k", "6.2")], [("k", "6.1"), ("k", "6.2")]).is_empty());
}
