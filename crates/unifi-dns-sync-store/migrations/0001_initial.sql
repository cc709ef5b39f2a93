-- unifi-dns-sync datastore, schema version 1 (SPEC §6).
--
-- Conventions (kept portable so a PostgreSQL migration set can mirror this one):
--   * timestamps are INTEGER unix milliseconds, UTC (PostgreSQL: BIGINT);
--   * booleans are INTEGER 0/1 with a CHECK (PostgreSQL: BOOLEAN);
--   * JSON documents are TEXT (PostgreSQL: JSONB or TEXT);
--   * surrogate keys are INTEGER PRIMARY KEY (PostgreSQL: BIGINT GENERATED ALWAYS AS IDENTITY).
-- Never edit this file once released: add a new numbered migration instead.

-- One row per configured UniFi console. Never holds a secret: only a short key fingerprint.
CREATE TABLE controllers (
    name            TEXT    NOT NULL PRIMARY KEY,
    url             TEXT    NOT NULL,
    key_fingerprint TEXT,
    app_version     TEXT,
    last_contact    INTEGER,
    last_error      TEXT
);

-- Sites as listed by their controller. A site is (controller, uuid): two consoles can report
-- the same UUID for their default site. Every other table refers to sites.id.
-- Rows are never deleted by discovery: a site that disappears gets removed_at.
CREATE TABLE sites (
    id                 INTEGER NOT NULL PRIMARY KEY,
    controller         TEXT    NOT NULL REFERENCES controllers (name),
    uuid               TEXT    NOT NULL,
    internal_reference TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    first_seen         INTEGER NOT NULL,
    last_synced        INTEGER,            -- last complete read
    last_read_at       INTEGER,            -- last read attempt, complete or not
    last_read_complete INTEGER NOT NULL DEFAULT 0 CHECK (last_read_complete IN (0, 1)),
    last_error         TEXT,
    removed_at         INTEGER,            -- set while the controller no longer lists the site
    withheld_deletes   INTEGER NOT NULL DEFAULT 0 CHECK (withheld_deletes >= 0),
    policy_support     INTEGER CHECK (policy_support IN (0, 1)),  -- NULL = not known yet
    UNIQUE (controller, uuid)
);

-- Canonical records. id = lower-case hex sha256 of "type|name|value".
CREATE TABLE dns_records (
    id         TEXT    NOT NULL PRIMARY KEY,
    type       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    ttl        INTEGER,
    enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    record_raw TEXT    NOT NULL DEFAULT '{}',
    first_seen INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX dns_records_name_type ON dns_records (name, type);

-- Which sites a record is native to. A record cannot be deleted while it has an origin
-- (no ON DELETE on record_id); a site that is deleted takes its origins along.
CREATE TABLE record_origins (
    record_id  TEXT    NOT NULL REFERENCES dns_records (id),
    site_id    INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('POLICY', 'CLIENT')),
    source_id  TEXT    NOT NULL,           -- the policy id or the client MAC
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (record_id, site_id)
);
CREATE INDEX record_origins_site ON record_origins (site_id);

-- The ownership registry: every policy this service created. A record cannot be deleted while
-- a copy of it is registered, so a registered copy can never lose its record.
CREATE TABLE synced_copies (
    site_id     INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    record_id   TEXT    NOT NULL REFERENCES dns_records (id),
    policy_id   TEXT,
    state       TEXT    NOT NULL CHECK (state IN ('PENDING', 'ACTIVE')),
    created_at  INTEGER NOT NULL,
    verified_at INTEGER,
    PRIMARY KEY (site_id, record_id),
    CHECK ((state = 'PENDING' AND policy_id IS NULL) OR (state = 'ACTIVE' AND policy_id IS NOT NULL))
);
CREATE UNIQUE INDEX synced_copies_policy ON synced_copies (site_id, policy_id)
    WHERE policy_id IS NOT NULL;
CREATE INDEX synced_copies_record ON synced_copies (record_id);

-- Currently open conflicts, so a conflict is recorded as an event only when it starts and ends.
CREATE TABLE conflicts (
    site_id   INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    record_id TEXT    NOT NULL REFERENCES dns_records (id) ON DELETE CASCADE,
    reason    TEXT    NOT NULL,
    code      TEXT,
    detail    TEXT,
    since     INTEGER NOT NULL,
    PRIMARY KEY (site_id, record_id)
);
CREATE INDEX conflicts_record ON conflicts (record_id);

-- One row per sync cycle. A row without finished_at found at start-up is marked interrupted.
CREATE TABLE sync_runs (
    id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    "trigger"   TEXT    NOT NULL CHECK ("trigger" IN ('schedule', 'manual', 'cli')),
    dry_run     INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
    outcome     TEXT    CHECK (outcome IN ('success', 'partial', 'failed', 'interrupted')),
    counts      TEXT    NOT NULL DEFAULT '{}',
    error       TEXT
);
CREATE INDEX sync_runs_started ON sync_runs (started_at);
CREATE INDEX sync_runs_unfinished ON sync_runs (id) WHERE finished_at IS NULL;

-- History. record_id and site_id are deliberately NOT foreign keys: history outlives records
-- and sites, so each event carries a snapshot (type, name, value, site_label).
CREATE TABLE sync_events (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    run_id     INTEGER REFERENCES sync_runs (id) ON DELETE SET NULL,
    at         INTEGER NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('CREATED', 'UPDATED', 'DELETED', 'SKIPPED', 'FAILED')),
    site_id    INTEGER,
    site_label TEXT,                       -- "controller/internal_reference" when the event was written
    record_id  TEXT,
    type       TEXT,
    name       TEXT,
    value      TEXT,
    reason     TEXT,                       -- e.g. threshold, shadowed, competing-origin, unifi-refused
    code       TEXT,                       -- e.g. the UniFi error code
    detail     TEXT
);
CREATE INDEX sync_events_at ON sync_events (at);
CREATE INDEX sync_events_site ON sync_events (site_id, id);
CREATE INDEX sync_events_status ON sync_events (status, id);
CREATE INDEX sync_events_name ON sync_events (name);
CREATE INDEX sync_events_record ON sync_events (record_id, id);
CREATE INDEX sync_events_run ON sync_events (run_id);
