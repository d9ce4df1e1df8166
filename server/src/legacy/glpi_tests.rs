use super::map::{install_date, local_datetime, normalize_mac, tz_offset_secs};
use super::*;
use crate::legacy::report::Section;
use proptest::prelude::*;
use steward_shared::inventory::Software;

// The fixtures are written in the shape GLPI Agent 1.7 sends, after
// glpi-project/inventory_format (inventory.schema.json, examples/computer_1_partial_softs.json,
// examples/computer_2.json) and the agent's own modules (Protocol/Inventory.pm's normalize,
// Softwares/Deb.pm, Win32/Softwares.pm, Win32/OS.pm, Win32/CPU.pm, Distro/OSRelease.pm,
// Protocol/Contact.pm); machine data are made up.
const LINUX: &[u8] = include_bytes!("fixtures/glpi-linux-desktop.json");
const WINDOWS: &[u8] = include_bytes!("fixtures/glpi-windows-laptop.json");
const CONTACT: &[u8] = include_bytes!("fixtures/glpi-contact.json");
const PARTIAL: &[u8] = include_bytes!("fixtures/glpi-partial-software.json");

const UA: Option<&str> = Some("GLPI-Agent_v1.7.3");
const AGENT_ID: Option<&str> = Some("3a6b2c1d-4e5f-4a7b-8c9d-0e1f2a3b4c5d");

fn inventory(body: &[u8]) -> LegacyReport {
    match parse(body, UA, AGENT_ID) {
        Ok(GlpiRequest::Inventory(r)) => r,
        other => panic!("expected an inventory, got {other:?}"),
    }
}

fn utc(s: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .expect("date")
        .and_utc()
        .timestamp()
}

fn find<'a>(list: &'a [Software], name: &str) -> &'a Software {
    list.iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} is missing"))
}

fn err(body: &str) -> LegacyError {
    match parse(body.as_bytes(), UA, None) {
        Err(e) => e,
        Ok(r) => panic!("expected an error, got {r:?}"),
    }
}

#[test]
fn linux_desktop_maps_to_our_model() {
    let r = inventory(LINUX);
    let inv = &r.inventory;
    assert_eq!(r.device_id, "pc-042-2024-03-18-09-12-55");
    assert_eq!(r.agent, "GLPI Agent 1.7");
    assert_eq!(r.partial, None);
    assert_eq!(inv.agent_version, "1.7.3");
    assert_eq!(inv.hostname, "pc-042");
    // 09:30:15 at +0100.
    assert_eq!(inv.collected_at, utc("2024-12-02 08:30:15"));

    let hw = &inv.hardware;
    assert_eq!(hw.uuid, "7e0a9c4e-2b1f-11ee-8c3a-5c879c1d0e42");
    assert_eq!(
        (hw.vendor.as_str(), hw.model.as_str()),
        ("LENOVO", "12JCS0KA00")
    );
    assert_eq!(hw.serial, "MJ0GXYZ1");
    assert_eq!(hw.board_serial, "L1HF2AB00RT");
    assert_eq!(hw.bios_version, "M3FKT3BA");
    assert_eq!(hw.bios_date, "08/21/2023");
    assert_eq!(hw.machine_id, "");
    let keys = crate::domain::identity::keys(inv);
    assert_eq!(keys[0].kind, "uuid");
    assert_eq!(keys[1].value, "lenovo:MJ0GXYZ1");

    assert_eq!(inv.os.family, "linux");
    assert_eq!(inv.os.name, "Debian GNU/Linux 12 (bookworm)");
    assert_eq!(inv.os.version, "12.8");
    assert_eq!(inv.os.kernel, "6.1.0-28-amd64");
    assert_eq!(inv.os.arch, "x86_64");

    assert_eq!(inv.cpu.model, "12th Gen Intel(R) Core(TM) i5-12500T");
    assert_eq!(inv.cpu.vendor, "GenuineIntel");
    assert_eq!((inv.cpu.physical_cores, inv.cpu.logical_cores), (12, 12));
    assert_eq!(inv.cpu.frequency_mhz, 2000);
    assert_eq!(inv.memory.total_bytes, 15884 * 1024 * 1024);
    assert_eq!(inv.memory.swap_total_bytes, 976 * 1024 * 1024);

    // tmpfs and the NFS share are left out, as our agent does.
    let mounts: Vec<&str> = inv.disks.iter().map(|d| d.mount_point.as_str()).collect();
    assert_eq!(mounts, ["/", "/boot/efi"]);
    assert_eq!(inv.disks[0].device, "/dev/nvme0n1p2");
    assert_eq!(inv.disks[0].filesystem, "ext4");
    assert_eq!(inv.disks[0].total_bytes, 233_309 * 1024 * 1024);

    // Loopback left out; one interface per name, its addresses merged.
    let names: Vec<&str> = inv.network.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["enp1s0", "wlp2s0"]);
    assert_eq!(inv.network[0].mac, "5c:87:9c:1d:0e:42");
    assert_eq!(
        inv.network[0].ips,
        ["192.168.10.42", "fe80::5e87:9cff:fe1d:e42"]
    );
    assert!(inv.network[1].ips.is_empty());
    assert_eq!(inv.logged_in_users, ["jdupont"]);

    assert_eq!(inv.software.len(), 33);
    let bash = find(&inv.software, "bash");
    assert_eq!(
        (
            bash.source.as_str(),
            bash.arch.as_str(),
            bash.version.as_str()
        ),
        ("dpkg", "amd64", "5.2.15-2+b7")
    );
    assert_eq!(bash.publisher, "Debian");
    assert_eq!(bash.install_date, 0);
    let code = find(&inv.software, "code");
    assert_eq!(code.source, "snap");
    assert_eq!(code.install_date, utc("2024-11-20 00:00:00"));
    assert_eq!(
        find(&inv.software, "org.mozilla.Thunderbird").source,
        "flatpak"
    );

    let h = &r.health;
    assert_eq!(h.taken_at, inv.collected_at);
    assert_eq!(h.uptime_secs, 45 * 60 + 12);
    assert_eq!(h.memory_total_bytes, inv.memory.total_bytes);
    assert_eq!(h.filesystems.len(), 2);
    let root = &h.filesystems[0];
    assert_eq!(root.mount_point, "/");
    assert_eq!(root.available_bytes, Some(186_532 * 1024 * 1024));
    assert_eq!(root.used_bytes, (233_309 - 186_532) * 1024 * 1024);
}

#[test]
fn windows_laptop_maps_like_our_windows_collector() {
    let r = inventory(WINDOWS);
    let inv = &r.inventory;
    assert_eq!(r.agent, "GLPI Agent 1.7");
    assert_eq!(inv.agent_version, "1.7.1");
    assert_eq!(r.partial, None);
    assert_eq!(inv.hostname, "LT-0173");
    assert_eq!(inv.hardware.uuid, "4c4c4544-0051-5210-8031-b8c04f583334");
    assert_eq!(inv.hardware.vendor, "Dell Inc.");
    assert_eq!(inv.hardware.model, "Latitude 5440");
    assert_eq!(inv.hardware.serial, "8QR1X34");
    assert_eq!(inv.hardware.bios_date, "07/09/2024");

    assert_eq!(inv.os.family, "windows");
    assert_eq!(inv.os.name, "Microsoft Windows 11 Pro 23H2");
    assert_eq!(inv.os.version, "10.0.22631.4460");
    assert_eq!(inv.os.kernel, "10.0.22631");

    assert_eq!(inv.cpu.vendor, "GenuineIntel");
    assert_eq!((inv.cpu.physical_cores, inv.cpu.logical_cores), (10, 20));
    assert_eq!(inv.memory.total_bytes, 16069 * 1024 * 1024);

    // The network drive is left out; sizes given as strings are read.
    let mounts: Vec<&str> = inv.disks.iter().map(|d| d.mount_point.as_str()).collect();
    assert_eq!(mounts, ["C:\\", "D:\\"]);
    assert_eq!(inv.disks[0].filesystem, "NTFS");
    assert_eq!(inv.disks[0].device, "Windows");
    assert!(!inv.disks[0].removable);
    assert!(inv.disks[1].removable);
    assert_eq!(inv.disks[1].total_bytes, 15264 * 1024 * 1024);

    let names: Vec<&str> = inv.network.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Cisco AnyConnect Secure Mobility Client Virtual Miniport Adapter for Windows x64",
            "Intel(R) Ethernet Connection (16) I219-LM",
            "Intel(R) Wi-Fi 6E AX211 160MHz",
        ]
    );
    assert_eq!(inv.network[1].mac, "c4:5a:b1:11:22:33");
    assert_eq!(inv.network[2].ips.len(), 2);
    assert_eq!(inv.logged_in_users, ["CORP\\mmartin"]);

    // 28 registry entries and 2 store apps; the system component, the registry update
    // and the WMI hotfix are left out.
    assert_eq!(inv.software.len(), 30);
    assert!(!inv.software.iter().any(|s| s.name.contains("KB")));
    assert!(
        !inv.software
            .iter()
            .any(|s| s.name.contains("Desktop Runtime"))
    );
    let chrome = find(&inv.software, "Google Chrome");
    assert_eq!(
        (chrome.source.as_str(), chrome.arch.as_str()),
        ("registry", "")
    );
    assert_eq!(chrome.install_date, utc("2024-11-28 00:00:00"));
    assert_eq!(find(&inv.software, "TeamViewer").arch, "x86");
    assert_eq!(
        find(&inv.software, "Zoom Workplace (64-bit)").source,
        "registry-user"
    );
    let terminal = find(&inv.software, "Microsoft Windows Terminal");
    assert_eq!(
        (terminal.source.as_str(), terminal.arch.as_str()),
        ("appx", "x64")
    );

    // 2024-11-29 17:40:22 to 2024-12-02 14:05:09.
    assert_eq!(r.health.uptime_secs, 2 * 86_400 + 20 * 3600 + 24 * 60 + 47);
    assert_eq!(r.health.filesystems.len(), 2);
}

#[test]
fn contact_request() {
    let req = parse(CONTACT, Some("GLPI-Agent_v1.7.3"), AGENT_ID).expect("contact");
    assert_eq!(
        req,
        GlpiRequest::Contact {
            device_id: "pc-042-2024-03-18-09-12-55".into(),
            agent: "GLPI Agent 1.7".into(),
            enabled_tasks: vec!["deploy".into(), "inventory".into()],
        }
    );
    // The device id may come from the GLPI-Agent-ID header alone.
    let req = parse(br#"{"action":"contact"}"#, None, AGENT_ID).expect("contact");
    let GlpiRequest::Contact {
        device_id, agent, ..
    } = req
    else {
        panic!("not a contact")
    };
    assert_eq!(Some(device_id.as_str()), AGENT_ID);
    assert_eq!(agent, "GLPI Agent");
}

#[test]
fn other_actions_are_left_to_the_caller() {
    for action in ["register", "configuration", "get_params", "netdiscovery"] {
        let body = format!(r#"{{"action":"{action}","deviceid":"pc-1"}}"#);
        assert_eq!(
            parse(body.as_bytes(), UA, None),
            Ok(GlpiRequest::Other {
                action: action.into(),
                device_id: "pc-1".into()
            })
        );
    }
}

#[test]
fn partial_inventory_lists_its_sections() {
    let r = inventory(PARTIAL);
    assert_eq!(r.partial, Some(vec![Section::Os, Section::Software]));
    assert_eq!(r.inventory.os.name, "Debian GNU/Linux 12 (bookworm)");
    assert_eq!(r.inventory.software.len(), 7);
    assert!(r.inventory.software.iter().all(|s| s.source == "dpkg"));
    assert_eq!(r.inventory.hostname, "");
    assert_eq!(r.inventory.collected_at, 0);

    let r = inventory(
        br#"{"deviceid":"d","partial":"1","content":{"hardware":{"name":"x","memory":"512"},"cpus":[]}}"#,
    );
    assert_eq!(
        r.partial,
        Some(vec![Section::Hardware, Section::Cpu, Section::Memory])
    );
}

#[test]
fn numbers_may_be_strings_and_strings_numbers() {
    let r = inventory(
        br#"{"action":"inventory","deviceid":"d","content":{
            "hardware":{"memory":"2048","swap":"","name":1234},
            "cpus":[{"core":"4","thread":"2","speed":"2400.0"}],
            "drives":[{"type":"/","filesystem":"xfs","total":"1000","free":2000}],
            "softwares":[{"name":"pkg","version":10,"from":"rpm"}]}}"#,
    );
    let inv = &r.inventory;
    assert_eq!(inv.hostname, "1234");
    assert_eq!(inv.memory.total_bytes, 2048 * 1024 * 1024);
    assert_eq!(inv.memory.swap_total_bytes, 0);
    assert_eq!((inv.cpu.physical_cores, inv.cpu.logical_cores), (4, 8));
    assert_eq!(inv.cpu.frequency_mhz, 2400);
    // More free than total is clamped, never an underflow.
    assert_eq!(r.health.filesystems[0].used_bytes, 0);
    assert_eq!(inv.software[0].version, "10");
    assert_eq!(inv.software[0].source, "rpm");
}

#[test]
fn memory_falls_back_to_the_modules() {
    let r = inventory(
        br#"{"deviceid":"d","content":{"memories":[{"capacity":4096},{"capacity":"4096"}]}}"#,
    );
    assert_eq!(r.inventory.memory.total_bytes, 8192 * 1024 * 1024);
}

/// Bodies refused as malformed, and what the message must name.
const MALFORMED: &[(&str, &str)] = &[
    ("not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    (
        r#"{"action":"inventory","content":{}}"#,
        "deviceid is missing",
    ),
    (r#"{"action":"contact"}"#, "deviceid is missing"),
    (r#"{"deviceid":"d"}"#, "\"content\""),
    (
        r#"{"deviceid":"d","content":[]}"#,
        "content must be an object",
    ),
    (
        r#"{"deviceid":"d","itemtype":"Printer","content":{}}"#,
        "Printer",
    ),
    (
        r#"{"deviceid":"d","partial":"maybe","content":{}}"#,
        "partial",
    ),
];

/// Contents with a wrong type in a known field, and the field's path.
const WRONG_TYPES: &[(&str, &str)] = &[
    (
        r#"{"hardware":{"memory":"lots"}}"#,
        "content.hardware.memory",
    ),
    (r#"{"hardware":{"memory":-1}}"#, "content.hardware.memory"),
    (r#"{"hardware":{"name":["a"]}}"#, "content.hardware.name"),
    (r#"{"hardware":[]}"#, "content.hardware must be an object"),
    (r#"{"softwares":[{"name":"a"},3]}"#, "content.softwares[1]"),
    (
        r#"{"softwares":[{"name":{}}]}"#,
        "content.softwares[0].name",
    ),
    (r#"{"cpus":"x"}"#, "content.cpus"),
    (r#"{"drives":[{"total":true}]}"#, "content.drives[0].total"),
    (
        r#"{"operatingsystem":{"timezone":"CET"}}"#,
        "content.operatingsystem.timezone",
    ),
];

#[test]
fn refused_requests() {
    let with_content = WRONG_TYPES
        .iter()
        .map(|(c, e)| (format!(r#"{{"deviceid":"d","content":{c}}}"#), *e));
    let all = MALFORMED.iter().map(|(b, e)| (b.to_string(), *e));
    for (body, expected) in all.chain(with_content) {
        let e = err(&body);
        assert!(matches!(e, LegacyError::Malformed(_)), "{body}: {e:?}");
        assert!(e.to_string().contains(expected), "{body}: {e}");
    }
    // A numeric device id is read as text.
    assert!(parse(br#"{"deviceid":7,"content":{}}"#, UA, None).is_ok());
}

#[test]
fn limits() {
    let many: Vec<String> = (0..=MAX_SOFTWARE)
        .map(|_| r#"{"name":"a"}"#.to_string())
        .collect();
    let body = format!(
        r#"{{"deviceid":"d","content":{{"softwares":[{}]}}}}"#,
        many.join(",")
    );
    assert!(matches!(err(&body), LegacyError::TooBig(_)));
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(err(&deep), LegacyError::TooBig(_)));
    let long_id = format!(r#"{{"action":"contact","deviceid":"{}"}}"#, "x".repeat(300));
    assert!(matches!(err(&long_id), LegacyError::Malformed(_)));
}

#[test]
fn replies() {
    assert_eq!(
        contact_reply(24),
        serde_json::json!({
            "status": "ok",
            "expiration": 24,
            "tasks": {"inventory": {"server": "glpi", "version": GLPI_COMPAT_VERSION}},
        })
    );
    // The agent ignores a CONTACT answer without a positive expiration.
    assert_eq!(contact_reply(0)["expiration"], 1);
    let r = contact_reply_for(12, &["deploy".into(), "inventory".into(), "collect".into()]);
    assert_eq!(r["disabled"], serde_json::json!(["deploy", "collect"]));
    assert_eq!(r["status"], "ok");
    assert_eq!(
        contact_reply_for(12, &["inventory".into()]),
        contact_reply(12)
    );
    assert_eq!(inventory_reply(), serde_json::json!({"status": "ok"}));
    assert_eq!(
        error_reply("no"),
        serde_json::json!({"status": "error", "message": "no"})
    );
}

#[test]
fn agent_names() {
    assert_eq!(
        agent_label(Some("GLPI-Agent_v1.7.3"), None),
        "GLPI Agent 1.7"
    );
    assert_eq!(
        agent_label(Some("GLPI-Agent_v1.8-gitabc"), None),
        "GLPI Agent 1.8"
    );
    assert_eq!(
        agent_label(Some(""), Some("GLPI-Agent_v1.6")),
        "GLPI Agent 1.6"
    );
    assert_eq!(
        agent_label(Some("FusionInventory-Agent_v2.6"), None),
        "FusionInventory 2.6"
    );
    assert_eq!(agent_label(None, Some("curl/8.0")), "GLPI Agent");
}

#[test]
fn dates_times_and_macs() {
    assert_eq!(install_date("2024-11-28"), utc("2024-11-28 00:00:00"));
    assert_eq!(install_date("28/11/2024"), utc("2024-11-28 00:00:00"));
    assert_eq!(
        install_date("2024-11-28 10:11:12"),
        utc("2024-11-28 00:00:00")
    );
    assert_eq!(install_date("yesterday"), 0);
    assert_eq!(install_date("2024-13-45"), 0);
    assert_eq!(
        local_datetime("2024-12-02 09:30:15"),
        Some(utc("2024-12-02 09:30:15"))
    );
    assert_eq!(
        local_datetime("2024-12-02T09:30:15Z"),
        Some(utc("2024-12-02 09:30:15"))
    );
    assert_eq!(
        local_datetime("2024-12-02 09:30"),
        Some(utc("2024-12-02 09:30:00"))
    );
    assert_eq!(local_datetime("é"), None);
    assert_eq!(tz_offset_secs("+0200"), 7200);
    assert_eq!(tz_offset_secs("-05:30"), -(5 * 3600 + 30 * 60));
    assert_eq!(tz_offset_secs("CET"), 0);
    assert_eq!(tz_offset_secs("+9999"), 0);
    assert_eq!(normalize_mac("00-1A-2B-3C-4D-5E"), "00:1a:2b:3c:4d:5e");
    assert_eq!(normalize_mac("00:00:00:00:00:00"), "");
}

/// The keys the mapper reads, so random documents exercise it.
const KEYS: &str = "action deviceid content partial itemtype hardware bios operatingsystem cpus
    memories drives networks users softwares accesslog logdate boot_time timezone offset name
    memory swap core thread speed total free type letter filesystem mac ipaddress from
    install_date arch version kernel_version service_pack login domain capacity versionclient
    enabled-tasks release_type system_category userid";

/// Random JSON, with known keys among random ones.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let key = prop_oneof![
        prop::sample::select(KEYS.split_whitespace().collect::<Vec<_>>()).prop_map(str::to_string),
        "[a-z_]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "[ -~é]{0,24}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("2024-12-02 09:30:15")),
        Just(serde_json::Value::from("+0100")),
        Just(serde_json::Value::from("registry")),
    ];
    leaf.prop_recursive(5, 96, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn random_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&body, None, None);
        let _ = parse(&body, Some("é"), Some(""));
    }

    #[test]
    fn random_json_never_panics(value in json_value(), content in json_value()) {
        let _ = parse(value.to_string().as_bytes(), UA, AGENT_ID);
        let envelope = serde_json::json!({"deviceid": "d", "partial": true, "content": content});
        let _ = parse(envelope.to_string().as_bytes(), UA, None);
    }

    #[test]
    fn random_sections_never_panic(
        sections in prop::collection::btree_map(
            prop::sample::select(vec![
                "hardware", "bios", "operatingsystem", "cpus", "memories", "drives",
                "networks", "users", "softwares", "accesslog", "versionclient",
            ]),
            json_value(),
            0..6,
        )
    ) {
        let envelope = serde_json::json!({"deviceid": "d", "content": sections});
        let _ = parse(envelope.to_string().as_bytes(), UA, None);
    }
}
