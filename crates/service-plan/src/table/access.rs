//! Printers of the access kinds: ServiceAccount (core/v1) and the four RBAC kinds
//! (rbac.authorization.k8s.io/v1), as kube-apiserver v1.32 prints them.
//!
//! ServiceAccount, RoleBinding and ClusterRoleBinding have printers in
//! pkg/printers/internalversion/printers.go (printServiceAccount, printRoleBinding,
//! printClusterRoleBinding). Role and ClusterRole have none: their storage
//! (pkg/registry/rbac/{role,clusterrole}/storage) uses apiserver's
//! `rest.NewDefaultTableConvertor`, whose columns are `Name` and `Created At` (type `date`,
//! the creation time as RFC 3339 in UTC) rather than an age.

use serde_json::Value;

use super::{
    DESC_AGE, TableColumnDefinition, age_cell, age_column, at, column, list_at, name_cell,
    name_column, str_at,
};

/// Columns of `kubectl get serviceaccounts`.
pub fn service_account_columns() -> Vec<TableColumnDefinition> {
    vec![
        name_column(0),
        column("Secrets", "string", 0, DESC_SERVICE_ACCOUNT_SECRETS),
        age_column(),
    ]
}

/// Cells of a ServiceAccount row. Mirrors printServiceAccount: the Secrets cell is the
/// number of `secrets` entries (an integer, though the column says `string`).
pub fn service_account_cells(sa: &Value, now: i64) -> Vec<Value> {
    let secrets = list_at(sa, &["secrets"]).len();
    vec![
        name_cell(sa),
        Value::from(i64::try_from(secrets).unwrap_or(i64::MAX)),
        age_cell(sa, now),
    ]
}

/// Columns of `kubectl get roles` and `kubectl get clusterroles`: apiserver's default table
/// convertor (pkg/registry/rest/table.go).
pub fn role_columns() -> Vec<TableColumnDefinition> {
    vec![name_column(0), column("Created At", "date", 0, DESC_AGE)]
}

/// Cells of a Role or ClusterRole row: the name and
/// `creationTimestamp.Time.UTC().Format(time.RFC3339)`.
pub fn role_cells(role: &Value) -> Vec<Value> {
    let created = at(role, &["metadata", "creationTimestamp"]).and_then(Value::as_str);
    vec![name_cell(role), Value::from(created_at(created))]
}

/// Go's `t.UTC().Format(time.RFC3339)` for a `metav1.Time`: whole seconds, `Z` for UTC;
/// the zero time, `0001-01-01T00:00:00Z`, when unset or unreadable.
pub fn created_at(timestamp: Option<&str>) -> String {
    timestamp
        .and_then(|t| t.parse::<k8s_openapi::jiff::Timestamp>().ok())
        .map_or_else(
            || GO_ZERO_TIME_RFC3339.to_owned(),
            |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
}

/// Columns of `kubectl get rolebindings`.
pub fn role_binding_columns() -> Vec<TableColumnDefinition> {
    binding_columns(DESC_ROLE_BINDING_ROLE_REF, "roleBinding")
}

/// Columns of `kubectl get clusterrolebindings`.
pub fn cluster_role_binding_columns() -> Vec<TableColumnDefinition> {
    binding_columns(DESC_CLUSTER_ROLE_BINDING_ROLE_REF, "clusterRoleBinding")
}

/// Name, Role, Age, then the `-o wide` Users, Groups and ServiceAccounts, described as
/// "Users in the roleBinding" and so on.
fn binding_columns(role_ref: &str, noun: &str) -> Vec<TableColumnDefinition> {
    vec![
        name_column(0),
        column("Role", "string", 0, role_ref),
        age_column(),
        column("Users", "string", 1, &format!("Users in the {noun}")),
        column("Groups", "string", 1, &format!("Groups in the {noun}")),
        column(
            "ServiceAccounts",
            "string",
            1,
            &format!("ServiceAccounts in the {noun}"),
        ),
    ]
}

/// Cells of a RoleBinding or ClusterRoleBinding row. Mirrors printRoleBinding and
/// printClusterRoleBinding: Role is `<kind>/<name>` of `roleRef`; the subjects are split
/// as `rbac.SubjectsStrings` does and each list joined by `, `.
pub fn binding_cells(binding: &Value, now: i64) -> Vec<Value> {
    let role_ref = format!(
        "{}/{}",
        str_at(binding, &["roleRef", "kind"]),
        str_at(binding, &["roleRef", "name"])
    );
    let subjects = SubjectsStrings::of(list_at(binding, &["subjects"]));
    vec![
        name_cell(binding),
        Value::from(role_ref),
        age_cell(binding, now),
        Value::from(subjects.users.join(", ")),
        Value::from(subjects.groups.join(", ")),
        Value::from(subjects.service_accounts.join(", ")),
    ]
}

/// upstream `rbac.SubjectsStrings`: the subjects of a binding sorted by kind, in their order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SubjectsStrings {
    /// Names of `User` subjects.
    pub users: Vec<String>,
    /// Names of `Group` subjects.
    pub groups: Vec<String>,
    /// `<namespace>/<name>` of `ServiceAccount` subjects.
    pub service_accounts: Vec<String>,
    /// `<kind>/<namespace>/<name>` of subjects of any other kind (not printed).
    pub others: Vec<String>,
}

impl SubjectsStrings {
    /// Splits `subjects` (a binding's `subjects` list) by kind.
    pub fn of(subjects: &[Value]) -> Self {
        let mut out = Self::default();
        for subject in subjects {
            let kind = str_at(subject, &["kind"]);
            let name = str_at(subject, &["name"]);
            let namespace = str_at(subject, &["namespace"]);
            match kind {
                "ServiceAccount" => out.service_accounts.push(format!("{namespace}/{name}")),
                "User" => out.users.push(name.to_owned()),
                "Group" => out.groups.push(name.to_owned()),
                _ => out.others.push(format!("{kind}/{namespace}/{name}")),
            }
        }
        out
    }
}

/// Go's zero `time.Time` formatted as RFC 3339.
const GO_ZERO_TIME_RFC3339: &str = "0001-01-01T00:00:00Z";

/// `apiv1.ServiceAccount{}.SwaggerDoc()["secrets"]` (k8s.io/api v0.32).
const DESC_SERVICE_ACCOUNT_SECRETS: &str = "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The \"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret";
/// `rbacv1beta1.RoleBinding{}.SwaggerDoc()["roleRef"]` (k8s.io/api v0.32; printers.go reads
/// the v1beta1 text, which lacks v1's "This field is immutable.").
const DESC_ROLE_BINDING_ROLE_REF: &str = "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.";
/// `rbacv1beta1.ClusterRoleBinding{}.SwaggerDoc()["roleRef"]` (k8s.io/api v0.32).
const DESC_CLUSTER_ROLE_BINDING_ROLE_REF: &str = "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.";

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{DESC_NAME, TableKind};
    use super::*;

    /// 2026-11-26T03:53:53Z
    const CREATED: i64 = 1_795_665_233;

    fn meta(name: &str) -> Value {
        json!({"name": name, "namespace": "default", "creationTimestamp": "2026-11-26T03:53:53Z"})
    }

    fn shape(cols: &[TableColumnDefinition]) -> Vec<(&str, &str, &str, i32)> {
        cols.iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.type_.as_str(),
                    c.format.as_str(),
                    c.priority,
                )
            })
            .collect()
    }

    #[test]
    fn service_account_table() {
        let kind = TableKind::from_kind("ServiceAccount").unwrap();
        let cols = kind.columns();
        assert_eq!(
            shape(&cols),
            vec![
                ("Name", "string", "name", 0),
                ("Secrets", "string", "", 0),
                ("Age", "string", "", 0)
            ]
        );
        assert_eq!(cols[0].description, DESC_NAME);
        assert!(
            cols[1]
                .description
                .starts_with("Secrets is a list of the secrets")
        );
        assert_eq!(cols[2].description, DESC_AGE);

        let sa = json!({"metadata": meta("builder"), "secrets": [{"name": "a"}, {"name": "b"}]});
        assert_eq!(
            kind.cells(&sa, CREATED + 3 * 86400),
            vec![json!("builder"), json!(2), json!("3d")]
        );
        // `kubectl get sa` of a fresh account: no secrets since v1.24.
        let fresh = json!({"metadata": meta("default")});
        assert_eq!(
            kind.cells(&fresh, CREATED + 5),
            vec![json!("default"), json!(0), json!("5s")]
        );
    }

    #[test]
    fn role_and_cluster_role_tables_are_the_default_convertor() {
        for name in ["Role", "ClusterRole"] {
            let kind = TableKind::from_kind(name).unwrap();
            let cols = kind.columns();
            assert_eq!(
                shape(&cols),
                vec![("Name", "string", "name", 0), ("Created At", "date", "", 0)],
                "{name}"
            );
            assert_eq!(cols[0].description, DESC_NAME);
            assert_eq!(cols[1].description, DESC_AGE);
            let role = json!({"metadata": meta("pod-reader"), "rules": []});
            // The cell is the creation time, whatever `now` is.
            assert_eq!(
                kind.cells(&role, CREATED + 999_999),
                vec![json!("pod-reader"), json!("2026-11-26T03:53:53Z")]
            );
        }
    }

    #[test]
    fn created_at_is_rfc3339_utc_in_whole_seconds() {
        assert_eq!(
            created_at(Some("2026-11-26T03:53:53Z")),
            "2026-11-26T03:53:53Z"
        );
        assert_eq!(
            created_at(Some("2026-11-26T05:53:53.75+02:00")),
            "2026-11-26T03:53:53Z"
        );
        assert_eq!(
            created_at(Some("1970-01-01T00:00:00Z")),
            "1970-01-01T00:00:00Z"
        );
        // Go truncates to the second below, before the epoch too.
        assert_eq!(
            created_at(Some("1969-12-31T23:59:59.5Z")),
            "1969-12-31T23:59:59Z"
        );
        // Unset (or unreadable): Go's zero time.
        assert_eq!(created_at(None), "0001-01-01T00:00:00Z");
        assert_eq!(created_at(Some("yesterday")), "0001-01-01T00:00:00Z");
        assert_eq!(
            role_cells(&json!({"metadata": {"name": "r"}})),
            vec![json!("r"), json!("0001-01-01T00:00:00Z")]
        );
    }

    #[test]
    fn role_binding_table() {
        let kind = TableKind::from_kind("RoleBinding").unwrap();
        let cols = kind.columns();
        assert_eq!(
            shape(&cols),
            vec![
                ("Name", "string", "name", 0),
                ("Role", "string", "", 0),
                ("Age", "string", "", 0),
                ("Users", "string", "", 1),
                ("Groups", "string", "", 1),
                ("ServiceAccounts", "string", "", 1)
            ]
        );
        let descriptions: Vec<&str> = cols.iter().map(|c| c.description.as_str()).collect();
        assert_eq!(
            descriptions,
            vec![
                DESC_NAME,
                "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
                DESC_AGE,
                "Users in the roleBinding",
                "Groups in the roleBinding",
                "ServiceAccounts in the roleBinding"
            ]
        );

        // kubectl create rolebinding alice-view --clusterrole=view --serviceaccount=default:alice
        let rb = json!({"metadata": meta("alice-view"),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "alice", "namespace": "default"}]});
        assert_eq!(
            kind.cells(&rb, CREATED + 90),
            vec![
                json!("alice-view"),
                json!("ClusterRole/view"),
                json!("90s"),
                json!(""),
                json!(""),
                json!("default/alice")
            ]
        );

        let mixed = json!({"metadata": meta("mixed"),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [
            {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "jane"},
            {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "devs"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "build"},
            {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "joe"},
            {"kind": "Robot", "name": "r2"},
            {"kind": "ServiceAccount", "name": "nobody"},
            {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}
        ]});
        assert_eq!(
            kind.cells(&mixed, CREATED),
            vec![
                json!("mixed"),
                json!("Role/pod-reader"),
                json!("0s"),
                json!("jane, joe"),
                json!("devs, system:authenticated"),
                json!("build/ci, /nobody")
            ]
        );
    }

    #[test]
    fn cluster_role_binding_table() {
        let kind = TableKind::from_kind("ClusterRoleBinding").unwrap();
        let cols = kind.columns();
        assert_eq!(
            shape(&cols),
            shape(&TableKind::RoleBinding.columns()),
            "same shape as RoleBinding's"
        );
        let descriptions: Vec<&str> = cols.iter().map(|c| c.description.as_str()).collect();
        assert_eq!(
            descriptions[1..],
            [
                "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
                DESC_AGE,
                "Users in the clusterRoleBinding",
                "Groups in the clusterRoleBinding",
                "ServiceAccounts in the clusterRoleBinding"
            ]
        );
        let crb = json!({"metadata": {"name": "cluster-admin", "creationTimestamp": "2026-11-26T03:53:53Z"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}]});
        assert_eq!(
            kind.cells(&crb, CREATED + 40 * 86400),
            vec![
                json!("cluster-admin"),
                json!("ClusterRole/cluster-admin"),
                json!("40d"),
                json!(""),
                json!("system:masters"),
                json!("")
            ]
        );
    }

    #[test]
    fn role_table_serializes_with_a_date_column() {
        let table = TableKind::Role.table(
            vec![json!({"metadata": meta("pod-reader")})],
            CREATED,
            super::super::TableListMeta::default(),
            super::super::IncludeObject::None,
        );
        let v = serde_json::to_value(&table).unwrap();
        assert_eq!(v["columnDefinitions"][1]["name"], json!("Created At"));
        assert_eq!(v["columnDefinitions"][1]["type"], json!("date"));
        assert_eq!(v["columnDefinitions"][1]["format"], json!(""));
        assert_eq!(
            v["rows"][0]["cells"],
            json!(["pod-reader", "2026-11-26T03:53:53Z"])
        );
    }

    #[test]
    fn subjects_strings_keeps_others_apart() {
        let s = SubjectsStrings::of(&[
            json!({"kind": "Robot", "namespace": "ns", "name": "r2"}),
            json!({"name": "kindless"}),
            json!("not an object"),
        ]);
        assert_eq!(
            s.others,
            vec![
                "Robot/ns/r2".to_owned(),
                "//kindless".to_owned(),
                "//".to_owned()
            ]
        );
        assert!(s.users.is_empty() && s.groups.is_empty() && s.service_accounts.is_empty());
    }

    #[test]
    fn bindings_without_role_ref_or_subjects() {
        let c = TableKind::RoleBinding.cells(&json!({"metadata": meta("bare")}), CREATED);
        assert_eq!(
            c,
            vec![
                json!("bare"),
                json!("/"),
                json!("0s"),
                json!(""),
                json!(""),
                json!("")
            ]
        );
    }
}
