-- SQLite dialect; the PostgreSQL twin has the same name under migrations/postgres.
-- Figures (issue 14): when a need was resolved. The charts' "needs resolved per day" and "median
-- hours to resolve" read this, not `updated_at`, which moves whenever the row is written again.
-- The resolve use case sets it, reopening clears it; needs resolved before this migration take
-- the time of their last `need.resolved` audit event (their `updated_at` if none is found).
ALTER TABLE needs ADD COLUMN resolved_at INTEGER;
UPDATE needs SET resolved_at = r.at
    FROM (SELECT entity, MAX(at) AS at FROM events WHERE action = 'need.resolved' GROUP BY entity) AS r
    WHERE needs.status = 'resolved' AND r.entity = 'need:' || needs.id;
UPDATE needs SET resolved_at = updated_at WHERE status = 'resolved' AND resolved_at IS NULL;
CREATE INDEX needs_resolved_at ON needs(resolved_at, case_id) WHERE resolved_at IS NOT NULL;
