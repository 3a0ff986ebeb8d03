//! SQL for the workspace's staff and their credentials: teams, agents (with their team
//! memberships), API tokens and web sessions.
//!
//! `staff_impl!` expands to inherent methods of one engine's store (suffixed `_`); the
//! `Store` impl in `mod.rs` delegates to them. Teams and agents are listed by name, then id.

macro_rules! staff_impl {
    ($store:ident, $db:ty) => {
        impl $store {
            fn team_from_row(r: &<$db as sqlx::Database>::Row) -> Result<Team> {
                Ok(Team {
                    id: TeamId(r.try_get("id")?),
                    name: r.try_get("name")?,
                    description: r.try_get("description")?,
                    created_at: ts(r.try_get("created_at")?)?,
                })
            }

            fn agent_from_row(r: &<$db as sqlx::Database>::Row, teams: Vec<TeamId>) -> Result<Agent> {
                Ok(Agent {
                    id: AgentId(r.try_get("id")?),
                    email: r.try_get("email")?,
                    name: r.try_get("name")?,
                    role: stored(Role::parse(r.try_get("role")?))?,
                    tier: stored(Tier::new(r.try_get("tier")?))?,
                    teams,
                    language: r.try_get::<Option<&str>, _>("language")?.map(|l| stored(Lang::parse(l))).transpose()?,
                    active: r.try_get("active")?,
                    created_at: ts(r.try_get("created_at")?)?,
                })
            }

            async fn create_team_(&self, name: &str, description: &str) -> Result<Team> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "INSERT INTO teams (name, description, created_at) VALUES ($1, $2, $3) \
                     RETURNING id, name, description, created_at",
                )
                .bind(name)
                .bind(description)
                .bind(us(self.clock.now()))
                .fetch_one(&mut *tx)
                .await
                .map_err(unique_is("team name"))?;
                tx.commit().await?;
                Self::team_from_row(&row)
            }

            async fn get_team_(&self, id: TeamId) -> Result<Option<Team>> {
                let row = sqlx::query("SELECT id, name, description, created_at FROM teams WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(self.reader())
                    .await?;
                row.map(|r| Self::team_from_row(&r)).transpose()
            }

            async fn find_team_by_name_(&self, name: &str) -> Result<Option<Team>> {
                let row = sqlx::query("SELECT id, name, description, created_at FROM teams WHERE name = $1")
                    .bind(name)
                    .fetch_optional(self.reader())
                    .await?;
                row.map(|r| Self::team_from_row(&r)).transpose()
            }

            async fn list_teams_(&self) -> Result<Vec<Team>> {
                let rows = sqlx::query("SELECT id, name, description, created_at FROM teams ORDER BY name, id")
                    .fetch_all(self.reader())
                    .await?;
                rows.iter().map(Self::team_from_row).collect()
            }

            async fn update_team_(&self, id: TeamId, name: &str, description: &str) -> Result<Option<Team>> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "UPDATE teams SET name = $2, description = $3 WHERE id = $1 \
                     RETURNING id, name, description, created_at",
                )
                .bind(id.0)
                .bind(name)
                .bind(description)
                .fetch_optional(&mut *tx)
                .await
                .map_err(unique_is("team name"))?;
                tx.commit().await?;
                row.map(|r| Self::team_from_row(&r)).transpose()
            }

            // ---- agents ----

            async fn load_agent(c: &mut <$db as sqlx::Database>::Connection, id: i64) -> Result<Option<Agent>> {
                let Some(row) = sqlx::query(
                    "SELECT id, email, name, role, tier, language, active, created_at FROM agents WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *c)
                .await?
                else {
                    return Ok(None);
                };
                let teams = sqlx::query("SELECT team_id FROM agent_teams WHERE agent_id = $1 ORDER BY team_id")
                    .bind(id)
                    .fetch_all(&mut *c)
                    .await?
                    .iter()
                    .map(|r| r.try_get("team_id").map(TeamId))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some(Self::agent_from_row(&row, teams)?))
            }

            async fn set_agent_teams(c: &mut <$db as sqlx::Database>::Connection, agent: i64, teams: &[TeamId]) -> Result<()> {
                let mut teams: Vec<i64> = teams.iter().map(|t| t.0).collect();
                teams.sort_unstable();
                teams.dedup();
                sqlx::query("DELETE FROM agent_teams WHERE agent_id = $1").bind(agent).execute(&mut *c).await?;
                for t in teams {
                    sqlx::query("INSERT INTO agent_teams (agent_id, team_id) VALUES ($1, $2)")
                        .bind(agent)
                        .bind(t)
                        .execute(&mut *c)
                        .await
                        .map_err(reference_is("team"))?;
                }
                Ok(())
            }

            async fn create_agent_(&self, a: &NewAgent) -> Result<Agent> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "INSERT INTO agents (email, name, role, tier, language, active, password_hash, created_at) \
                     VALUES ($1, $2, $3, $4, NULL, $5, $6, $7) RETURNING id",
                )
                .bind(a.email.as_str())
                .bind(&a.name)
                .bind(a.role.as_str())
                .bind(i64::from(a.tier.get()))
                .bind(true)
                .bind(&a.password_hash)
                .bind(us(self.clock.now()))
                .fetch_one(&mut *tx)
                .await
                .map_err(unique_is("agent email"))?;
                let id: i64 = row.try_get("id")?;
                Self::set_agent_teams(&mut tx, id, &a.teams).await?;
                let agent = Self::load_agent(&mut tx, id).await?.ok_or_else(|| corrupt("agent vanished"))?;
                tx.commit().await?;
                Ok(agent)
            }

            async fn get_agent_(&self, id: AgentId) -> Result<Option<Agent>> {
                let mut c = self.reader().acquire().await?;
                Self::load_agent(&mut c, id.0).await
            }

            async fn list_agents_(&self) -> Result<Vec<Agent>> {
                let mut c = self.reader().acquire().await?;
                let mut teams: std::collections::HashMap<i64, Vec<TeamId>> = Default::default();
                for r in sqlx::query("SELECT agent_id, team_id FROM agent_teams ORDER BY agent_id, team_id")
                    .fetch_all(&mut *c)
                    .await?
                {
                    teams.entry(r.try_get("agent_id")?).or_default().push(TeamId(r.try_get("team_id")?));
                }
                let rows = sqlx::query(
                    "SELECT id, email, name, role, tier, language, active, created_at FROM agents ORDER BY name, id",
                )
                .fetch_all(&mut *c)
                .await?;
                rows.iter()
                    .map(|r| {
                        let id: i64 = r.try_get("id")?;
                        Self::agent_from_row(r, teams.remove(&id).unwrap_or_default())
                    })
                    .collect()
            }

            async fn update_agent_(&self, id: AgentId, patch: &AgentPatch) -> Result<Option<Agent>> {
                let mut tx = self.begin_write().await?;
                let res = sqlx::query(
                    "UPDATE agents SET name = COALESCE($2, name), role = COALESCE($3, role), \
                     tier = COALESCE($4, tier), language = CASE WHEN $5 THEN $6 ELSE language END, \
                     active = COALESCE($7, active), password_hash = COALESCE($8, password_hash) WHERE id = $1",
                )
                .bind(id.0)
                .bind(patch.name.as_deref())
                .bind(patch.role.map(Role::as_str))
                .bind(patch.tier.map(|t| i64::from(t.get())))
                .bind(patch.language.is_some())
                .bind(patch.language.flatten().map(Lang::as_str))
                .bind(patch.active)
                .bind(patch.password_hash.as_deref())
                .execute(&mut *tx)
                .await?;
                if res.rows_affected() == 0 {
                    return Ok(None);
                }
                if let Some(teams) = &patch.teams {
                    Self::set_agent_teams(&mut tx, id.0, teams).await?;
                }
                let agent = Self::load_agent(&mut tx, id.0).await?;
                tx.commit().await?;
                Ok(agent)
            }

            async fn find_agent_login_(&self, email: &Email) -> Result<Option<(Agent, String)>> {
                let mut c = self.reader().acquire().await?;
                let Some(row) = sqlx::query("SELECT id, password_hash FROM agents WHERE email = $1")
                    .bind(email.as_str())
                    .fetch_optional(&mut *c)
                    .await?
                else {
                    return Ok(None);
                };
                let hash: String = row.try_get("password_hash")?;
                Ok(Self::load_agent(&mut c, row.try_get("id")?).await?.map(|a| (a, hash)))
            }

            // ---- API tokens and sessions ----

            async fn create_api_token_(&self, agent: AgentId, name: &str, token_hash: &str) -> Result<i64> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "INSERT INTO api_tokens (agent_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(agent.0)
                .bind(name)
                .bind(token_hash)
                .bind(us(self.clock.now()))
                .fetch_one(&mut *tx)
                .await
                .map_err(constraint_is("api token", "agent"))?;
                tx.commit().await?;
                Ok(row.try_get("id")?)
            }

            /// The token's agent, active or not: callers check `active`.
            async fn find_agent_by_token_(&self, token_hash: &str) -> Result<Option<Agent>> {
                let mut c = self.reader().acquire().await?;
                let Some(row) = sqlx::query("SELECT agent_id FROM api_tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&mut *c)
                    .await?
                else {
                    return Ok(None);
                };
                Self::load_agent(&mut c, row.try_get("agent_id")?).await
            }

            async fn create_session_(&self, s: &Session) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let (agent, customer) = match s.owner {
                    SessionOwner::Agent(a) => (Some(a.0), None),
                    SessionOwner::Customer(c) => (None, Some(c.0)),
                };
                sqlx::query(
                    "INSERT INTO sessions (token_hash, agent_id, customer_id, csrf_token, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&s.token_hash)
                .bind(agent)
                .bind(customer)
                .bind(&s.csrf_token)
                .bind(us(s.created_at))
                .bind(us(s.expires_at))
                .execute(&mut *tx)
                .await
                .map_err(constraint_is("session", "session owner"))?;
                tx.commit().await?;
                Ok(())
            }

            async fn find_session_(&self, token_hash: &str, now: Timestamp) -> Result<Option<Session>> {
                let Some(r) = sqlx::query(
                    "SELECT token_hash, agent_id, customer_id, csrf_token, created_at, expires_at \
                     FROM sessions WHERE token_hash = $1 AND expires_at > $2",
                )
                .bind(token_hash)
                .bind(us(now))
                .fetch_optional(self.reader())
                .await?
                else {
                    return Ok(None);
                };
                let owner = match (r.try_get::<Option<i64>, _>("agent_id")?, r.try_get::<Option<i64>, _>("customer_id")?) {
                    (Some(a), None) => SessionOwner::Agent(AgentId(a)),
                    (None, Some(c)) => SessionOwner::Customer(CustomerId(c)),
                    _ => return Err(corrupt("session without exactly one owner")),
                };
                Ok(Some(Session {
                    token_hash: r.try_get("token_hash")?,
                    owner,
                    csrf_token: r.try_get("csrf_token")?,
                    created_at: ts(r.try_get("created_at")?)?,
                    expires_at: ts(r.try_get("expires_at")?)?,
                }))
            }

            async fn delete_session_(&self, token_hash: &str) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
