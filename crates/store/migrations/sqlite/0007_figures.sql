-- SQLite dialect; the PostgreSQL twin has the same name under migrations/postgres.
-- Figures and documents (issue 14).
--
-- Daily returns per product: a case returns each day one row per product it makes (医用外科口罩,
-- KN95口罩, …) with what it shipped beside capacity, output and stock. Rows written before this
-- migration name no product (''). SQLite cannot change a UNIQUE constraint in place, so the
-- table is rebuilt with its ids kept.
CREATE TABLE daily_returns_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id          INTEGER NOT NULL REFERENCES cases(id),
    day              TEXT NOT NULL,
    product          TEXT NOT NULL DEFAULT '',
    capacity_per_day REAL NOT NULL,
    output           REAL NOT NULL,
    stock            REAL NOT NULL,
    shipped          REAL NOT NULL DEFAULT 0,
    note             TEXT NOT NULL DEFAULT '',
    reported_at      INTEGER NOT NULL,
    UNIQUE (case_id, day, product)
);
INSERT INTO daily_returns_new (id, case_id, day, product, capacity_per_day, output, stock, shipped, note, reported_at)
    SELECT id, case_id, day, '', capacity_per_day, output, stock, 0, note, reported_at FROM daily_returns;
DROP TABLE daily_returns;
ALTER TABLE daily_returns_new RENAME TO daily_returns;
-- The sums of a day over a jurisdiction read the day's rows from here.
CREATE INDEX daily_returns_day ON daily_returns(day, case_id);

-- The daily briefing (每日专报) of a department for a day, generated at 08:00 UTC+8 and kept:
-- `body` is its figures as JSON, as they were at `generated_at`.
CREATE TABLE briefings (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    department   TEXT NOT NULL REFERENCES departments(region_code),
    day          TEXT NOT NULL,
    generated_at INTEGER NOT NULL,
    body         TEXT NOT NULL,
    UNIQUE (department, day)
);

-- A letter fit to send: its contact person and telephone, its copies (抄送, a JSON array of
-- names), and the reply that acknowledged it (number, date, text).
ALTER TABLE letters ADD COLUMN contact_name TEXT NOT NULL DEFAULT '';
ALTER TABLE letters ADD COLUMN contact_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE letters ADD COLUMN cc TEXT NOT NULL DEFAULT '[]';
ALTER TABLE letters ADD COLUMN reply_number TEXT;
ALTER TABLE letters ADD COLUMN reply_date TEXT;
ALTER TABLE letters ADD COLUMN reply_text TEXT;
