-- The email channel, SQLite flavour. Keep in step with ../postgres/0002_email.sql.
-- Timestamps are unix microseconds; lists of addresses are JSON text arrays.

-- Support addresses kefu receives mail for. `address` is lowercase (an `Email`).
CREATE TABLE mailboxes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    address    TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    team_id    INTEGER REFERENCES teams (id),
    imap_url   TEXT,
    auto_ack   INTEGER NOT NULL DEFAULT 1,
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Every received email, stored raw (in `blobs`, once per distinct content) before anything
-- else happens to it. `dedupe_key` is the Message-ID, or the raw bytes' SHA-256 without one.
-- state: received | ticketed | threaded | bounce | loop | rate_limited | automatic.
CREATE TABLE inbound_mail (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox_id     INTEGER REFERENCES mailboxes (id),
    dedupe_key     TEXT NOT NULL UNIQUE,
    message_id     TEXT,
    envelope_from  TEXT,
    envelope_to    TEXT NOT NULL DEFAULT '[]',
    source         TEXT NOT NULL,
    subject        TEXT NOT NULL DEFAULT '',
    from_addr      TEXT,
    size           INTEGER NOT NULL,
    raw_sha256     TEXT NOT NULL REFERENCES blobs (sha256),
    state          TEXT NOT NULL DEFAULT 'received',
    ticket_id      INTEGER REFERENCES tickets (id),
    message_row_id INTEGER REFERENCES messages (id),
    note           TEXT,
    received_at    INTEGER NOT NULL
);
-- The mail log is newest first, optionally by state or mailbox; crash recovery scans
-- (state = 'received', received_at).
CREATE INDEX inbound_mail_received ON inbound_mail (received_at, id);
CREATE INDEX inbound_mail_state ON inbound_mail (state, received_at, id);
CREATE INDEX inbound_mail_mailbox ON inbound_mail (mailbox_id, received_at, id);
-- The per-sender limit counts a sender's recent mails.
CREATE INDEX inbound_mail_sender ON inbound_mail (from_addr, received_at);

-- The email side of a message; `email_message_id` is set for every message that came or
-- went by email (the other columns mean nothing without it).
ALTER TABLE messages ADD COLUMN email_message_id TEXT;
ALTER TABLE messages ADD COLUMN inbound_id INTEGER REFERENCES inbound_mail (id);
ALTER TABLE messages ADD COLUMN mailbox_id INTEGER REFERENCES mailboxes (id);
ALTER TABLE messages ADD COLUMN mail_from TEXT;
ALTER TABLE messages ADD COLUMN mail_to TEXT;
ALTER TABLE messages ADD COLUMN mail_cc TEXT;
ALTER TABLE messages ADD COLUMN parse_warning TEXT;
-- queued | sent | failed | bounced, for outgoing mail.
ALTER TABLE messages ADD COLUMN delivery_status TEXT;
ALTER TABLE messages ADD COLUMN delivery_detail TEXT;
ALTER TABLE messages ADD COLUMN automatic INTEGER NOT NULL DEFAULT 0;
-- One received email becomes at most one message (NULLs do not collide).
CREATE UNIQUE INDEX messages_inbound ON messages (inbound_id);

-- Every Message-ID we sent or received, for threading replies (In-Reply-To, References).
-- `id` orders the rows by when they were recorded ("the most recent match wins");
-- `message_row_id` is NULL for mail that is no message of its own (an acknowledgement).
CREATE TABLE mail_ids (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id_header TEXT NOT NULL UNIQUE,
    ticket_id         INTEGER NOT NULL REFERENCES tickets (id),
    message_row_id    INTEGER REFERENCES messages (id),
    created_at        INTEGER NOT NULL
);

-- Jobs: a failed job (given up) keeps its row and error and is never claimed again; a
-- completed job is deleted, but its idempotency key stays taken in `job_keys`.
ALTER TABLE jobs ADD COLUMN failed_at INTEGER;
CREATE INDEX jobs_claimable ON jobs (run_at, id) WHERE failed_at IS NULL;

-- Every job idempotency key ever used (a completed job's key stays taken).
CREATE TABLE job_keys (
    key        TEXT PRIMARY KEY NOT NULL,
    created_at INTEGER NOT NULL
);
