//! SQL for what hangs off a ticket: messages, their attachments (content-addressed
//! blobs, stored once per distinct content) and the append-only event log.
//!
//! `messages_impl!` expands to inherent methods of one engine's store; writes here take
//! the caller's transaction and never commit it themselves.

macro_rules! messages_impl {
    ($store:ident, $db:ty) => {
        impl $store {
            fn message_from_row(r: &<$db as sqlx::Database>::Row, attachments: Vec<Attachment>) -> Result<Message> {
                Ok(Message {
                    id: MessageId(r.try_get("id")?),
                    ticket_id: TicketId(r.try_get("ticket_id")?),
                    author: actor_from_db(r.try_get("author_kind")?, r.try_get("author_id")?)?,
                    public: r.try_get("public")?,
                    body_text: r.try_get("body_text")?,
                    body_html: r.try_get("body_html")?,
                    attachments,
                    created_at: ts(r.try_get("created_at")?)?,
                    email: None,
                })
            }

            fn attachment_from_row(r: &<$db as sqlx::Database>::Row) -> Result<Attachment> {
                Ok(Attachment {
                    id: AttachmentId(r.try_get("id")?),
                    message_id: MessageId(r.try_get("message_id")?),
                    filename: r.try_get("filename")?,
                    content_type: r.try_get("content_type")?,
                    size: r.try_get("size")?,
                    sha256: r.try_get("sha256")?,
                })
            }


            #[allow(clippy::too_many_arguments)]
            async fn insert_message(
                c: &mut <$db as sqlx::Database>::Connection,
                ticket: TicketId,
                author: Actor,
                public: bool,
                body_text: &str,
                body_html: Option<&str>,
                attachments: &[NewAttachment],
                at: Timestamp,
            ) -> Result<Message> {
                let (kind, author_id) = actor_to_db(author);
                let row = sqlx::query(
                    "INSERT INTO messages (ticket_id, author_kind, author_id, public, body_text, body_html, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(ticket.0)
                .bind(kind)
                .bind(author_id)
                .bind(public)
                .bind(body_text)
                .bind(body_html)
                .bind(us(at))
                .fetch_one(&mut *c)
                .await?;
                let id = MessageId(row.try_get("id")?);
                let mut stored_attachments = Vec::with_capacity(attachments.len());
                for a in attachments {
                    let sha256 = sha256_hex(&a.data);
                    let size = a.data.len() as i64;
                    // Skip shipping the bytes when this content is stored already.
                    let known = sqlx::query("SELECT COUNT(*) FROM blobs WHERE sha256 = $1")
                        .bind(&sha256)
                        .fetch_one(&mut *c)
                        .await?
                        .try_get::<i64, _>(0)?
                        > 0;
                    if !known {
                        sqlx::query(
                            "INSERT INTO blobs (sha256, size, data, created_at) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (sha256) DO NOTHING",
                        )
                        .bind(&sha256)
                        .bind(size)
                        .bind(a.data.as_slice())
                        .bind(us(at))
                        .execute(&mut *c)
                        .await?;
                    }
                    let row = sqlx::query(
                        "INSERT INTO attachments (message_id, filename, content_type, size, sha256) \
                         VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(id.0)
                    .bind(&a.filename)
                    .bind(&a.content_type)
                    .bind(size)
                    .bind(&sha256)
                    .fetch_one(&mut *c)
                    .await?;
                    stored_attachments.push(Attachment {
                        id: AttachmentId(row.try_get("id")?),
                        message_id: id,
                        filename: a.filename.clone(),
                        content_type: a.content_type.clone(),
                        size,
                        sha256,
                    });
                }
                Ok(Message {
                    id,
                    ticket_id: ticket,
                    author,
                    public,
                    body_text: body_text.to_string(),
                    body_html: body_html.map(str::to_string),
                    attachments: stored_attachments,
                    created_at: at,
                    email: None,
                })
            }

            /// Appends several event rows in one statement (one round trip).
            async fn insert_events(
                c: &mut <$db as sqlx::Database>::Connection,
                ticket: TicketId,
                at: Timestamp,
                events: &[(Actor, &Change)],
            ) -> Result<()> {
                if events.is_empty() {
                    return Ok(());
                }
                let mut sql = String::from(
                    "INSERT INTO events (ticket_id, at, actor_kind, actor_id, kind, field, from_value, to_value, \
                     message_id, message_public) VALUES ",
                );
                for i in 0..events.len() {
                    let b = i * 10;
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10
                    ));
                }
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (actor, change) in events {
                    let (actor_kind, actor_id) = actor_to_db(*actor);
                    let (kind, field, from, to, message_id, public) = change_to_db(change);
                    q = q
                        .bind(ticket.0)
                        .bind(us(at))
                        .bind(actor_kind)
                        .bind(actor_id)
                        .bind(kind)
                        .bind(field)
                        .bind(from)
                        .bind(to)
                        .bind(message_id)
                        .bind(public);
                }
                q.execute(&mut *c).await?;
                Ok(())
            }

            async fn load_message(c: &mut <$db as sqlx::Database>::Connection, id: i64) -> Result<Option<Message>> {
                let Some(row) = sqlx::query(
                    "SELECT id, ticket_id, author_kind, author_id, public, body_text, body_html, created_at \
                     FROM messages WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *c)
                .await?
                else {
                    return Ok(None);
                };
                let attachments = sqlx::query(
                    "SELECT id, message_id, filename, content_type, size, sha256 FROM attachments \
                     WHERE message_id = $1 ORDER BY id",
                )
                .bind(id)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(Self::attachment_from_row)
                .collect::<Result<Vec<_>>>()?;
                Ok(Some(Self::message_from_row(&row, attachments)?))
            }

            async fn list_messages_(&self, ticket: TicketId, include_internal: bool) -> Result<Vec<Message>> {
                let mut c = self.reader().acquire().await?;
                let mut attachments: std::collections::HashMap<i64, Vec<Attachment>> = Default::default();
                for r in sqlx::query(
                    "SELECT a.id, a.message_id, a.filename, a.content_type, a.size, a.sha256 FROM attachments a \
                     JOIN messages m ON m.id = a.message_id WHERE m.ticket_id = $1 ORDER BY a.id",
                )
                .bind(ticket.0)
                .fetch_all(&mut *c)
                .await?
                {
                    let a = Self::attachment_from_row(&r)?;
                    attachments.entry(a.message_id.0).or_default().push(a);
                }
                let rows = sqlx::query(
                    "SELECT id, ticket_id, author_kind, author_id, public, body_text, body_html, created_at \
                     FROM messages WHERE ticket_id = $1 AND (public OR $2) ORDER BY id",
                )
                .bind(ticket.0)
                .bind(include_internal)
                .fetch_all(&mut *c)
                .await?;
                rows.iter()
                    .map(|r| {
                        let id: i64 = r.try_get("id")?;
                        Self::message_from_row(r, attachments.remove(&id).unwrap_or_default())
                    })
                    .collect()
            }

            async fn list_events_(&self, ticket: TicketId) -> Result<Vec<Event>> {
                let rows = sqlx::query(
                    "SELECT id, ticket_id, at, actor_kind, actor_id, kind, field, from_value, to_value, \
                     message_id, message_public FROM events WHERE ticket_id = $1 ORDER BY id",
                )
                .bind(ticket.0)
                .fetch_all(self.reader())
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(Event {
                            id: EventId(r.try_get("id")?),
                            ticket_id: TicketId(r.try_get("ticket_id")?),
                            at: ts(r.try_get("at")?)?,
                            actor: actor_from_db(r.try_get("actor_kind")?, r.try_get("actor_id")?)?,
                            change: change_from_db(
                                r.try_get("kind")?,
                                r.try_get("field")?,
                                r.try_get("from_value")?,
                                r.try_get("to_value")?,
                                r.try_get("message_id")?,
                                r.try_get("message_public")?,
                            )?,
                        })
                    })
                    .collect()
            }

            async fn get_attachment_(&self, id: AttachmentId) -> Result<Option<(Attachment, Vec<u8>)>> {
                let row = sqlx::query(
                    "SELECT a.id, a.message_id, a.filename, a.content_type, a.size, a.sha256, b.data \
                     FROM attachments a JOIN blobs b ON b.sha256 = a.sha256 WHERE a.id = $1",
                )
                .bind(id.0)
                .fetch_optional(self.reader())
                .await?;
                row.map(|r| Ok((Self::attachment_from_row(&r)?, r.try_get("data")?))).transpose()
            }
        }
    };
}
