-- SLA policies, per-ticket clocks and their timers (postgres flavour).
-- Keep in step with ../sqlite/0004_sla.sql. Timestamps are unix microseconds.

-- A policy's name, order and whether it is in use; its rules are versioned below.
CREATE TABLE sla_policies (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL,
    position   BIGINT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Every version of every policy, never changed once written (tickets keep theirs).
CREATE TABLE sla_policy_versions (
    policy_id  BIGINT NOT NULL REFERENCES sla_policies (id),
    version    BIGINT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version)
);

-- Grows with every change of a policy or calendar, so every node knows when to reload.
CREATE TABLE sla_generation (
    id         BIGINT PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO sla_generation (id, generation) VALUES (1, 0);

-- A ticket's SLA state besides its clocks: the policy version it runs under and what
-- the reply clocks need to know about the conversation.
CREATE TABLE ticket_sla (
    ticket_id        BIGINT PRIMARY KEY REFERENCES tickets (id),
    policy_id        BIGINT,
    policy_version   BIGINT,
    replied          BOOLEAN NOT NULL DEFAULT FALSE,
    awaiting_since   BIGINT,
    last_agent_reply BIGINT,
    tier_since       BIGINT
);
-- Bulk re-apply: the open tickets under older versions of a policy.
CREATE INDEX ticket_sla_policy ON ticket_sla (policy_id, policy_version);

-- One row per (ticket, metric): the current instance of that clock. next_fire_at is the
-- durable timer (a warning or the breach); lease_until keeps two nodes off one timer.
CREATE TABLE sla_clocks (
    ticket_id    BIGINT NOT NULL REFERENCES tickets (id),
    metric       TEXT NOT NULL,
    state        TEXT NOT NULL,
    target_secs  BIGINT NOT NULL,
    business     BOOLEAN NOT NULL DEFAULT FALSE,
    calendar_id  BIGINT REFERENCES calendars (id),
    warn_at      TEXT NOT NULL DEFAULT '',
    started_at   BIGINT NOT NULL,
    elapsed_us   BIGINT NOT NULL,
    since        BIGINT,
    due_at       BIGINT,
    warned       BIGINT NOT NULL DEFAULT 0,
    breached_at  BIGINT,
    fulfilled_at BIGINT,
    next_fire_at BIGINT,
    lease_until  BIGINT,
    PRIMARY KEY (ticket_id, metric)
);
CREATE INDEX sla_clocks_timer ON sla_clocks (next_fire_at) WHERE next_fire_at IS NOT NULL;
CREATE INDEX sla_clocks_breached ON sla_clocks (ticket_id) WHERE state = 'breached' AND fulfilled_at IS NULL;
