//! Whether one `PolicyRule` allows a request, and how upstream prints a rule in messages.
//! Mirrors `RuleAllows` in `plugin/pkg/auth/authorizer/rbac/rbac.go` and the matchers and
//! `CompactString` of `pkg/apis/rbac/v1/evaluation_helpers.go`.

use k8s_openapi::api::rbac::v1::PolicyRule;

use super::ALL;
use super::authorizer::Attributes;
use crate::field::go_quote;

/// The items of an optional list field, empty when unset.
pub(crate) fn items(list: &Option<Vec<String>>) -> &[String] {
    list.as_deref().unwrap_or_default()
}

/// Whether the rule lists the verb or `*`; mirrors `VerbMatches`.
pub fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == ALL || v == verb)
}

/// Whether the rule lists the group or `*`; mirrors `APIGroupMatches`.
pub fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    items(&rule.api_groups)
        .iter()
        .any(|g| g == ALL || g == group)
}

/// Whether the rule covers `resource[/subresource]`; mirrors `ResourceMatches`.
///
/// `*` matches everything, the combined `services/status` matches exactly, and `*/status`
/// matches any resource's `status` subresource. `services` alone never matches a subresource,
/// and upstream has no `services/*` wildcard: that entry matches only a subresource called `*`.
pub fn resource_matches(rule: &PolicyRule, resource: &str, subresource: &str) -> bool {
    let combined = if subresource.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}/{subresource}")
    };
    items(&rule.resources).iter().any(|r| {
        r == ALL
            || *r == combined
            || (!subresource.is_empty() && r.strip_prefix("*/") == Some(subresource))
    })
}

/// Whether the rule allows the object name; mirrors `ResourceNameMatches`.
///
/// An empty `resourceNames` allows every name. A non-empty one never allows a request
/// without a name (create, list, watch, deletecollection), because `""` is not in it.
pub fn resource_name_matches(rule: &PolicyRule, name: &str) -> bool {
    let names = items(&rule.resource_names);
    names.is_empty() || names.iter().any(|n| n == name)
}

/// Whether the rule covers a non-resource path; mirrors `NonResourceURLMatches`: `*`, an
/// exact path, or a prefix ending in `*`.
pub fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    items(&rule.non_resource_urls).iter().any(|url| {
        url == ALL
            || url == path
            || url
                .strip_suffix('*')
                .is_some_and(|_| path.starts_with(url.trim_end_matches('*')))
    })
}

/// Whether the rule allows the request; mirrors `RuleAllows`.
pub fn rule_allows(attrs: &Attributes<'_>, rule: &PolicyRule) -> bool {
    if attrs.is_resource_request {
        return verb_matches(rule, attrs.verb)
            && api_group_matches(rule, attrs.api_group)
            && resource_matches(rule, attrs.resource, attrs.subresource)
            && resource_name_matches(rule, attrs.name);
    }
    verb_matches(rule, attrs.verb) && non_resource_url_matches(rule, attrs.path)
}

/// Whether any of the rules allows the request; mirrors `RulesAllow`.
pub fn rules_allow(attrs: &Attributes<'_>, rules: &[PolicyRule]) -> bool {
    rules.iter().any(|rule| rule_allows(attrs, rule))
}

/// A string slice as Go's `%q` prints it: `["a" "b"]`, `[]` when empty.
pub fn go_quoted_list(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
    format!("[{}]", quoted.join(" "))
}

/// The rule as escalation errors print it, e.g.
/// `{APIGroups:[""], Resources:["services"], Verbs:["create"]}`; mirrors `CompactString`.
pub fn compact_string(rule: &PolicyRule) -> String {
    let fields = [
        ("APIGroups", items(&rule.api_groups)),
        ("Resources", items(&rule.resources)),
        ("NonResourceURLs", items(&rule.non_resource_urls)),
        ("ResourceNames", items(&rule.resource_names)),
        ("Verbs", rule.verbs.as_slice()),
    ];
    let parts: Vec<String> = fields
        .iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(label, values)| format!("{label}:{}", go_quoted_list(values)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// A rule built from literal lists, as upstream's `rbacv1helpers.NewRule(...)` builders do
/// before sorting; empty lists stay unset.
pub fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    let list = |v: &[&str]| (!v.is_empty()).then(|| v.iter().map(|s| s.to_string()).collect());
    PolicyRule {
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        api_groups: list(groups),
        resources: list(resources),
        ..Default::default()
    }
}

/// A non-resource rule: `verbs` on `urls`.
pub fn url_rule(verbs: &[&str], urls: &[&str]) -> PolicyRule {
    PolicyRule {
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        non_resource_urls: Some(urls.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::UserInfo;

    fn with_names(mut r: PolicyRule, names: &[&str]) -> PolicyRule {
        r.resource_names = Some(names.iter().map(|s| s.to_string()).collect());
        r
    }

    fn resource_attrs<'a>(
        user: &'a UserInfo,
        verb: &'a str,
        group: &'a str,
        resource: &'a str,
        subresource: &'a str,
        name: &'a str,
    ) -> Attributes<'a> {
        Attributes {
            subresource,
            ..Attributes::resource(user, verb, group, resource, "default", name)
        }
    }

    #[test]
    fn verbs_groups_and_resources_match_exactly_or_by_star() {
        let user = UserInfo::default();
        let get = resource_attrs(&user, "get", "", "services", "", "web");
        assert!(rule_allows(&get, &rule(&["get"], &[""], &["services"])));
        assert!(rule_allows(&get, &rule(&["*"], &["*"], &["*"])));
        assert!(!rule_allows(&get, &rule(&["list"], &[""], &["services"])));
        assert!(!rule_allows(
            &get,
            &rule(&["get"], &["apps"], &["services"])
        ));
        assert!(!rule_allows(&get, &rule(&["get"], &[""], &["pods"])));
        // Case matters, as in upstream's string comparisons.
        assert!(!rule_allows(&get, &rule(&["GET"], &[""], &["services"])));
    }

    #[test]
    fn subresources_need_their_own_entry_or_star_slash() {
        let user = UserInfo::default();
        let status = resource_attrs(&user, "update", "", "services", "status", "web");
        assert!(!rule_allows(
            &status,
            &rule(&["update"], &[""], &["services"])
        ));
        assert!(rule_allows(
            &status,
            &rule(&["update"], &[""], &["services/status"])
        ));
        assert!(rule_allows(
            &status,
            &rule(&["update"], &[""], &["*/status"])
        ));
        assert!(rule_allows(&status, &rule(&["update"], &[""], &["*"])));
        // `services/*` is no wildcard upstream.
        assert!(!rule_allows(
            &status,
            &rule(&["update"], &[""], &["services/*"])
        ));
        assert!(!rule_allows(
            &status,
            &rule(&["update"], &[""], &["*/scale"])
        ));
        let scale = resource_attrs(&user, "patch", "apps", "deployments", "scale", "d");
        assert!(rule_allows(
            &scale,
            &rule(&["patch"], &["apps"], &["deployments/scale"])
        ));
        let token = resource_attrs(&user, "create", "", "serviceaccounts", "token", "alice");
        assert!(rule_allows(
            &token,
            &with_names(
                rule(&["create"], &[""], &["serviceaccounts/token"]),
                &["alice"]
            )
        ));
        // `*/status` does not match the parent resource itself.
        let plain = resource_attrs(&user, "get", "", "services", "", "web");
        assert!(!rule_allows(&plain, &rule(&["get"], &[""], &["*/status"])));
    }

    #[test]
    fn resource_names_restrict_and_never_allow_unnamed_requests() {
        let user = UserInfo::default();
        let named = with_names(
            rule(&["get", "create", "list"], &[""], &["services"]),
            &["web"],
        );
        assert!(rule_allows(
            &resource_attrs(&user, "get", "", "services", "", "web"),
            &named
        ));
        assert!(!rule_allows(
            &resource_attrs(&user, "get", "", "services", "", "db"),
            &named
        ));
        // create and list carry no name, so a named rule cannot allow them.
        assert!(!rule_allows(
            &resource_attrs(&user, "create", "", "services", "", ""),
            &named
        ));
        assert!(!rule_allows(
            &resource_attrs(&user, "list", "", "services", "", ""),
            &named
        ));
        let empty_names = with_names(rule(&["get"], &[""], &["services"]), &[]);
        assert!(rule_allows(
            &resource_attrs(&user, "get", "", "services", "", "x"),
            &empty_names
        ));
    }

    #[test]
    fn non_resource_urls_match_exactly_or_by_trailing_star() {
        let user = UserInfo::default();
        let at = |path: &'static str| Attributes::non_resource(&user, "get", path);
        let r = url_rule(&["get"], &["/healthz", "/apis/*", "/version/"]);
        assert!(rule_allows(&at("/healthz"), &r));
        assert!(!rule_allows(&at("/healthz/etcd"), &r));
        assert!(rule_allows(&at("/apis/apps/v1"), &r));
        assert!(rule_allows(&at("/apis/"), &r));
        assert!(!rule_allows(&at("/apis"), &r));
        assert!(rule_allows(&at("/version/"), &r));
        assert!(!rule_allows(&at("/version"), &r));
        assert!(rule_allows(&at("/anything"), &url_rule(&["*"], &["*"])));
        // Resource rules never allow non-resource requests and vice versa.
        assert!(!rule_allows(&at("/healthz"), &rule(&["*"], &["*"], &["*"])));
        let get = resource_attrs(&user, "get", "", "services", "", "web");
        assert!(!rule_allows(&get, &url_rule(&["*"], &["*"])));
    }

    #[test]
    fn compact_string_prints_like_go() {
        assert_eq!(
            compact_string(&rule(&["create"], &[""], &["services"])),
            "{APIGroups:[\"\"], Resources:[\"services\"], Verbs:[\"create\"]}"
        );
        assert_eq!(
            compact_string(&with_names(
                rule(&["get", "update"], &["apps"], &["deployments"]),
                &["d"]
            )),
            "{APIGroups:[\"apps\"], Resources:[\"deployments\"], ResourceNames:[\"d\"], Verbs:[\"get\" \"update\"]}"
        );
        assert_eq!(
            compact_string(&url_rule(&["get"], &["/healthz"])),
            "{NonResourceURLs:[\"/healthz\"], Verbs:[\"get\"]}"
        );
        assert_eq!(compact_string(&PolicyRule::default()), "{}");
    }
}
