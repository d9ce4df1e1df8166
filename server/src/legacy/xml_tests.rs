use super::*;
use crate::legacy::report::LegacyReport;
use chrono::NaiveDate;
use proptest::prelude::*;
use steward_shared::inventory::Hardware;

/// `fusioninventory-inventory` on a Debian 12 container; SOFTWARES cut from 846 to 40.
const FI: &str = include_str!("fixtures/fusioninventory-2.6-inventory.xml");
/// `ocsinventory-agent --local` on the same container; SOFTWARES cut from 860 to 40.
const OCS: &str = include_str!("fixtures/ocs-2.10-inventory.xml");
const FI_PROLOG: &str = include_str!("fixtures/fusioninventory-2.6-prolog.xml");
const OCS_PROLOG: &str = include_str!("fixtures/ocs-2.10-prolog.xml");
/// Hand-written Windows laptop in FusionInventory's format.
const WINDOWS: &str = include_str!("fixtures/synthetic-fusioninventory-windows.xml");

const MIB: u64 = 1024 * 1024;

fn inventory(body: &str, user_agent: Option<&str>) -> LegacyReport {
    match parse(body.as_bytes(), user_agent) {
        Ok(XmlRequest::Inventory(report)) => report,
        other => panic!("not an inventory: {other:?}"),
    }
}

fn err(body: &[u8]) -> LegacyError {
    match parse(body, None) {
        Err(e) => e,
        Ok(ok) => panic!("accepted: {ok:?}"),
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|d| d.and_hms_opt(h, mi, s))
        .expect("date")
        .and_utc()
        .timestamp()
}

#[test]
fn fusioninventory_inventory_maps_like_our_agent() {
    let r = inventory(FI, Some("FusionInventory-Agent_v2.6-3"));
    let inv = &r.inventory;
    assert_eq!(r.device_id, "vm-2026-11-25-21-45-13");
    // VERSIONCLIENT "FusionInventory-Inventory_v2.6-3" wins over the User-Agent.
    assert_eq!(r.agent, "FusionInventory 2.6");
    assert_eq!(inv.agent_version, "FusionInventory 2.6");
    assert_eq!(r.partial, None);
    assert_eq!(inv.hostname, "vm");
    // A container: no SMBIOS table, so no identity but the DEVICEID.
    assert_eq!(inv.hardware, Hardware::default());
    assert_eq!(inv.os.family, "linux");
    assert_eq!(inv.os.name, "Debian GNU/Linux 12 (bookworm)");
    assert_eq!(inv.os.version, "12.11");
    assert_eq!(inv.os.kernel, "6.18.44-fc-v669");
    assert_eq!(inv.os.arch, "x86_64");
    assert_eq!(inv.cpu.model, "AMD EPYC");
    assert_eq!(inv.cpu.vendor, "AuthenticAMD");
    assert_eq!((inv.cpu.physical_cores, inv.cpu.logical_cores), (2, 2));
    assert_eq!(inv.memory.total_bytes, 24105 * MIB);
    assert_eq!(inv.memory.swap_total_bytes, 0);
    assert_eq!(inv.disks.len(), 1);
    assert_eq!(inv.disks[0].device, "/dev/vda");
    assert_eq!(inv.disks[0].mount_point, "/");
    assert_eq!(inv.disks[0].filesystem, "ext4");
    assert_eq!(inv.disks[0].total_bytes, 258019 * MIB);
    // Loopback left out; one interface per name with all its addresses.
    let names: Vec<&str> = inv.network.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["eth0", "ifb0", "ifb1"]);
    assert_eq!(inv.network[0].mac, "02:fc:00:00:00:01");
    assert_eq!(
        inv.network[0].ips,
        ["192.0.2.2", "fd00::2", "fe80::fc:ff:fe00:1"]
    );
    assert!(inv.network[1].ips.is_empty());
    // LOCAL_USERS are accounts, not sessions; nobody was logged in.
    assert!(inv.logged_in_users.is_empty());
    assert_eq!(inv.software.len(), 40);
    assert!(inv.software.iter().all(|s| s.source == "dpkg"));
    let adduser = &inv.software[0];
    assert_eq!(
        (adduser.name.as_str(), adduser.version.as_str()),
        ("adduser", "3.134")
    );
    assert_eq!(
        (adduser.arch.as_str(), adduser.publisher.as_str()),
        ("all", "Debian")
    );
    assert_eq!(adduser.install_date, 0);
    assert!(inv.software.is_sorted_by(|a, b| a.name <= b.name));
    // LOGDATE (TIMEZONE +0000) is when it was taken; BOOT_TIME 14:26:20 gives the uptime.
    let at = utc(2026, 11, 25, 21, 45, 14);
    assert_eq!((inv.collected_at, r.health.taken_at), (at, at));
    assert_eq!(r.health.uptime_secs, 7 * 3600 + 18 * 60 + 54);
    assert_eq!(r.health.memory_total_bytes, 24105 * MIB);
    assert_eq!(r.health.filesystems.len(), 1);
    let root = &r.health.filesystems[0];
    assert_eq!(root.mount_point, "/");
    assert_eq!(root.total_bytes, 258019 * MIB);
    assert_eq!(root.used_bytes, (258019 - 32788) * MIB);
    assert_eq!(root.available_bytes, Some(32788 * MIB));
}

#[test]
fn ocs_inventory_maps_like_our_agent() {
    let r = inventory(OCS, Some("OCS-NG_unified_unix_agent_v2.10.0"));
    let inv = &r.inventory;
    assert_eq!(r.device_id, "vm-2026-11-25-21-47-13");
    // No VERSIONCLIENT in OCS documents: the User-Agent names it.
    assert_eq!(r.agent, "OCS 2.10");
    assert_eq!(inv.hostname, "vm");
    assert_eq!(inv.hardware, Hardware::default());
    assert_eq!(inv.os.family, "linux");
    assert_eq!(inv.os.name, "Debian GNU/Linux 12 (bookworm)");
    assert_eq!(inv.os.version, "12");
    assert_eq!(inv.os.kernel, "");
    assert_eq!(inv.os.arch, "x86_64");
    assert_eq!(inv.cpu.model, "AMD EPYC");
    assert_eq!(inv.cpu.vendor, "AuthenticAMD");
    assert_eq!((inv.cpu.physical_cores, inv.cpu.logical_cores), (2, 2));
    assert_eq!(inv.memory.total_bytes, 24105 * MIB);
    assert_eq!(inv.disks.len(), 1);
    assert_eq!(
        (
            inv.disks[0].device.as_str(),
            inv.disks[0].mount_point.as_str()
        ),
        ("/dev/vda", "/")
    );
    let names: Vec<&str> = inv.network.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["eth0", "ifb0", "ifb1"]);
    assert_eq!(inv.network[0].ips, ["192.0.2.2", "fe80::fc:ff:fe00:1"]);
    assert_eq!(inv.network[2].mac, "36:7f:2f:42:c7:ab");
    assert!(inv.logged_in_users.is_empty());
    assert_eq!(inv.software.len(), 40);
    assert!(inv.software.iter().all(|s| s.source == "dpkg"));
    assert_eq!(inv.software[0].name, "adduser");
    assert_eq!(inv.software[0].arch, "all");
    assert_eq!(inv.software[0].install_date, utc(2025, 4, 20, 0, 0, 0));
    let alsa = inv
        .software
        .iter()
        .find(|s| s.name == "alsa-topology-conf")
        .expect("alsa-topology-conf");
    assert_eq!(alsa.publisher, "https://www.alsa-project.org/");
    assert_eq!(alsa.install_date, utc(2025, 5, 24, 14, 37, 47));
    // No ACCESSLOG: the caller stamps the time of receipt. The uptime is in DESCRIPTION.
    assert_eq!(inv.collected_at, 0);
    assert_eq!(r.health.uptime_secs, 7 * 3600 + 20 * 60 + 53);
    assert_eq!(r.health.filesystems[0].available_bytes, Some(32323 * MIB));
    // Without a User-Agent nothing names the agent.
    assert_eq!(inventory(OCS, None).agent, "");
}

#[test]
fn windows_identity_sessions_drives_and_registry() {
    let r = inventory(WINDOWS, None);
    let inv = &r.inventory;
    assert_eq!(r.device_id, "PC-042-2026-11-25-09-29-41");
    assert_eq!(r.agent, "FusionInventory 2.6");
    let hw = &inv.hardware;
    assert_eq!(hw.uuid, "4c4c4544-0042-3510-8057-b4c04f4e3332");
    assert_eq!(
        (hw.vendor.as_str(), hw.model.as_str()),
        ("Dell Inc.", "Latitude 7490")
    );
    assert_eq!(hw.serial, "PF2ABCDE");
    assert_eq!(hw.board_model, "0KX4XR");
    assert_eq!(hw.board_serial, "/PF2ABCDE/CNCMK003A1000U/");
    assert_eq!(
        (hw.bios_version.as_str(), hw.bios_date.as_str()),
        ("1.14.1", "03/12/2024")
    );
    let keys = crate::domain::identity::keys(inv);
    assert_eq!(keys[0].kind, "uuid");
    assert_eq!(keys[1].kind, "serial");
    assert_eq!(inv.os.family, "windows");
    assert_eq!(inv.os.name, "Microsoft Windows 11 Enterprise 23H2");
    assert_eq!(
        (inv.os.version.as_str(), inv.os.kernel.as_str()),
        ("10.0.22631", "10.0.22631")
    );
    assert_eq!(inv.os.arch, "x86_64");
    // THREAD is per core on Windows: 4 cores, 8 logical CPUs.
    assert_eq!((inv.cpu.physical_cores, inv.cpu.logical_cores), (4, 8));
    assert_eq!(inv.cpu.vendor, "GenuineIntel");
    assert_eq!(inv.cpu.frequency_mhz, 2112);
    assert_eq!(inv.memory.swap_total_bytes, 2432 * MIB);
    // Only the local disk: not the CD drive, not the network drive.
    assert_eq!(inv.disks.len(), 1);
    assert_eq!(inv.disks[0].device, "C:");
    assert_eq!(inv.disks[0].mount_point, "C:\\");
    assert_eq!(r.health.filesystems[0].mount_point, "C:\\");
    assert_eq!(inv.logged_in_users, ["CORP\\jdoe"]);
    assert_eq!(inv.network[1].name, "Intel(R) Dual Band Wireless-AC 8265");
    assert_eq!(inv.network[1].mac, "a4:6b:b6:3c:91:2f");
    assert_eq!(
        inv.network[1].ips,
        ["10.1.2.3", "fe80::1c2d:3e4f:5a6b:7c8d"]
    );
    let sw = |name: &str| {
        inv.software
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    // 15/01/2024 at midnight in UTC+1.
    assert_eq!(
        sw("7-Zip 23.01 (x64)").install_date,
        utc(2024, 1, 14, 23, 0, 0)
    );
    assert_eq!(sw("7-Zip 23.01 (x64)").source, "registry");
    assert_eq!(sw("Microsoft Teams").source, "registry-user");
    assert_eq!(sw("KB5032190").source, "wmi");
    assert_eq!(sw("Café & Thé Timer").publisher, "AT&T <Labs>");
    // LOGDATE 09:30 at UTC+1; booted the day before at 08:00.
    assert_eq!(inv.collected_at, utc(2026, 11, 25, 8, 30, 0));
    assert_eq!(r.health.uptime_secs, 25 * 3600 + 30 * 60);
}

#[test]
fn memory_falls_back_to_the_modules() {
    let doc = WINDOWS.replace("<MEMORY>16069</MEMORY>", "");
    assert_eq!(
        inventory(&doc, None).inventory.memory.total_bytes,
        16384 * MIB
    );
}

/// A document whose hostname is "café" in Latin-1 (one byte 0xE9), after `decl`.
fn latin1_doc(decl: &str) -> Vec<u8> {
    let mut doc = decl.as_bytes().to_vec();
    doc.extend_from_slice(
        b"<REQUEST><DEVICEID>pc-1</DEVICEID><QUERY>INVENTORY</QUERY>\
          <CONTENT><HARDWARE><NAME>caf\xE9</NAME></HARDWARE></CONTENT></REQUEST>",
    );
    doc
}

#[test]
fn latin1_only_when_declared() {
    for decl in [
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n",
        "<?xml version='1.0' encoding='latin1' ?>",
    ] {
        match parse(&latin1_doc(decl), None) {
            Ok(XmlRequest::Inventory(r)) => assert_eq!(r.inventory.hostname, "café"),
            other => panic!("{decl}: {other:?}"),
        }
    }
    for decl in ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>", ""] {
        assert!(matches!(err(&latin1_doc(decl)), LegacyError::Malformed(_)));
    }
}

#[test]
fn prologs_from_both_agents() {
    assert_eq!(
        parse(FI_PROLOG.as_bytes(), Some("FusionInventory-Agent_v2.6-3")),
        Ok(XmlRequest::Prolog {
            device_id: "vm-2026-11-25-21-45-13".into(),
            agent: "FusionInventory 2.6".into(),
        })
    );
    assert_eq!(
        parse(
            OCS_PROLOG.as_bytes(),
            Some("OCS-NG_unified_unix_agent_v2.10.0")
        ),
        Ok(XmlRequest::Prolog {
            device_id: "vm-2026-11-25-21-47-13".into(),
            agent: "OCS 2.10".into(),
        })
    );
}

#[test]
fn other_queries() {
    let snmp = b"<?xml version=\"1.0\"?><REQUEST><DEVICEID>pc-1</DEVICEID><QUERY>SNMPQUERY</QUERY></REQUEST>";
    assert_eq!(
        parse(snmp, None),
        Ok(XmlRequest::Other {
            query: "SNMPQUERY".into(),
            device_id: "pc-1".into()
        })
    );
    let update = b"<REQUEST><QUERY>update</QUERY></REQUEST>";
    assert_eq!(
        parse(update, None),
        Ok(XmlRequest::Other {
            query: "UPDATE".into(),
            device_id: String::new()
        })
    );
}

#[test]
fn replies() {
    assert_eq!(
        prolog_reply(24),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<REPLY><PROLOG_FREQ>24</PROLOG_FREQ><RESPONSE>SEND</RESPONSE></REPLY>"
    );
    assert!(prolog_reply(0).contains("<PROLOG_FREQ>1</PROLOG_FREQ>"));
    assert_eq!(
        inventory_reply(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<REPLY><RESPONSE>NO_ACCOUNT_UPDATE</RESPONSE></REPLY>"
    );
    assert_eq!(
        empty_reply(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<REPLY></REPLY>"
    );
}

#[test]
fn dtds_and_entities_are_forbidden() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
]>
<REQUEST><DEVICEID>&lol2;</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>"#;
    let external = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><REQUEST><DEVICEID>&x;</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>"#;
    let lower = "<!doctype REQUEST><REQUEST><DEVICEID>a</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>";
    let unterminated = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"";
    for doc in [laughs, external, lower, unterminated] {
        assert!(
            matches!(err(doc.as_bytes()), LegacyError::Forbidden(_)),
            "{doc}"
        );
    }
    // Without a DTD an unknown entity is undeclared: not well-formed.
    let undeclared = "<REQUEST><DEVICEID>&x;</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>";
    assert!(matches!(
        err(undeclared.as_bytes()),
        LegacyError::Malformed(_)
    ));
}

#[test]
fn malformed_documents() {
    let half = &FI.as_bytes()[..FI.len() / 2];
    let mut not_utf8 = FI.as_bytes().to_vec();
    not_utf8[500] = 0xFF;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", half.to_vec()),
        ("unclosed", FI.replace("</REQUEST>", "").into_bytes()),
        ("not UTF-8", not_utf8),
        ("empty", Vec::new()),
        (
            "other root",
            b"<REPLY><RESPONSE>SEND</RESPONSE></REPLY>".to_vec(),
        ),
        (
            "two roots",
            b"<REQUEST><DEVICEID>a</DEVICEID><QUERY>PROLOG</QUERY></REQUEST><REQUEST/>".to_vec(),
        ),
        (
            "no query",
            b"<REQUEST><DEVICEID>a</DEVICEID></REQUEST>".to_vec(),
        ),
        (
            "prolog without DEVICEID",
            b"<REQUEST><QUERY>PROLOG</QUERY></REQUEST>".to_vec(),
        ),
        (
            "inventory without DEVICEID",
            FI.replace("<DEVICEID>vm-2026-11-25-21-45-13</DEVICEID>", "")
                .into_bytes(),
        ),
        (
            "inventory without CONTENT",
            b"<REQUEST><DEVICEID>a</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>".to_vec(),
        ),
        (
            "mismatched end",
            b"<REQUEST><QUERY>PROLOG</DEVICEID></REQUEST>".to_vec(),
        ),
        ("text outside", b"junk<REQUEST/>".to_vec()),
    ];
    for (what, body) in cases {
        assert!(matches!(err(&body), LegacyError::Malformed(_)), "{what}");
    }
}

#[test]
fn too_deep_or_too_long() {
    let deep = format!(
        "<REQUEST>{}{}</REQUEST>",
        "<A>".repeat(40),
        "</A>".repeat(40)
    );
    assert!(matches!(err(deep.as_bytes()), LegacyError::TooBig(_)));
    let long = format!(
        "<REQUEST><DEVICEID>{}</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>",
        "x".repeat(MAX_TEXT_BYTES + 1)
    );
    assert!(matches!(err(long.as_bytes()), LegacyError::TooBig(_)));
}

#[test]
fn agent_names() {
    for (raw, name) in [
        ("FusionInventory-Agent_v2.6", "FusionInventory 2.6"),
        ("FusionInventory-Agent_v2.6-3", "FusionInventory 2.6"),
        ("OCS-NG_unified_unix_agent_v2.10.0", "OCS 2.10"),
        ("OCS-NG_windows_client_v2.9.2.0", "OCS 2.9"),
        ("GLPI-Agent_v1.7", "GLPI Agent 1.7"),
        ("Some-Tool_v3", "Some Tool 3"),
        ("curl/8.5.0", "curl/8.5.0"),
        ("", ""),
    ] {
        assert_eq!(agent_name(raw), name, "{raw}");
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = parse(&body, Some("x"));
    }

    #[test]
    fn mutated_inventories_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..12),
        cut in any::<usize>(),
    ) {
        let mut body = [FI, OCS, WINDOWS][which].as_bytes().to_vec();
        for (at, byte, op) in edits {
            let at = at % (body.len() + 1);
            match op {
                0 if at < body.len() => body[at] = byte,
                1 => body.insert(at, byte),
                _ if at < body.len() => { body.remove(at); }
                _ => {}
            }
        }
        let _ = parse(&body, None);
        body.truncate(cut % (body.len() + 1));
        let _ = parse(&body, None);
    }
}
