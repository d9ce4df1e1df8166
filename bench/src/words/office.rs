//! What an office has that tickets name: sites, apps, meeting rooms, file shares,
//! shared mailboxes, plotters and the working week.

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
