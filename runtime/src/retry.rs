//! Client-side retries with exponential backoff (protocol.md §4).
//!
//! Every HTTP request of a [`Client`](crate::Client) goes through one retry
//! loop, driven by the [`RetryPolicy`] of its [`CallKind`]. The default
//! counts and delays are fal's JS client's ([`RetryPolicies::default`]):
//!
//! | call | retries | base delay | max delay | statuses |
//! |---|---|---|---|---|
//! | [`CallKind::Run`] | 3 | 0.5 s | 15 s | 429 502 503 504 (see below: only when fal did not take the run) |
//! | [`CallKind::Submit`], [`CallKind::Result`] | 3 | 1 s | 60 s | 429 502 503 504 (submit: see below) |
//! | [`CallKind::Status`] | 5 | 1 s | 30 s | 429 500 502 503 504 |
//! | [`CallKind::Cancel`] | 3 | 1 s | 30 s | 429 502 503 504 |
//! | [`CallKind::Storage`] | 3 | 1 s | 30 s | 429 502 503 504 |
//!
//! The delay before retry `n` (0-based) is `min(base · 2ⁿ, max)` with ±25 %
//! uniform jitter, capped at `max`; the arithmetic saturates, so any
//! policy, even one built from [`Duration::MAX`], is valid (a delay that
//! would pass the caller's deadline ends the retries instead). A
//! `Retry-After` header (seconds or an HTTP date) is honoured: the client
//! waits at least that long, and gives up (returns the response's error)
//! when it asks for more than the policy's maximum delay. fal's own clients
//! ignore `Retry-After`; honouring it is this crate's choice.
//!
//! # What is retried
//!
//! **Idempotent calls** (status, result, cancel, storage initiate) are
//! retried on:
//!
//! - a response whose status is in the policy's list, **except** a 504 with
//!   `X-Fal-Request-Timeout-Type: user` (the caller's start timeout expired:
//!   retrying cannot help; both official clients refuse it);
//! - any failure to get a complete response: connecting failed, the
//!   connection was reset, a read or response timeout of the client
//!   ([`ClientBuilder::read_timeout`](crate::ClientBuilder::read_timeout) and
//!   friends), the body was cut.
//!
//! **A submit and a synchronous run are billed work**: each one fal accepts
//! is a job, and paying twice for one input is the failure this module is
//! built to avoid. They are retried **only when fal certainly did not take
//! the request**:
//!
//! 1. connecting failed (connection refused, DNS, TLS handshake, connect
//!    timeout): not one byte of the request was written;
//! 2. HTTP 429 (fal refused the request: rate or concurrency limit), if the
//!    policy lists 429;
//! 3. HTTP 502, 503 or 504 (if the policy lists it) that **comes from fal's
//!    ingress**: the response has **no** `x-fal-request-id` header **and**
//!    its body contains `nginx` (ASCII case-insensitive), i.e. nginx's own
//!    error page. This is fal's Python client's rule (`_maybe_retry_request`,
//!    protocol.md §4): the ingress answered before forwarding, so the queue
//!    or the runner never saw the request.
//!
//! Everything else is returned as is, **never retried**: a connection reset
//! or a timeout after the request was written, a body cut after the headers,
//! a 5xx with `x-fal-request-id` (the queue has the request), and a 5xx
//! without it whose body is not nginx's page — for example a proxy or load
//! balancer between the client and fal that answers 502 after it forwarded
//! the request (fal's JS client retries that one and can queue a job
//! twice). Any other status in the policy's list (such as a 500 added with
//! [`RetryPolicy::with_statuses`]) is not retried for these two calls either.
//! A synchronous run is not retried after a timeout or a read error even
//! though closing its connection asks fal to cancel it (protocol.md §7):
//! the model may already have finished, and the run would be paid twice.
//!
//! When such an error comes after fal accepted the request, the error says
//! so: [`Error::request_id`](crate::Error::request_id) returns the id when
//! the answer carried one (an `x-fal-request-id` header), so the job can be
//! followed with [`Client::request`](crate::Client::request).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// The operations of fal's queue protocol, each with its own [`RetryPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallKind {
    /// `POST {run base}/{endpoint id}` ([`Client::run`](crate::Client::run)).
    Run,
    /// `POST {queue base}/{endpoint id}` ([`Client::submit`](crate::Client::submit)).
    Submit,
    /// `GET {status_url}` ([`RequestHandle::status`](crate::RequestHandle::status)).
    Status,
    /// `GET {response_url}` ([`RequestHandle::result`](crate::RequestHandle::result)).
    Result,
    /// `PUT {cancel_url}` ([`RequestHandle::cancel`](crate::RequestHandle::cancel)).
    Cancel,
    /// `POST {rest base}/storage/upload/initiate[-multipart]` of an upload
    /// ([`Client::upload`](crate::Client::upload), protocol.md §5). The
    /// PUT to the signed URL it returns is never retried, and multipart part
    /// PUTs always get [`PART_ATTEMPTS`](crate::storage::PART_ATTEMPTS)
    /// tries, as fal's JS client.
    Storage,
}

impl CallKind {
    /// `run`, `submit`, `status`, `result`, `cancel` or `storage` (as recorded in the `fal.request` span).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::Submit => "submit",
            Self::Status => "status",
            Self::Result => "result",
            Self::Cancel => "cancel",
            Self::Storage => "storage",
        }
    }
}

/// How one kind of call is retried (protocol.md §4): how many times,
/// with which delays, on which HTTP statuses. Transport errors are always
/// retryable (within the submit rule, see the [module docs](self)).
///
/// ```
/// use std::time::Duration;
/// use fal_ltx::retry::RetryPolicy;
///
/// let policy = RetryPolicy::new(5, Duration::from_millis(200), Duration::from_secs(10));
/// assert_eq!(policy.max_retries(), 5);
/// assert!(policy.retries_status(503));
/// assert_eq!(RetryPolicy::none().max_retries(), 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    base_delay: Duration,
    max_delay: Duration,
    statuses: Vec<u16>,
}

/// The statuses fal's JS client retries by default.
const DEFAULT_STATUSES: [u16; 4] = [429, 502, 503, 504];

impl RetryPolicy {
    /// `max_retries` retries after the first attempt, delays starting at
    /// `base_delay` and doubling up to `max_delay`, on 429, 502, 503 and 504.
    #[must_use]
    pub fn new(max_retries: u32, base_delay: Duration, max_delay: Duration) -> Self {
        Self { max_retries, base_delay, max_delay: max_delay.max(base_delay), statuses: DEFAULT_STATUSES.to_vec() }
    }

    /// No retries at all: one attempt.
    #[must_use]
    pub fn none() -> Self {
        Self::new(0, Duration::ZERO, Duration::ZERO)
    }

    /// Replaces the retried HTTP statuses (default 429, 502, 503, 504).
    #[must_use]
    pub fn with_statuses(mut self, statuses: &[u16]) -> Self {
        self.statuses = statuses.to_vec();
        self
    }

    /// Keeps the delays and statuses, replaces the retry count.
    #[must_use]
    pub fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// Keeps the retry count and statuses, replaces the delays. Use tiny
    /// delays in tests: `policy.with_delays(Duration::from_millis(1), Duration::from_millis(5))`.
    #[must_use]
    pub fn with_delays(mut self, base_delay: Duration, max_delay: Duration) -> Self {
        self.base_delay = base_delay;
        self.max_delay = max_delay.max(base_delay);
        self
    }

    /// Retries after the first attempt.
    #[must_use]
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The delay before the first retry (before jitter).
    #[must_use]
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// The longest delay between two attempts; also the longest `Retry-After` honoured.
    #[must_use]
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// Whether a response with HTTP status `status` may be retried.
    #[must_use]
    pub fn retries_status(&self, status: u16) -> bool {
        self.statuses.contains(&status)
    }

    /// The backoff before retry `retry` (0-based): `min(base · 2^retry, max)`
    /// with ±25 % jitter, capped at `max`. Saturating: never panics, whatever
    /// the durations (the jitter is computed in `f64` seconds and a result
    /// that does not fit a [`Duration`] is the maximum delay).
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exponential = self.base_delay.saturating_mul(2u32.saturating_pow(retry.min(31)));
        let capped = exponential.min(self.max_delay);
        let jittered = capped.as_secs_f64() * (0.75 + 0.5 * unit_random());
        Duration::try_from_secs_f64(jittered).unwrap_or(self.max_delay).min(self.max_delay)
    }
}

/// A retry policy per [`CallKind`]. [`Default`] is fal's JS client's (see the
/// [module docs](self)).
///
/// ```
/// use std::time::Duration;
/// use fal_ltx::retry::{CallKind, RetryPolicies};
///
/// // Same retry counts, millisecond delays: for tests against a local server.
/// let fast = RetryPolicies::default().with_delays(Duration::from_millis(1), Duration::from_millis(10));
/// assert_eq!(fast.get(CallKind::Status).max_retries(), 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicies {
    run: RetryPolicy,
    submit: RetryPolicy,
    status: RetryPolicy,
    result: RetryPolicy,
    cancel: RetryPolicy,
    storage: RetryPolicy,
}

impl Default for RetryPolicies {
    fn default() -> Self {
        let secs = Duration::from_secs;
        Self {
            run: RetryPolicy::new(3, Duration::from_millis(500), secs(15)),
            submit: RetryPolicy::new(3, secs(1), secs(60)),
            status: RetryPolicy::new(5, secs(1), secs(30)).with_statuses(&[429, 500, 502, 503, 504]),
            result: RetryPolicy::new(3, secs(1), secs(60)),
            cancel: RetryPolicy::new(3, secs(1), secs(30)),
            storage: RetryPolicy::new(3, secs(1), secs(30)),
        }
    }
}

impl RetryPolicies {
    /// No retries for any call.
    #[must_use]
    pub fn none() -> Self {
        let none = RetryPolicy::none;
        Self { run: none(), submit: none(), status: none(), result: none(), cancel: none(), storage: none() }
    }

    /// The policy of `kind`.
    #[must_use]
    pub fn get(&self, kind: CallKind) -> &RetryPolicy {
        match kind {
            CallKind::Run => &self.run,
            CallKind::Submit => &self.submit,
            CallKind::Status => &self.status,
            CallKind::Result => &self.result,
            CallKind::Cancel => &self.cancel,
            CallKind::Storage => &self.storage,
        }
    }

    /// Replaces the policy of `kind`.
    #[must_use]
    pub fn with(mut self, kind: CallKind, policy: RetryPolicy) -> Self {
        *match kind {
            CallKind::Run => &mut self.run,
            CallKind::Submit => &mut self.submit,
            CallKind::Status => &mut self.status,
            CallKind::Result => &mut self.result,
            CallKind::Cancel => &mut self.cancel,
            CallKind::Storage => &mut self.storage,
        } = policy;
        self
    }

    /// [`RetryPolicy::with_delays`] applied to every policy.
    #[must_use]
    pub fn with_delays(self, base_delay: Duration, max_delay: Duration) -> Self {
        let set = |policy: RetryPolicy| policy.with_delays(base_delay, max_delay);
        Self {
            run: set(self.run),
            submit: set(self.submit),
            status: set(self.status),
            result: set(self.result),
            cancel: set(self.cancel),
            storage: set(self.storage),
        }
    }
}

impl CallKind {
    /// Whether a call of this kind is billed work that must never be sent
    /// twice: [`Submit`](CallKind::Submit) and [`Run`](CallKind::Run) (see
    /// the [module docs](self)).
    #[must_use]
    pub fn is_billed(self) -> bool {
        matches!(self, Self::Submit | Self::Run)
    }
}

/// What one attempt produced, as far as the retry decision is concerned.
#[derive(Debug)]
pub(crate) enum Attempt<'a> {
    /// A complete response (status, headers and the whole body).
    Response { status: StatusCode, headers: &'a HeaderMap, body: &'a [u8] },
    /// No complete response. `connect`: connecting failed, so nothing of
    /// the request was written; otherwise the server may have received it.
    Failed { connect: bool },
}

/// Whether a response comes from fal's ingress (nginx) rather than from the
/// queue or a runner: no `x-fal-request-id` header and `nginx` in the body
/// (fal's Python client's test, protocol.md §4).
pub(crate) fn from_ingress(headers: &HeaderMap, body: &[u8]) -> bool {
    !headers.contains_key("x-fal-request-id") && from_ingress_body(body)
}

/// Whether an error page's body is nginx's own (fal's ingress), the body half of [`from_ingress`].
pub(crate) fn from_ingress_body(body: &[u8]) -> bool {
    body.windows(5).any(|w| w.eq_ignore_ascii_case(b"nginx"))
}

/// Whether to retry, and after how long; `None` means "return this outcome".
/// `retry` is the 0-based index of the retry that would follow. The rules
/// are the [module docs](self)'.
pub(crate) fn retry_delay(kind: CallKind, policy: &RetryPolicy, retry: u32, attempt: &Attempt<'_>) -> Option<Duration> {
    if retry >= policy.max_retries {
        return None;
    }
    match attempt {
        // Billed calls: only when nothing was written.
        Attempt::Failed { connect } => (*connect || !kind.is_billed()).then(|| policy.backoff(retry)),
        Attempt::Response { status, headers, body } => {
            let status = status.as_u16();
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            if status == 504 && header("x-fal-request-timeout-type").is_some_and(|t| t.eq_ignore_ascii_case("user")) {
                return None;
            }
            if !policy.retries_status(status) {
                return None;
            }
            // Billed calls: only when fal refused (429) or its ingress answered.
            if kind.is_billed() && !(status == 429 || (matches!(status, 502..=504) && from_ingress(headers, body))) {
                return None;
            }
            let backoff = policy.backoff(retry);
            match header(RETRY_AFTER.as_str()).and_then(|v| parse_retry_after(v, SystemTime::now())) {
                Some(wait) if wait > policy.max_delay => None,
                Some(wait) => Some(wait.max(backoff)),
                None => Some(backoff),
            }
        }
    }
}

/// Parses a `Retry-After` value: delay-seconds (a non-negative integer;
/// a decimal is accepted too) or an HTTP date, relative to `now` (a date in
/// the past is zero). `None` when it is neither.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    // `SystemTime` arithmetic inside httpdate cannot overflow for the dates it parses.
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A number in `[0, 1)`, from std's randomly keyed hasher (no RNG crate
/// needed for jitter).
fn unit_random() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn decide(kind: CallKind, status: u16, pairs: &[(&'static str, &str)]) -> Option<Duration> {
        decide_body(kind, status, pairs, b"{}")
    }

    fn decide_body(kind: CallKind, status: u16, pairs: &[(&'static str, &str)], body: &[u8]) -> Option<Duration> {
        let policy = RetryPolicies::default().get(kind).clone();
        let headers = headers(pairs);
        let status = StatusCode::from_u16(status).unwrap();
        retry_delay(kind, &policy, 0, &Attempt::Response { status, headers: &headers, body })
    }

    const NGINX_PAGE: &[u8] = b"<html><body><center><h1>503 Service Temporarily Unavailable</h1></center>\
                                <hr><center>nginx</center></body></html>";

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("1.5", now), Some(Duration::from_millis(1500)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(120));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(120)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(120));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let policy = RetryPolicy::new(10, Duration::from_secs(1), Duration::from_secs(5));
        for _ in 0..50 {
            let first = policy.backoff(0);
            assert!(first >= Duration::from_millis(750) && first <= Duration::from_millis(1250), "{first:?}");
            let third = policy.backoff(2);
            assert!(third >= Duration::from_secs(3) && third <= Duration::from_secs(5), "{third:?}");
            assert!(policy.backoff(30) <= Duration::from_secs(5));
        }
    }

    #[test]
    fn retry_after_is_a_lower_bound_and_too_long_gives_up() {
        let delay = decide(CallKind::Status, 429, &[("retry-after", "20")]).unwrap();
        assert!(delay >= Duration::from_secs(20), "{delay:?}");
        // 120 s is more than the status policy's 30 s maximum.
        assert_eq!(decide(CallKind::Status, 429, &[("retry-after", "120")]), None);
    }

    #[test]
    fn statuses_follow_the_policy_and_the_user_timeout_is_final() {
        assert!(decide(CallKind::Result, 503, &[]).is_some());
        assert!(decide(CallKind::Result, 500, &[]).is_none());
        assert!(decide(CallKind::Status, 500, &[]).is_some());
        assert!(decide(CallKind::Result, 404, &[]).is_none());
        assert!(decide(CallKind::Result, 504, &[("x-fal-request-timeout-type", "user")]).is_none());
        assert!(decide(CallKind::Status, 504, &[("X-Fal-Request-Timeout-Type", "USER")]).is_none());
        assert!(decide(CallKind::Result, 504, &[("x-fal-request-timeout-type", "runner")]).is_some());
    }

    #[test]
    fn billed_5xx_is_retried_only_from_the_ingress() {
        for kind in [CallKind::Submit, CallKind::Run] {
            assert!(decide_body(kind, 503, &[], NGINX_PAGE).is_some(), "{kind:?}");
            assert!(decide_body(kind, 502, &[], b"<center>NGINX</center>").is_some(), "{kind:?}");
            assert!(decide_body(kind, 504, &[], NGINX_PAGE).is_some(), "{kind:?}");
            // The queue (or the runner) has it.
            assert!(decide_body(kind, 503, &[("x-fal-request-id", "r")], NGINX_PAGE).is_none(), "{kind:?}");
            assert!(decide(kind, 504, &[("x-fal-request-id", "r")]).is_none(), "{kind:?}");
            // A 5xx without the id that is not nginx's page: a proxy after forwarding.
            assert!(decide_body(kind, 502, &[], b"upstream connect error or disconnect/reset").is_none(), "{kind:?}");
            assert!(decide(kind, 503, &[]).is_none(), "{kind:?}");
            // 429: refused.
            assert!(decide(kind, 429, &[("x-fal-request-id", "r")]).is_some(), "{kind:?}");
            // Other statuses are never retried for billed calls, even when listed.
            let policy = RetryPolicy::new(3, Duration::ZERO, Duration::ZERO).with_statuses(&[500, 408]);
            let headers = HeaderMap::new();
            let attempt = Attempt::Response { status: StatusCode::INTERNAL_SERVER_ERROR, headers: &headers, body: b"" };
            assert!(retry_delay(kind, &policy, 0, &attempt).is_none(), "{kind:?}");
            // Failures: only a failed connect.
            let policy = RetryPolicies::default().get(kind).clone();
            assert!(retry_delay(kind, &policy, 0, &Attempt::Failed { connect: true }).is_some());
            assert!(retry_delay(kind, &policy, 0, &Attempt::Failed { connect: false }).is_none());
        }
        // Other calls are idempotent: the request id does not matter.
        assert!(decide(CallKind::Result, 503, &[("x-fal-request-id", "r")]).is_some());
        let policy = RetryPolicies::default().get(CallKind::Status).clone();
        assert!(retry_delay(CallKind::Status, &policy, 0, &Attempt::Failed { connect: false }).is_some());
    }

    #[test]
    fn extreme_policies_never_panic() {
        let durations = [
            Duration::ZERO,
            Duration::from_nanos(1),
            Duration::from_millis(1),
            Duration::from_secs(1),
            Duration::from_secs(u64::MAX / 2),
            Duration::from_secs(u64::MAX),
            Duration::MAX,
        ];
        let counts = [0, 1, 2, 31, 32, 63, 64, 1000, u32::MAX - 1, u32::MAX];
        let headers = HeaderMap::new();
        let retry_afters = ["0", "18446744073709551615", "1e300", "inf", "NaN", "-0", "99999999999999999999999"];
        for base in durations {
            for max in durations {
                let policy = RetryPolicy::new(u32::MAX, base, max);
                for retry in counts {
                    let delay = policy.backoff(retry);
                    assert!(delay <= policy.max_delay(), "{base:?} {max:?} {retry}: {delay:?}");
                    let attempt =
                        Attempt::Response { status: StatusCode::SERVICE_UNAVAILABLE, headers: &headers, body: b"" };
                    let _ = retry_delay(CallKind::Status, &policy, retry, &attempt);
                    let _ = retry_delay(CallKind::Submit, &policy, retry, &Attempt::Failed { connect: true });
                }
                for value in retry_afters {
                    let mut with = HeaderMap::new();
                    with.insert(RETRY_AFTER, value.parse().unwrap());
                    let attempt =
                        Attempt::Response { status: StatusCode::TOO_MANY_REQUESTS, headers: &with, body: b"" };
                    let _ = retry_delay(CallKind::Submit, &policy, 0, &attempt);
                }
            }
        }
        // The case of the issue: one retry, Duration::MAX delays, one 503.
        let policy = RetryPolicy::new(1, Duration::MAX, Duration::MAX);
        let attempt = Attempt::Response { status: StatusCode::SERVICE_UNAVAILABLE, headers: &headers, body: b"" };
        let delay = retry_delay(CallKind::Status, &policy, 0, &attempt).expect("retried");
        assert!(delay >= Duration::MAX.mul_f64(0.7), "{delay:?}");
        for value in retry_afters {
            let _ = parse_retry_after(value, SystemTime::UNIX_EPOCH);
            let _ = parse_retry_after(value, SystemTime::now());
        }
    }

    /// The property behind `extreme_policies_never_panic`, over random values: any policy, retry
    /// count and `Retry-After` gives a delay within the policy's maximum (or none), never a panic.
    #[test]
    fn random_policies_never_panic() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};

        let seed: u64 = std::env::var("RETRY_PROPERTY_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(14);
        let mut rng = StdRng::seed_from_u64(seed);
        // Durations spread over every magnitude: nanoseconds to Duration::MAX.
        let duration = |rng: &mut StdRng| match rng.random_range(0..4) {
            0 => Duration::from_nanos(rng.random_range(0..1_000_000_000)),
            1 => {
                let bits = rng.random_range(0..64);
                Duration::from_secs(rng.random_range(0..1u64 << bits))
            }
            2 => Duration::new(rng.random(), rng.random_range(0..1_000_000_000)),
            _ => Duration::MAX,
        };
        let headers = HeaderMap::new();
        let statuses = [429, 500, 502, 503, 504];
        for case in 0..200_000u32 {
            let (base, max) = (duration(&mut rng), duration(&mut rng));
            let policy = RetryPolicy::new(rng.random(), base, max);
            let retry = if rng.random_bool(0.5) { rng.random_range(0..64) } else { rng.random() };
            let delay = policy.backoff(retry);
            assert!(delay <= policy.max_delay(), "seed {seed} case {case}: {base:?} {max:?} {retry}: {delay:?}");
            let status = StatusCode::from_u16(statuses[rng.random_range(0..statuses.len())]).expect("status");
            let mut with = HeaderMap::new();
            let retry_after = if rng.random_bool(0.5) {
                rng.random::<u64>().to_string()
            } else {
                format!("{}", rng.random::<f64>() * 10f64.powi(rng.random_range(0..400)))
            };
            with.insert(RETRY_AFTER, retry_after.parse().expect("header value"));
            for headers in [&headers, &with] {
                let attempt = Attempt::Response { status, headers, body: b"" };
                for kind in [CallKind::Submit, CallKind::Status, CallKind::Run] {
                    let _ = retry_delay(kind, &policy, retry, &attempt);
                }
            }
            let _ = parse_retry_after(&retry_after, SystemTime::UNIX_EPOCH);
        }
    }

    #[test]
    fn the_retry_count_is_bounded() {
        let policy = RetryPolicy::new(2, Duration::ZERO, Duration::ZERO);
        let headers = HeaderMap::new();
        let attempt = Attempt::Response { status: StatusCode::SERVICE_UNAVAILABLE, headers: &headers, body: b"" };
        assert!(retry_delay(CallKind::Status, &policy, 1, &attempt).is_some());
        assert!(retry_delay(CallKind::Status, &policy, 2, &attempt).is_none());
        assert!(retry_delay(CallKind::Status, &RetryPolicy::none(), 0, &attempt).is_none());
    }
}
