-- SQLite dialect; the PostgreSQL twin has the same name under migrations/postgres.
-- Login limits shared by every server of a database (issue 17): one row per client address
-- ('addr:…') and per username ('user:…') that failed lately — failures in a row, the last one,
-- and the moment before which no attempt is let through (exponential back-off, see
-- bangfu_core::throttle). Operational state, written without audit events; rows a day old are
-- removed as attempts come.
CREATE TABLE login_throttles (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    blocked_until   INTEGER NOT NULL
);
CREATE INDEX login_throttles_last_failure ON login_throttles(last_failure_at);
