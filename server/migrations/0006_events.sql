-- The event log (an append-only record of what happened, written in the same transaction
-- as the change), webhooks that receive it, and cursors of the other consumers (mail).

CREATE TABLE events (
    -- AUTOINCREMENT: ids never go backwards or get reused, so they work as cursors.
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    -- ticket.created, ticket.updated, ticket.assigned, ticket.commented, ticket.resolved,
    -- ticket.closed, sla.breached
    kind      TEXT NOT NULL,
    -- No foreign keys: the log outlives what it talks about.
    ticket_id INTEGER,
    asset_id  INTEGER,
    -- user:<id>, agent:<id>, alert:<id> or system:<what>
    actor     TEXT NOT NULL,
    -- JSON object
    payload   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_kind ON events(kind, id);
CREATE INDEX events_ticket ON events(ticket_id, id);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only');
END;

CREATE TABLE webhooks (
    id            INTEGER PRIMARY KEY,
    url           TEXT NOT NULL,
    -- Kept as given: it signs every delivery. The API shows only a prefix after creation.
    secret        TEXT NOT NULL,
    -- '*' or a JSON list of event kinds
    kinds         TEXT NOT NULL DEFAULT '*',
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL DEFAULT '',
    -- Every event up to this id is done for this webhook: delivered, not wanted, or given
    -- up on. Starts at the newest event when the webhook is created.
    last_event_id INTEGER NOT NULL DEFAULT 0
);

-- One row per attempt. The newest row for the webhook's next event says when to retry.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id        INTEGER NOT NULL,
    attempt         INTEGER NOT NULL,
    attempted_at    INTEGER NOT NULL,
    status_code     INTEGER,
    error           TEXT,
    -- Set while another attempt will follow; NULL once delivered or given up.
    next_attempt_at INTEGER,
    delivered_at    INTEGER,
    UNIQUE (webhook_id, event_id, attempt)
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, id);

-- Where each in-process consumer of the event log (the mailer) has got to.
CREATE TABLE event_cursors (
    consumer TEXT PRIMARY KEY,
    event_id INTEGER NOT NULL
) WITHOUT ROWID;

-- The SLA sweep reports each ticket's breach once (sla.breached) and escalates it.
ALTER TABLE tickets ADD COLUMN sla_breach_notified_at INTEGER;
UPDATE tickets SET sla_breach_notified_at = breached_at WHERE breached_at IS NOT NULL;
CREATE INDEX tickets_breach_unnotified ON tickets(id)
    WHERE sla_breach_notified_at IS NULL AND status IN ('new', 'open', 'pending');
