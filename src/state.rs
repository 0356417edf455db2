//! Shared, cheap-to-clone application state.

use crate::api::audit::AuditLog;
use crate::auth::AuthMode;
use crate::registry::Registry;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub registry: Registry,
    /// How requests are authenticated and authorised.
    pub auth: AuthMode,
    /// Where audit events go (disabled unless `--audit-log-path` is given).
    pub audit: AuditLog,
}
