//! SQL for business calendars: a name, a time zone and a JSON definition (weekly hours,
//! holidays, make-up days) that the server validated with `kefu_domain::calendar` before
//! handing it over. The store checks only that the name is not blank, the time zone is
//! given and the definition is JSON; the arithmetic lives in the domain.
//!
//! `calendars_impl!` expands to inherent methods of one engine's store (suffixed `_`); the
//! `Store` impl in `mod.rs` delegates to them.
//!
//! Invariant: `version` is 1 on create and grows by exactly one with every update, in
//! the update's own statement (concurrent updates each get their own number).
//!
//! Invariant: every create and update bumps `sla_generation` in its transaction (so every
//! node reloads its SLA snapshot), and an update recomputes the due times of the running
//! SLA clocks counted in that calendar before it returns.

use crate::{NewCalendar, Result};
use kefu_domain::DomainError;

/// Calendar columns in the order every calendar query selects them.
macro_rules! calendar_cols {
    () => {
        "id, name, time_zone, definition, version, created_at, updated_at"
    };
}

/// What the store checks itself: the rest is the domain's (`CalendarSpec::build`).
pub(crate) fn check_calendar(c: &NewCalendar) -> Result<()> {
    if c.name.trim().is_empty() {
        return Err(DomainError::invalid("name", "is required").into());
    }
    if c.time_zone.trim().is_empty() {
        return Err(DomainError::invalid("time_zone", "is required").into());
    }
    if serde_json::from_str::<serde_json::Value>(&c.definition).is_err() {
        return Err(DomainError::invalid("definition", "is not JSON").into());
    }
    Ok(())
}

macro_rules! calendars_impl {
    ($store:ident, $db:ty) => {
        impl $store {
            fn calendar_from_row(r: &<$db as sqlx::Database>::Row) -> Result<CalendarRecord> {
                Ok(CalendarRecord {
                    id: CalendarId(r.try_get("id")?),
                    name: r.try_get("name")?,
                    time_zone: r.try_get("time_zone")?,
                    definition: r.try_get("definition")?,
                    version: r.try_get("version")?,
                    created_at: ts(r.try_get("created_at")?)?,
                    updated_at: ts(r.try_get("updated_at")?)?,
                })
            }

            async fn create_calendar_(&self, c: &NewCalendar) -> Result<CalendarRecord> {
                calendars::check_calendar(c)?;
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(concat!(
                    "INSERT INTO calendars (name, time_zone, definition, version, created_at, updated_at) \
                     VALUES ($1, $2, $3, 1, $4, $4) RETURNING ",
                    calendar_cols!()
                ))
                .bind(c.name.trim())
                .bind(c.time_zone.trim())
                .bind(&c.definition)
                .bind(us(self.clock.now()))
                .fetch_one(&mut *tx)
                .await?;
                Self::bump_sla_generation(&mut tx).await?;
                tx.commit().await?;
                Self::calendar_from_row(&row)
            }

            async fn get_calendar_(&self, id: CalendarId) -> Result<Option<CalendarRecord>> {
                let row = sqlx::query(concat!("SELECT ", calendar_cols!(), " FROM calendars WHERE id = $1"))
                    .bind(id.0)
                    .fetch_optional(self.reader())
                    .await?;
                row.map(|r| Self::calendar_from_row(&r)).transpose()
            }

            async fn list_calendars_(&self) -> Result<Vec<CalendarRecord>> {
                let rows = sqlx::query(concat!("SELECT ", calendar_cols!(), " FROM calendars ORDER BY id"))
                    .fetch_all(self.reader())
                    .await?;
                rows.iter().map(Self::calendar_from_row).collect()
            }

            async fn update_calendar_(&self, id: CalendarId, c: &NewCalendar) -> Result<Option<CalendarRecord>> {
                calendars::check_calendar(c)?;
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(concat!(
                    "UPDATE calendars SET name = $2, time_zone = $3, definition = $4, \
                     version = version + 1, updated_at = $5 WHERE id = $1 RETURNING ",
                    calendar_cols!()
                ))
                .bind(id.0)
                .bind(c.name.trim())
                .bind(c.time_zone.trim())
                .bind(&c.definition)
                .bind(us(self.clock.now()))
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else { return Ok(None) };
                Self::bump_sla_generation(&mut tx).await?;
                tx.commit().await?;
                // Running SLA clocks counted in this calendar get new due times and timers.
                self.recompute_sla_(Some(id)).await?;
                Self::calendar_from_row(&row).map(Some)
            }
        }
    };
}
