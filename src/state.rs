//! Shared, cheap-to-clone application state: one reference count, however many parts, since
//! every middleware layer clones it for every request.

use std::ops::Deref;
use std::sync::Arc;

use crate::api::audit::AuditLog;
use crate::auth::AuthMode;
use crate::flowcontrol::FlowControl;
use crate::registry::Registry;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The parts of [`AppState`].
pub struct Shared {
    pub registry: Registry,
    /// How requests are authenticated and authorised.
    pub auth: AuthMode,
    /// Where audit events go (disabled unless `--audit-log-path` is given).
    pub audit: AuditLog,
    /// The snapshot API requests are classified by (API Priority and Fairness).
    pub flowcontrol: Arc<FlowControl>,
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Local mode, no audit log.
    pub fn new(registry: Registry) -> AppState {
        AppState(Arc::new(Shared {
            registry,
            auth: AuthMode::Local,
            audit: AuditLog::disabled(),
            flowcontrol: Arc::default(),
        }))
    }

    /// The same state in another mode (before serving starts).
    pub fn with_auth(&self, auth: AuthMode) -> AppState {
        AppState(Arc::new(Shared {
            registry: self.registry.clone(),
            auth,
            audit: self.audit.clone(),
            flowcontrol: Arc::clone(&self.flowcontrol),
        }))
    }

    /// The same state with another audit log (before serving starts).
    pub fn with_audit(&self, audit: AuditLog) -> AppState {
        AppState(Arc::new(Shared {
            registry: self.registry.clone(),
            auth: self.auth.clone(),
            audit,
            flowcontrol: Arc::clone(&self.flowcontrol),
        }))
    }
}
