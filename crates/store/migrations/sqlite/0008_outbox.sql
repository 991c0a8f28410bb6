-- SQLite dialect; the PostgreSQL twin has the same name under migrations/postgres.
-- Notifications where officials work (issue 15): channels and the transactional outbox.
--
-- A channel is where a department's (or a provider's, an enterprise's) messages go: a 企业微信 or
-- 钉钉 group robot, an e-mail address, or a signed webhook. `url` and `secret` are credentials
-- (a robot's key is part of its URL): they are never shown back. `events` is a comma-separated
-- list of event kinds ('' = every kind); quiet hours are minutes after midnight at UTC+8.
CREATE TABLE channels (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    department    TEXT REFERENCES departments(region_code),
    provider_id   INTEGER REFERENCES providers(id),
    enterprise_id INTEGER REFERENCES enterprises(id),
    kind          TEXT NOT NULL,
    label         TEXT NOT NULL DEFAULT '',
    url           TEXT NOT NULL,
    secret        TEXT NOT NULL DEFAULT '',
    events        TEXT NOT NULL DEFAULT '',
    mentions      TEXT NOT NULL DEFAULT '',
    quiet_from    INTEGER,
    quiet_to      INTEGER,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);
CREATE INDEX channels_department ON channels(department);
CREATE INDEX channels_provider ON channels(provider_id);
CREATE INDEX channels_enterprise ON channels(enterprise_id);

-- One message to one channel, written in the transaction of the change that caused it (with its
-- audit event), and delivered after commit by a worker of any server. `status` is pending, sent
-- or dead; a worker claims a pending row due at `next_attempt_at` by setting `lease_until`
-- (claims are writes, so the write lock makes each claim one server's); a lease that runs out
-- (a server killed while sending) lets the row be claimed again. The idempotency key sent with
-- the message is derived from `id`.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id      INTEGER NOT NULL REFERENCES channels(id),
    department      TEXT,
    event           TEXT NOT NULL,
    need_id         INTEGER REFERENCES needs(id),
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    link            TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    claimed_by      TEXT NOT NULL DEFAULT '',
    last_error      TEXT,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_need ON outbox(need_id);
CREATE INDEX outbox_channel ON outbox(channel_id, status);

-- Each attempt to deliver a message: sent, failed (with the error) or dead (the last failure).
-- `message_key` is the idempotency key of the message the row went out in (a robot sends several
-- rows due together as one message), by which a robot's messages per minute are counted.
CREATE TABLE outbox_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id   INTEGER NOT NULL REFERENCES outbox(id),
    channel_id  INTEGER NOT NULL REFERENCES channels(id),
    at          INTEGER NOT NULL,
    outcome     TEXT NOT NULL,
    error       TEXT,
    message_key TEXT NOT NULL,
    grouped     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX outbox_attempts_outbox ON outbox_attempts(outbox_id);
CREATE INDEX outbox_attempts_channel ON outbox_attempts(channel_id, at);
