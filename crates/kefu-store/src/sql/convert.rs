//! Engine-independent conversions between domain values and column values: timestamps,
//! actors, tags, field names, cursors, and the mapping of constraint errors to
//! [`StoreError`]. Never touches a connection.

use crate::{Result, StoreError};
use kefu_domain::*;
use sha2::{Digest, Sha256};

/// A timestamp as stored: unix microseconds.
pub(crate) fn us(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn ts(micros: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(micros).map_err(|e| corrupt(format!("timestamp {micros}: {e}")))
}

/// A duration as integer microseconds (what the `*_us` columns store).
pub(crate) fn micros(d: jiff::SignedDuration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

pub(crate) fn ts_opt(micros: Option<i64>) -> Result<Option<Timestamp>> {
    micros.map(ts).transpose()
}

/// A stored value the code cannot read back: the database is damaged or was written by
/// something else. An internal fault, never a user mistake.
pub(crate) fn corrupt(msg: impl Into<String>) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(msg.into().into()))
}

/// An `Idempotency-Key` sent again with a different request (another kind of resource,
/// another fingerprint, another ticket): the caller's mistake, not a conflict to retry.
pub(crate) fn key_reused() -> StoreError {
    DomainError::invalid(
        "Idempotency-Key",
        "was already used for a different request",
    )
    .into()
}

/// Parses a stored enum spelling; a failure means corruption, not bad input.
pub(crate) fn stored<T>(r: std::result::Result<T, DomainError>) -> Result<T> {
    r.map_err(|e| corrupt(format!("stored value: {e}")))
}

pub(crate) fn actor_to_db(a: Actor) -> (&'static str, Option<i64>) {
    (a.kind().as_str(), a.id())
}

pub(crate) fn actor_from_db(kind: &str, id: Option<i64>) -> Result<Actor> {
    let kind = stored(ActorKind::parse(kind))?;
    let id = || id.ok_or_else(|| corrupt(format!("actor {kind} without id")));
    Ok(match kind {
        ActorKind::Agent => Actor::Agent(AgentId(id()?)),
        ActorKind::Customer => Actor::Customer(CustomerId(id()?)),
        ActorKind::System => Actor::System,
        ActorKind::Rule => Actor::Rule,
    })
}

pub(crate) fn tags_to_db(tags: &[Tag]) -> String {
    tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(" ")
}

pub(crate) fn tags_from_db(s: &str) -> Result<Vec<Tag>> {
    s.split_whitespace()
        .map(|t| stored(Tag::parse(t)))
        .collect()
}

/// Organization domains are stored space-separated (a domain has no spaces).
pub(crate) fn words_to_db(words: &[String]) -> String {
    words
        .iter()
        .map(|w| w.trim())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn words_from_db(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// The static field name of a stored `Change::Field`; names the code no longer knows
/// read back as `"unknown"` instead of failing the whole history.
pub(crate) fn field_name(s: &str) -> &'static str {
    match s {
        "subject" => "subject",
        "status" => "status",
        "priority" => "priority",
        "type" => "type",
        "assignee" => "assignee",
        "team" => "team",
        "tier" => "tier",
        "tags" => "tags",
        "custom_fields" => "custom_fields",
        _ => "unknown",
    }
}

/// Column values of one event-log row: (kind, field, from, to, message id, public).
pub(crate) type EventColumns<'a> = (
    &'static str,
    Option<&'static str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<i64>,
    Option<bool>,
);

pub(crate) fn change_to_db(c: &Change) -> EventColumns<'_> {
    match c {
        Change::Created => ("created", None, None, None, None, None),
        Change::Field { field, from, to } => (
            "field",
            Some(*field),
            from.as_deref(),
            to.as_deref(),
            None,
            None,
        ),
        Change::Message { message_id, public } => (
            "message",
            None,
            None,
            None,
            Some(message_id.0),
            Some(*public),
        ),
        Change::Sla {
            metric,
            transition,
            detail,
        } => (
            "sla",
            metric.map(Metric::as_str),
            Some(transition.as_str()),
            Some(detail.as_str()),
            None,
            None,
        ),
    }
}

pub(crate) fn change_from_db(
    kind: &str,
    field: Option<&str>,
    from: Option<String>,
    to: Option<String>,
    message_id: Option<i64>,
    public: Option<bool>,
) -> Result<Change> {
    Ok(match kind {
        "created" => Change::Created,
        "field" => Change::Field {
            field: field_name(field.unwrap_or_default()),
            from,
            to,
        },
        "message" => Change::Message {
            message_id: MessageId(message_id.ok_or_else(|| corrupt("message event without id"))?),
            public: public.unwrap_or(true),
        },
        "sla" => Change::Sla {
            metric: field
                .map(Metric::parse)
                .transpose()
                .map_err(|e| corrupt(format!("sla event: {e}")))?,
            transition: SlaTransition::parse(from.as_deref().unwrap_or_default())
                .map_err(|e| corrupt(format!("sla event: {e}")))?,
            detail: to.unwrap_or_default(),
        },
        other => return Err(corrupt(format!("unknown event kind {other:?}"))),
    })
}

/// Clamps a requested page size to 1..=200.
pub(crate) fn clamp_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, 200))
}

/// Ticket list cursor: `<updated_at µs>.<id>` of the last row of the previous page.
pub(crate) fn ticket_cursor(t: &Ticket) -> String {
    format!("{}.{}", us(t.updated_at), t.id.0)
}

pub(crate) fn parse_ticket_cursor(s: &str) -> Result<(i64, i64)> {
    let bad = || {
        StoreError::Domain(DomainError::invalid(
            "cursor",
            "is not a cursor this server issued",
        ))
    };
    let (a, b) = s.split_once('.').ok_or_else(bad)?;
    Ok((a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?))
}

/// Customer list cursor: the last id of the previous page.
pub(crate) fn parse_id_cursor(s: &str) -> Result<i64> {
    s.parse().map_err(|_| {
        StoreError::Domain(DomainError::invalid(
            "cursor",
            "is not a cursor this server issued",
        ))
    })
}

/// A `LIKE … ESCAPE '\'` pattern matching `q` as a lowercase substring.
pub(crate) fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A list of addresses as stored: a JSON text array.
pub(crate) fn list_to_db(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// Reads back [`list_to_db`]; NULL (a message without that header) is the empty list.
pub(crate) fn list_from_db(s: Option<&str>) -> Result<Vec<String>> {
    match s.map(str::trim) {
        None | Some("") => Ok(Vec::new()),
        Some(s) => serde_json::from_str(s).map_err(|e| corrupt(format!("address list: {e}"))),
    }
}

/// A `Message-ID` as stored and compared: without surrounding whitespace and angle brackets.
pub(crate) fn header_id(s: &str) -> &str {
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
}

/// Fails unless `s` is a usable `Message-ID`; returns it normalised by [`header_id`].
pub(crate) fn required_header_id<'a>(s: &'a str, field: &'static str) -> Result<&'a str> {
    let id = header_id(s);
    if id.is_empty() {
        return Err(DomainError::invalid(field, "is required").into());
    }
    Ok(id)
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn is_unique(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

fn is_foreign_key(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_foreign_key_violation())
}

/// Maps a unique violation to `Conflict(what)`; other errors stay database errors.
pub(crate) fn unique_is(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| {
        if is_unique(&e) {
            StoreError::Conflict(what)
        } else {
            StoreError::Database(e)
        }
    }
}

/// Maps a foreign-key violation to `InvalidReference(what)`.
pub(crate) fn reference_is(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| {
        if is_foreign_key(&e) {
            StoreError::InvalidReference(what)
        } else {
            StoreError::Database(e)
        }
    }
}

/// Maps a unique violation to `Conflict(unique)` and a foreign-key violation to
/// `InvalidReference(fk)`.
pub(crate) fn constraint_is(
    unique: &'static str,
    fk: &'static str,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| {
        if is_unique(&e) {
            StoreError::Conflict(unique)
        } else if is_foreign_key(&e) {
            StoreError::InvalidReference(fk)
        } else {
            StoreError::Database(e)
        }
    }
}

/// `$1, $2, … $n`, for `IN (…)` lists.
pub(crate) fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn check_attachment(a: &crate::NewAttachment) -> Result<()> {
    if a.data.len() > crate::MAX_ATTACHMENT_BYTES {
        return Err(StoreError::Domain(DomainError::invalid(
            "attachment",
            format!(
                "{} is larger than {} MiB",
                a.filename,
                crate::MAX_ATTACHMENT_BYTES / (1024 * 1024)
            ),
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_a_user_mistake() {
        assert_eq!(
            parse_ticket_cursor("1700000000000000.42").unwrap(),
            (1_700_000_000_000_000, 42)
        );
        for bad in ["", "x", "1.", ".1", "1.2.3", "a.b"] {
            assert!(
                matches!(parse_ticket_cursor(bad), Err(StoreError::Domain(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn message_ids_lose_brackets_and_lists_round_trip() {
        assert_eq!(header_id(" <abc@x.example> "), "abc@x.example");
        assert_eq!(header_id("abc@x.example"), "abc@x.example");
        assert!(required_header_id("<>", "message_id").is_err());
        let list = vec!["a@x.example".to_string(), "李 <b@x.example>".to_string()];
        assert_eq!(list_from_db(Some(&list_to_db(&list))).unwrap(), list);
        assert_eq!(list_from_db(None).unwrap(), Vec::<String>::new());
        assert!(list_from_db(Some("not json")).is_err());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern(" Li_Wei%"), "%li\\_wei\\%%");
    }

    #[test]
    fn unknown_field_names_read_back_as_unknown() {
        assert_eq!(field_name("assignee"), "assignee");
        assert_eq!(field_name("colour"), "unknown");
    }
}
