//! Test databases for this crate's contract suite and for other crates' tests.
//!
//! Owns: creating a fresh, migrated, empty database per test and removing it afterwards.
//! The engine comes from `KEFU_TEST_DB` (`sqlite`, the default, or `postgres`); Postgres
//! is reached at `KEFU_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//!
//! On Postgres each test database is copied from a migrated template database
//! (`kefu_test_template_<checksum of the migrations>`), which is built once and kept.
//!
//! Never does: skip silently. If Postgres is requested and unreachable, it panics.

use crate::{Clock, Store, SystemClock};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh database and the store opened on it. Derefs to `Arc<dyn Store>`; the database
/// is deleted when this is dropped (other handles to the store stop working then).
pub struct TestDb {
    store: Arc<dyn Store>,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

impl TestDb {
    /// The database URL, for starting a full server on the same database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Another handle to the store.
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }
}

impl Deref for TestDb {
    type Target = Arc<dyn Store>;
    fn deref(&self) -> &Self::Target {
        &self.store
    }
}

/// A name no other test (in this or another process) uses at the same time.
fn unique_name() -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "kefu_test_{}_{}_{}",
        std::process::id(),
        nanos,
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// Replaces the database name in a `postgres://…/db?params` URL.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{db}?{q}"),
        None => format!("{host_part}/{db}"),
    }
}

/// Opens a fresh, migrated store on the engine named by `KEFU_TEST_DB`, on the wall clock.
pub async fn fresh_store() -> TestDb {
    fresh_store_with_clock(Arc::new(SystemClock)).await
}

/// [`fresh_store`] stamping rows with `clock` (e.g. a [`crate::ManualClock`] to freeze time).
pub async fn fresh_store_with_clock(clock: Arc<dyn Clock>) -> TestDb {
    let engine = std::env::var("KEFU_TEST_DB").unwrap_or_else(|_| "sqlite".into());
    match engine.as_str() {
        "sqlite" | "" => fresh_sqlite(clock).await,
        "postgres" | "postgresql" | "pg" => fresh_postgres(clock).await,
        other => panic!("KEFU_TEST_DB={other:?} is not an engine; use sqlite or postgres"),
    }
}

async fn fresh_sqlite(clock: Arc<dyn Clock>) -> TestDb {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
    let url = format!("sqlite://{}", path.display());
    let store = crate::connect_with_clock(&url, clock)
        .await
        .unwrap_or_else(|e| panic!("opening test database {url}: {e}"));
    TestDb {
        store,
        url,
        cleanup: Cleanup::SqliteFile(path),
    }
}

/// Runs `sql` (built only from our own identifiers, never user input) on the admin database.
async fn admin_exec(admin: &mut sqlx::PgConnection, sql: String) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(admin)
        .await
        .map(|_| ())
}

/// A migrated template database named after the migrations' checksums, built once per
/// schema (and shared across test processes), so each test database is a cheap copy
/// instead of a fresh migration run.
async fn postgres_template(admin: &mut sqlx::PgConnection, admin_url: &str) -> String {
    use sha2::{Digest, Sha256};
    use sqlx::Connection;
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let mut h = Sha256::new();
            for m in crate::sql::postgres_migrator().iter() {
                h.update(m.version.to_le_bytes());
                h.update(&m.checksum);
            }
            let name = format!("kefu_test_template_{}", &hex::encode(h.finalize())[..16]);
            let exists = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
                .bind(&name)
                .fetch_optional(&mut *admin)
                .await
                .unwrap_or_else(|e| panic!("looking up {name}: {e}"))
                .is_some();
            if exists {
                return name;
            }
            // Build under a private name, then rename: a concurrent builder loses the rename
            // and drops its copy; nobody ever copies a half-migrated template.
            let building = unique_name();
            admin_exec(admin, format!("CREATE DATABASE {building}"))
                .await
                .unwrap_or_else(|e| panic!("creating {building}: {e}"));
            let mut conn = sqlx::PgConnection::connect(&with_database(admin_url, &building))
                .await
                .unwrap_or_else(|e| panic!("connecting to {building}: {e}"));
            crate::sql::postgres_migrator()
                .run(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("migrating {building}: {e}"));
            let _ = conn.close().await;
            let renamed =
                admin_exec(admin, format!("ALTER DATABASE {building} RENAME TO {name}")).await;
            if renamed.is_err() {
                let _ = admin_exec(
                    admin,
                    format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
                )
                .await;
            }
            name
        })
        .await
        .clone()
}

async fn fresh_postgres(clock: Arc<dyn Clock>) -> TestDb {
    use sqlx::Connection;
    let admin_url =
        std::env::var("KEFU_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    let name = unique_name();
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "KEFU_TEST_DB=postgres but PostgreSQL is unreachable at {admin_url} ({e}). \
                 Start it or set KEFU_TEST_POSTGRES_URL."
            )
        });
    let template = postgres_template(&mut admin, &admin_url).await;
    admin_exec(
        &mut admin,
        format!("CREATE DATABASE {name} TEMPLATE {template}"),
    )
    .await
    .unwrap_or_else(|e| panic!("creating test database {name}: {e}"));
    let _ = admin.close().await;
    let url = with_database(&admin_url, &name);
    let store = crate::connect_with_clock(&url, clock)
        .await
        .unwrap_or_else(|e| panic!("opening test database {url}: {e}"));
    TestDb {
        store,
        url,
        cleanup: Cleanup::PostgresDatabase { admin_url, name },
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                // Drop is synchronous and may run inside (or outside) a runtime: use a
                // thread with its own runtime. FORCE ends connections still open.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let dropped = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    rt.block_on(async {
                        use sqlx::Connection;
                        let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&mut admin)
                        .await?;
                        admin.close().await?;
                        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                    })
                })
                .join();
                if let Ok(Err(e)) = dropped {
                    eprintln!("warning: could not drop test database: {e}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_in_a_postgres_url() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
