-- In-app notifications for agents (SLA warnings and breaches, escalations, …), SQLite
-- flavour. Keep in step with ../postgres/0005_notifications.sql. Timestamps are unix
-- microseconds.
--
-- One row per recipient: a notification for three agents is three rows, each read on its
-- own. `read_at` is NULL until the agent reads it. `dedupe_key`, when given, makes the
-- insert happen at most once ever (e.g. `sla:breach:<ticket>:<target>:<agent>`), so a
-- scan that runs twice notifies once.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id   INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    ticket_id  INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT '',
    dedupe_key TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    read_at    INTEGER
);
-- The unread count (`agent_id = ? AND read_at IS NULL`, on every agent page) reads this
-- index only; the unread list walks it newest id first.
CREATE INDEX notifications_agent_unread ON notifications (agent_id, read_at, id);
-- The full list of one agent, newest first.
CREATE INDEX notifications_agent ON notifications (agent_id, id);
