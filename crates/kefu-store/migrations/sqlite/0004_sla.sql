-- SLA policies, per-ticket clocks and their timers (sqlite flavour).
-- Keep in step with ../postgres/0004_sla.sql. Timestamps are unix microseconds.

-- A policy's name, order and whether it is in use; its rules are versioned below.
CREATE TABLE sla_policies (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    position   INTEGER NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Every version of every policy, never changed once written (tickets keep theirs).
CREATE TABLE sla_policy_versions (
    policy_id  INTEGER NOT NULL REFERENCES sla_policies (id),
    version    INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (policy_id, version)
);

-- Grows with every change of a policy or calendar, so every node knows when to reload.
CREATE TABLE sla_generation (
    id         INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL
);
INSERT INTO sla_generation (id, generation) VALUES (1, 0);

-- A ticket's SLA state besides its clocks: the policy version it runs under and what
-- the reply clocks need to know about the conversation.
CREATE TABLE ticket_sla (
    ticket_id        INTEGER PRIMARY KEY REFERENCES tickets (id),
    policy_id        INTEGER,
    policy_version   INTEGER,
    replied          INTEGER NOT NULL DEFAULT 0,
    awaiting_since   INTEGER,
    last_agent_reply INTEGER,
    tier_since       INTEGER
);
-- Bulk re-apply: the open tickets under older versions of a policy.
CREATE INDEX ticket_sla_policy ON ticket_sla (policy_id, policy_version);

-- One row per (ticket, metric): the current instance of that clock. next_fire_at is the
-- durable timer (a warning or the breach); lease_until keeps two nodes off one timer.
CREATE TABLE sla_clocks (
    ticket_id    INTEGER NOT NULL REFERENCES tickets (id),
    metric       TEXT NOT NULL,
    state        TEXT NOT NULL,
    target_secs  INTEGER NOT NULL,
    business     INTEGER NOT NULL DEFAULT 0,
    calendar_id  INTEGER REFERENCES calendars (id),
    warn_at      TEXT NOT NULL DEFAULT '',
    started_at   INTEGER NOT NULL,
    elapsed_us   INTEGER NOT NULL,
    since        INTEGER,
    due_at       INTEGER,
    warned       INTEGER NOT NULL DEFAULT 0,
    breached_at  INTEGER,
    fulfilled_at INTEGER,
    next_fire_at INTEGER,
    lease_until  INTEGER,
    PRIMARY KEY (ticket_id, metric)
);
CREATE INDEX sla_clocks_timer ON sla_clocks (next_fire_at) WHERE next_fire_at IS NOT NULL;
CREATE INDEX sla_clocks_breached ON sla_clocks (ticket_id) WHERE state = 'breached' AND fulfilled_at IS NULL;
