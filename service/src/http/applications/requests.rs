//! What the coordinator sends about applications, and how each request becomes the domain
//! values its command needs, every invalid field answered at once ([`Invalid`]). The public
//! application form's body is shared with the pages: `crate::http::submission`.

use chrono::NaiveDate;
use domain::values::NonEmptyText;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::validate::{Fields, Invalid};

/// Body of a seat release.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReleaseRequest {
    /// Why the seat is given back, for the record: 1 to 500 characters, not blank.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub reason: String,
}

/// The reason for the record, not empty.
impl TryFrom<ReleaseRequest> for NonEmptyText {
    type Error = Invalid;

    fn try_from(body: ReleaseRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let reason = f.check("reason", NonEmptyText::parse(&body.reason));
        f.finish_with(|| reason)
    }
}

/// Body of a seat given by hand.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AllocateRequest {
    /// Why the seat is given outside the policy's order, for the record: 1 to 500
    /// characters, not blank.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub reason: String,
}

/// The reason for the record: 1–500 characters.
impl TryFrom<AllocateRequest> for NonEmptyText {
    type Error = Invalid;

    fn try_from(body: AllocateRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let reason = f.check("reason", NonEmptyText::parse_max(&body.reason, 500));
        f.finish_with(|| reason)
    }
}

/// Body of an attendance record.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AttendanceRequest {
    /// The day of the term (`YYYY-MM-DD`); absent or null: every day of the term (what
    /// clients written before attendance by day send).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date, example = "2027-05-27")]
    pub day: Option<String>,
    /// Whether the participant was present (on that day, or on every day).
    pub attended: bool,
}

/// A checked attendance record: the day, if one was named, and presence.
pub struct Attendance {
    pub day: Option<NaiveDate>,
    pub attended: bool,
}

impl TryFrom<AttendanceRequest> for Attendance {
    type Error = Invalid;

    fn try_from(body: AttendanceRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let day = body
            .day
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| f.date("day", s));
        f.finish()?;
        Ok(Attendance {
            day,
            attended: body.attended,
        })
    }
}
