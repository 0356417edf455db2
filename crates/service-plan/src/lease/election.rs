//! Leader election over a Lease, as client-go's `tools/leaderelection` runs it for
//! kube-controller-manager: the rules of `tryAcquireOrRenew` and `release`
//! (leaderelection.go) and the record a `LeaseLock` reads and writes (resourcelock/
//! leaselock.go). Pure: the caller reads and writes the Lease and passes the local clock (an
//! `Instant`, which decides expiry) and the wall clock (a timestamp, which is only written).
//!
//! As upstream, a candidate never trusts the times written in the Lease: a lease held by
//! someone else counts as expired `leaseDurationSeconds` after this candidate last saw the
//! record change, on its own clock.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::LeaseSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

/// kube-controller-manager's lease: `--leader-elect-resource-namespace`.
pub const LEASE_NAMESPACE: &str = "kube-system";
/// kube-controller-manager's lease: `--leader-elect-resource-name`.
pub const LEASE_NAME: &str = "kube-controller-manager";
/// `--leader-elect-lease-duration`'s default.
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(15);
/// `--leader-elect-renew-deadline`'s default.
pub const DEFAULT_RENEW_DEADLINE: Duration = Duration::from_secs(10);
/// `--leader-elect-retry-period`'s default.
pub const DEFAULT_RETRY_PERIOD: Duration = Duration::from_secs(2);
/// `JitterFactor`: a candidate waits between one and 2.2 retry periods between attempts.
pub const JITTER_FACTOR: f64 = 1.2;

/// `LeaderElectionRecord`: what a Lease's spec says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// Empty when nobody holds the lease (it was released).
    pub holder_identity: String,
    pub lease_duration_seconds: i32,
    pub acquire_time: Option<Timestamp>,
    pub renew_time: Option<Timestamp>,
    pub leader_transitions: i32,
}

impl Record {
    /// `LeaseSpecToLeaderElectionRecord`: missing fields read as zero values.
    pub fn from_lease(lease: &Value) -> Record {
        let spec: LeaseSpec = lease
            .get("spec")
            .cloned()
            .and_then(|s| serde_json::from_value(s).ok())
            .unwrap_or_default();
        Record {
            holder_identity: spec.holder_identity.unwrap_or_default(),
            lease_duration_seconds: spec.lease_duration_seconds.unwrap_or(0),
            acquire_time: spec.acquire_time.map(|t| t.0),
            renew_time: spec.renew_time.map(|t| t.0),
            leader_transitions: spec.lease_transitions.unwrap_or(0),
        }
    }

    /// `LeaderElectionRecordToLeaseSpec`: every field written, an empty holder included.
    pub fn to_spec(&self) -> Value {
        let spec = LeaseSpec {
            holder_identity: Some(self.holder_identity.clone()),
            lease_duration_seconds: Some(self.lease_duration_seconds),
            acquire_time: self.acquire_time.map(MicroTime),
            renew_time: self.renew_time.map(MicroTime),
            lease_transitions: Some(self.leader_transitions),
            ..Default::default()
        };
        serde_json::to_value(spec).unwrap_or(Value::Null)
    }
}

/// The timing of an election, checked as `NewLeaderElector` checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// How long a candidate waits after it last saw the record change before taking over.
    pub lease_duration: Duration,
    /// How long the leader keeps retrying a renewal before it gives up leading.
    pub renew_deadline: Duration,
    /// How long to wait between attempts.
    pub retry_period: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            lease_duration: DEFAULT_LEASE_DURATION,
            renew_deadline: DEFAULT_RENEW_DEADLINE,
            retry_period: DEFAULT_RETRY_PERIOD,
        }
    }
}

impl Timing {
    /// `NewLeaderElector`'s checks, with its messages.
    pub fn check(&self) -> Result<(), String> {
        if self.lease_duration <= self.renew_deadline {
            return Err("leaseDuration must be greater than renewDeadline".into());
        }
        if self.renew_deadline <= self.retry_period.mul_f64(JITTER_FACTOR) {
            return Err("renewDeadline must be greater than retryPeriod*JitterFactor".into());
        }
        if self.lease_duration.is_zero() {
            return Err("leaseDuration must be greater than zero".into());
        }
        if self.renew_deadline.is_zero() {
            return Err("renewDeadline must be greater than zero".into());
        }
        if self.retry_period.is_zero() {
            return Err("retryPeriod must be greater than zero".into());
        }
        // Not upstream's: the Lease counts whole seconds and refuses 0, so a shorter
        // duration could never be written.
        if self.lease_duration < Duration::from_secs(1) {
            return Err("leaseDuration must be at least 1s".into());
        }
        Ok(())
    }

    /// `wait.Jitter(retryPeriod, JitterFactor)` for a random `fraction` in [0, 1): how long a
    /// candidate waits before its next attempt.
    pub fn jittered_retry(&self, fraction: f64) -> Duration {
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.retry_period + self.retry_period.mul_f64(fraction * JITTER_FACTOR)
    }

    /// The lease duration written into the record, in whole seconds as upstream truncates it.
    fn lease_seconds(&self) -> i32 {
        i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX)
    }
}

/// Go's `time.ParseDuration`, which reads kube-controller-manager's duration flags (`15s`,
/// `1m30s`, `500ms`, `1.5h`); negative durations are refused, as no timing may be negative.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("time: invalid duration {}", crate::field::go_quote(text));
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| {
                format!(
                    "time: missing unit in duration {}",
                    crate::field::go_quote(text)
                )
            })?;
        let (number, tail) = rest.split_at(number_end);
        let value: f64 = number.parse().map_err(|_| invalid())?;
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let seconds = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    crate::field::go_quote(unit),
                    crate::field::go_quote(text)
                ));
            }
        };
        total += Duration::try_from_secs_f64(value * seconds).map_err(|_| invalid())?;
        rest = tail;
    }
    Ok(total)
}

/// kube-controller-manager's identity: the host name, `_`, and a UUID unique to the process,
/// so that two processes on one host are two candidates.
pub fn identity(hostname: &str, uuid: &str) -> String {
    format!("{hostname}_{uuid}")
}

/// One candidate's view of the election: its identity and the record it last observed, with
/// the local time it observed it.
#[derive(Debug, Clone)]
pub struct Elector {
    identity: String,
    timing: Timing,
    observed: Record,
    observed_at: Option<Instant>,
}

impl Elector {
    /// A candidate that has observed nothing yet.
    pub fn new(identity: String, timing: Timing) -> Elector {
        Elector {
            identity,
            timing,
            observed: Record::default(),
            observed_at: None,
        }
    }

    /// This candidate's identity.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The holder of the record last observed (empty: none).
    pub fn leader(&self) -> &str {
        &self.observed.holder_identity
    }

    /// `IsLeader`: the record last observed names this candidate.
    pub fn is_leader(&self) -> bool {
        self.observed.holder_identity == self.identity
    }

    /// `isLeaseValid`: less than the observed record's `leaseDurationSeconds` has passed since
    /// it was observed.
    pub fn is_lease_valid(&self, now: Instant) -> bool {
        let seconds = u64::try_from(self.observed.lease_duration_seconds).unwrap_or(0);
        self.observed_at
            .is_some_and(|at| at + Duration::from_secs(seconds) > now)
    }

    /// The record this candidate writes to hold the lease from `wall` on.
    fn own_record(&self, wall: Timestamp) -> Record {
        Record {
            holder_identity: self.identity.clone(),
            lease_duration_seconds: self.timing.lease_seconds(),
            acquire_time: Some(wall),
            renew_time: Some(wall),
            leader_transitions: 0,
        }
    }

    /// Step 1, the leader's fast path: while its lease is valid, the leader renews on top of
    /// the record it last wrote, without reading the Lease first. `None`: take the slow path.
    pub fn renewal(&self, now: Instant, wall: Timestamp) -> Option<Record> {
        if !(self.is_leader() && self.is_lease_valid(now)) {
            return None;
        }
        Some(Record {
            acquire_time: self.observed.acquire_time,
            leader_transitions: self.observed.leader_transitions,
            ..self.own_record(wall)
        })
    }

    /// Step 2, no Lease yet: the record to create it with.
    pub fn creation(&self, wall: Timestamp) -> Record {
        self.own_record(wall)
    }

    /// Step 3, the Lease read: observes its record (restarting the expiry clock when it
    /// changed) and decides. `None`: someone else holds an unexpired lease. Otherwise the
    /// record to write, at the resourceVersion read (a conflict means another candidate won).
    pub fn decide(&mut self, stored: Record, now: Instant, wall: Timestamp) -> Option<Record> {
        if self.observed_at.is_none() || stored != self.observed {
            self.observed = stored;
            self.observed_at = Some(now);
        }
        if !self.observed.holder_identity.is_empty()
            && self.is_lease_valid(now)
            && !self.is_leader()
        {
            return None;
        }
        let mut record = self.own_record(wall);
        if self.is_leader() {
            record.acquire_time = self.observed.acquire_time;
            record.leader_transitions = self.observed.leader_transitions;
        } else {
            record.leader_transitions = self.observed.leader_transitions.saturating_add(1);
        }
        Some(record)
    }

    /// `setObservedRecord` after a write succeeded.
    pub fn wrote(&mut self, record: Record, now: Instant) {
        self.observed = record;
        self.observed_at = Some(now);
    }

    /// `release` (ReleaseOnCancel): the record that gives the lease up, when this candidate
    /// holds it: no holder, a one-second duration, the transitions kept.
    pub fn release(&self, wall: Timestamp) -> Option<Record> {
        self.is_leader().then(|| Record {
            holder_identity: String::new(),
            lease_duration_seconds: 1,
            acquire_time: Some(wall),
            renew_time: Some(wall),
            leader_transitions: self.observed.leader_transitions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wall(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_795_665_233 + seconds).expect("timestamp")
    }

    fn elector(name: &str) -> Elector {
        Elector::new(identity("host", name), Timing::default())
    }

    #[test]
    fn the_first_candidate_creates_the_lease_holding_it() {
        let a = elector("a");
        let record = a.creation(wall(0));
        assert_eq!(record.holder_identity, "host_a");
        assert_eq!(record.lease_duration_seconds, 15);
        assert_eq!(record.leader_transitions, 0);
        assert_eq!(record.acquire_time, record.renew_time);
        assert_eq!(
            record.to_spec(),
            json!({
                "acquireTime": "2026-11-26T03:53:53.000000Z",
                "holderIdentity": "host_a",
                "leaseDurationSeconds": 15,
                "leaseTransitions": 0,
                "renewTime": "2026-11-26T03:53:53.000000Z",
            })
        );
        let lease = json!({"spec": record.to_spec()});
        assert_eq!(Record::from_lease(&lease), record);
    }

    #[test]
    fn a_held_lease_is_left_alone_until_unchanged_for_its_duration() {
        let start = Instant::now();
        let held = Record {
            holder_identity: "host_a".into(),
            lease_duration_seconds: 15,
            acquire_time: Some(wall(0)),
            renew_time: Some(wall(0)),
            leader_transitions: 3,
        };
        let mut b = elector("b");
        assert_eq!(b.decide(held.clone(), start, wall(0)), None);
        assert_eq!(b.leader(), "host_a");
        // Unchanged for 14 s: still held; the times in the record are never trusted.
        assert_eq!(
            b.decide(held.clone(), start + Duration::from_secs(14), wall(100)),
            None
        );
        // A renewal restarts the clock.
        let renewed = Record {
            renew_time: Some(wall(10)),
            ..held.clone()
        };
        let at = start + Duration::from_secs(14);
        assert_eq!(b.decide(renewed.clone(), at, wall(14)), None);
        assert_eq!(
            b.decide(renewed.clone(), at + Duration::from_secs(14), wall(28)),
            None
        );
        // Unchanged for the whole duration: taken over, one more transition.
        let taken = b
            .decide(renewed, at + Duration::from_secs(15), wall(29))
            .expect("expired");
        assert_eq!(taken.holder_identity, "host_b");
        assert_eq!(taken.leader_transitions, 4);
        assert_eq!(taken.acquire_time, Some(wall(29)));
    }

    #[test]
    fn a_released_lease_is_taken_at_once() {
        let mut a = elector("a");
        let t0 = Instant::now();
        let created = a.creation(wall(0));
        a.wrote(created, t0);
        assert!(a.is_leader());
        let released = a.release(wall(5)).expect("held");
        assert_eq!(released.holder_identity, "");
        assert_eq!(released.lease_duration_seconds, 1);
        assert_eq!(
            released.to_spec()["holderIdentity"],
            json!(""),
            "an empty holder is written, not omitted"
        );
        a.wrote(released.clone(), t0);
        assert!(!a.is_leader());
        assert_eq!(a.release(wall(6)), None, "only the holder releases");
        let mut b = elector("b");
        let taken = b.decide(released, t0, wall(5)).expect("released");
        assert_eq!(taken.holder_identity, "host_b");
        assert_eq!(taken.leader_transitions, 1);
    }

    #[test]
    fn the_leader_renews_keeping_its_acquire_time() {
        let mut a = elector("a");
        let t0 = Instant::now();
        a.wrote(a.creation(wall(0)), t0);
        let renewal = a
            .renewal(t0 + Duration::from_secs(2), wall(2))
            .expect("fast path");
        assert_eq!(renewal.acquire_time, Some(wall(0)));
        assert_eq!(renewal.renew_time, Some(wall(2)));
        assert_eq!(renewal.leader_transitions, 0);
        // Past its lease on its own clock the leader reads the Lease first (the slow path).
        assert_eq!(a.renewal(t0 + Duration::from_secs(15), wall(15)), None);
        let stored = Record::from_lease(&json!({"spec": renewal.to_spec()}));
        let slow = a
            .decide(stored, t0 + Duration::from_secs(15), wall(15))
            .expect("still ours");
        assert_eq!(slow.acquire_time, Some(wall(0)));
        assert_eq!(slow.renew_time, Some(wall(15)));
        // Another holder in the stored record means this candidate lost.
        let other = Record {
            holder_identity: "host_b".into(),
            ..slow
        };
        assert_eq!(
            a.decide(other, t0 + Duration::from_secs(16), wall(16)),
            None
        );
        assert!(!a.is_leader());
        assert_eq!(a.renewal(t0 + Duration::from_secs(16), wall(16)), None);
    }

    #[test]
    fn records_read_missing_fields_as_zero() {
        assert_eq!(Record::from_lease(&json!({})), Record::default());
        assert_eq!(
            Record::from_lease(
                &json!({"spec": {"holderIdentity": "x", "renewTime": "2026-11-26T03:53:53.123456Z"}})
            ),
            Record {
                holder_identity: "x".into(),
                renew_time: Some("2026-11-26T03:53:53.123456Z".parse().expect("time")),
                ..Record::default()
            }
        );
        // An unheld record with a zero duration is expired for everyone.
        let mut b = elector("b");
        assert!(
            b.decide(Record::default(), Instant::now(), wall(0))
                .is_some()
        );
    }

    #[test]
    fn durations_parse_as_go_does() {
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(
            parse_duration("15"),
            Err("time: missing unit in duration \"15\"".into())
        );
        assert_eq!(
            parse_duration("3d"),
            Err("time: unknown unit \"d\" in duration \"3d\"".into())
        );
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn timing_is_checked_as_upstream() {
        assert_eq!(Timing::default().check(), Ok(()));
        let secs = Duration::from_secs;
        let timing = |lease, renew, retry| Timing {
            lease_duration: secs(lease),
            renew_deadline: secs(renew),
            retry_period: secs(retry),
        };
        assert_eq!(
            timing(10, 10, 2).check(),
            Err("leaseDuration must be greater than renewDeadline".into())
        );
        assert_eq!(
            timing(15, 2, 2).check(),
            Err("renewDeadline must be greater than retryPeriod*JitterFactor".into())
        );
        assert_eq!(
            timing(15, 10, 0).check(),
            Err("retryPeriod must be greater than zero".into())
        );
        let millis = |lease, renew, retry| Timing {
            lease_duration: Duration::from_millis(lease),
            renew_deadline: Duration::from_millis(renew),
            retry_period: Duration::from_millis(retry),
        };
        assert_eq!(
            millis(900, 500, 100).check(),
            Err("leaseDuration must be at least 1s".into())
        );
        assert_eq!(millis(1500, 1000, 200).check(), Ok(()));
        let t = Timing::default();
        assert_eq!(t.jittered_retry(0.0), secs(2));
        assert_eq!(t.jittered_retry(0.5), Duration::from_millis(3200));
        assert_eq!(t.jittered_retry(f64::NAN), secs(2));
    }
}
