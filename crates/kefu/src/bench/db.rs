//! Throwaway databases for benchmarks: a temp SQLite file, or a fresh PostgreSQL database
//! `kefu_bench_<ts>` created on the server of the given URL and dropped afterwards.

use anyhow::{Context, Result};
use sqlx::Connection;
use std::path::PathBuf;

pub struct BenchDb {
    pub url: String,
    pub engine: &'static str,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A name unique to this process and moment: `kefu_bench_<unix ms>_<pid>_<seq>`.
fn unique_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let ms = jiff::Timestamp::now().as_millisecond();
    format!(
        "kefu_bench_{ms}_{}_{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// Replaces the database name in a `postgres://…/db?params` URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let host_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host = match base[host_start..].find('/') {
        Some(i) => &base[..host_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host}/{db}?{q}"),
        None => format!("{host}/{db}"),
    }
}

impl BenchDb {
    /// A fresh database. `url`: a PostgreSQL server to create it on, a SQLite URL whose
    /// directory should hold the temp file, or `None` for a file in the temp directory.
    pub async fn create(url: Option<&str>) -> Result<BenchDb> {
        let name = unique_name();
        match url {
            Some(url) if is_postgres(url) => {
                let mut admin = sqlx::PgConnection::connect(url).await.with_context(|| {
                    format!("connecting to {}", crate::commands::redact_url(url))
                })?;
                // `name` is ours (letters, digits, underscores), never user input.
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .with_context(|| format!("creating database {name}"))?;
                let _ = admin.close().await;
                Ok(BenchDb {
                    url: with_database(url, &name),
                    engine: "postgres",
                    cleanup: Cleanup::PostgresDatabase {
                        admin_url: url.to_string(),
                        name,
                    },
                })
            }
            other => {
                let dir = match other {
                    Some(u) => {
                        let path = u
                            .trim_start_matches("sqlite://")
                            .trim_start_matches("sqlite:");
                        let path = PathBuf::from(path.split('?').next().unwrap_or_default());
                        path.parent()
                            .map(PathBuf::from)
                            .unwrap_or_else(std::env::temp_dir)
                    }
                    None => std::env::temp_dir(),
                };
                let path = std::path::absolute(dir.join(format!("{name}.db")))?;
                Ok(BenchDb {
                    url: crate::commands::sqlite_url(&path),
                    engine: "sqlite",
                    cleanup: Cleanup::SqliteFile(path),
                })
            }
        }
    }

    /// Deletes the database. Close every store on it first (PostgreSQL forces them out).
    pub async fn remove(self) -> Result<()> {
        match self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .with_context(|| format!("dropping database {name}"))?;
                let _ = admin.close().await;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_in_a_postgres_url() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres", "x"),
            "postgres://u:p@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/kefu?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h", "x"), "postgresql://h/x");
    }

    #[tokio::test]
    async fn sqlite_bench_databases_are_temp_files_next_to_the_given_url() {
        let db = BenchDb::create(Some("sqlite:///var/tmp/kefu.db"))
            .await
            .unwrap();
        assert!(
            db.url.starts_with("sqlite:///var/tmp/kefu_bench_"),
            "{}",
            db.url
        );
        assert_eq!(db.engine, "sqlite");
        db.remove().await.unwrap();
    }
}
