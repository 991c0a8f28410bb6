-- PostgreSQL dialect; the SQLite twin has the same name under migrations/sqlite.
-- Login limits shared by every server of a database (issue 17): one row per client address
-- ('addr:…') and per username ('user:…') that failed lately — failures in a row, the last one,
-- and the moment before which no attempt is let through (exponential back-off, see
-- bangfu_core::throttle). Operational state, written without audit events; rows a day old are
-- removed as attempts come.
CREATE TABLE login_throttles (
    key             TEXT PRIMARY KEY,
    failures        BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    blocked_until   BIGINT NOT NULL
);
CREATE INDEX login_throttles_last_failure ON login_throttles(last_failure_at);
