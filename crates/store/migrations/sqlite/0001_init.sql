-- bangfu schema, SQLite dialect. The PostgreSQL twin has the same name under migrations/postgres.
-- Times are INTEGER milliseconds since the Unix epoch, UTC. Region codes are six-digit TEXT.
-- Enumerations are stored as their wire names (TEXT), never as bare integers.

CREATE TABLE regions (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('province', 'city', 'county')),
    parent_code TEXT REFERENCES regions(code),
    lon         REAL,
    lat         REAL
);

-- One assisting department per region; tier from the region's level.
CREATE TABLE departments (
    region_code TEXT PRIMARY KEY REFERENCES regions(code),
    tier        TEXT NOT NULL CHECK (tier IN ('county', 'city', 'province')),
    name        TEXT NOT NULL
);

CREATE TABLE enterprises (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    region      TEXT NOT NULL REFERENCES regions(code),
    lon         REAL,
    lat         REAL,
    note        TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

CREATE TABLE providers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    region     TEXT NOT NULL REFERENCES regions(code),
    lon        REAL,
    lat        REAL,
    note       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'enterprise', 'provider', 'viewer')),
    department    TEXT REFERENCES departments(region_code),
    enterprise_id INTEGER REFERENCES enterprises(id),
    provider_id   INTEGER REFERENCES providers(id),
    password_hash TEXT,
    created_at    INTEGER NOT NULL
);

-- Login sessions (API tokens and web cookies), shared by every server on the database.
-- Only the SHA-256 of a token is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE capabilities (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    kind        TEXT NOT NULL,
    available   INTEGER NOT NULL DEFAULT 1,
    attrs       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (provider_id, kind)
);
CREATE INDEX capabilities_kind ON capabilities(kind);

CREATE TABLE cases (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises(id),
    title         TEXT NOT NULL,
    region        TEXT NOT NULL REFERENCES regions(code),
    opened_at     INTEGER NOT NULL,
    status        TEXT NOT NULL DEFAULT 'active'
);
CREATE INDEX cases_region ON cases(region);

CREATE TABLE team_members (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    INTEGER NOT NULL REFERENCES cases(id),
    title      TEXT NOT NULL,
    tier       TEXT NOT NULL CHECK (tier IN ('county', 'city', 'province')),
    department TEXT NOT NULL REFERENCES departments(region_code),
    role       TEXT NOT NULL CHECK (role IN ('commissioner', 'stationed_cadre', 'task_force')),
    user_id    INTEGER REFERENCES users(id),
    joined_at  INTEGER NOT NULL
);
CREATE INDEX team_members_case ON team_members(case_id);
CREATE INDEX team_members_department ON team_members(department);

CREATE TABLE needs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id          INTEGER NOT NULL REFERENCES cases(id),
    kind             TEXT NOT NULL,
    title            TEXT NOT NULL,
    specification    TEXT NOT NULL DEFAULT '',
    quantity         REAL NOT NULL,
    unit             TEXT NOT NULL DEFAULT '',
    requires         TEXT NOT NULL DEFAULT '{}',
    deadline         INTEGER,
    max_distance_km  REAL,
    max_lead_time_h  REAL,
    scope            TEXT NOT NULL,
    owner            TEXT NOT NULL REFERENCES departments(region_code),
    owner_tier       TEXT NOT NULL,
    letter_to        TEXT,
    solution_region  TEXT,
    route_zh         TEXT NOT NULL,
    route_en         TEXT NOT NULL,
    status           TEXT NOT NULL,
    reached_owner_at INTEGER NOT NULL,
    supervised       INTEGER NOT NULL DEFAULT 0,
    selected_candidate INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX needs_case ON needs(case_id);
CREATE INDEX needs_owner ON needs(owner, status);

CREATE TABLE candidates (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    need_id       INTEGER NOT NULL REFERENCES needs(id),
    provider_id   INTEGER NOT NULL REFERENCES providers(id),
    feasible      INTEGER NOT NULL,
    road_km       REAL NOT NULL,
    travel_h      REAL NOT NULL,
    processing_h  REAL NOT NULL,
    lead_time_h   REAL NOT NULL,
    scope         TEXT NOT NULL,
    owner         TEXT NOT NULL,
    reasons       TEXT NOT NULL DEFAULT '',
    explanation_zh TEXT NOT NULL,
    explanation_en TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'proposed',
    created_at    INTEGER NOT NULL,
    UNIQUE (need_id, provider_id)
);

CREATE TABLE shipments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id      INTEGER NOT NULL REFERENCES cases(id),
    need_id      INTEGER REFERENCES needs(id),
    goods        TEXT NOT NULL,
    origin       TEXT NOT NULL REFERENCES regions(code),
    destination  TEXT NOT NULL REFERENCES regions(code),
    status       TEXT NOT NULL,
    traffic_pass TEXT,
    departs_at   INTEGER,
    arrives_at   INTEGER
);

CREATE TABLE approvals (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    INTEGER NOT NULL REFERENCES cases(id),
    department TEXT NOT NULL REFERENCES departments(region_code),
    agency     TEXT NOT NULL,
    item       TEXT NOT NULL,
    status     TEXT NOT NULL,
    opened_at  INTEGER NOT NULL,
    due_at     INTEGER,
    decided_at INTEGER
);

CREATE TABLE letters (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    need_id         INTEGER NOT NULL REFERENCES needs(id),
    number          TEXT NOT NULL UNIQUE,
    sender          TEXT NOT NULL,
    recipients      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_zh         TEXT NOT NULL,
    body_en         TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    acknowledged_at INTEGER
);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    department TEXT REFERENCES departments(region_code),
    user_id    INTEGER REFERENCES users(id),
    need_id    INTEGER REFERENCES needs(id),
    text_zh    TEXT NOT NULL,
    text_en    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at    INTEGER
);

-- A need broadcast to the departments of a ring, who may then see it and propose candidates.
CREATE TABLE broadcasts (
    need_id    INTEGER NOT NULL REFERENCES needs(id),
    department TEXT NOT NULL REFERENCES departments(region_code),
    at         INTEGER NOT NULL,
    PRIMARY KEY (need_id, department)
);
CREATE INDEX broadcasts_department ON broadcasts(department);

-- The enterprise's daily return: capacity, output and stock of one day (UTC+8 date).
CREATE TABLE daily_returns (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id          INTEGER NOT NULL REFERENCES cases(id),
    day              TEXT NOT NULL,
    capacity_per_day REAL NOT NULL,
    output           REAL NOT NULL,
    stock            REAL NOT NULL,
    note             TEXT NOT NULL DEFAULT '',
    reported_at      INTEGER NOT NULL,
    UNIQUE (case_id, day)
);

-- The audit log: one immutable line per change, chained by SHA-256.
CREATE TABLE events (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    case_id   INTEGER,
    payload   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX events_case ON events(case_id, at, seq);

-- Cluster-wide leases of periodic jobs: the server that inserts (job, slot) first runs the job
-- for that slot (for example the escalation pass of one minute); the others find the row.
CREATE TABLE job_runs (
    job  TEXT NOT NULL,
    slot INTEGER NOT NULL,
    PRIMARY KEY (job, slot)
);

-- The case's plan to production: one row per milestone (节点), listed by position. `after` is a
-- JSON list of the keys of the same case's milestones that must finish first. Replacing a plan
-- deletes its rows and inserts the new ones.
CREATE TABLE milestones (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       INTEGER NOT NULL REFERENCES cases(id),
    key           TEXT NOT NULL,
    name          TEXT NOT NULL,
    duration_h    REAL NOT NULL,
    after         TEXT NOT NULL DEFAULT '[]',
    not_before    INTEGER,
    actual_start  INTEGER,
    actual_finish INTEGER,
    position      INTEGER NOT NULL,
    UNIQUE (case_id, key)
);

-- A need that blocks a milestone: the milestone cannot finish before the need is resolved.
CREATE TABLE milestone_blockers (
    milestone_id INTEGER NOT NULL REFERENCES milestones(id),
    need_id      INTEGER NOT NULL REFERENCES needs(id),
    PRIMARY KEY (milestone_id, need_id)
);
CREATE INDEX milestone_blockers_need ON milestone_blockers(need_id);
