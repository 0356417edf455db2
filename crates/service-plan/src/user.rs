//! Who made a request, as kube-apiserver's `user.Info` carries it: a name, a uid, groups and
//! extra values. Authentication produces it; authorization, the audit log and history read it.

use std::collections::BTreeMap;

/// The user every request without credentials is.
pub const ANONYMOUS: &str = "system:anonymous";
/// The group of [`ANONYMOUS`].
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
/// The group every authenticated user is in.
pub const AUTHENTICATED: &str = "system:authenticated";
/// The group that may do everything (kube-apiserver's superuser group).
pub const MASTERS: &str = "system:masters";
/// `user.KubeControllerManager`: the user kube-controller-manager authenticates as.
pub const KUBE_CONTROLLER_MANAGER: &str = "system:kube-controller-manager";
/// The group of every ServiceAccount.
pub const SERVICE_ACCOUNTS: &str = "system:serviceaccounts";

/// An authenticated (or anonymous) user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    /// The user of a request that carries no credentials.
    pub fn anonymous() -> UserInfo {
        UserInfo {
            name: ANONYMOUS.into(),
            groups: vec![UNAUTHENTICATED.into()],
            ..Default::default()
        }
    }

    /// A user named `name` in `groups` (plus `system:authenticated`, which every
    /// authenticated user is in).
    pub fn authenticated(name: &str, groups: impl IntoIterator<Item = String>) -> UserInfo {
        let mut groups: Vec<String> = groups.into_iter().collect();
        if !groups.iter().any(|g| g == AUTHENTICATED) {
            groups.push(AUTHENTICATED.into());
        }
        UserInfo {
            name: name.into(),
            groups,
            ..Default::default()
        }
    }

    /// The user of a ServiceAccount `namespace/name`, as its tokens authenticate.
    pub fn service_account(namespace: &str, name: &str, uid: &str) -> UserInfo {
        UserInfo {
            name: service_account_user(namespace, name),
            uid: uid.into(),
            groups: vec![
                SERVICE_ACCOUNTS.into(),
                format!("{SERVICE_ACCOUNTS}:{namespace}"),
                AUTHENTICATED.into(),
            ],
            ..Default::default()
        }
    }

    /// Whether the user is in `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// `system:serviceaccount:NAMESPACE:NAME`.
pub fn service_account_user(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

/// The namespace and name of a ServiceAccount user name, if it is one.
pub fn parse_service_account_user(user: &str) -> Option<(&str, &str)> {
    let rest = user.strip_prefix("system:serviceaccount:")?;
    let (namespace, name) = rest.split_once(':')?;
    (!namespace.is_empty() && !name.is_empty() && !name.contains(':')).then_some((namespace, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_users_round_trip() {
        let user = UserInfo::service_account("default", "alice", "u1");
        assert_eq!(user.name, "system:serviceaccount:default:alice");
        assert!(user.in_group("system:serviceaccounts:default"));
        assert_eq!(
            parse_service_account_user(&user.name),
            Some(("default", "alice"))
        );
        assert_eq!(parse_service_account_user("system:serviceaccount:a"), None);
        assert_eq!(parse_service_account_user("alice"), None);
    }

    #[test]
    fn authenticated_users_are_in_system_authenticated_once() {
        let user = UserInfo::authenticated("bob", ["system:authenticated".to_string()]);
        assert_eq!(user.groups, vec!["system:authenticated"]);
        assert!(!UserInfo::anonymous().in_group(AUTHENTICATED));
    }
}
