//! Shared, cheap-to-clone application state.

use crate::registry::Registry;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub registry: Registry,
}
