//! SQL for the ticket aggregate's transactions: creating a ticket (requester resolution,
//! ticket numbers, idempotency keys), patching it, adding messages, and listing/counting.
//!
//! `tickets_impl!` expands to inherent methods of one engine's store (suffixed `_`);
//! the `Store` impl in `mod.rs` delegates to them. Message, attachment and event rows are
//! written through the helpers of `messages.rs`.
//!
//! The email side of a ticket's first message or a reply (`MessageMail`) is written in the
//! same transaction through `mail.rs`; automatic mail goes through
//! `kefu_domain::mail::on_automatic_mail` instead of `on_message` (no status effect).
//!
//! Invariant: a ticket row changes only inside a write transaction that first loads it
//! (locked on PostgreSQL), asks `kefu_domain` for the new row and its changes, then writes
//! both. Idempotency keys are reserved at the start of that transaction (see
//! `idempotency.rs`), so a concurrent request with the same key waits for the first and
//! then returns what it created.

macro_rules! tickets_impl {
    ($store:ident, $db:ty, $next_number:literal, $for_update:literal) => {
        impl $store {
            fn ticket_from_row(r: &<$db as sqlx::Database>::Row) -> Result<Ticket> {
                Ok(Ticket {
                    id: TicketId(r.try_get("id")?),
                    number: r.try_get("number")?,
                    subject: r.try_get("subject")?,
                    status: stored(Status::parse(r.try_get("status")?))?,
                    priority: stored(Priority::parse(r.try_get("priority")?))?,
                    ticket_type: stored(TicketType::parse(r.try_get("ticket_type")?))?,
                    channel: stored(Channel::parse(r.try_get("channel")?))?,
                    requester_id: CustomerId(r.try_get("requester_id")?),
                    organization_id: r.try_get::<Option<i64>, _>("organization_id")?.map(OrganizationId),
                    assignee_id: r.try_get::<Option<i64>, _>("assignee_id")?.map(AgentId),
                    team_id: r.try_get::<Option<i64>, _>("team_id")?.map(TeamId),
                    tier: stored(Tier::new(r.try_get("tier")?))?,
                    tags: tags_from_db(r.try_get("tags")?)?,
                    custom_fields: r.try_get("custom_fields")?,
                    follow_up_of: r.try_get::<Option<i64>, _>("follow_up_of")?.map(TicketId),
                    created_at: ts(r.try_get("created_at")?)?,
                    updated_at: ts(r.try_get("updated_at")?)?,
                    solved_at: ts_opt(r.try_get("solved_at")?)?,
                    closed_at: ts_opt(r.try_get("closed_at")?)?,
                })
            }

            async fn load_ticket(c: &mut <$db as sqlx::Database>::Connection, id: i64) -> Result<Option<Ticket>> {
                let row = sqlx::query(concat!("SELECT ", ticket_cols!(), " FROM tickets WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *c)
                    .await?;
                row.map(|r| Self::ticket_from_row(&r)).transpose()
            }

            /// Loads a ticket for change: on PostgreSQL the row stays locked until commit.
            async fn lock_ticket(c: &mut <$db as sqlx::Database>::Connection, id: i64) -> Result<Option<Ticket>> {
                let row = sqlx::query(concat!("SELECT ", ticket_cols!(), " FROM tickets WHERE id = $1", $for_update))
                    .bind(id)
                    .fetch_optional(&mut *c)
                    .await?;
                row.map(|r| Self::ticket_from_row(&r)).transpose()
            }

            /// Fails with `InvalidReference(what)` unless `sql` (a `COUNT(*)` by id) finds a row.
            async fn require(
                c: &mut <$db as sqlx::Database>::Connection,
                sql: &'static str,
                id: i64,
                what: &'static str,
            ) -> Result<()> {
                let n: i64 = sqlx::query(sql).bind(id).fetch_one(&mut *c).await?.try_get(0)?;
                if n == 0 { Err(StoreError::InvalidReference(what)) } else { Ok(()) }
            }

            /// The requester's id and organization, creating a customer for an unknown email.
            async fn resolve_requester(
                c: &mut <$db as sqlx::Database>::Connection,
                r: &RequesterRef,
                now: Timestamp,
            ) -> Result<(i64, Option<i64>)> {
                let org_of = |row: Option<<$db as sqlx::Database>::Row>| -> Result<Option<(i64, Option<i64>)>> {
                    row.map(|r| Ok((r.try_get("id")?, r.try_get("organization_id")?))).transpose()
                };
                let (email, name, language) = match r {
                    RequesterRef::Existing(id) => {
                        let row = sqlx::query("SELECT id, organization_id FROM customers WHERE id = $1")
                            .bind(id.0)
                            .fetch_optional(&mut *c)
                            .await?;
                        return org_of(row)?.ok_or(StoreError::InvalidReference("requester"));
                    }
                    RequesterRef::ByEmail { email, name, language } => (email, name, language),
                };
                const BY_EMAIL: &str = "SELECT c.id, c.organization_id FROM customer_identities i \
                    JOIN customers c ON c.id = i.customer_id WHERE i.kind = 'email' AND i.value = $1";
                if let Some(found) = org_of(sqlx::query(BY_EMAIL).bind(email.as_str()).fetch_optional(&mut *c).await?)? {
                    return Ok(found);
                }
                let name = match name.as_deref().map(str::trim) {
                    Some(n) if !n.is_empty() => n.to_string(),
                    _ => email.as_str().split('@').next().unwrap_or_default().to_string(),
                };
                let row = sqlx::query(
                    "INSERT INTO customers (name, organization_id, segment, language, time_zone, created_at) \
                     VALUES ($1, NULL, $2, $3, 'UTC', $4) RETURNING id",
                )
                .bind(name)
                .bind(Segment::Standard.as_str())
                .bind(language.unwrap_or(Lang::En).as_str())
                .bind(us(now))
                .fetch_one(&mut *c)
                .await?;
                let id: i64 = row.try_get("id")?;
                // A concurrent request may be creating the same person: whoever inserts the
                // identity first wins, the other drops its fresh row and uses the winner's.
                let res = sqlx::query(
                    "INSERT INTO customer_identities (customer_id, kind, value, is_primary) \
                     VALUES ($1, 'email', $2, $3) ON CONFLICT (kind, value) DO NOTHING",
                )
                .bind(id)
                .bind(email.as_str())
                .bind(true)
                .execute(&mut *c)
                .await?;
                if res.rows_affected() == 1 {
                    return Ok((id, None));
                }
                sqlx::query("DELETE FROM customers WHERE id = $1").bind(id).execute(&mut *c).await?;
                org_of(sqlx::query(BY_EMAIL).bind(email.as_str()).fetch_optional(&mut *c).await?)?
                    .ok_or_else(|| corrupt("customer identity vanished"))
            }

            async fn write_ticket(c: &mut <$db as sqlx::Database>::Connection, t: &Ticket) -> Result<()> {
                sqlx::query(
                    "UPDATE tickets SET subject = $2, status = $3, priority = $4, ticket_type = $5, \
                     assignee_id = $6, team_id = $7, tier = $8, tags = $9, custom_fields = $10, \
                     updated_at = $11, solved_at = $12, closed_at = $13 WHERE id = $1",
                )
                .bind(t.id.0)
                .bind(&t.subject)
                .bind(t.status.as_str())
                .bind(t.priority.as_str())
                .bind(t.ticket_type.as_str())
                .bind(t.assignee_id.map(|a| a.0))
                .bind(t.team_id.map(|x| x.0))
                .bind(i64::from(t.tier.get()))
                .bind(tags_to_db(&t.tags))
                .bind(&t.custom_fields)
                .bind(us(t.updated_at))
                .bind(t.solved_at.map(us))
                .bind(t.closed_at.map(us))
                .execute(&mut *c)
                .await?;
                Ok(())
            }

            async fn check_assignment(
                c: &mut <$db as sqlx::Database>::Connection,
                assignee: Option<AgentId>,
                team: Option<TeamId>,
            ) -> Result<()> {
                if let Some(a) = assignee {
                    Self::require(c, "SELECT COUNT(*) FROM agents WHERE id = $1", a.0, "assignee").await?;
                }
                if let Some(t) = team {
                    Self::require(c, "SELECT COUNT(*) FROM teams WHERE id = $1", t.0, "team").await?;
                }
                Ok(())
            }

            async fn create_ticket_(&self, t: &NewTicket) -> Result<Ticket> {
                t.attachments.iter().try_for_each(check_attachment)?;
                let now = self.clock.now();
                let mut tx = self.begin_write().await?;
                if let Some(k) = &t.idempotency {
                    if let Some(id) = Self::reserve_key(&mut tx, k, "ticket", now).await? {
                        let ticket = Self::load_ticket(&mut tx, id).await?;
                        return ticket.ok_or_else(|| corrupt("idempotency key names a missing ticket"));
                    }
                }
                let d = &t.draft;
                let (requester, organization) = Self::resolve_requester(&mut tx, &t.requester, now).await?;
                Self::check_assignment(&mut tx, d.assignee_id, d.team_id).await?;
                if let Some(f) = t.follow_up_of {
                    Self::require(&mut tx, "SELECT COUNT(*) FROM tickets WHERE id = $1", f.0, "follow_up_of").await?;
                }
                let mut tags = d.tags.clone();
                tags.sort();
                tags.dedup();
                let mut ticket = Ticket {
                    id: TicketId(0),
                    number: 0, // allocated by the INSERT below
                    subject: d.subject.as_str().to_string(),
                    status: Status::New,
                    priority: d.priority,
                    ticket_type: d.ticket_type,
                    channel: d.channel,
                    requester_id: CustomerId(requester),
                    organization_id: organization.map(OrganizationId),
                    assignee_id: d.assignee_id,
                    team_id: d.team_id,
                    tier: d.tier,
                    tags,
                    custom_fields: d.custom_fields.clone(),
                    follow_up_of: t.follow_up_of,
                    created_at: now,
                    updated_at: now,
                    solved_at: None,
                    closed_at: None,
                };
                let row = sqlx::query(concat!(
                    "INSERT INTO tickets (number, subject, status, priority, ticket_type, channel, requester_id, \
                     organization_id, assignee_id, team_id, tier, tags, custom_fields, follow_up_of, created_at, \
                     updated_at) VALUES (",
                    $next_number,
                    ", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id, number"
                ))
                .bind(&ticket.subject)
                .bind(ticket.status.as_str())
                .bind(ticket.priority.as_str())
                .bind(ticket.ticket_type.as_str())
                .bind(ticket.channel.as_str())
                .bind(requester)
                .bind(organization)
                .bind(ticket.assignee_id.map(|a| a.0))
                .bind(ticket.team_id.map(|x| x.0))
                .bind(i64::from(ticket.tier.get()))
                .bind(tags_to_db(&ticket.tags))
                .bind(&ticket.custom_fields)
                .bind(ticket.follow_up_of.map(|f| f.0))
                .bind(us(now))
                .fetch_one(&mut *tx)
                .await?;
                ticket.id = TicketId(row.try_get("id")?);
                ticket.number = row.try_get("number")?;
                let author = if t.first_message_by_actor { t.actor } else { Actor::Customer(CustomerId(requester)) };
                let body_html = t.body_html.as_deref();
                let mail = t.mail.as_ref();
                let msg =
                    Self::insert_message(&mut tx, ticket.id, author, true, &t.body_text, body_html, &t.attachments, mail, now)
                        .await?;
                if let Some(m) = mail {
                    // A follow-up continues the conversation of a closed ticket.
                    let state = if t.follow_up_of.is_some() { InboundState::Threaded } else { InboundState::Ticketed };
                    Self::write_message_mail(&mut tx, &msg, m, state, now).await?;
                }
                let added = Change::Message { message_id: msg.id, public: msg.public };
                Self::insert_events(&mut tx, ticket.id, now, &[(t.actor, &Change::Created), (author, &added)]).await?;
                let signal = kefu_domain::sla::Signal::Created { by: author.kind(), public: true };
                let (ticket, _) = self.sla_step(&mut tx, None, &ticket, signal, Actor::System, now).await?;
                if let Some(k) = &t.idempotency {
                    Self::record_key(&mut tx, k, ticket.id.0).await?;
                }
                tx.commit().await?;
                Ok(ticket)
            }

            async fn get_ticket_by_number_(&self, number: i64) -> Result<Option<Ticket>> {
                let row = sqlx::query(concat!("SELECT ", ticket_cols!(), " FROM tickets WHERE number = $1"))
                    .bind(number)
                    .fetch_optional(self.reader())
                    .await?;
                row.map(|r| Self::ticket_from_row(&r)).transpose()
            }

            async fn list_tickets_(&self, f: &TicketFilter, cursor: Option<&str>, limit: u32) -> Result<Page<Ticket>> {
                let cursor = cursor.map(parse_ticket_cursor).transpose()?;
                let limit = clamp_limit(limit);
                // One extra row tells whether another page exists.
                let (sql, args) = filter::list_sql(f, cursor, limit + 1);
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for a in args {
                    q = match a {
                        Arg::I64(v) => q.bind(v),
                        Arg::Str(s) => q.bind(s),
                    };
                }
                let rows = q.fetch_all(self.reader()).await?;
                let mut items = rows.iter().map(Self::ticket_from_row).collect::<Result<Vec<_>>>()?;
                let next_cursor = if items.len() as i64 > limit {
                    items.truncate(limit as usize);
                    items.last().map(ticket_cursor)
                } else {
                    None
                };
                Ok(Page { items, next_cursor })
            }

            async fn count_tickets_(&self, f: &TicketFilter) -> Result<i64> {
                let (sql, args) = filter::count_sql(f);
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for a in args {
                    q = match a {
                        Arg::I64(v) => q.bind(v),
                        Arg::Str(s) => q.bind(s),
                    };
                }
                Ok(q.fetch_one(self.reader()).await?.try_get(0)?)
            }

            async fn update_ticket_(&self, id: TicketId, patch: &TicketPatch, actor: Actor) -> Result<Option<Ticket>> {
                let now = self.clock.now();
                let mut tx = self.begin_write().await?;
                let Some(ticket) = Self::lock_ticket(&mut tx, id.0).await? else { return Ok(None) };
                Self::check_assignment(&mut tx, patch.assignee_id.flatten(), patch.team_id.flatten()).await?;
                let (updated, changes) = apply_patch(&ticket, patch, actor, now)?;
                if changes.is_empty() {
                    return Ok(Some(ticket));
                }
                Self::write_ticket(&mut tx, &updated).await?;
                let events: Vec<_> = changes.iter().map(|ch| (actor, ch)).collect();
                Self::insert_events(&mut tx, id, now, &events).await?;
                let signal = kefu_domain::sla::Signal::Changed;
                let (updated, _) = self.sla_step(&mut tx, Some(&ticket), &updated, signal, Actor::System, now).await?;
                tx.commit().await?;
                Ok(Some(updated))
            }

            async fn add_message_(&self, ticket: TicketId, m: &NewMessage) -> Result<Option<(Ticket, Message)>> {
                m.attachments.iter().try_for_each(check_attachment)?;
                let now = self.clock.now();
                let mut tx = self.begin_write().await?;
                if let Some(k) = &m.idempotency {
                    if let Some(id) = Self::reserve_key(&mut tx, k, "message", now).await? {
                        let msg = Self::load_message(&mut tx, id).await?;
                        let msg = msg.ok_or_else(|| corrupt("idempotency key names a missing message"))?;
                        if msg.ticket_id != ticket {
                            return Err(key_reused());
                        }
                        let t = Self::load_ticket(&mut tx, ticket.0).await?.ok_or_else(|| corrupt("ticket vanished"))?;
                        return Ok(Some((t, msg)));
                    }
                }
                let Some(t) = Self::lock_ticket(&mut tx, ticket.0).await? else { return Ok(None) };
                let mail = m.mail.as_ref();
                let (updated, changes) = if mail.is_some_and(|x| x.automatic) {
                    kefu_domain::mail::on_automatic_mail(&t, now)?
                } else {
                    on_message(&t, m.author, m.public, m.status_after, now)?
                };
                let body_html = m.body_html.as_deref();
                let msg = Self::insert_message(
                    &mut tx, ticket, m.author, m.public, &m.body_text, body_html, &m.attachments, mail, now,
                )
                .await?;
                if let Some(x) = mail {
                    Self::write_message_mail(&mut tx, &msg, x, InboundState::Threaded, now).await?;
                }
                let added = Change::Message { message_id: msg.id, public: msg.public };
                let events: Vec<_> = std::iter::once(&added).chain(&changes).map(|ch| (m.author, ch)).collect();
                Self::insert_events(&mut tx, ticket, now, &events).await?;
                Self::write_ticket(&mut tx, &updated).await?;
                // Automatic mail (an out-of-office reply) neither asks for nor gives a reply.
                let signal = if mail.is_some_and(|x| x.automatic) {
                    kefu_domain::sla::Signal::Changed
                } else {
                    kefu_domain::sla::Signal::Message { by: m.author.kind(), public: m.public }
                };
                let (updated, _) = self.sla_step(&mut tx, Some(&t), &updated, signal, Actor::System, now).await?;
                if let Some(k) = &m.idempotency {
                    Self::record_key(&mut tx, k, msg.id.0).await?;
                }
                tx.commit().await?;
                Ok(Some((updated, msg)))
            }
        }
    };
}
