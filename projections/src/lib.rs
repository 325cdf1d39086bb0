//! Read models as relational tables, fed from the events table in commit order with each
//! projection's checkpoint written in the same transaction as its rows; rebuildable from zero.

pub mod applications;
pub mod events;
pub mod networks;
pub mod programs;
pub mod read;
pub mod replay;
pub mod runner;
pub mod schedule;
pub mod study_visits;

use std::sync::Arc;

pub use read::ReadError;
pub use replay::{replay, Replayed};
pub use runner::{Projection, ProjectionError, Runner};

/// Every projection of the service, in the order they are set up.
pub fn all() -> Vec<Arc<dyn Projection>> {
    let mut all: Vec<Arc<dyn Projection>> = vec![
        Arc::new(study_visits::StudyVisits),
        Arc::new(applications::Applications),
    ];
    all.extend(programs::projections());
    all.extend(networks::projections());
    all.push(Arc::new(schedule::Schedule));
    all
}

/// The projection called `name`, for `koordynator projections rebuild NAME`.
pub fn by_name(name: &str) -> Option<Arc<dyn Projection>> {
    all().into_iter().find(|p| p.name() == name)
}

#[cfg(test)]
mod tests {
    /// A rebuild drops and a replay shadows exactly the tables a projection creates: a table
    /// missing from `tables()` would survive a rebuild with stale rows, and a replay would
    /// read the live one.
    #[test]
    fn each_projection_lists_the_tables_it_creates() {
        for p in super::all() {
            let mut created: Vec<&str> = p
                .create_sql()
                .split("CREATE TABLE IF NOT EXISTS ")
                .skip(1)
                .filter_map(|rest| rest.split_whitespace().next())
                .collect();
            created.sort_unstable();
            let mut listed = p.tables().to_vec();
            listed.sort_unstable();
            assert_eq!(created, listed, "projection {}", p.name());
        }
    }
}
