//! SQL for what hangs off a ticket: messages, their attachments (content-addressed
//! blobs, stored once per distinct content) and the append-only event log.
//!
//! `messages_impl!` expands to inherent methods of one engine's store; writes here take
//! the caller's transaction and never commit it themselves. A message's email columns
//! (`email_message_id` … `automatic`) are written with it; what else an email message
//! touches (its inbound mail, Message-ID, send job) is in `mail.rs`.

/// Message columns in the order every message query selects them.
macro_rules! message_cols {
    () => {
        "id, ticket_id, author_kind, author_id, public, body_text, body_html, created_at, \
         email_message_id, inbound_id, mailbox_id, mail_from, mail_to, mail_cc, parse_warning, \
         delivery_status, delivery_detail, automatic"
    };
}

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
                    email: Self::message_email_from_row(r)?,
                })
            }

            /// The email side of a message row: `None` unless it has a Message-ID.
            fn message_email_from_row(r: &<$db as sqlx::Database>::Row) -> Result<Option<MessageEmail>> {
                let Some(message_id) = r.try_get::<Option<String>, _>("email_message_id")? else {
                    return Ok(None);
                };
                Ok(Some(MessageEmail {
                    message_id,
                    inbound_id: r.try_get::<Option<i64>, _>("inbound_id")?.map(InboundMailId),
                    mailbox_id: r.try_get::<Option<i64>, _>("mailbox_id")?.map(MailboxId),
                    from: r.try_get("mail_from")?,
                    to: list_from_db(r.try_get("mail_to")?)?,
                    cc: list_from_db(r.try_get("mail_cc")?)?,
                    parse_warning: r.try_get("parse_warning")?,
                    delivery: r
                        .try_get::<Option<&str>, _>("delivery_status")?
                        .map(|s| stored(DeliveryStatus::parse(s)))
                        .transpose()?,
                    delivery_detail: r.try_get("delivery_detail")?,
                    automatic: r.try_get("automatic")?,
                }))
            }

            /// Stores `data` in the content-addressed blobs (once per distinct content) and
            /// returns its hex SHA-256.
            async fn store_blob(c: &mut <$db as sqlx::Database>::Connection, data: &[u8], at: Timestamp) -> Result<String> {
                let sha256 = sha256_hex(data);
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
                    .bind(data.len() as i64)
                    .bind(data)
                    .bind(us(at))
                    .execute(&mut *c)
                    .await?;
                }
                Ok(sha256)
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
                mail: Option<&MessageMail>,
                at: Timestamp,
            ) -> Result<Message> {
                let (kind, author_id) = actor_to_db(author);
                let message_id = match mail {
                    Some(m) => Some(Self::check_message_mail(c, m).await?),
                    None => None,
                };
                let row = sqlx::query(
                    "INSERT INTO messages (ticket_id, author_kind, author_id, public, body_text, body_html, created_at, \
                     email_message_id, inbound_id, mailbox_id, mail_from, mail_to, mail_cc, parse_warning, \
                     delivery_status, automatic) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
                )
                .bind(ticket.0)
                .bind(kind)
                .bind(author_id)
                .bind(public)
                .bind(body_text)
                .bind(body_html)
                .bind(us(at))
                .bind(message_id.as_deref())
                .bind(mail.and_then(|m| m.inbound_id).map(|i| i.0))
                .bind(mail.and_then(|m| m.mailbox_id).map(|i| i.0))
                .bind(mail.and_then(|m| m.from.as_deref()))
                .bind(mail.map(|m| list_to_db(&m.to)))
                .bind(mail.map(|m| list_to_db(&m.cc)))
                .bind(mail.and_then(|m| m.parse_warning.as_deref()))
                .bind(mail.and_then(|m| m.delivery).map(DeliveryStatus::as_str))
                .bind(mail.is_some_and(|m| m.automatic))
                .fetch_one(&mut *c)
                .await
                // The only unique index besides the key: one message per inbound mail.
                .map_err(unique_is("inbound mail"))?;
                let id = MessageId(row.try_get("id")?);
                let mut stored_attachments = Vec::with_capacity(attachments.len());
                for a in attachments {
                    let size = a.data.len() as i64;
                    let sha256 = Self::store_blob(c, &a.data, at).await?;
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
                    email: mail.zip(message_id).map(|(m, message_id)| MessageEmail {
                        message_id,
                        inbound_id: m.inbound_id,
                        mailbox_id: m.mailbox_id,
                        from: m.from.clone(),
                        to: m.to.clone(),
                        cc: m.cc.clone(),
                        parse_warning: m.parse_warning.clone(),
                        delivery: m.delivery,
                        delivery_detail: None,
                        automatic: m.automatic,
                    }),
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
                let Some(row) = sqlx::query(concat!("SELECT ", message_cols!(), " FROM messages WHERE id = $1"))
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
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    message_cols!(),
                    " FROM messages WHERE ticket_id = $1 AND (public OR $2) ORDER BY id"
                ))
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
