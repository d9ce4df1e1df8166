-- Delta reporting (per-agent report chain), commands for agents, clone flags.

ALTER TABLE agents ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN inventory_digest TEXT NOT NULL DEFAULT '';

-- Set when this asset shares a hardware identity with another asset whose agent is still
-- reporting: a cloned machine, flagged instead of merged.
ALTER TABLE assets ADD COLUMN clone_of INTEGER REFERENCES assets(id) ON DELETE SET NULL;

CREATE TABLE agent_commands (
    id           INTEGER PRIMARY KEY,
    agent_id     TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    command      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    delivered_at INTEGER
);
CREATE INDEX agent_commands_pending ON agent_commands(agent_id, id) WHERE delivered_at IS NULL;
