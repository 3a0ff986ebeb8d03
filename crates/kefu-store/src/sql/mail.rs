//! SQL for the email channel: mailboxes, received mail (raw bytes in the content-addressed
//! `blobs`, stored before anything else happens), the Message-IDs used for threading,
//! delivery status, and the email side of a message, written inside the message's own
//! transaction.
//!
//! `mail_impl!` expands to inherent methods of one engine's store (suffixed `_`); the
//! `Store` impl in `mod.rs` delegates to them.
//!
//! Invariants:
//! - One received email becomes at most one message: turning it into one requires its
//!   state not to be `ticketed`/`threaded` yet (a row lock on PostgreSQL orders concurrent
//!   attempts), and `messages.inbound_id` is unique. A second attempt is
//!   `Conflict("inbound mail")`.
//! - `store_inbound` relies on the unique `dedupe_key`: `INSERT … ON CONFLICT DO NOTHING`
//!   waits for a concurrent insert of the same key and then does nothing, so exactly one
//!   delivery stores the mail.

/// Mailbox columns in the order every mailbox query selects them.
macro_rules! mailbox_cols {
    () => {
        "id, address, name, team_id, imap_url, auto_ack, active, created_at"
    };
}

/// Inbound mail columns in the order every inbound query selects them.
macro_rules! inbound_cols {
    () => {
        "id, mailbox_id, dedupe_key, message_id, envelope_from, envelope_to, source, subject, \
         from_addr, size, raw_sha256, state, ticket_id, message_row_id, note, received_at"
    };
}

macro_rules! mail_impl {
    ($store:ident, $db:ty) => {
        impl $store {
            fn mailbox_from_row(r: &<$db as sqlx::Database>::Row) -> Result<Mailbox> {
                Ok(Mailbox {
                    id: MailboxId(r.try_get("id")?),
                    address: stored(Email::parse(r.try_get("address")?))?,
                    name: r.try_get("name")?,
                    team_id: r.try_get::<Option<i64>, _>("team_id")?.map(TeamId),
                    imap_url: r.try_get("imap_url")?,
                    auto_ack: r.try_get("auto_ack")?,
                    active: r.try_get("active")?,
                    created_at: ts(r.try_get("created_at")?)?,
                })
            }

            fn inbound_from_row(r: &<$db as sqlx::Database>::Row) -> Result<InboundMail> {
                Ok(InboundMail {
                    id: InboundMailId(r.try_get("id")?),
                    mailbox_id: r.try_get::<Option<i64>, _>("mailbox_id")?.map(MailboxId),
                    dedupe_key: r.try_get("dedupe_key")?,
                    message_id: r.try_get("message_id")?,
                    envelope_from: r.try_get("envelope_from")?,
                    envelope_to: list_from_db(r.try_get("envelope_to")?)?,
                    source: r.try_get("source")?,
                    size: r.try_get("size")?,
                    raw_sha256: r.try_get("raw_sha256")?,
                    state: stored(InboundState::parse(r.try_get("state")?))?,
                    ticket_id: r.try_get::<Option<i64>, _>("ticket_id")?.map(TicketId),
                    message_row_id: r.try_get::<Option<i64>, _>("message_row_id")?.map(MessageId),
                    note: r.try_get("note")?,
                    subject: r.try_get("subject")?,
                    from: r.try_get("from_addr")?,
                    received_at: ts(r.try_get("received_at")?)?,
                })
            }

            // ---- mailboxes ----

            async fn create_mailbox_(&self, m: &NewMailbox) -> Result<Mailbox> {
                kefu_domain::mail::validate_mailbox(&m.name, m.imap_url.as_deref())?;
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(concat!(
                    "INSERT INTO mailboxes (address, name, team_id, imap_url, auto_ack, active, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
                    mailbox_cols!()
                ))
                .bind(m.address.as_str())
                .bind(m.name.trim())
                .bind(m.team_id.map(|t| t.0))
                .bind(m.imap_url.as_deref())
                .bind(m.auto_ack)
                .bind(m.active)
                .bind(us(self.clock.now()))
                .fetch_one(&mut *tx)
                .await
                .map_err(constraint_is("mailbox", "team"))?;
                tx.commit().await?;
                Self::mailbox_from_row(&row)
            }

            async fn get_mailbox_(&self, id: MailboxId) -> Result<Option<Mailbox>> {
                let row = sqlx::query(concat!("SELECT ", mailbox_cols!(), " FROM mailboxes WHERE id = $1"))
                    .bind(id.0)
                    .fetch_optional(self.reader())
                    .await?;
                row.map(|r| Self::mailbox_from_row(&r)).transpose()
            }

            async fn find_mailbox_by_address_(&self, address: &str) -> Result<Option<Mailbox>> {
                let exact = header_id(address).to_lowercase();
                let base = kefu_domain::mail::base_address(&exact);
                let rows = sqlx::query(concat!(
                    "SELECT ", mailbox_cols!(), " FROM mailboxes WHERE address = $1 OR address = $2"
                ))
                .bind(&exact)
                .bind(&base)
                .fetch_all(self.reader())
                .await?;
                let mut found = rows.iter().map(Self::mailbox_from_row).collect::<Result<Vec<_>>>()?;
                // A mailbox whose own address has a +tag is matched exactly first.
                found.sort_by_key(|m| m.address.as_str() != exact);
                Ok(found.into_iter().next())
            }

            async fn list_mailboxes_(&self) -> Result<Vec<Mailbox>> {
                let rows = sqlx::query(concat!("SELECT ", mailbox_cols!(), " FROM mailboxes ORDER BY address, id"))
                    .fetch_all(self.reader())
                    .await?;
                rows.iter().map(Self::mailbox_from_row).collect()
            }

            async fn update_mailbox_(&self, id: MailboxId, p: &MailboxPatch) -> Result<Option<Mailbox>> {
                kefu_domain::mail::validate_mailbox(
                    p.name.as_deref().unwrap_or_default(),
                    p.imap_url.as_ref().and_then(|u| u.as_deref()),
                )?;
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(concat!(
                    "UPDATE mailboxes SET name = COALESCE($2, name), \
                     team_id = CASE WHEN $3 THEN $4 ELSE team_id END, \
                     imap_url = CASE WHEN $5 THEN $6 ELSE imap_url END, \
                     auto_ack = COALESCE($7, auto_ack), active = COALESCE($8, active), updated_at = $9 \
                     WHERE id = $1 RETURNING ",
                    mailbox_cols!()
                ))
                .bind(id.0)
                .bind(p.name.as_deref().map(str::trim))
                .bind(p.team_id.is_some())
                .bind(p.team_id.flatten().map(|t| t.0))
                .bind(p.imap_url.is_some())
                .bind(p.imap_url.as_ref().and_then(|u| u.as_deref()))
                .bind(p.auto_ack)
                .bind(p.active)
                .bind(us(self.clock.now()))
                .fetch_optional(&mut *tx)
                .await
                .map_err(reference_is("team"))?;
                tx.commit().await?;
                row.map(|r| Self::mailbox_from_row(&r)).transpose()
            }

            // ---- inbound mail ----

            async fn inbound_by_key(c: &mut <$db as sqlx::Database>::Connection, key: &str) -> Result<Option<InboundMail>> {
                let row = sqlx::query(concat!("SELECT ", inbound_cols!(), " FROM inbound_mail WHERE dedupe_key = $1"))
                    .bind(key)
                    .fetch_optional(&mut *c)
                    .await?;
                row.map(|r| Self::inbound_from_row(&r)).transpose()
            }

            async fn store_inbound_(&self, m: &NewInbound) -> Result<(InboundMail, bool)> {
                if m.dedupe_key.trim().is_empty() {
                    return Err(DomainError::invalid("dedupe_key", "is required").into());
                }
                let now = self.clock.now();
                let mut tx = self.begin_write().await?;
                // A duplicate returns without committing: nothing of it is kept.
                if let Some(earlier) = Self::inbound_by_key(&mut tx, &m.dedupe_key).await? {
                    return Ok((earlier, false));
                }
                let sha256 = Self::store_blob(&mut tx, &m.raw, now).await?;
                let row = sqlx::query(concat!(
                    "INSERT INTO inbound_mail (mailbox_id, dedupe_key, message_id, envelope_from, envelope_to, source, \
                     subject, from_addr, size, raw_sha256, state, received_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                     ON CONFLICT (dedupe_key) DO NOTHING RETURNING ",
                    inbound_cols!()
                ))
                .bind(m.mailbox_id.map(|b| b.0))
                .bind(&m.dedupe_key)
                .bind(m.message_id.as_deref())
                .bind(m.envelope_from.as_deref())
                .bind(list_to_db(&m.envelope_to))
                .bind(&m.source)
                .bind(&m.subject)
                .bind(m.from.as_deref())
                .bind(m.raw.len() as i64)
                .bind(&sha256)
                .bind(InboundState::Received.as_str())
                .bind(us(now))
                .fetch_optional(&mut *tx)
                .await
                .map_err(reference_is("mailbox"))?;
                match row {
                    Some(r) => {
                        let stored = Self::inbound_from_row(&r)?;
                        tx.commit().await?;
                        Ok((stored, true))
                    }
                    // A concurrent delivery of the same mail committed first (PostgreSQL).
                    None => {
                        let earlier = Self::inbound_by_key(&mut tx, &m.dedupe_key).await?;
                        Ok((earlier.ok_or_else(|| corrupt("inbound mail vanished"))?, false))
                    }
                }
            }

            async fn get_inbound_(&self, id: InboundMailId) -> Result<Option<InboundMail>> {
                let row = sqlx::query(concat!("SELECT ", inbound_cols!(), " FROM inbound_mail WHERE id = $1"))
                    .bind(id.0)
                    .fetch_optional(self.reader())
                    .await?;
                row.map(|r| Self::inbound_from_row(&r)).transpose()
            }

            async fn inbound_raw_(&self, id: InboundMailId) -> Result<Option<Vec<u8>>> {
                let row = sqlx::query(
                    "SELECT b.data FROM inbound_mail i JOIN blobs b ON b.sha256 = i.raw_sha256 WHERE i.id = $1",
                )
                .bind(id.0)
                .fetch_optional(self.reader())
                .await?;
                Ok(row.map(|r| r.try_get("data")).transpose()?)
            }

            async fn list_inbound_(&self, q: &InboundQuery) -> Result<Page<InboundMail>> {
                let cursor = q.cursor.as_deref().map(parse_ticket_cursor).transpose()?;
                let limit = clamp_limit(q.limit);
                let mut conds: Vec<String> = Vec::new();
                let mut args: Vec<Arg> = Vec::new();
                let mut arg = |a: Arg| {
                    args.push(a);
                    format!("${}", args.len())
                };
                if let Some(state) = q.state {
                    conds.push(format!("state = {}", arg(Arg::Str(state.as_str()))));
                }
                if let Some(mailbox) = q.mailbox_id {
                    conds.push(format!("mailbox_id = {}", arg(Arg::I64(mailbox.0))));
                }
                if let Some((at, id)) = cursor {
                    let (at, id) = (arg(Arg::I64(at)), arg(Arg::I64(id)));
                    conds.push(format!("(received_at < {at} OR (received_at = {at} AND id < {id}))"));
                }
                // One extra row tells whether another page exists.
                let limit_arg = arg(Arg::I64(limit + 1));
                let filter = if conds.is_empty() { String::new() } else { format!(" WHERE {}", conds.join(" AND ")) };
                let sql = format!(
                    "SELECT {} FROM inbound_mail{filter} ORDER BY received_at DESC, id DESC LIMIT {limit_arg}",
                    inbound_cols!()
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for a in args {
                    query = match a {
                        Arg::I64(v) => query.bind(v),
                        Arg::Str(s) => query.bind(s),
                    };
                }
                let rows = query.fetch_all(self.reader()).await?;
                let mut items = rows.iter().map(Self::inbound_from_row).collect::<Result<Vec<_>>>()?;
                let next_cursor = if items.len() as i64 > limit {
                    items.truncate(limit as usize);
                    items.last().map(|m| format!("{}.{}", us(m.received_at), m.id.0))
                } else {
                    None
                };
                Ok(Page { items, next_cursor })
            }

            async fn set_inbound_state_(
                &self,
                id: InboundMailId,
                state: InboundState,
                ticket: Option<TicketId>,
                message: Option<MessageId>,
                note: Option<&str>,
            ) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let res = sqlx::query(
                    "UPDATE inbound_mail SET state = $2, ticket_id = $3, message_row_id = $4, note = $5 \
                     WHERE id = $1 AND state NOT IN ('ticketed', 'threaded')",
                )
                .bind(id.0)
                .bind(state.as_str())
                .bind(ticket.map(|t| t.0))
                .bind(message.map(|m| m.0))
                .bind(note)
                .execute(&mut *tx)
                .await
                .map_err(reference_is("ticket or message"))?;
                if res.rows_affected() == 0 {
                    let n: i64 = sqlx::query("SELECT COUNT(*) FROM inbound_mail WHERE id = $1")
                        .bind(id.0)
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get(0)?;
                    return Err(if n == 0 {
                        StoreError::InvalidReference("inbound mail")
                    } else {
                        StoreError::Conflict("inbound mail")
                    });
                }
                tx.commit().await?;
                Ok(())
            }

            async fn unprocessed_inbound_(&self, before: Timestamp, limit: u32) -> Result<Vec<InboundMailId>> {
                let rows = sqlx::query(
                    "SELECT id FROM inbound_mail WHERE state = $1 AND received_at <= $2 \
                     ORDER BY received_at, id LIMIT $3",
                )
                .bind(InboundState::Received.as_str())
                .bind(us(before))
                .bind(i64::from(limit.clamp(1, 1000)))
                .fetch_all(self.reader())
                .await?;
                rows.iter().map(|r| Ok(InboundMailId(r.try_get(0)?))).collect()
            }

            async fn count_inbound_from_(&self, from: &str, since: Timestamp) -> Result<u64> {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM inbound_mail WHERE from_addr = $1 AND received_at >= $2",
                )
                .bind(from.trim().to_lowercase())
                .bind(us(since))
                .fetch_one(self.reader())
                .await?;
                Ok(n.max(0) as u64)
            }

            // ---- threading and delivery ----

            async fn find_ticket_by_mail_ids_(&self, ids: &[String]) -> Result<Option<(TicketId, MessageId)>> {
                let mut ids: Vec<&str> = ids.iter().map(|s| header_id(s)).filter(|s| !s.is_empty()).collect();
                ids.sort_unstable();
                ids.dedup();
                let mut c = self.reader().acquire().await?;
                // (recorded order, ticket, message); a long References header is looked up
                // in chunks to stay below the engines' bind-parameter limits.
                let mut best: Option<(i64, i64, Option<i64>)> = None;
                for chunk in ids.chunks(500) {
                    let sql = format!(
                        "SELECT m.id, m.ticket_id, COALESCE(m.message_row_id, \
                         (SELECT MIN(x.id) FROM messages x WHERE x.ticket_id = m.ticket_id)) AS message \
                         FROM mail_ids m WHERE m.message_id_header IN ({}) ORDER BY m.id DESC LIMIT 1",
                        placeholders(chunk.len())
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    if let Some(r) = q.fetch_optional(&mut *c).await? {
                        let found: (i64, i64, Option<i64>) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                        if best.is_none_or(|b| found.0 > b.0) {
                            best = Some(found);
                        }
                    }
                }
                let Some((_, ticket, message)) = best else { return Ok(None) };
                let message = message.ok_or_else(|| corrupt("ticket without messages"))?;
                Ok(Some((TicketId(ticket), MessageId(message))))
            }

            /// Records a Message-ID (normalised) unless it is recorded already.
            async fn insert_mail_id(
                c: &mut <$db as sqlx::Database>::Connection,
                message_id_header: &str,
                ticket: TicketId,
                message: Option<MessageId>,
                now: Timestamp,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO mail_ids (message_id_header, ticket_id, message_row_id, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (message_id_header) DO NOTHING",
                )
                .bind(message_id_header)
                .bind(ticket.0)
                .bind(message.map(|m| m.0))
                .bind(us(now))
                .execute(&mut *c)
                .await
                .map_err(reference_is("ticket or message"))?;
                Ok(())
            }

            async fn record_mail_id_(&self, message_id_header: &str, ticket: TicketId, message: Option<MessageId>) -> Result<()> {
                let header = required_header_id(message_id_header, "Message-ID")?;
                let now = self.clock.now();
                let mut tx = self.begin_write().await?;
                Self::insert_mail_id(&mut tx, header, ticket, message, now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_delivery_(&self, message: MessageId, status: DeliveryStatus, detail: Option<&str>) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let res = sqlx::query("UPDATE messages SET delivery_status = $2, delivery_detail = $3 WHERE id = $1")
                    .bind(message.0)
                    .bind(status.as_str())
                    .bind(detail)
                    .execute(&mut *tx)
                    .await?;
                if res.rows_affected() == 0 {
                    return Err(StoreError::InvalidReference("message"));
                }
                tx.commit().await?;
                Ok(())
            }

            // ---- the email side of a new message (inside its transaction) ----

            /// Checks what a message's email side refers to, before the message is written;
            /// returns its normalised Message-ID.
            async fn check_message_mail(c: &mut <$db as sqlx::Database>::Connection, m: &MessageMail) -> Result<String> {
                let message_id = required_header_id(&m.message_id, "message_id")?.to_string();
                if let Some(i) = m.inbound_id {
                    Self::require(c, "SELECT COUNT(*) FROM inbound_mail WHERE id = $1", i.0, "inbound mail").await?;
                }
                if let Some(b) = m.mailbox_id {
                    Self::require(c, "SELECT COUNT(*) FROM mailboxes WHERE id = $1", b.0, "mailbox").await?;
                }
                Ok(message_id)
            }

            /// Writes what an email message touches besides its own row: links its inbound
            /// mail (`state`: ticketed or threaded), records its Message-ID, and enqueues its
            /// `send_mail` job when it is queued for sending.
            async fn write_message_mail(
                c: &mut <$db as sqlx::Database>::Connection,
                msg: &Message,
                m: &MessageMail,
                state: InboundState,
                now: Timestamp,
            ) -> Result<()> {
                if let Some(inbound) = m.inbound_id {
                    let res = sqlx::query(
                        "UPDATE inbound_mail SET state = $2, ticket_id = $3, message_row_id = $4 \
                         WHERE id = $1 AND state NOT IN ('ticketed', 'threaded')",
                    )
                    .bind(inbound.0)
                    .bind(state.as_str())
                    .bind(msg.ticket_id.0)
                    .bind(msg.id.0)
                    .execute(&mut *c)
                    .await?;
                    if res.rows_affected() == 0 {
                        return Err(StoreError::Conflict("inbound mail"));
                    }
                }
                let header = required_header_id(&m.message_id, "message_id")?;
                Self::insert_mail_id(c, header, msg.ticket_id, Some(msg.id), now).await?;
                if m.delivery == Some(DeliveryStatus::Queued) {
                    let job = NewJob {
                        kind: SEND_MAIL_JOB.to_string(),
                        payload: serde_json::json!({ "message_id": msg.id.0 }),
                        run_at: now,
                        idempotency_key: Some(format!("{SEND_MAIL_JOB}:{}", msg.id.0)),
                    };
                    Self::insert_job(c, &job, now).await?;
                }
                Ok(())
            }
        }
    };
}
