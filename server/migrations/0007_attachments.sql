-- Files attached to tickets. The bytes live on disk, content-addressed by SHA-256
-- (<data_dir>/attachments/<first 2 hex>/<sha256>), so one file backs every row with the
-- same content; a row is written only after its file is durable.

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    ticket_id    INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    -- The reply or note the file belongs to, if any.
    comment_id   INTEGER REFERENCES ticket_comments(id) ON DELETE SET NULL,
    -- Sanitised: no path separators or control characters, at most 200 characters.
    filename     TEXT NOT NULL,
    -- The declared type's essence (type/subtype, lowercase), sent back on download.
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size >= 0),
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    uploader_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- Hidden from the requester (1), like an internal note; a file on a comment has the
    -- comment's visibility.
    internal     INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1)),
    created_at   INTEGER NOT NULL
);
CREATE INDEX attachments_ticket ON attachments(ticket_id, id);
CREATE INDEX attachments_sha256 ON attachments(sha256);
