-- SQLite dialect; the PostgreSQL twin has the same name under migrations/postgres.
-- A dashboard's attention list from one index (issue 12): the unclosed needs counted by status
-- and tier, and those past their deadline, waiting longer than their owner's tier allows or
-- supervised, all read from needs_waiting with the case for what the reader may see. It
-- replaces the three indexes of 0003_lists (one per reason, whose union cost a row lookup per
-- need at province scale).
DROP INDEX needs_deadline;
DROP INDEX needs_supervised;
DROP INDEX needs_waiting;
CREATE INDEX needs_waiting ON needs(status, owner_tier, reached_owner_at, deadline, supervised, case_id);
