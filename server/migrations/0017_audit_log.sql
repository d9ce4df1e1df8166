-- The audit log: who did what security-relevant thing, when and from where (sign-ins,
-- accounts, credentials, agents, exports, webhooks). Append-only like the event log, and
-- outside retention: nothing prunes it.

CREATE TABLE audit_log (
    -- AUTOINCREMENT: ids never go backwards or get reused; pages are keyed by id.
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    -- No foreign keys: the log outlives the users, agents and assets it names.
    actor_user_id INTEGER,
    -- The user's email, "agent <id>", "cli" or "anonymous"; for a failed sign-in the
    -- email that was tried.
    actor_label   TEXT NOT NULL,
    ip            TEXT,
    -- A stable dotted code: auth.login, user.role_changed, export.assets_csv, ...
    action        TEXT NOT NULL,
    -- What it was done to, e.g. user:5, agent:agt_..., webhook:3
    target        TEXT,
    -- JSON object with the particulars (old and new role, the export's filters)
    detail        TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_action ON audit_log(action, at);
CREATE INDEX audit_log_actor ON audit_log(actor_user_id, id);

CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Sign-in lockout per account (see domain::lockout): failures counted in the current
-- window, when that window started, and until when the account is locked.
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_logins_since INTEGER;
ALTER TABLE users ADD COLUMN locked_until INTEGER;
