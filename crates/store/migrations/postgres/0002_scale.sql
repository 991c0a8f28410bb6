-- A province in an emergency (issue 12): each server's in-memory registry index follows the
-- capabilities changed since the version it holds, and a need keeps a bounded record of its
-- last screening (counts per reason) beside its best candidates.

-- The audit sequence number of the transaction that last wrote the row (0: before this column).
ALTER TABLE capabilities ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX capabilities_version ON capabilities(version);

CREATE TABLE screenings (
    need_id               BIGINT PRIMARY KEY REFERENCES needs(id),
    registry_version      BIGINT NOT NULL,
    screened              BIGINT NOT NULL,
    feasible              BIGINT NOT NULL,
    unavailable           BIGINT NOT NULL,
    spec_mismatch         BIGINT NOT NULL,
    insufficient_capacity BIGINT NOT NULL,
    too_far               BIGINT NOT NULL,
    too_slow              BIGINT NOT NULL,
    screened_at           BIGINT NOT NULL
);

-- Switch proposals look for the selected needs of a kind.
CREATE INDEX needs_kind_status ON needs(kind, status);

-- The escalation pass reads the open needs past the shortest response window.
CREATE INDEX needs_status_reached ON needs(status, reached_owner_at);
