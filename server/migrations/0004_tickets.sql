-- Service desk: tickets with conversation, history, links, groups, categories, search,
-- and counts kept up to date by triggers (never recomputed by scanning).

CREATE TABLE categories (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at INTEGER NOT NULL
);

CREATE TABLE groups (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- manual, round_robin or least_loaded
    assignment        TEXT NOT NULL DEFAULT 'manual' CHECK (assignment IN ('manual', 'round_robin', 'least_loaded')),
    last_assignee_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at        INTEGER NOT NULL
);

CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;

CREATE TABLE tickets (
    id                 INTEGER PRIMARY KEY,
    type               TEXT NOT NULL CHECK (type IN ('incident', 'request', 'maintenance')),
    status             TEXT NOT NULL CHECK (status IN ('new', 'open', 'pending', 'resolved', 'closed')),
    title              TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    category_id        INTEGER REFERENCES categories(id) ON DELETE SET NULL,
    requester_id       INTEGER NOT NULL REFERENCES users(id),
    assignee_id        INTEGER REFERENCES users(id) ON DELETE SET NULL,
    group_id           INTEGER REFERENCES groups(id) ON DELETE SET NULL,
    impact             INTEGER NOT NULL DEFAULT 2 CHECK (impact BETWEEN 1 AND 4),
    urgency            INTEGER NOT NULL DEFAULT 2 CHECK (urgency BETWEEN 1 AND 4),
    priority           INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
    location           TEXT NOT NULL DEFAULT '',
    source             TEXT NOT NULL DEFAULT 'api',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    first_response_at  INTEGER,
    resolved_at        INTEGER,
    closed_at          INTEGER,
    -- SLA, recomputed on every change from the ticket's status history.
    response_due_at    INTEGER,
    resolution_due_at  INTEGER,
    sla_paused         INTEGER NOT NULL DEFAULT 0,
    breached_at        INTEGER,
    satisfaction       INTEGER CHECK (satisfaction BETWEEN 1 AND 5),
    satisfaction_note  TEXT
);
CREATE INDEX tickets_status ON tickets(status, priority, id);
CREATE INDEX tickets_assignee ON tickets(assignee_id, status, id);
CREATE INDEX tickets_group ON tickets(group_id, status, id);
CREATE INDEX tickets_requester ON tickets(requester_id, id);
CREATE INDEX tickets_breach ON tickets(resolution_due_at) WHERE status IN ('new', 'open');

CREATE TABLE ticket_assets (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    asset_id  INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    PRIMARY KEY (ticket_id, asset_id)
) WITHOUT ROWID;
CREATE INDEX ticket_assets_asset ON ticket_assets(asset_id);

CREATE TABLE ticket_tags (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    tag       TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (ticket_id, tag)
) WITHOUT ROWID;
CREATE INDEX ticket_tags_tag ON ticket_tags(tag);

CREATE TABLE ticket_watchers (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (ticket_id, user_id)
) WITHOUT ROWID;

CREATE TABLE ticket_comments (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    author_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- public reply (0) or internal note (1): requesters never see internal notes
    internal   INTEGER NOT NULL DEFAULT 0,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ticket_comments_ticket ON ticket_comments(ticket_id, id);

CREATE TABLE ticket_history (
    id        INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    field     TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX ticket_history_ticket ON ticket_history(ticket_id, id);

-- Full-text search: one row per ticket (title + description) and per comment.
CREATE VIRTUAL TABLE ticket_search USING fts5(
    ticket_id UNINDEXED, internal UNINDEXED, text,
    tokenize = "unicode61 remove_diacritics 2"
);

-- Counts per queue, kept by triggers: 'status:<s>', 'unassigned', 'assignee:<id>',
-- 'group:<id>' (open work: new, open, pending).
CREATE TABLE ticket_counts (
    key TEXT PRIMARY KEY,
    n   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_counts (key, n) VALUES ('status:' || NEW.status, 1)
        ON CONFLICT (key) DO UPDATE SET n = n + 1;
    INSERT INTO ticket_counts (key, n)
        SELECT CASE WHEN NEW.assignee_id IS NULL THEN 'unassigned' ELSE 'assignee:' || NEW.assignee_id END, 1
        WHERE NEW.status IN ('new', 'open', 'pending')
        ON CONFLICT (key) DO UPDATE SET n = n + 1;
    INSERT INTO ticket_counts (key, n) SELECT 'group:' || NEW.group_id, 1
        WHERE NEW.group_id IS NOT NULL AND NEW.status IN ('new', 'open', 'pending')
        ON CONFLICT (key) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets BEGIN
    UPDATE ticket_counts SET n = n - 1 WHERE key = 'status:' || OLD.status;
    UPDATE ticket_counts SET n = n - 1
        WHERE OLD.status IN ('new', 'open', 'pending')
          AND key = CASE WHEN OLD.assignee_id IS NULL THEN 'unassigned' ELSE 'assignee:' || OLD.assignee_id END;
    UPDATE ticket_counts SET n = n - 1
        WHERE OLD.group_id IS NOT NULL AND OLD.status IN ('new', 'open', 'pending') AND key = 'group:' || OLD.group_id;
END;

CREATE TRIGGER ticket_counts_update AFTER UPDATE OF status, assignee_id, group_id ON tickets BEGIN
    UPDATE ticket_counts SET n = n - 1 WHERE key = 'status:' || OLD.status;
    UPDATE ticket_counts SET n = n - 1
        WHERE OLD.status IN ('new', 'open', 'pending')
          AND key = CASE WHEN OLD.assignee_id IS NULL THEN 'unassigned' ELSE 'assignee:' || OLD.assignee_id END;
    UPDATE ticket_counts SET n = n - 1
        WHERE OLD.group_id IS NOT NULL AND OLD.status IN ('new', 'open', 'pending') AND key = 'group:' || OLD.group_id;
    INSERT INTO ticket_counts (key, n) VALUES ('status:' || NEW.status, 1)
        ON CONFLICT (key) DO UPDATE SET n = n + 1;
    INSERT INTO ticket_counts (key, n)
        SELECT CASE WHEN NEW.assignee_id IS NULL THEN 'unassigned' ELSE 'assignee:' || NEW.assignee_id END, 1
        WHERE NEW.status IN ('new', 'open', 'pending')
        ON CONFLICT (key) DO UPDATE SET n = n + 1;
    INSERT INTO ticket_counts (key, n) SELECT 'group:' || NEW.group_id, 1
        WHERE NEW.group_id IS NOT NULL AND NEW.status IN ('new', 'open', 'pending')
        ON CONFLICT (key) DO UPDATE SET n = n + 1;
END;

-- The person an asset is assigned to (full check-out comes with the assets module):
-- employees may link their own assets to their tickets.
ALTER TABLE assets ADD COLUMN assigned_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL;
CREATE INDEX assets_assigned_user ON assets(assigned_user_id);

-- An alert can open a ticket (alerts.open_tickets); the link keeps that to one ticket.
ALTER TABLE alerts ADD COLUMN ticket_id INTEGER REFERENCES tickets(id) ON DELETE SET NULL;
