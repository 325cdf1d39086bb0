//! Read models of programs (placeholder until its issue lands).

use std::sync::Arc;

use crate::runner::Projection;

/// The projections of this module.
pub fn projections() -> Vec<Arc<dyn Projection>> {
    Vec::new()
}
