//! What the property tests of the study visit share: a driver that hands commands to the
//! aggregate as the framework does and keeps the events it writes, and a runtime for the
//! async `handle` inside `proptest!`.

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use domain::services::StudyVisitServices;
use domain::study_visit::{StudyVisit, StudyVisitCommand, StudyVisitEvent};
use domain::values::NonEmptyText;

pub fn text(s: &str) -> NonEmptyText {
    NonEmptyText::parse(s).expect("text")
}

/// The aggregate, its services and every event it wrote, in order.
pub struct Driver {
    pub visit: StudyVisit,
    pub services: StudyVisitServices,
    pub events: Vec<StudyVisitEvent>,
}

impl Driver {
    pub fn new(services: StudyVisitServices) -> Self {
        Self {
            visit: StudyVisit::default(),
            services,
            events: Vec::new(),
        }
    }

    /// Runs `cmd`; true when it was accepted (its events applied and kept).
    pub async fn exec(&mut self, cmd: StudyVisitCommand) -> bool {
        let sink = EventSink::default();
        match self.visit.handle(cmd, &self.services, &sink).await {
            Ok(()) => {
                self.events.extend(sink.collect().await);
                true
            }
            Err(_) => false,
        }
    }
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(f)
}
