//! Shared, cheap-to-clone application state.

use crate::auth::AuthMode;
use crate::registry::Registry;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub registry: Registry,
    /// How requests are authenticated and authorised.
    pub auth: AuthMode,
}
