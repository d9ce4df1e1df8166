-- Everything the organisation owns: asset types with their own fields, lifecycle states,
-- locations (site > building > floor > room), check-out with acceptance, physical audits,
-- and the public token behind an asset's QR label.

-- Asset types. `key` is what assets.kind holds ('computer' for agent-reported machines).
-- `fields` is a JSON array of custom field definitions:
--   [{"key": "btu", "label": "Cooling (BTU/h)", "type": "number", "required": false,
--     "searchable": true, "options": []}]
-- Values live in assets.custom_fields (JSON); a searchable field gets an expression index
-- on json_extract, so adding a field never changes this schema.
CREATE TABLE asset_types (
    id                   INTEGER PRIMARY KEY,
    key                  TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL UNIQUE COLLATE NOCASE,
    category             TEXT NOT NULL CHECK (category IN ('it', 'facility', 'other')),
    fields               TEXT NOT NULL DEFAULT '[]',
    expected_life_months INTEGER,
    audit_every_months   INTEGER,
    created_at           INTEGER NOT NULL
);
INSERT INTO asset_types (key, name, category, expected_life_months, audit_every_months, created_at) VALUES
    ('computer', 'Computer', 'it', 48, 12, 0),
    ('monitor', 'Monitor', 'it', 60, 12, 0),
    ('printer', 'Printer', 'it', 60, 12, 0),
    ('phone', 'Phone', 'it', 36, 12, 0),
    ('network', 'Network device', 'it', 60, 12, 0),
    ('projector', 'Projector', 'it', 60, 12, 0),
    ('furniture', 'Furniture', 'other', 120, 24, 0),
    ('hvac', 'HVAC unit', 'facility', 180, 12, 0),
    ('generator', 'Generator', 'facility', 240, 12, 0),
    ('elevator', 'Elevator', 'facility', 300, 12, 0),
    ('fire_extinguisher', 'Fire extinguisher', 'facility', 120, 12, 0);

-- Lifecycle states, each of a kind: deployable (ready, in stock), deployed (in use),
-- undeployable (in repair, broken), archived (retired, disposed).
CREATE TABLE asset_states (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    kind       TEXT NOT NULL CHECK (kind IN ('deployable', 'deployed', 'undeployable', 'archived')),
    created_at INTEGER NOT NULL
);
INSERT INTO asset_states (id, name, kind, created_at) VALUES
    (1, 'In stock', 'deployable', 0),
    (2, 'Deployed', 'deployed', 0),
    (3, 'In repair', 'undeployable', 0),
    (4, 'Retired', 'archived', 0),
    (5, 'Disposed', 'archived', 0);

-- Sites hold buildings, buildings floors, floors rooms. A site has a time zone; the
-- places below it use the site's.
CREATE TABLE locations (
    id         INTEGER PRIMARY KEY,
    parent_id  INTEGER REFERENCES locations(id) ON DELETE RESTRICT,
    kind       TEXT NOT NULL CHECK (kind IN ('site', 'building', 'floor', 'room')),
    name       TEXT NOT NULL,
    timezone   TEXT,
    address    TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    CHECK ((kind = 'site') = (parent_id IS NULL))
);
CREATE UNIQUE INDEX locations_name ON locations(coalesce(parent_id, 0), name COLLATE NOCASE);
CREATE INDEX locations_parent ON locations(parent_id);

ALTER TABLE users ADD COLUMN location_id INTEGER REFERENCES locations(id) ON DELETE SET NULL;

-- The asset's own record beyond what agents report.
ALTER TABLE assets ADD COLUMN asset_tag TEXT;
ALTER TABLE assets ADD COLUMN state_id INTEGER REFERENCES asset_states(id);
ALTER TABLE assets ADD COLUMN location_id INTEGER REFERENCES locations(id) ON DELETE SET NULL;
ALTER TABLE assets ADD COLUMN purchase_date TEXT;
ALTER TABLE assets ADD COLUMN purchase_cost_cents INTEGER;
ALTER TABLE assets ADD COLUMN supplier TEXT NOT NULL DEFAULT '';
ALTER TABLE assets ADD COLUMN order_number TEXT NOT NULL DEFAULT '';
ALTER TABLE assets ADD COLUMN warranty_end TEXT;
ALTER TABLE assets ADD COLUMN expected_life_months INTEGER;
ALTER TABLE assets ADD COLUMN criticality TEXT NOT NULL DEFAULT 'medium'
    CHECK (criticality IN ('low', 'medium', 'high', 'critical'));
ALTER TABLE assets ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE assets ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';
-- Who or what holds it: 'user', 'location' or 'asset', and the id.
ALTER TABLE assets ADD COLUMN checked_out_kind TEXT
    CHECK (checked_out_kind IN ('user', 'location', 'asset'));
ALTER TABLE assets ADD COLUMN checked_out_id INTEGER;
ALTER TABLE assets ADD COLUMN audit_due_at INTEGER;
ALTER TABLE assets ADD COLUMN last_audit_at INTEGER;
-- The random token in the QR label's URL (/p/<token>): anyone holding the label may
-- report a problem with this asset, nothing more.
ALTER TABLE assets ADD COLUMN public_token TEXT;

UPDATE assets SET state_id = 2 WHERE kind = 'computer';
-- Every asset gets its label token when it is created (agents' machines too); SQLite's
-- randomblob draws from the OS's randomness.
UPDATE assets SET public_token = lower(hex(randomblob(16)));
CREATE TRIGGER assets_public_token AFTER INSERT ON assets WHEN NEW.public_token IS NULL BEGIN
    UPDATE assets SET public_token = lower(hex(randomblob(16))) WHERE id = NEW.id;
END;
CREATE UNIQUE INDEX assets_tag ON assets(asset_tag COLLATE NOCASE) WHERE asset_tag IS NOT NULL;
CREATE UNIQUE INDEX assets_public_token ON assets(public_token) WHERE public_token IS NOT NULL;
CREATE INDEX assets_state ON assets(state_id, id);
CREATE INDEX assets_location ON assets(location_id, id);
CREATE INDEX assets_checked_out ON assets(checked_out_kind, checked_out_id);
CREATE INDEX assets_audit_due ON assets(audit_due_at) WHERE audit_due_at IS NOT NULL;
CREATE INDEX assets_serial ON assets(serial) WHERE serial <> '';

-- Every check-out, open while checked_in_at is NULL. A check-out to a person waits for
-- their acceptance (accepted_at / declined_at).
CREATE TABLE asset_checkouts (
    id              INTEGER PRIMARY KEY,
    asset_id        INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    target_kind     TEXT NOT NULL CHECK (target_kind IN ('user', 'location', 'asset')),
    target_id       INTEGER NOT NULL,
    checked_out_at  INTEGER NOT NULL,
    checked_out_by  TEXT NOT NULL,
    expected_back   TEXT,
    note            TEXT NOT NULL DEFAULT '',
    accepted_at     INTEGER,
    declined_at     INTEGER,
    checked_in_at   INTEGER,
    checked_in_by   TEXT
);
CREATE UNIQUE INDEX asset_checkouts_open ON asset_checkouts(asset_id) WHERE checked_in_at IS NULL;
CREATE INDEX asset_checkouts_target ON asset_checkouts(target_kind, target_id) WHERE checked_in_at IS NULL;
CREATE INDEX asset_checkouts_pending ON asset_checkouts(target_id)
    WHERE target_kind = 'user' AND accepted_at IS NULL AND declined_at IS NULL AND checked_in_at IS NULL;

-- A walk through one room: what was scanned there.
CREATE TABLE audits (
    id          INTEGER PRIMARY KEY,
    location_id INTEGER NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    started_by  TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE TABLE audit_scans (
    audit_id   INTEGER NOT NULL REFERENCES audits(id) ON DELETE CASCADE,
    code       TEXT NOT NULL,
    asset_id   INTEGER REFERENCES assets(id) ON DELETE SET NULL,
    scanned_at INTEGER NOT NULL,
    PRIMARY KEY (audit_id, code)
) WITHOUT ROWID;

-- Anonymous problem reports from QR pages, for rate limiting by client address.
CREATE TABLE public_reports (
    id        INTEGER PRIMARY KEY,
    asset_id  INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    client    TEXT NOT NULL,
    at        INTEGER NOT NULL,
    ticket_id INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
    -- The reporter follows the ticket at /p/<asset token>/t/<follow token>; stored hashed.
    follow_hash TEXT UNIQUE
);
CREATE INDEX public_reports_client ON public_reports(client, at);
CREATE INDEX public_reports_asset ON public_reports(asset_id, at);
