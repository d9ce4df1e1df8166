//! What people write on a ticket once it is filed: first replies, requester replies,
//! internal notes, closings; and the location line.

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
