-- A province in an emergency (issue 12): each server's in-memory registry index follows the
-- capabilities changed since the version it holds, and a need keeps a bounded record of its
-- last screening (counts per reason) beside its best candidates.

-- The audit sequence number of the transaction that last wrote the row (0: before this column).
ALTER TABLE capabilities ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX capabilities_version ON capabilities(version);

CREATE TABLE screenings (
    need_id               INTEGER PRIMARY KEY REFERENCES needs(id),
    registry_version      INTEGER NOT NULL,
    screened              INTEGER NOT NULL,
    feasible              INTEGER NOT NULL,
    unavailable           INTEGER NOT NULL,
    spec_mismatch         INTEGER NOT NULL,
    insufficient_capacity INTEGER NOT NULL,
    too_far               INTEGER NOT NULL,
    too_slow              INTEGER NOT NULL,
    screened_at           INTEGER NOT NULL
);

-- Switch proposals look for the selected needs of a kind.
CREATE INDEX needs_kind_status ON needs(kind, status);

-- The escalation pass reads the open needs past the shortest response window.
CREATE INDEX needs_status_reached ON needs(status, reached_owner_at);
