//! Limits that keep the public form usable under abuse: a per-client rate limit on
//! application submissions, and how the client's address is found.
//!
//! The limiter is `governor`'s keyed GCRA limiter (one cell of state per client address, no
//! background task), kept as a request extension so only the routes that ask for a
//! [`SubmissionQuota`] pay for it.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::http::problem::ApiError;

/// Largest request body accepted (413 above it). The largest legitimate body is a
/// programme's schedule CSV, a few KiB.
pub const BODY_LIMIT_BYTES: usize = 256 * 1024;

/// How a request's client address is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAddress {
    /// The TCP peer: right when clients connect directly.
    #[default]
    Peer,
    /// The last address of `X-Forwarded-For` (the one the proxy in front of us appended),
    /// falling back to the peer. Only behind a proxy that sets the header: a client could
    /// otherwise pick any address and escape the limit.
    TrustedProxy,
}

/// The per-client limit on public application submissions.
pub struct SubmissionLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    address: ClientAddress,
    checks: AtomicU64,
}

/// How often (in checks) the limiter forgets clients whose bucket is full again, so the
/// map of addresses stays bounded by the clients of the last minute or so.
const FORGET_EVERY: u64 = 1024;

impl SubmissionLimiter {
    /// `per_minute` submissions per client address, with `burst` allowed at once; `None`
    /// when `per_minute` is 0 (no limit).
    pub fn new(per_minute: u32, burst: u32, address: ClientAddress) -> Option<Self> {
        let rate = NonZeroU32::new(per_minute)?;
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Some(Self {
            limiter: RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst)),
            address,
            checks: AtomicU64::new(0),
        })
    }

    /// Takes one submission from `client`'s allowance, or answers how long to wait.
    fn check(&self, client: IpAddr) -> Result<(), ApiError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            // Retry-After is in whole seconds: round up so a client that obeys it succeeds.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::TooManyRequests {
                detail: "Too many applications were submitted from this address; retry later."
                    .to_owned(),
                retry_after_secs: u32::try_from(secs.max(1)).unwrap_or(u32::MAX),
            }
        })
    }

    /// The client address of a request, as [`ClientAddress`] says.
    fn client(&self, parts: &Parts) -> Option<IpAddr> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        if self.address == ClientAddress::TrustedProxy {
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|s| s.trim().parse::<IpAddr>().ok())
                .next_back();
            if forwarded.is_some() {
                return forwarded;
            }
        }
        peer
    }
}

/// Extractor that spends one unit of the caller's submission allowance (429 with
/// `Retry-After` when it is used up). Put it before the body extractor, so an abusive client
/// is refused before its body is read.
pub struct SubmissionQuota;

impl<S: Send + Sync> FromRequestParts<S> for SubmissionQuota {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(limiter) = parts.extensions.get::<Arc<SubmissionLimiter>>().cloned() else {
            // No limiter installed: the limit is off.
            return Ok(SubmissionQuota);
        };
        // Without a known address (a router driven in-process, with no connection) every
        // such request shares one allowance rather than escaping the limit.
        let client = limiter.client(parts).unwrap_or(IpAddr::from([0, 0, 0, 0]));
        limiter.check(client)?;
        Ok(SubmissionQuota)
    }
}
