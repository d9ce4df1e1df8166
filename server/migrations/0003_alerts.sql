-- Alerts raised from agent health (disk almost full, failed services, ...) and from
-- silence (agent not heard from). One open alert per asset, kind and key.

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    asset_id    INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL DEFAULT '',
    severity    TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
    message     TEXT NOT NULL,
    opened_at   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    resolved_at INTEGER
);
CREATE UNIQUE INDEX alerts_open ON alerts(asset_id, kind, key) WHERE resolved_at IS NULL;
CREATE INDEX alerts_by_state ON alerts(resolved_at, id);
