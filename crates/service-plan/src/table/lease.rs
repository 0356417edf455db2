//! The printer of coordination.k8s.io/v1 Leases, as kube-apiserver v1.32 prints them
//! (pkg/printers/internalversion/printers.go: `leaseColumnDefinitions`, printLease).

use serde_json::Value;

use super::{TableColumnDefinition, age_cell, age_column, column, name_cell, name_column, str_at};

/// `LeaseSpec{}.SwaggerDoc()["holderIdentity"]`.
const DESC_LEASE_HOLDER: &str = "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.";

/// Columns of `kubectl get leases`.
pub fn lease_columns() -> Vec<TableColumnDefinition> {
    vec![
        name_column(0),
        column("Holder", "string", 0, DESC_LEASE_HOLDER),
        age_column(),
    ]
}

/// Cells of a Lease row: the holder is empty (not `<none>`) when nobody holds it.
pub fn lease_cells(lease: &Value, now: i64) -> Vec<Value> {
    vec![
        name_cell(lease),
        Value::from(str_at(lease, &["spec", "holderIdentity"])),
        age_cell(lease, now),
    ]
}
