//! Read models as relational tables, fed from the events table in commit order with each
//! projection's checkpoint written in the same transaction as its rows; rebuildable from zero.

pub mod applications;
pub mod events;
pub mod lag;
pub mod networks;
pub mod programs;
pub mod runner;
pub mod schedule;
pub mod study_visits;

use std::sync::Arc;

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
