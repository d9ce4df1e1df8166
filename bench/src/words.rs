//! Word lists and templates for seeded data that reads like a real service desk: people,
//! sites, hardware, and tickets about printers, mail, VPN, passwords and the rest.
//!
//! Templates name slots in braces (`{app}`, `{printer}`); [`fill`] replaces them. The
//! topics' weights set how often each word turns up, which the search benchmark relies on:
//! "plotter" is rare, "vpn" and "printer" are common, "thanks" is everywhere.

use crate::rng::Rng;

pub const FIRST_NAMES: &[&str] = &[
    "Anna", "Ben", "Clara", "David", "Elena", "Felix", "Grace", "Hannah", "Ivan", "Julia", "Karim",
    "Laura", "Marco", "Nina", "Oscar", "Paula", "Quentin", "Rosa", "Samir", "Tara", "Uwe", "Vera",
    "Walter", "Xenia", "Yusuf", "Zoe", "Amir", "Beatriz", "Chen", "Dara", "Emil", "Fatima",
    "Georg", "Hiro", "Ines", "Jonas", "Katja", "Lars", "Maya", "Noah", "Olga", "Pedro", "Rania",
    "Sofia", "Tomas", "Ulla", "Viktor", "Wei", "Yara", "Zeynep", "Aisha", "Bruno", "Carmen",
    "Dmitri", "Eva", "Finn", "Gita", "Hugo", "Ida", "Jakob",
];

pub const LAST_NAMES: &[&str] = &[
    "Schmidt",
    "Martin",
    "Rossi",
    "Garcia",
    "Nowak",
    "Jensen",
    "Dubois",
    "Silva",
    "Kowalski",
    "Novak",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Lehmann",
    "Keller",
    "Moreau",
    "Laurent",
    "Bernard",
    "Petit",
    "Ricci",
    "Romano",
    "Costa",
    "Ferreira",
    "Santos",
    "Oliveira",
    "Lopez",
    "Sanchez",
    "Perez",
    "Gomez",
    "Fernandez",
    "Andersson",
    "Johansson",
    "Nilsson",
    "Larsen",
    "Hansen",
    "Olsen",
    "Virtanen",
    "Korhonen",
    "Horvat",
    "Kovacs",
    "Nagy",
    "Popescu",
    "Ionescu",
    "Yilmaz",
    "Kaya",
    "Demir",
    "Tanaka",
    "Suzuki",
    "Kim",
    "Park",
    "Nguyen",
    "Tran",
    "Singh",
    "Patel",
    "Khan",
    "Ali",
    "Haddad",
    "Okafor",
    "Mensah",
    "Brown",
    "Smith",
    "Taylor",
    "Wilson",
    "Evans",
    "Walsh",
    "Murphy",
    "Byrne",
    "OConnor",
    "Campbell",
    "Stewart",
    "Fraser",
    "Ward",
    "Hughes",
    "Price",
    "Bauer",
    "Wolf",
    "Vogel",
];

/// (site, short code) pairs.
pub const SITES: &[(&str, &str)] = &[
    ("Berlin HQ", "ber"),
    ("Munich", "muc"),
    ("Hamburg", "ham"),
    ("Vienna", "vie"),
    ("Zurich", "zrh"),
    ("Lyon", "lys"),
    ("Madrid", "mad"),
    ("Warsaw", "waw"),
    ("Dublin", "dub"),
    ("Lisbon", "lis"),
    ("Prague", "prg"),
    ("Copenhagen", "cph"),
];

pub const DEPARTMENTS: &[&str] = &[
    "Finance",
    "HR",
    "Sales",
    "Marketing",
    "Legal",
    "Engineering",
    "Logistics",
    "Procurement",
    "Customer Care",
    "Facilities",
    "Research",
    "Controlling",
];

pub const APPS: &[&str] = &[
    "Outlook",
    "Teams",
    "Excel",
    "Word",
    "PowerPoint",
    "SAP GUI",
    "Salesforce",
    "Adobe Acrobat",
    "Chrome",
    "Firefox",
    "Zoom",
    "Slack",
    "AutoCAD",
    "Visual Studio Code",
    "Tableau",
    "Jira",
    "Confluence",
    "OneDrive",
    "SharePoint",
    "DATEV",
    "Power BI",
    "7-Zip",
    "Citrix Workspace",
    "FortiClient",
    "KeePass",
    "Notepad++",
    "Python",
    "Docker Desktop",
    "Workday",
    "ServiceNow",
];

pub const ROOMS: &[&str] = &[
    "Everest",
    "Kilimanjaro",
    "Matterhorn",
    "Mont Blanc",
    "Denali",
    "Aconcagua",
    "Elbrus",
    "Vinson",
    "Zugspitze",
    "Olympus",
    "Etna",
    "Fuji",
];

pub const SHARES: &[&str] = &[
    "Finance",
    "HR-Confidential",
    "Projects",
    "Marketing-Assets",
    "Legal-Contracts",
    "Scans",
    "Engineering-Builds",
    "Board",
    "Procurement",
    "Templates",
];

pub const MAILBOXES: &[&str] = &[
    "info",
    "sales-team",
    "accounts-payable",
    "hr-recruiting",
    "press",
    "support",
    "orders",
    "facilities",
    "reception",
    "legal-intake",
];

pub const WEEKDAYS: &[&str] = &["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];

pub const PLOTTERS: &[&str] = &["DesignJet T830", "DesignJet Z6", "imagePROGRAF TM-300"];

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

/// One kind of request or incident: how to title it, describe it, and close it.
pub struct Topic {
    pub weight: u32,
    pub category: &'static str,
    pub group: &'static str,
    pub ticket_type: &'static str,
    pub titles: &'static [&'static str],
    pub details: &'static [&'static str],
    pub fixes: &'static [&'static str],
}

pub const CATEGORIES: &[&str] = &[
    "Printing",
    "Email",
    "Remote access",
    "Network",
    "Accounts",
    "Access",
    "Hardware",
    "Software",
    "Mobile",
    "Security",
    "Maintenance",
    "Onboarding",
    "Collaboration",
];

/// (group, assignment rule).
pub const GROUPS: &[(&str, &str)] = &[
    ("Service Desk", "round_robin"),
    ("Desktop Support", "least_loaded"),
    ("Network", "manual"),
    ("Identity & Access", "round_robin"),
    ("Security", "manual"),
    ("Infrastructure", "manual"),
];

pub const TOPICS: &[Topic] = &[
    Topic {
        weight: 90,
        category: "Printing",
        group: "Service Desk",
        ticket_type: "incident",
        titles: &[
            "Printer {printer} not printing",
            "Paper jam on {printer} ({floor})",
            "Cannot add printer {printer} on my laptop",
            "Print jobs stuck in the queue",
            "Scan to email not working on {printer}",
            "Printer prints blank pages",
        ],
        details: &[
            "Since this morning nothing comes out of {printer} on the {floor} in {site}. The queue shows {n} jobs waiting.",
            "The printer display says paper jam in tray {n} but there is no paper inside. We already opened every door.",
            "When I try to add {printer} Windows asks for administrator rights and then fails with {code}.",
            "Scanned documents never arrive in my mailbox. It worked until last {weekday}.",
        ],
        fixes: &[
            "Cleared the print queue and restarted the spooler on the print server; test page printed fine.",
            "Removed the torn paper from the fuser unit, the printer is working again.",
            "Deployed the printer through the {site} print policy, it now shows up without admin rights.",
            "Updated the SMTP relay settings on the device, scan to email works again.",
        ],
    },
    Topic {
        weight: 1,
        category: "Printing",
        group: "Desktop Support",
        ticket_type: "incident",
        titles: &[
            "Plotter {plotter} prints stripes on large drawings",
            "Plotter out of ink cartridges",
            "Cannot send A0 drawings to the plotter",
        ],
        details: &[
            "The plotter in {site} leaves horizontal stripes on every A1 drawing from {app}.",
            "We need new cartridges for the {plotter} plotter, the magenta one is empty.",
        ],
        fixes: &[
            "Ran the printhead alignment and cleaning on the plotter, output is clean again.",
            "Ordered and installed new plotter cartridges.",
        ],
    },
    Topic {
        weight: 110,
        category: "Email",
        group: "Service Desk",
        ticket_type: "incident",
        titles: &[
            "Outlook keeps crashing on start",
            "Cannot send email to external addresses",
            "Shared mailbox {mailbox} not showing in Outlook",
            "Calendar invites not arriving",
            "Mailbox almost full",
            "Emails stuck in the outbox",
        ],
        details: &[
            "Outlook opens, shows the profile loading screen and closes again. I restarted the laptop {n} times.",
            "Every message to customers bounces with {code}. Internal mail works.",
            "I was added to the {mailbox} mailbox last week but it does not appear in the folder list.",
            "Colleagues say they sent me meeting invites for {weekday} but nothing arrives.",
        ],
        fixes: &[
            "Repaired the Office installation and recreated the Outlook profile.",
            "Removed the outbound block on the account after the password change; external mail flows again.",
            "Granted full access with automapping to the shared mailbox; it appears after restarting Outlook.",
            "Archived old items and enabled online archiving for the mailbox.",
        ],
    },
    Topic {
        weight: 70,
        category: "Remote access",
        group: "Network",
        ticket_type: "incident",
        titles: &[
            "VPN disconnects every few minutes",
            "Cannot connect to VPN from home",
            "VPN timeout when connecting from hotel wifi",
            "MFA prompt not appearing for VPN",
            "VPN connected but no access to {share}",
        ],
        details: &[
            "FortiClient connects and then drops after a few minutes with {code}. This happens on my home network every day.",
            "The VPN client says timeout while connecting. I am travelling and need access to {app} before {weekday}.",
            "I do not get the push notification for MFA anymore when I log in to the VPN.",
            "I can open the intranet over VPN but the {share} drive does not map.",
        ],
        fixes: &[
            "Updated FortiClient to the current version and lowered the MTU; the VPN stays connected.",
            "Re-registered the MFA device, the push prompt arrives again.",
            "Added the user to the VPN split-tunnel group for the file servers.",
            "The hotel network blocks UDP; switched the VPN profile to TCP 443.",
        ],
    },
    Topic {
        weight: 70,
        category: "Network",
        group: "Network",
        ticket_type: "incident",
        titles: &[
            "No wifi on the {floor} in {site}",
            "Network drive {share} not accessible",
            "Very slow network in meeting room {room}",
            "Ethernet port at my desk is dead",
            "Internet down in {site}",
        ],
        details: &[
            "Nobody on the {floor} can connect to the corporate wifi since this morning, the guest network works.",
            "Opening files on {share} takes minutes or fails with {code}.",
            "Video calls in {room} freeze constantly, speed test shows under {n} Mbit/s.",
            "The link light on the wall port stays off, other ports in the room work.",
        ],
        fixes: &[
            "Rebooted the access point on the {floor} and replaced its PoE injector.",
            "The file server was out of disk space; cleaned up shadow copies and extended the volume.",
            "Moved the room to the 5 GHz band and fixed the switch port duplex mismatch.",
            "Patched the wall port on the switch, it was not connected in the rack.",
        ],
    },
    Topic {
        weight: 150,
        category: "Accounts",
        group: "Service Desk",
        ticket_type: "request",
        titles: &[
            "Password reset",
            "Account locked out",
            "Password reset for {app}",
            "Cannot log in after password change",
            "MFA device lost, need new enrollment",
        ],
        details: &[
            "I forgot my password after the holidays and cannot log in to my laptop.",
            "My account was locked after too many attempts, probably my phone still has the old password.",
            "I need a password reset for {app}, the self-service page says my account is not eligible.",
            "I lost my phone with the authenticator app and cannot complete MFA.",
        ],
        fixes: &[
            "Reset the password and unlocked the account, the user changed it at first login.",
            "Removed the old password from the phone mail profile; no more lockouts.",
            "Cleared the MFA registration, the user enrolled the new phone.",
            "Password reset done via the self-service portal together with the user.",
        ],
    },
    Topic {
        weight: 100,
        category: "Access",
        group: "Identity & Access",
        ticket_type: "request",
        titles: &[
            "Request access to {share} share",
            "Need admin rights to install {app}",
            "Access to {app} for the {dept} team",
            "Add me to the {mailbox} distribution list",
            "Remove access to {share} for {person}",
        ],
        details: &[
            "Please give me read and write access to the {share} share, approved by my manager {person}.",
            "I need to install {app} for a project, could I get local admin rights for a week?",
            "The {dept} team needs {app} licences for {n} people starting {weekday}.",
            "{person} moved to another department and should no longer see {share}.",
        ],
        fixes: &[
            "Added the user to the security group for the share after manager approval.",
            "Installed the software through the company portal instead of granting admin rights.",
            "Assigned the licences and added the team to the access group.",
            "Removed the group membership, the change takes effect at next login.",
        ],
    },
    Topic {
        weight: 110,
        category: "Hardware",
        group: "Desktop Support",
        ticket_type: "incident",
        titles: &[
            "Laptop {asset} will not boot",
            "Broken screen on {model}",
            "Docking station does not detect monitors",
            "Battery drains very fast on {model}",
            "Headset microphone not working",
            "Keyboard keys stuck on {asset}",
            "Request a second monitor",
        ],
        details: &[
            "My {model} shows the manufacturer logo and then restarts in a loop. Asset tag {asset}.",
            "The laptop fell off the desk and the display is cracked in the corner.",
            "Both external monitors stay black when I connect the dock, the laptop screen works.",
            "The battery is empty after {n} hours even with low brightness.",
            "Nobody can hear me in Teams calls with the headset, the built-in microphone works.",
        ],
        fixes: &[
            "Replaced the SSD and reimaged the laptop, the user data was restored from OneDrive.",
            "Swapped the display panel under warranty.",
            "Updated the dock firmware and the graphics driver; both monitors work again.",
            "Replaced the battery under warranty.",
            "Handed out a replacement headset from stock.",
        ],
    },
    Topic {
        weight: 110,
        category: "Software",
        group: "Desktop Support",
        ticket_type: "request",
        titles: &[
            "Install {app}",
            "{app} licence expired",
            "{app} crashes when opening large files",
            "Update {app} to the latest version",
            "{app} very slow since the last update",
        ],
        details: &[
            "Please install {app} on {asset}, I need it for the {dept} reporting.",
            "{app} says the licence expired and switches to read-only mode.",
            "{app} closes without a message when I open files bigger than {n} MB.",
            "Since the update on {weekday} {app} takes minutes to start.",
        ],
        fixes: &[
            "Installed the application from the software centre.",
            "Renewed the licence assignment; the user signed out and in again.",
            "Installed the 64-bit version and repaired the add-ins.",
            "Rolled back to the previous version until the vendor fix is released.",
        ],
    },
    Topic {
        weight: 40,
        category: "Mobile",
        group: "Desktop Support",
        ticket_type: "request",
        titles: &[
            "Company phone not syncing mail",
            "Enroll new phone in device management",
            "Desk phone has no dial tone",
            "Replace cracked phone screen",
        ],
        details: &[
            "Mail on my company phone stopped syncing on {weekday}, the calendar still updates.",
            "I received a new phone and need it enrolled so I can use {app}.",
            "The desk phone in {room} shows no service.",
        ],
        fixes: &[
            "Removed and re-added the mail profile on the phone.",
            "Enrolled the device and pushed the standard apps.",
            "Replaced the phone's network cable, it registered again.",
        ],
    },
    Topic {
        weight: 40,
        category: "Security",
        group: "Security",
        ticket_type: "incident",
        titles: &[
            "Suspicious email received",
            "I clicked a phishing link",
            "Antivirus alert on {asset}",
            "BitLocker recovery key needed for {asset}",
        ],
        details: &[
            "I got an email asking me to confirm my payroll details, the sender looks strange.",
            "I clicked a link in an email that pretended to be from {app} and entered my password.",
            "Defender shows a threat was quarantined on {asset}: {code}.",
            "After a BIOS update the laptop asks for the BitLocker recovery key.",
        ],
        fixes: &[
            "Blocked the sender and purged the message from all mailboxes.",
            "Reset the password, revoked sessions and checked the sign-in logs; no misuse found.",
            "Full scan clean, the quarantined file was a false positive.",
            "Read the recovery key to the user from the directory, the laptop booted.",
        ],
    },
    Topic {
        weight: 40,
        category: "Maintenance",
        group: "Infrastructure",
        ticket_type: "maintenance",
        titles: &[
            "Monthly patching of {server}",
            "Replace UPS battery in the {site} server room",
            "Firmware update for switches in {site}",
            "Certificate renewal for {server}",
            "Disk space warning on {server}",
        ],
        details: &[
            "Planned patch window for {server} on {weekday} evening, owner informed.",
            "The UPS reports battery replacement needed, runtime down to {n} minutes.",
            "Vendor advisory requires a firmware update on all access switches in {site}.",
            "The TLS certificate on {server} expires in {n} days.",
        ],
        fixes: &[
            "Patches installed and the server rebooted within the window.",
            "Battery modules replaced, self-test passed.",
            "Firmware updated on all switches, no outage reported.",
            "Certificate renewed and deployed.",
        ],
    },
    Topic {
        weight: 50,
        category: "Onboarding",
        group: "Identity & Access",
        ticket_type: "request",
        titles: &[
            "New starter: {person} in {dept}",
            "Leaver: disable account of {person}",
            "Laptop and phone for new colleague in {site}",
            "Name change for {person}",
        ],
        details: &[
            "{person} starts in {dept} on {weekday}. Needs a laptop, phone, and access to {app} and {share}.",
            "{person} leaves the company on {weekday}, please disable the account and collect the hardware.",
            "Please update the display name and email address after the name change.",
        ],
        fixes: &[
            "Account created, laptop prepared and handed over on the first day.",
            "Account disabled, mailbox converted to shared, hardware collected.",
            "Display name and address updated, the old address stays as an alias.",
        ],
    },
    Topic {
        weight: 50,
        category: "Collaboration",
        group: "Service Desk",
        ticket_type: "incident",
        titles: &[
            "Teams camera not detected",
            "Screen sharing fails in {room}",
            "Cannot join external meetings in {app}",
            "Meeting room {room} display shows no signal",
        ],
        details: &[
            "In Teams the camera list is empty, the camera works in the Windows camera app.",
            "When I share my screen in {room} the others only see a black window.",
            "Joining customer meetings in {app} fails with {code}.",
        ],
        fixes: &[
            "Reset the Teams cache and updated the camera driver.",
            "Updated the room system firmware, screen sharing works.",
            "Allowed the meeting domain in the proxy.",
        ],
    },
];

pub const TECH_FIRST_REPLIES: &[&str] = &[
    "Hi {first}, thanks for reporting this. Could you tell me when it last worked?",
    "Hello {first}, I am looking into it. Does it happen on other devices too?",
    "Hi {first}, thanks for the details. Can you send a screenshot of the error?",
    "Hi {first}, I will call you in a few minutes to have a look together.",
    "Thanks {first}, I have taken the ticket and will update you today.",
];

pub const REQUESTER_REPLIES: &[&str] = &[
    "Thanks for the quick reply. It happened again this morning.",
    "Yes, I already restarted twice. Same result.",
    "Screenshot attached, the message says {code}.",
    "I am in the office until 4 pm, you can come by my desk on the {floor}.",
    "It works again, thanks a lot!",
    "Any news on this? I need it for a deadline on {weekday}.",
    "Thanks, that did it.",
];

pub const INTERNAL_NOTES: &[&str] = &[
    "Checked the logs on {server}: {code} around the reported time.",
    "Escalating to the network team, looks like a switch issue in {site}.",
    "Known issue with the last {app} update, see vendor case {n}.",
    "Asked the user's manager for approval.",
    "Spare {model} available in the {site} stock.",
    "Waiting for the vendor to ship the part, tracking number in the asset record.",
];

pub const CLOSINGS: &[&str] = &[
    "{fix} Please let us know if it happens again. Thanks!",
    "{fix} I am closing the ticket, reply to reopen it.",
    "Hi {first}, {fix} Thanks for your patience.",
    "{fix}",
];

pub const LOCATIONS: &[&str] = &[
    "",
    "",
    "",
    "{site}, {floor}",
    "{site}, room {room}",
    "{site}",
];

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
