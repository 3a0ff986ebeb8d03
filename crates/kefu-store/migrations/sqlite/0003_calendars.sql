-- Business calendars (working hours, holidays, make-up working days), SQLite flavour.
-- Keep in step with ../postgres/0003_calendars.sql. Timestamps are unix microseconds.
--
-- `definition` is the calendar as the API accepted it, normalised JSON (weekly hours,
-- holidays, make-up days); the server validates it (kefu_domain::calendar) before it is
-- stored. `version` starts at 1 and grows by one with every update, so that anything
-- computed from a calendar (SLA due times) can tell which version it used.
CREATE TABLE calendars (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    definition TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
