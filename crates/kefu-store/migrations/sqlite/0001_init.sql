-- kefu schema, SQLite flavour. Timestamps are unix microseconds (INTEGER);
-- booleans are INTEGER 0/1. Keep in step with ../postgres/0001_init.sql.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE organizations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL,
    domains        TEXT NOT NULL DEFAULT '',
    segment        TEXT NOT NULL,
    shares_tickets INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);

CREATE TABLE customers (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL,
    organization_id INTEGER REFERENCES organizations (id),
    segment         TEXT NOT NULL,
    language        TEXT NOT NULL,
    time_zone       TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX customers_organization ON customers (organization_id, id);

CREATE TABLE customer_identities (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    is_primary  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (kind, value)
);
CREATE INDEX customer_identities_customer ON customer_identities (customer_id);

CREATE TABLE customer_credentials (
    customer_id   INTEGER PRIMARY KEY NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

CREATE TABLE agents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    tier          INTEGER NOT NULL,
    language      TEXT,
    active        INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE agent_teams (
    agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    team_id  INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (agent_id, team_id)
);
CREATE INDEX agent_teams_team ON agent_teams (team_id);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id   INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX api_tokens_agent ON api_tokens (agent_id);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    agent_id    INTEGER REFERENCES agents (id) ON DELETE CASCADE,
    customer_id INTEGER REFERENCES customers (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    CHECK ((agent_id IS NULL) <> (customer_id IS NULL))
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Fixed-window rate-limit counters (sign-in attempts), shared by every node. `key` names
-- what is counted (e.g. `login:email:…`, `login:ip:…`); `window_start` is unix
-- microseconds, aligned to the window length. Old windows are purged by a periodic job.
CREATE TABLE rate_limits (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);

CREATE TABLE tickets (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    number          INTEGER NOT NULL UNIQUE,
    subject         TEXT NOT NULL,
    status          TEXT NOT NULL,
    priority        TEXT NOT NULL,
    ticket_type     TEXT NOT NULL,
    channel         TEXT NOT NULL,
    requester_id    INTEGER NOT NULL REFERENCES customers (id),
    organization_id INTEGER REFERENCES organizations (id),
    assignee_id     INTEGER REFERENCES agents (id),
    team_id         INTEGER REFERENCES teams (id),
    tier            INTEGER NOT NULL,
    -- Space-separated, sorted, lowercase tags.
    tags            TEXT NOT NULL DEFAULT '',
    custom_fields   TEXT NOT NULL DEFAULT '{}',
    follow_up_of    INTEGER REFERENCES tickets (id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    solved_at       INTEGER,
    closed_at       INTEGER
);
-- Every list is "newest activity first" under some equality filters; each index ends in
-- (updated_at, id) so the first page is an index range scan without a sort.
CREATE INDEX tickets_updated ON tickets (updated_at, id);
CREATE INDEX tickets_status ON tickets (status, updated_at, id);
CREATE INDEX tickets_assignee ON tickets (assignee_id, status, updated_at, id);
CREATE INDEX tickets_team ON tickets (team_id, status, updated_at, id);
-- The unassigned queue: `assignee_id IS NULL` does not count as an equality for index order
-- in PostgreSQL, so a partial index serves it.
CREATE INDEX tickets_unassigned ON tickets (status, updated_at, id) WHERE assignee_id IS NULL;
CREATE INDEX tickets_requester ON tickets (requester_id, updated_at, id);
CREATE INDEX tickets_organization ON tickets (organization_id, updated_at, id);

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   INTEGER NOT NULL REFERENCES tickets (id),
    author_kind TEXT NOT NULL,
    author_id   INTEGER,
    public      INTEGER NOT NULL,
    body_text   TEXT NOT NULL,
    body_html   TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX messages_ticket ON messages (ticket_id, id);

-- Content-addressed attachment bytes: one row per distinct content.
CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY NOT NULL,
    size       INTEGER NOT NULL,
    data       BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   INTEGER NOT NULL REFERENCES messages (id),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL REFERENCES blobs (sha256)
);
CREATE INDEX attachments_message ON attachments (message_id, id);

-- Append-only ticket history. kind: 'created' | 'field' | 'message'.
CREATE TABLE events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id      INTEGER NOT NULL REFERENCES tickets (id),
    at             INTEGER NOT NULL,
    actor_kind     TEXT NOT NULL,
    actor_id       INTEGER,
    kind           TEXT NOT NULL,
    field          TEXT,
    from_value     TEXT,
    to_value       TEXT,
    message_id     INTEGER REFERENCES messages (id),
    message_public INTEGER
);
CREATE INDEX events_ticket ON events (ticket_id, id);

-- One row per (scope, key): the resource a client's Idempotency-Key created, and the
-- fingerprint of the request that created it (a retry must match it).
CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL,
    key           TEXT NOT NULL,
    resource_kind TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    resource_id   INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Durable jobs and timers (email, SLA). Not used by code yet: the seam for later work.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL DEFAULT '{}',
    run_at          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    last_error      TEXT,
    idempotency_key TEXT UNIQUE,
    created_at      INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at, id);
