-- SQLite dialect; the PostgreSQL twin has the same name under migrations/postgres.
-- Everyone takes part (issue 16): providers answer the needs they are candidates for, the
-- enterprise and the officers comment on a need and attach documents, the enterprise confirms
-- or reopens what the owner resolved and withdraws what it reported.

-- A provider's answer on a need: accept, decline (with a reason) or quote. Every answer is kept;
-- the last one of a provider is its answer now.
CREATE TABLE responses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    need_id     INTEGER NOT NULL REFERENCES needs(id),
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    answer      TEXT NOT NULL CHECK (answer IN ('accept', 'decline', 'quote')),
    note        TEXT NOT NULL DEFAULT '',
    quantity    REAL,
    price       REAL,
    deliver_by  INTEGER,
    user_id     INTEGER REFERENCES users(id),
    created_at  INTEGER NOT NULL
);
CREATE INDEX responses_need ON responses(need_id, provider_id, id);

-- When a user last opened a need of its inbox (the unread mark). Operational state, no event.
CREATE TABLE inbox_reads (
    user_id INTEGER NOT NULL REFERENCES users(id),
    need_id INTEGER NOT NULL REFERENCES needs(id),
    read_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, need_id)
);

-- Comments on a need; `author` is the department's, enterprise's or provider's name as written.
CREATE TABLE comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    need_id    INTEGER NOT NULL REFERENCES needs(id),
    user_id    INTEGER REFERENCES users(id),
    author     TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX comments_need ON comments(need_id, id);

-- Documents attached to a need (a contract, a test report, a photo), the content in base64.
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    need_id      INTEGER NOT NULL REFERENCES needs(id),
    user_id      INTEGER REFERENCES users(id),
    author       TEXT NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    content      TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX attachments_need ON attachments(need_id, id);

-- The needs an enterprise reported itself (which it may withdraw).
CREATE TABLE need_reporters (
    need_id       INTEGER PRIMARY KEY REFERENCES needs(id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises(id)
);

-- The enterprise's confirmation that a resolved need is solved (gone again when it reopens).
CREATE TABLE need_confirmations (
    need_id      INTEGER PRIMARY KEY REFERENCES needs(id),
    confirmed_at INTEGER NOT NULL,
    user_id      INTEGER REFERENCES users(id)
);
