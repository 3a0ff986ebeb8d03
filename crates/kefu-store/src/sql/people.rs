//! SQL for settings, organizations, and customers with their identities and portal
//! credentials.
//!
//! `people_impl!` expands to inherent methods of one engine's store (suffixed `_`); the
//! `Store` impl in `mod.rs` delegates to them. Organizations are listed by name, then id;
//! customers by id.

macro_rules! people_impl {
    ($store:ident, $db:ty) => {
        impl $store {
            fn org_from_row(r: &<$db as sqlx::Database>::Row) -> Result<Organization> {
                Ok(Organization {
                    id: OrganizationId(r.try_get("id")?),
                    name: r.try_get("name")?,
                    domains: words_from_db(r.try_get("domains")?),
                    segment: stored(Segment::parse(r.try_get("segment")?))?,
                    shares_tickets: r.try_get("shares_tickets")?,
                    created_at: ts(r.try_get("created_at")?)?,
                })
            }

            fn customer_from_row(r: &<$db as sqlx::Database>::Row, identities: Vec<Identity>) -> Result<Customer> {
                Ok(Customer {
                    id: CustomerId(r.try_get("id")?),
                    name: r.try_get("name")?,
                    organization_id: r.try_get::<Option<i64>, _>("organization_id")?.map(OrganizationId),
                    segment: stored(Segment::parse(r.try_get("segment")?))?,
                    language: stored(Lang::parse(r.try_get("language")?))?,
                    time_zone: r.try_get("time_zone")?,
                    identities,
                    created_at: ts(r.try_get("created_at")?)?,
                })
            }

            // ---- settings ----

            async fn get_setting_(&self, key: &str) -> Result<Option<String>> {
                let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
                    .bind(key)
                    .fetch_optional(self.reader())
                    .await?;
                Ok(row.map(|r| r.try_get("value")).transpose()?)
            }

            async fn init_setting_(&self, key: &str, value: &str) -> Result<String> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                    .bind(key)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query("SELECT value FROM settings WHERE key = $1").bind(key).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                Ok(row.try_get("value")?)
            }

            // ---- organizations ----

            async fn create_organization_(&self, org: &NewOrganization) -> Result<Organization> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "INSERT INTO organizations (name, domains, segment, shares_tickets, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id, name, domains, segment, shares_tickets, created_at",
                )
                .bind(&org.name)
                .bind(words_to_db(&org.domains))
                .bind(org.segment.as_str())
                .bind(org.shares_tickets)
                .bind(us(self.clock.now()))
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Self::org_from_row(&row)
            }

            async fn get_organization_(&self, id: OrganizationId) -> Result<Option<Organization>> {
                let row = sqlx::query(
                    "SELECT id, name, domains, segment, shares_tickets, created_at FROM organizations WHERE id = $1",
                )
                .bind(id.0)
                .fetch_optional(self.reader())
                .await?;
                row.map(|r| Self::org_from_row(&r)).transpose()
            }

            async fn list_organizations_(&self) -> Result<Vec<Organization>> {
                let rows = sqlx::query(
                    "SELECT id, name, domains, segment, shares_tickets, created_at FROM organizations ORDER BY name, id",
                )
                .fetch_all(self.reader())
                .await?;
                rows.iter().map(Self::org_from_row).collect()
            }

            async fn update_organization_(&self, id: OrganizationId, org: &NewOrganization) -> Result<Option<Organization>> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "UPDATE organizations SET name = $2, domains = $3, segment = $4, shares_tickets = $5 \
                     WHERE id = $1 RETURNING id, name, domains, segment, shares_tickets, created_at",
                )
                .bind(id.0)
                .bind(&org.name)
                .bind(words_to_db(&org.domains))
                .bind(org.segment.as_str())
                .bind(org.shares_tickets)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                row.map(|r| Self::org_from_row(&r)).transpose()
            }

            // ---- customers ----

            /// Customers with these ids (missing ones are skipped), ordered by id.
            async fn load_customers(c: &mut <$db as sqlx::Database>::Connection, ids: &[i64]) -> Result<Vec<Customer>> {
                let mut ids = ids.to_vec();
                ids.sort_unstable();
                ids.dedup();
                let mut out = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(500) {
                    let ph = placeholders(chunk.len());
                    let sql = format!(
                        "SELECT customer_id, kind, value, is_primary FROM customer_identities \
                         WHERE customer_id IN ({ph}) ORDER BY customer_id, is_primary DESC, id"
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    let mut identities: std::collections::HashMap<i64, Vec<Identity>> = Default::default();
                    for r in q.fetch_all(&mut *c).await? {
                        identities.entry(r.try_get("customer_id")?).or_default().push(Identity {
                            kind: stored(IdentityKind::parse(r.try_get("kind")?))?,
                            value: r.try_get("value")?,
                            primary: r.try_get("is_primary")?,
                        });
                    }
                    let sql = format!(
                        "SELECT id, name, organization_id, segment, language, time_zone, created_at \
                         FROM customers WHERE id IN ({ph}) ORDER BY id"
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    for r in q.fetch_all(&mut *c).await? {
                        let id: i64 = r.try_get("id")?;
                        out.push(Self::customer_from_row(&r, identities.remove(&id).unwrap_or_default())?);
                    }
                }
                Ok(out)
            }

            async fn load_customer(c: &mut <$db as sqlx::Database>::Connection, id: i64) -> Result<Option<Customer>> {
                Ok(Self::load_customers(c, &[id]).await?.pop())
            }

            async fn customer_id_by_identity(
                c: &mut <$db as sqlx::Database>::Connection,
                kind: IdentityKind,
                value: &str,
            ) -> Result<Option<i64>> {
                let row = sqlx::query("SELECT customer_id FROM customer_identities WHERE kind = $1 AND value = $2")
                    .bind(kind.as_str())
                    .bind(value)
                    .fetch_optional(&mut *c)
                    .await?;
                Ok(row.map(|r| r.try_get("customer_id")).transpose()?)
            }

            async fn insert_identity(
                c: &mut <$db as sqlx::Database>::Connection,
                customer: i64,
                kind: IdentityKind,
                value: &str,
                primary: bool,
            ) -> Result<()> {
                let what = match kind {
                    IdentityKind::Email => "customer email",
                    IdentityKind::Phone => "customer phone",
                    IdentityKind::External => "customer external id",
                };
                sqlx::query("INSERT INTO customer_identities (customer_id, kind, value, is_primary) VALUES ($1, $2, $3, $4)")
                    .bind(customer)
                    .bind(kind.as_str())
                    .bind(value)
                    .bind(primary)
                    .execute(&mut *c)
                    .await
                    .map_err(unique_is(what))?;
                Ok(())
            }

            /// Inserts a customer (created at `now`) and its identities; returns the new id.
            async fn insert_customer(
                c: &mut <$db as sqlx::Database>::Connection,
                nc: &NewCustomer,
                now: Timestamp,
            ) -> Result<i64> {
                let row = sqlx::query(
                    "INSERT INTO customers (name, organization_id, segment, language, time_zone, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(&nc.name)
                .bind(nc.organization_id.map(|o| o.0))
                .bind(nc.segment.as_str())
                .bind(nc.language.as_str())
                .bind(&nc.time_zone)
                .bind(us(now))
                .fetch_one(&mut *c)
                .await
                .map_err(reference_is("organization"))?;
                let id: i64 = row.try_get("id")?;
                if let Some(e) = &nc.email {
                    Self::insert_identity(c, id, IdentityKind::Email, e.as_str(), true).await?;
                }
                for (i, p) in nc.phones.iter().enumerate() {
                    Self::insert_identity(c, id, IdentityKind::Phone, p.trim(), i == 0).await?;
                }
                for (i, x) in nc.external_ids.iter().enumerate() {
                    Self::insert_identity(c, id, IdentityKind::External, x.trim(), i == 0).await?;
                }
                Ok(id)
            }

            async fn create_customer_(&self, nc: &NewCustomer, idempotency: Option<&IdempotencyKey>) -> Result<Customer> {
                let now = self.clock.now();
                let mut tx = self.begin_write().await?;
                if let Some(k) = idempotency {
                    if let Some(id) = Self::reserve_key(&mut tx, k, "customer", now).await? {
                        let customer = Self::load_customer(&mut tx, id).await?;
                        return customer.ok_or_else(|| corrupt("idempotency key names a missing customer"));
                    }
                }
                let id = Self::insert_customer(&mut tx, nc, now).await?;
                if let Some(k) = idempotency {
                    Self::record_key(&mut tx, k, id).await?;
                }
                let customer = Self::load_customer(&mut tx, id).await?.ok_or_else(|| corrupt("customer vanished"))?;
                tx.commit().await?;
                Ok(customer)
            }

            async fn customers_by_ids_(&self, ids: &[CustomerId]) -> Result<Vec<Customer>> {
                let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
                let mut c = self.reader().acquire().await?;
                Self::load_customers(&mut c, &ids).await
            }

            async fn find_customer_by_email_(&self, email: &Email) -> Result<Option<Customer>> {
                let mut c = self.reader().acquire().await?;
                match Self::customer_id_by_identity(&mut c, IdentityKind::Email, email.as_str()).await? {
                    Some(id) => Self::load_customer(&mut c, id).await,
                    None => Ok(None),
                }
            }

            async fn list_customers_(&self, q: &CustomerQuery) -> Result<Page<Customer>> {
                let limit = clamp_limit(q.limit);
                let after = q.cursor.as_deref().map(parse_id_cursor).transpose()?.unwrap_or(0);
                let pattern = q.q.as_deref().filter(|s| !s.trim().is_empty()).map(like_pattern);
                let rows = sqlx::query(
                    "SELECT c.id FROM customers c WHERE c.id > $1 \
                     AND ($2 IS NULL OR c.organization_id = $2) \
                     AND ($3 IS NULL OR lower(c.name) LIKE $3 ESCAPE '\\' OR EXISTS ( \
                         SELECT 1 FROM customer_identities i \
                         WHERE i.customer_id = c.id AND lower(i.value) LIKE $3 ESCAPE '\\')) \
                     ORDER BY c.id LIMIT $4",
                )
                .bind(after)
                .bind(q.organization_id.map(|o| o.0))
                .bind(pattern)
                .bind(limit + 1)
                .fetch_all(self.reader())
                .await?;
                let mut ids = rows.iter().map(|r| r.try_get::<i64, _>("id")).collect::<Result<Vec<_>, _>>()?;
                let more = ids.len() as i64 > limit;
                ids.truncate(limit as usize);
                let mut c = self.reader().acquire().await?;
                let items = Self::load_customers(&mut c, &ids).await?;
                let next_cursor = if more { ids.last().map(|id| id.to_string()) } else { None };
                Ok(Page { items, next_cursor })
            }

            async fn update_customer_(&self, id: CustomerId, patch: &CustomerPatch) -> Result<Option<Customer>> {
                let mut tx = self.begin_write().await?;
                let res = sqlx::query(
                    "UPDATE customers SET name = COALESCE($2, name), \
                     organization_id = CASE WHEN $3 THEN $4 ELSE organization_id END, \
                     segment = COALESCE($5, segment), language = COALESCE($6, language), \
                     time_zone = COALESCE($7, time_zone) WHERE id = $1",
                )
                .bind(id.0)
                .bind(patch.name.as_deref())
                .bind(patch.organization_id.is_some())
                .bind(patch.organization_id.flatten().map(|o| o.0))
                .bind(patch.segment.map(Segment::as_str))
                .bind(patch.language.map(Lang::as_str))
                .bind(patch.time_zone.as_deref())
                .execute(&mut *tx)
                .await
                .map_err(reference_is("organization"))?;
                if res.rows_affected() == 0 {
                    return Ok(None);
                }
                for (kind, value) in &patch.add_identities {
                    let value = match kind {
                        IdentityKind::Email => Email::parse(value)?.as_str().to_string(),
                        _ => value.trim().to_string(),
                    };
                    match Self::customer_id_by_identity(&mut tx, *kind, &value).await? {
                        Some(owner) if owner == id.0 => continue,
                        Some(_) => return Err(StoreError::Conflict("customer identity")),
                        None => {}
                    }
                    let row = sqlx::query("SELECT COUNT(*) FROM customer_identities WHERE customer_id = $1 AND kind = $2")
                        .bind(id.0)
                        .bind(kind.as_str())
                        .fetch_one(&mut *tx)
                        .await?;
                    let first_of_kind = row.try_get::<i64, _>(0)? == 0;
                    Self::insert_identity(&mut tx, id.0, *kind, &value, first_of_kind).await?;
                }
                let customer = Self::load_customer(&mut tx, id.0).await?;
                tx.commit().await?;
                Ok(customer)
            }

            async fn set_customer_password_(&self, id: CustomerId, password_hash: &str) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO customer_credentials (customer_id, password_hash, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (customer_id) DO UPDATE SET password_hash = excluded.password_hash, \
                     updated_at = excluded.updated_at",
                )
                .bind(id.0)
                .bind(password_hash)
                .bind(us(self.clock.now()))
                .execute(&mut *tx)
                .await
                .map_err(reference_is("customer"))?;
                tx.commit().await?;
                Ok(())
            }

            async fn find_customer_login_(&self, email: &Email) -> Result<Option<(Customer, Option<String>)>> {
                let mut c = self.reader().acquire().await?;
                let Some(id) = Self::customer_id_by_identity(&mut c, IdentityKind::Email, email.as_str()).await? else {
                    return Ok(None);
                };
                let Some(customer) = Self::load_customer(&mut c, id).await? else { return Ok(None) };
                let row = sqlx::query("SELECT password_hash FROM customer_credentials WHERE customer_id = $1")
                    .bind(id)
                    .fetch_optional(&mut *c)
                    .await?;
                let hash = row.map(|r| r.try_get("password_hash")).transpose()?;
                Ok(Some((customer, hash)))
            }
        }
    };
}
