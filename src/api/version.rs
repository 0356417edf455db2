//! `GET /version`. The minor version is load-bearing: the kubectl dispatcher on our machines
//! runs the kubectl binary matching it, and 1.32 is the one the API is built for.

use axum::Json;
use serde_json::{Value, json};

/// The Kubernetes version this server answers as.
pub const GIT_VERSION: &str = "v1.32.0";

/// GET /version.
pub async fn version() -> Json<Value> {
    Json(json!({
        "major": "1",
        "minor": "32",
        "gitVersion": GIT_VERSION,
        "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T17:59:15Z",
        "goVersion": "go1.23.3",
        "compiler": "gc",
        "platform": "linux/amd64",
    }))
}
