//! Where test databases live: one PostgreSQL server (`KOORDYNATOR_TEST_DATABASE_SERVER`),
//! a fresh database per test with a unique name, so tests never see each other's data and
//! need no cleanup between them. The prefix says which kind of test left a database behind.

/// The server the tests create their databases on.
pub fn server_url() -> String {
    std::env::var("KOORDYNATOR_TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A fresh database URL named `{prefix}_{unique}` (the service creates it on first connect).
pub fn database_url(prefix: &str) -> String {
    format!(
        "{}/{prefix}_{}",
        server_url(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A fresh database URL for an end-to-end test.
pub fn fresh_database_url() -> String {
    database_url("kdn_test")
}

/// Drops its database when it is dropped (at the end of the test that made it), so a run of
/// the suite leaves nothing behind on the server: some 300 databases a run otherwise, which
/// fill a CI machine's disk within days. The drop is forced (the test's own connections may
/// still be open) and runs on a thread of its own, as `Drop` cannot wait for async work.
pub struct DropDatabase {
    url: String,
}

impl DropDatabase {
    /// Drops the database `url` names when this guard goes.
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
        }
    }
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        use sqlx::migrate::MigrateDatabase;
        let url = std::mem::take(&mut self.url);
        let dropped = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                let _ = sqlx::Postgres::force_drop_database(&url).await;
            });
        });
        let _ = dropped.join();
    }
}
