-- Foundation schema: accounts, enrollment, agents, assets with software, health and history.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'technician', 'employee')),
    password_hash TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE enrollment_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    max_uses   INTEGER NOT NULL,
    uses       INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER,
    created_at INTEGER NOT NULL,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    revoked_at INTEGER
);

CREATE TABLE assets (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL DEFAULT 'computer',
    name            TEXT NOT NULL,
    hostname        TEXT NOT NULL DEFAULT '',
    vendor          TEXT NOT NULL DEFAULT '',
    model           TEXT NOT NULL DEFAULT '',
    serial          TEXT NOT NULL DEFAULT '',
    os_name         TEXT NOT NULL DEFAULT '',
    os_version      TEXT NOT NULL DEFAULT '',
    kernel          TEXT NOT NULL DEFAULT '',
    cpu_model       TEXT NOT NULL DEFAULT '',
    cpu_cores       INTEGER NOT NULL DEFAULT 0,
    memory_bytes    INTEGER NOT NULL DEFAULT 0,
    primary_ip      TEXT NOT NULL DEFAULT '',
    primary_mac     TEXT NOT NULL DEFAULT '',
    software_count  INTEGER NOT NULL DEFAULT 0,
    inventory_json  TEXT,
    health_json     TEXT,
    first_seen_at   INTEGER,
    last_seen_at    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX assets_kind ON assets(kind, id);
CREATE INDEX assets_last_seen ON assets(last_seen_at);

-- Stable hardware identities (SMBIOS UUID, serial, machine id) pointing at an asset.
CREATE TABLE asset_identities (
    kind     TEXT NOT NULL,
    value    TEXT NOT NULL,
    asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value)
) WITHOUT ROWID;
CREATE INDEX asset_identities_asset ON asset_identities(asset_id);

CREATE TABLE agents (
    id                  TEXT PRIMARY KEY,
    secret_hash         TEXT NOT NULL,
    enrollment_token_id INTEGER REFERENCES enrollment_tokens(id) ON DELETE SET NULL,
    asset_id            INTEGER REFERENCES assets(id) ON DELETE SET NULL,
    hostname            TEXT NOT NULL DEFAULT '',
    agent_version       TEXT NOT NULL DEFAULT '',
    enrolled_at         INTEGER NOT NULL,
    last_seen_at        INTEGER,
    last_ip             TEXT,
    revoked_at          INTEGER
) WITHOUT ROWID;
CREATE INDEX agents_asset ON agents(asset_id);

CREATE TABLE asset_software (
    asset_id     INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    source       TEXT NOT NULL,
    name         TEXT NOT NULL,
    arch         TEXT NOT NULL,
    version      TEXT NOT NULL,
    publisher    TEXT NOT NULL DEFAULT '',
    install_date INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (asset_id, name, arch, version, source)
) WITHOUT ROWID;

CREATE TABLE asset_history (
    id        INTEGER PRIMARY KEY,
    asset_id  INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    field     TEXT NOT NULL DEFAULT '',
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX asset_history_asset ON asset_history(asset_id, id);

CREATE TABLE health_samples (
    asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    taken_at INTEGER NOT NULL,
    load_1   REAL NOT NULL,
    mem_used_percent REAL NOT NULL,
    max_fs_used_percent REAL NOT NULL,
    uptime_secs INTEGER NOT NULL,
    PRIMARY KEY (asset_id, taken_at)
) WITHOUT ROWID;

CREATE VIRTUAL TABLE assets_fts USING fts5(
    name, hostname, serial, vendor, model, os, network,
    tokenize = "unicode61 remove_diacritics 2 tokenchars '-_.:'"
);
