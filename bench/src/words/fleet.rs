//! The asset fleet: kinds of device, their vendors and models, and how common each is.

/// (kind, name prefix, weight, [(vendor, [models])]) for the asset fleet.
pub type Fleet = (
    &'static str,
    &'static str,
    u32,
    &'static [(&'static str, &'static [&'static str])],
);

pub const FLEET: &[Fleet] = &[
    (
        "computer",
        "LT",
        36,
        &[
            (
                "Dell Inc.",
                &[
                    "Latitude 5440",
                    "Latitude 7450",
                    "Precision 5680",
                    "XPS 13 9340",
                ],
            ),
            (
                "HP",
                &[
                    "EliteBook 840 G10",
                    "EliteBook 860 G11",
                    "ProBook 450 G10",
                    "ZBook Firefly 14",
                ],
            ),
            (
                "LENOVO",
                &[
                    "ThinkPad T14 Gen 4",
                    "ThinkPad X1 Carbon Gen 11",
                    "ThinkPad L15 Gen 4",
                    "ThinkPad P16s",
                ],
            ),
            (
                "Apple Inc.",
                &["MacBook Pro 14", "MacBook Air 13", "MacBook Pro 16"],
            ),
        ],
    ),
    (
        "computer",
        "DT",
        10,
        &[
            (
                "Dell Inc.",
                &["OptiPlex 7010", "OptiPlex 5000", "Precision 3660"],
            ),
            ("HP", &["EliteDesk 800 G9", "ProDesk 400 G9", "Z2 Tower G9"]),
            (
                "LENOVO",
                &["ThinkCentre M70q", "ThinkCentre M90t", "ThinkStation P3"],
            ),
        ],
    ),
    (
        "monitor",
        "MON",
        22,
        &[
            ("Dell Inc.", &["P2423D", "U2723QE", "P2722H"]),
            ("LG", &["27UP850", "24MP400"]),
            ("Samsung", &["S27A600", "ViewFinity S8"]),
        ],
    ),
    (
        "phone",
        "PH",
        14,
        &[
            ("Apple Inc.", &["iPhone 14", "iPhone 15", "iPhone SE"]),
            (
                "Samsung",
                &["Galaxy S23", "Galaxy A54", "Galaxy XCover 6 Pro"],
            ),
        ],
    ),
    (
        "server",
        "SRV",
        6,
        &[
            (
                "Dell Inc.",
                &["PowerEdge R660", "PowerEdge R760", "PowerEdge T350"],
            ),
            (
                "HPE",
                &["ProLiant DL360 Gen11", "ProLiant DL380 Gen10 Plus"],
            ),
            ("VMware, Inc.", &["VMware Virtual Platform"]),
        ],
    ),
    (
        "printer",
        "PRN",
        3,
        &[
            (
                "HP",
                &["LaserJet Enterprise M611", "Color LaserJet Pro M479"],
            ),
            ("Kyocera", &["ECOSYS M3655idn", "TASKalfa 3253ci"]),
            ("Brother", &["HL-L6400DW", "MFC-L9570CDW"]),
        ],
    ),
    (
        "network",
        "NET",
        5,
        &[
            ("Cisco", &["Catalyst 9200", "Catalyst 9300", "Meraki MR46"]),
            ("Ubiquiti", &["UniFi U6 Pro", "UniFi Switch 24 PoE"]),
            ("Fortinet", &["FortiGate 100F", "FortiAP 231F"]),
        ],
    ),
    (
        "peripheral",
        "ACC",
        4,
        &[
            ("Dell Inc.", &["WD19S Dock", "WD22TB4 Dock"]),
            ("Logitech", &["Rally Bar", "MX Keys Combo", "Zone Wireless"]),
            ("Jabra", &["Evolve2 65", "Speak 750"]),
        ],
    ),
];
