//! The 403 a denied request gets, word for word: `forbiddenMessage` and `Forbidden` of
//! `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go`, wrapped
//! by apimachinery's `errors.NewForbidden`.

use super::authorizer::Attributes;
use super::request_info::sanitize;
use crate::field::go_quote;
use crate::status::{Status, StatusDetails};

/// The `reason` of a 403 Status.
pub const REASON_FORBIDDEN: &str = "Forbidden";

/// What the user may not do, e.g. `User "alice" cannot create resource "services" in API group
/// "" in the namespace "default"`; mirrors `forbiddenMessage`.
pub fn forbidden_message(attrs: &Attributes<'_>) -> String {
    let user = go_quote(&attrs.user.name);
    if !attrs.is_resource_request {
        return format!(
            "User {user} cannot {} path {}",
            attrs.verb,
            go_quote(attrs.path)
        );
    }
    let resource = if attrs.subresource.is_empty() {
        attrs.resource.to_string()
    } else {
        format!("{}/{}", attrs.resource, attrs.subresource)
    };
    let scope = if attrs.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace {}", go_quote(attrs.namespace))
    };
    format!(
        "User {user} cannot {} resource {} in API group {} {scope}",
        attrs.verb,
        go_quote(&resource),
        go_quote(attrs.api_group)
    )
}

/// The Status of a denied request; mirrors `responsewriters.Forbidden`.
///
/// The message is `services "web" is forbidden: User … cannot …`, then `: <reason>` when the
/// authorizer gave one; `details` carry the name, the group and the resource as `kind`.
/// A non-resource request reads `forbidden: User "x" cannot get path "/foo"` with empty details.
pub fn forbidden_status(attrs: &Attributes<'_>, reason: &str) -> Status {
    let message = sanitize(&forbidden_message(attrs));
    let err = if reason.is_empty() {
        message
    } else {
        format!("{message}: {reason}")
    };
    // Upstream passes the text to fmt.Errorf as its format string.
    forbidden(
        attrs.api_group,
        attrs.resource,
        attrs.name,
        &go_format_without_args(&err),
    )
}

/// A 403 for `group`/`resource` object `name` with the given error text; mirrors
/// `errors.NewForbidden`.
pub fn forbidden(group: &str, resource: &str, name: &str, err: &str) -> Status {
    let qualified = if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    };
    let message = if group.is_empty() && resource.is_empty() {
        format!("forbidden: {err}")
    } else if name.is_empty() {
        format!("{qualified} is forbidden: {err}")
    } else {
        format!("{qualified} {} is forbidden: {err}", go_quote(name))
    };
    Status::failure(
        403,
        REASON_FORBIDDEN,
        message,
        Some(StatusDetails {
            name: name.to_string(),
            group: group.to_string(),
            kind: resource.to_string(),
            ..Default::default()
        }),
    )
}

/// What Go's `fmt.Errorf(s)` makes of a string used as its own format with no arguments:
/// `%%` is `%`, any other verb prints `%!v(MISSING)`, a trailing `%` prints `%!(NOVERB)`.
pub fn go_format_without_args(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        while chars
            .next_if(|c| matches!(c, '+' | '-' | '#' | ' ' | '0'))
            .is_some()
        {}
        let mut bad_width = false;
        if chars.next_if_eq(&'*').is_some() {
            bad_width = true;
        } else {
            while chars.next_if(char::is_ascii_digit).is_some() {}
        }
        let mut bad_precision = false;
        if chars.next_if_eq(&'.').is_some() {
            if chars.next_if_eq(&'*').is_some() {
                bad_precision = true;
            } else {
                while chars.next_if(char::is_ascii_digit).is_some() {}
            }
        }
        if bad_width {
            out.push_str("%!(BADWIDTH)");
        }
        if bad_precision {
            out.push_str("%!(BADPREC)");
        }
        match chars.next() {
            None => out.push_str("%!(NOVERB)"),
            Some('%') => out.push('%'),
            Some(verb) => {
                out.push_str("%!");
                out.push(verb);
                out.push_str("(MISSING)");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::request_info::new_request_info;
    use crate::user::UserInfo;

    fn status_for(user: &UserInfo, method: &str, path: &str, reason: &str) -> Status {
        let info = new_request_info(method, path, "").unwrap();
        forbidden_status(&Attributes::for_request(user, &info), reason)
    }

    #[test]
    fn namespaced_create_reads_like_kube_apiserver() {
        let alice = UserInfo::service_account("default", "alice", "u1");
        let status = status_for(&alice, "POST", "/api/v1/namespaces/default/services", "");
        assert_eq!(
            status.message,
            "services is forbidden: User \"system:serviceaccount:default:alice\" cannot create resource \"services\" in API group \"\" in the namespace \"default\""
        );
        assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
        let details = status.details.unwrap();
        assert_eq!(
            (
                details.kind.as_str(),
                details.group.as_str(),
                details.name.as_str()
            ),
            ("services", "", "")
        );
    }

    #[test]
    fn named_subresource_and_cluster_scope_variants() {
        let bob = UserInfo::authenticated("bob", []);
        let status = status_for(
            &bob,
            "PUT",
            "/api/v1/namespaces/default/services/web/status",
            "",
        );
        assert_eq!(
            status.message,
            "services \"web\" is forbidden: User \"bob\" cannot update resource \"services/status\" in API group \"\" in the namespace \"default\""
        );
        assert_eq!(status.details.as_ref().unwrap().name, "web");

        let status = status_for(
            &bob,
            "GET",
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/view",
            "",
        );
        assert_eq!(
            status.message,
            "clusterroles.rbac.authorization.k8s.io \"view\" is forbidden: User \"bob\" cannot get resource \"clusterroles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope"
        );
        let details = status.details.unwrap();
        assert_eq!(
            (details.kind.as_str(), details.group.as_str()),
            ("clusterroles", "rbac.authorization.k8s.io")
        );

        let status = status_for(&bob, "GET", "/api/v1/nodes", "");
        assert_eq!(
            status.message,
            "nodes is forbidden: User \"bob\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"
        );
    }

    #[test]
    fn non_resource_requests_name_the_path() {
        let anonymous = UserInfo::anonymous();
        let status = status_for(&anonymous, "GET", "/foo", "");
        assert_eq!(
            status.message,
            "forbidden: User \"system:anonymous\" cannot get path \"/foo\""
        );
        assert_eq!(status.details, Some(StatusDetails::default()));
        assert_eq!(
            serde_json::to_value(&status).unwrap()["details"],
            serde_json::json!({})
        );
    }

    #[test]
    fn the_reason_follows_and_html_is_escaped() {
        let bob = UserInfo::authenticated("bob<script>", []);
        let status = status_for(
            &bob,
            "GET",
            "/api/v1/namespaces/default/services/web",
            "RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found",
        );
        assert_eq!(
            status.message,
            "services \"web\" is forbidden: User \"bob&lt;script&gt;\" cannot get resource \"services\" in API group \"\" in the namespace \"default\": RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found"
        );
    }

    #[test]
    fn percent_signs_go_through_go_formatting() {
        assert_eq!(go_format_without_args("100%"), "100%!(NOVERB)");
        assert_eq!(go_format_without_args("a%sb"), "a%!s(MISSING)b");
        assert_eq!(go_format_without_args("50%% off"), "50% off");
        assert_eq!(go_format_without_args("%-5d"), "%!d(MISSING)");
        assert_eq!(go_format_without_args("/a%2Fb"), "/a%!F(MISSING)b");
    }
}
