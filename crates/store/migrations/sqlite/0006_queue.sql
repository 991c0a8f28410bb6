-- SQLite dialect; the PostgreSQL twin has the same name under migrations/postgres.
-- Work queues (issue 13): the needs queue's sorts and its assignment to a stationed officer,
-- saved views of the queue, and each user's read state of the notifications.

-- The stationed officer (a member of the need's case's team) a need is assigned to.
ALTER TABLE needs ADD COLUMN assignee INTEGER REFERENCES team_members(id);

-- The queue sorted by when a need was reported or last changed (newest first), a page at a
-- time after a cursor of (time, id).
CREATE INDEX needs_created ON needs(created_at, id);
CREATE INDEX needs_updated ON needs(updated_at, id);

-- A user's saved views of the needs queue: a name and the query string of the view.
CREATE TABLE saved_views (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, name)
);

-- What a user has read of its department's notifications: every one up to `read_through`
-- (mark all read), and besides those the ones read one by one.
CREATE TABLE notification_marks (
    user_id      INTEGER PRIMARY KEY REFERENCES users(id),
    read_through INTEGER NOT NULL,
    at           INTEGER NOT NULL
);
CREATE TABLE notification_reads (
    user_id         INTEGER NOT NULL REFERENCES users(id),
    notification_id INTEGER NOT NULL REFERENCES notifications(id),
    at              INTEGER NOT NULL,
    PRIMARY KEY (user_id, notification_id)
);
