-- PostgreSQL dialect; the SQLite twin has the same name under migrations/sqlite.
-- Indexes for the lists that page and filter in the database (issue 12): each list is read in
-- id order after a cursor (`id > $after ORDER BY id LIMIT n`), narrowed by its filters and by
-- what the reader may see. An index whose last column is the id answers "this filter, in id
-- order, after this id" without sorting (PostgreSQL keeps equal keys in heap order, not id
-- order, so the id is spelt out; on SQLite it is the rowid that ends every index anyway).

-- Cases: by status; an enterprise user's own case.
CREATE INDEX cases_status ON cases(status, id);
CREATE INDEX cases_enterprise ON cases(enterprise_id, id);

-- Enterprises inside a jurisdiction (a range of region codes).
CREATE INDEX enterprises_region ON enterprises(region, id);

-- Needs: by kind, by status, by owner (needs_owner is (owner, status)).
CREATE INDEX needs_kind ON needs(kind, id);
CREATE INDEX needs_status ON needs(status, id);
CREATE INDEX needs_owner_id ON needs(owner, id);

-- A dashboard's attention list, one index per reason: past the deadline; open and waiting
-- longer than the owner's tier allows (also counts needs by status and tier from the index
-- alone, case_id included); supervised (a few: a partial index).
CREATE INDEX needs_deadline ON needs(deadline);
CREATE INDEX needs_waiting ON needs(status, owner_tier, reached_owner_at, case_id);
CREATE INDEX needs_supervised ON needs(id) WHERE supervised <> 0;

-- A provider user sees the needs it is a candidate of.
CREATE INDEX candidates_provider ON candidates(provider_id, need_id);

-- Providers: by place (a range of region codes); by kind through their capabilities.
CREATE INDEX providers_region ON providers(region, id);
CREATE INDEX capabilities_kind_provider ON capabilities(kind, provider_id);

-- A case's events in sequence; the needs that were ever escalated or flagged (a few rows of a
-- million: a partial index).
CREATE INDEX events_case_seq ON events(case_id, seq);
CREATE INDEX events_escalations ON events(entity) WHERE action IN ('need.escalated', 'need.supervised');

-- Notifications of a department; letters of a need and by status.
CREATE INDEX notifications_department ON notifications(department, id);
CREATE INDEX letters_need ON letters(need_id, id);
CREATE INDEX letters_status ON letters(status, id);
