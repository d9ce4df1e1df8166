-- Signed agent releases and their rollout; what each agent says about its own version
-- and its last self-update.
CREATE TABLE agent_releases (
    id           INTEGER PRIMARY KEY,
    version      TEXT NOT NULL,
    os           TEXT NOT NULL,
    arch         TEXT NOT NULL,
    -- The binary is <data_dir>/agent-releases/<sha256>.
    sha256       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    -- Ed25519 signature of the release message, base64 (see steward_shared::release).
    signature    TEXT NOT NULL,
    percentage   INTEGER NOT NULL DEFAULT 0 CHECK (percentage BETWEEN 0 AND 100),
    paused       INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    -- JSON arrays: locations (with the places below them) and agent ids always included.
    location_ids TEXT NOT NULL DEFAULT '[]',
    agent_ids    TEXT NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (os, arch, version)
);

ALTER TABLE agents ADD COLUMN platform TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN update_error TEXT;
