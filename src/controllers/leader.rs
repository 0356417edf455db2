//! Leader election of the controllers, as kube-controller-manager runs it (`--leader-elect`):
//! every replica is a candidate for the Lease `kube-system/kube-controller-manager`; the one
//! holding it runs the controllers and renews it every retry period; when it cannot renew
//! within the renew deadline it stops them and becomes a candidate again, and another replica
//! takes over once the lease has not changed for a lease duration. On shutdown the leader
//! releases the lease (client-go's `ReleaseOnCancel`), so another replica takes over at once.
//!
//! The decisions are `service_plan::lease::election`'s; this module reads and writes the Lease
//! through the registry as kube-controller-manager's user (`LeaseLock`) and keeps the timing
//! (`acquire` and `renew` in client-go's leaderelection.go).
//!
//! Lease writes keep no history (only Services' writes do) and, being the registry's own
//! writes rather than API requests, never reach the audit log.

use std::time::{Duration, Instant};

use serde_json::Value;
use service_plan::lease::election::{Elector, LEASE_NAME, LEASE_NAMESPACE, Record, Timing};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{
    ControllerOptions, Controllers, EventRecord, authorized, record_event, start_controllers,
    writer,
};
use crate::AppState;
use crate::registry::{Kind, LEASES, RegistryError, kind_by_plural};

/// kube-controller-manager's own name: the field manager of its lease writes (its user
/// agent), the source of its events, and what makes its writes `system:kube-controller-manager`'s.
pub const MANAGER: &str = "kube-controller-manager";

/// The controllers of this replica: always running, or running while it leads.
pub enum ControllerManager {
    /// `--leader-elect=false`: this replica runs the controllers regardless of others.
    Unelected(Controllers),
    /// The controllers run while this replica holds the lease.
    Elected(LeaderElection),
}

impl ControllerManager {
    /// Starts the controllers: at once without election; with it, after this replica first
    /// acquires the lease.
    pub async fn start(
        state: &AppState,
        options: ControllerOptions,
        election: Option<Timing>,
    ) -> Result<ControllerManager, RegistryError> {
        match election {
            None => Ok(ControllerManager::Unelected(
                start_controllers(state, options).await?,
            )),
            Some(timing) => Ok(ControllerManager::Elected(
                LeaderElection::start(state.clone(), options, timing, process_identity()).await,
            )),
        }
    }

    /// Stops the controllers; an elected leader then gives up its lease.
    pub async fn stop(self) {
        match self {
            ControllerManager::Unelected(controllers) => drop(controllers),
            ControllerManager::Elected(election) => election.stop().await,
        }
    }
}

/// kube-controller-manager's identity: `os.Hostname()` (which reads
/// /proc/sys/kernel/hostname on Linux), `_`, and a UUID unique to this process.
fn process_identity() -> String {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string());
    service_plan::lease::election::identity(&hostname, &uuid::Uuid::new_v4().to_string())
}

/// The running election; [`LeaderElection::stop`] ends it.
pub struct LeaderElection {
    identity: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl LeaderElection {
    /// Makes one attempt at once, so that a lone replica (or the first of several) runs its
    /// controllers before it serves, then campaigns and renews in the background.
    pub async fn start(
        state: AppState,
        options: ControllerOptions,
        timing: Timing,
        identity: String,
    ) -> LeaderElection {
        let (stop, stopped) = watch::channel(false);
        let mut candidate = Candidate {
            elector: Elector::new(identity.clone(), timing),
            lock: LeaseLock::new(state.clone()),
            state,
            options,
            timing,
            controllers: None,
            reported_leader: String::new(),
        };
        tracing::info!(
            identity = %identity,
            "attempting to acquire leader lease {LEASE_NAMESPACE}/{LEASE_NAME}..."
        );
        if candidate.try_acquire_or_renew().await {
            candidate.lead().await;
        }
        let task = tokio::spawn(candidate.run(stopped));
        LeaderElection {
            identity,
            stop,
            task,
        }
    }

    /// This replica's identity in the lease.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Ends the election without releasing the lease, as a replica that crashed does: its
    /// controllers stop, and the others take over once the lease expires.
    pub fn abandon(self) {
        self.task.abort();
    }

    /// Stops the controllers and, if this replica holds the lease, releases it.
    pub async fn stop(self) {
        // The task may have ended already (it never does on its own); either way it is done.
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "leader election task failed");
        }
    }
}

/// One replica's side of the election.
struct Candidate {
    elector: Elector,
    lock: LeaseLock,
    state: AppState,
    options: ControllerOptions,
    timing: Timing,
    /// Running while this replica leads.
    controllers: Option<Controllers>,
    /// The last leader logged (`maybeReportTransition`).
    reported_leader: String,
}

/// What a wait ended with.
#[derive(PartialEq, Eq)]
enum Waited {
    Elapsed,
    Stopped,
}

async fn wait(period: Duration, stopped: &mut watch::Receiver<bool>) -> Waited {
    if *stopped.borrow() {
        return Waited::Stopped;
    }
    tokio::select! {
        () = tokio::time::sleep(period) => Waited::Elapsed,
        // A dropped sender stops the election as a sent `true` does.
        _ = stopped.changed() => Waited::Stopped,
    }
}

impl Candidate {
    /// Campaigns (every retry period, jittered) and leads (renewing every retry period)
    /// until stopped; a leader that cannot renew within the renew deadline stops its
    /// controllers and campaigns again.
    async fn run(mut self, mut stopped: watch::Receiver<bool>) {
        loop {
            while self.controllers.is_none() {
                let jitter: f64 = rand::random();
                if wait(self.timing.jittered_retry(jitter), &mut stopped).await == Waited::Stopped {
                    return;
                }
                if self.try_acquire_or_renew().await {
                    self.lead().await;
                }
            }
            loop {
                if wait(self.timing.retry_period, &mut stopped).await == Waited::Stopped {
                    self.controllers = None;
                    self.release().await;
                    self.record("stopped leading").await;
                    return;
                }
                if !self.renew_within_deadline().await {
                    break;
                }
            }
            self.controllers = None;
            self.record("stopped leading").await;
            tracing::error!(
                identity = %self.elector.identity(),
                holder = %self.elector.leader(),
                "leaderelection lost: lease {LEASE_NAMESPACE}/{LEASE_NAME} not renewed; controllers stopped"
            );
        }
    }

    /// Starts the controllers of a replica that just acquired the lease. If they cannot
    /// start, the lease is released for another replica.
    async fn lead(&mut self) {
        tracing::info!(
            identity = %self.elector.identity(),
            "successfully acquired lease {LEASE_NAMESPACE}/{LEASE_NAME}; starting the controllers"
        );
        self.record("became leader").await;
        match start_controllers(&self.state, self.options).await {
            Ok(controllers) => self.controllers = Some(controllers),
            Err(e) => {
                tracing::error!(error = %e, "the controllers did not start; releasing the lease");
                self.release().await;
            }
        }
    }

    /// `LeaseLock.RecordEvent`: a Normal `LeaderElection` Event about the Lease, as
    /// `kubectl describe lease` shows it; failing to record it changes nothing.
    async fn record(&self, what: &str) {
        let Some(lease) = self.lock.lease.as_ref() else {
            return;
        };
        let message = format!("{} {what}", self.elector.identity());
        let event = EventRecord {
            object: lease,
            type_: "Normal",
            reason: "LeaderElection",
            message: &message,
            component: MANAGER,
        };
        // Bounded: a replica that lost its lease because the store is unreachable must not
        // wait on it for longer than a renewal would.
        let recorded = tokio::time::timeout(
            self.timing.renew_deadline,
            record_event(&self.state.registry, event, true),
        )
        .await;
        match recorded {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "could not record the leader election event"),
            Err(_) => tracing::warn!("could not record the leader election event: timed out"),
        }
    }

    /// `renew`: retries every retry period until a renewal succeeds or the renew deadline
    /// passes; an attempt still running at the deadline is abandoned.
    async fn renew_within_deadline(&mut self) -> bool {
        let deadline = Instant::now() + self.timing.renew_deadline;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return false;
            }
            match tokio::time::timeout(remaining, self.try_acquire_or_renew()).await {
                Ok(true) => return true,
                Ok(false) => {}
                Err(_) => return false,
            }
            if !self.elector.is_leader() {
                // Someone else holds the lease now: no retry can renew it.
                return false;
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            tokio::time::sleep(self.timing.retry_period.min(remaining)).await;
        }
    }

    /// `tryAcquireOrRenew`: true when this replica holds the lease afterwards.
    async fn try_acquire_or_renew(&mut self) -> bool {
        let acquired = self.attempt().await;
        self.report_transition();
        acquired
    }

    async fn attempt(&mut self) -> bool {
        let (now, wall) = (Instant::now(), jiff_now());
        // 1. The leader's fast path: renew on top of the Lease it last wrote.
        if let Some(record) = self.elector.renewal(now, wall) {
            match self.lock.update(&record).await {
                Ok(()) => {
                    self.elector.wrote(record, Instant::now());
                    return true;
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    "failed to update lock optimistically, falling back to slow path"
                ),
            }
        }
        // 2. Read the Lease, or create it.
        let stored = match self.lock.get().await {
            Ok(Some(stored)) => stored,
            Ok(None) => {
                let record = self.elector.creation(wall);
                return match self.lock.create(&record).await {
                    Ok(()) => {
                        self.elector.wrote(record, Instant::now());
                        true
                    }
                    Err(e) => {
                        log_write_failure("error initially creating leader election record", &e);
                        false
                    }
                };
            }
            Err(e) => {
                tracing::error!(error = %e, "error retrieving resource lock {LEASE_NAMESPACE}/{LEASE_NAME}");
                return false;
            }
        };
        // 3. Held by someone else and unexpired: wait. Otherwise take or renew it.
        let Some(record) = self.elector.decide(stored, now, wall) else {
            tracing::debug!(holder = %self.elector.leader(), "lock is held and has not yet expired");
            return false;
        };
        match self.lock.update(&record).await {
            Ok(()) => {
                self.elector.wrote(record, Instant::now());
                true
            }
            Err(e) => {
                log_write_failure("failed to update lock", &e);
                false
            }
        }
    }

    /// Logs a change of the observed leader once (`maybeReportTransition`).
    fn report_transition(&mut self) {
        let leader = self.elector.leader();
        if leader == self.reported_leader {
            return;
        }
        self.reported_leader = leader.to_string();
        if !leader.is_empty() && leader != self.elector.identity() {
            tracing::info!(leader = %leader, "new leader elected for lease {LEASE_NAMESPACE}/{LEASE_NAME}");
        }
    }

    /// `release`: gives the lease up when this replica holds it.
    async fn release(&mut self) {
        let Some(record) = self.elector.release(jiff_now()) else {
            return;
        };
        let released =
            tokio::time::timeout(self.timing.renew_deadline, self.lock.update(&record)).await;
        match released {
            Ok(Ok(())) => {
                self.elector.wrote(record, Instant::now());
                tracing::info!(
                    identity = %self.elector.identity(),
                    "released lease {LEASE_NAMESPACE}/{LEASE_NAME}"
                );
            }
            Ok(Err(e)) => tracing::error!(error = %e, "failed to release lock"),
            Err(_) => tracing::error!("failed to release lock: timed out"),
        }
    }
}

/// A lost race is the election working; anything else is worth an error.
fn log_write_failure(what: &str, error: &RegistryError) {
    match error {
        RegistryError::Conflict { .. } | RegistryError::AlreadyExists { .. } => {
            tracing::debug!(error = %error, "{what}: another candidate wrote first");
        }
        _ => tracing::error!(error = %error, "{what}"),
    }
}

fn jiff_now() -> service_plan::k8s_openapi::jiff::Timestamp {
    service_plan::k8s_openapi::jiff::Timestamp::now()
}

/// client-go's `LeaseLock`: reads and writes the Lease through the registry as
/// kube-controller-manager, each update at the resourceVersion last read or written, so a
/// write racing another candidate's is a Conflict.
struct LeaseLock {
    state: AppState,
    /// The Lease as last read or written.
    lease: Option<Value>,
}

impl LeaseLock {
    fn new(state: AppState) -> LeaseLock {
        LeaseLock { state, lease: None }
    }

    fn kind() -> Result<&'static Kind, RegistryError> {
        kind_by_plural(LEASES.plural)
            .ok_or_else(|| RegistryError::Internal("leases are not served".into()))
    }

    fn authorize(&self, verb: &str, name: &str) -> Result<&'static Kind, RegistryError> {
        let kind = Self::kind()?;
        let registry = &self.state.registry;
        authorized(registry, MANAGER, verb, kind, "", LEASE_NAMESPACE, name)?;
        Ok(kind)
    }

    /// The Lease's record, `None` when there is no Lease.
    async fn get(&mut self) -> Result<Option<Record>, RegistryError> {
        self.authorize("get", LEASE_NAME)?;
        let stored = self
            .state
            .registry
            .get_raw(LEASES.plural, LEASE_NAMESPACE, LEASE_NAME)
            .await?;
        self.lease = stored.map(|s| {
            let mut object = s.object;
            object["metadata"]["resourceVersion"] = Value::String(s.revision.to_string());
            object
        });
        Ok(self.lease.as_ref().map(Record::from_lease))
    }

    async fn create(&mut self, record: &Record) -> Result<(), RegistryError> {
        let kind = self.authorize("create", "")?;
        let body = serde_json::json!({
            "apiVersion": kind.api_version(),
            "kind": kind.resource.kind,
            "metadata": {"name": LEASE_NAME, "namespace": LEASE_NAMESPACE},
            "spec": record.to_spec(),
        });
        let applied = self
            .state
            .registry
            .create(kind, LEASE_NAMESPACE, &body, &writer(MANAGER))
            .await?;
        self.lease = Some(applied.object);
        Ok(())
    }

    /// Replaces the spec of the Lease last read or written.
    async fn update(&mut self, record: &Record) -> Result<(), RegistryError> {
        let kind = self.authorize("update", LEASE_NAME)?;
        let Some(mut body) = self.lease.clone() else {
            return Err(RegistryError::Internal(
                "lease not initialized, call get or create first".into(),
            ));
        };
        body["spec"] = record.to_spec();
        let applied = self
            .state
            .registry
            .update(kind, LEASE_NAMESPACE, LEASE_NAME, &body, &writer(MANAGER))
            .await?;
        self.lease = Some(applied.object);
        Ok(())
    }
}
