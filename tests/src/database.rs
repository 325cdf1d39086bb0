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
