-- Service desk extras: canned responses for replies, and saved ticket views per user.
-- (Groups and their members came with 0004.)

CREATE TABLE canned_responses (
    id         INTEGER PRIMARY KEY,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);

-- `query` is the query string of a /api/v1/tickets list, e.g. `status=open&priority=high`.
CREATE TABLE saved_views (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL COLLATE NOCASE,
    query      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, name)
);

-- A user's groups (memberships go when the user does), without scanning every group.
CREATE INDEX group_members_user ON group_members(user_id);
