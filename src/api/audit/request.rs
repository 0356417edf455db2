//! What a request is in the audit log's words: the Kubernetes verb and the object it names,
//! read from the method, path and query as kube-apiserver's `RequestInfoFactory` reads them.
//!
//! Our own small parser until `service_plan::rbac::request_info` (written on another branch
//! for RBAC) is merged; then both use that one (issue 13).

use serde::Serialize;

/// `audit.k8s.io/v1` ObjectReference, in upstream's field order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resource: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_group: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subresource: String,
}

impl ObjectRef {
    /// Fills what the path left empty from the request object's metadata, as upstream's
    /// `LogRequestObject` does (a create names its object only in the body).
    pub fn fill_from(&mut self, object: &serde_json::Value) {
        let meta = |field: &str| {
            object
                .pointer(&format!("/metadata/{field}"))
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        for (slot, field) in [
            (&mut self.namespace, "namespace"),
            (&mut self.name, "name"),
            (&mut self.uid, "uid"),
            (&mut self.resource_version, "resourceVersion"),
        ] {
            if slot.is_empty() {
                *slot = meta(field);
            }
        }
    }
}

/// The verb and, for a resource request, the object of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestAttributes {
    /// get, list, watch, create, update, patch, delete, deletecollection; for a
    /// non-resource request the lowercased HTTP method.
    pub verb: String,
    pub object: Option<ObjectRef>,
}

impl RequestAttributes {
    /// Whether the verb changes something.
    pub fn is_write(&self) -> bool {
        matches!(
            self.verb.as_str(),
            "create" | "update" | "patch" | "delete" | "deletecollection"
        )
    }
}

/// Reads the verb and object of a request, as `RequestInfoFactory.NewRequestInfo` does.
pub fn attributes(method: &str, path: &str, query: Option<&str>) -> RequestAttributes {
    let lower = method.to_ascii_lowercase();
    let non_resource = || RequestAttributes {
        verb: lower.clone(),
        object: None,
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, version, mut rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return non_resource(),
    };
    if rest.is_empty() || rest.iter().any(|s| s.is_empty()) {
        return non_resource();
    }
    let mut watch_path = false;
    if rest.first() == Some(&"watch") {
        watch_path = true;
        rest = &rest[1..];
    }
    let mut namespace = "";
    // `namespaces/{ns}/{resource}...` is in a namespace; `namespaces/{ns}` and
    // `namespaces/{ns}/status` are the Namespace itself.
    if rest.first() == Some(&"namespaces") && rest.len() >= 3 && rest[2] != "status" {
        namespace = rest[1];
        rest = &rest[2..];
    }
    let (resource, mut name, subresource) = match rest {
        [resource] => (*resource, "", ""),
        [resource, name] => (*resource, *name, ""),
        [resource, name, sub, ..] => (*resource, *name, *sub),
        [] => return non_resource(),
    };
    let query_says = |key: &str| {
        query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .find_map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (k == key).then(|| {
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned()
                })
            })
    };
    let watch = watch_path || query_says("watch").is_some_and(|v| v == "true" || v == "1");
    let verb = match method {
        "GET" | "HEAD" if watch => "watch",
        "GET" | "HEAD" if name.is_empty() => "list",
        "GET" | "HEAD" => "get",
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" if name.is_empty() => "deletecollection",
        "DELETE" => "delete",
        _ => lower.as_str(),
    }
    .to_owned();
    // A list or watch of one object by field selector names it, as upstream records.
    let selected;
    if (verb == "list" || verb == "watch") && name.is_empty() {
        selected = query_says("fieldSelector").and_then(|selector| {
            selector
                .strip_prefix("metadata.name=")
                .filter(|n| !n.contains(','))
                .map(str::to_owned)
        });
        if let Some(selected) = &selected {
            name = selected;
        }
    }
    RequestAttributes {
        verb,
        object: Some(ObjectRef {
            resource: resource.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            api_group: group.to_owned(),
            api_version: version.to_owned(),
            subresource: subresource.to_owned(),
            ..Default::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verb_and_ref(method: &str, uri: &str) -> (String, Option<ObjectRef>) {
        let (path, query) = uri
            .split_once('?')
            .map_or((uri, None), |(p, q)| (p, Some(q)));
        let a = attributes(method, path, query);
        (a.verb, a.object)
    }

    fn object(resource: &str, namespace: &str, name: &str, sub: &str) -> ObjectRef {
        ObjectRef {
            resource: resource.into(),
            namespace: namespace.into(),
            name: name.into(),
            api_group: String::new(),
            api_version: "v1".into(),
            subresource: sub.into(),
            ..Default::default()
        }
    }

    #[test]
    fn verbs_follow_method_name_and_watch() {
        let cases = [
            ("GET", "/api/v1/namespaces/default/services", "list"),
            (
                "GET",
                "/api/v1/namespaces/default/services?watch=true",
                "watch",
            ),
            (
                "GET",
                "/api/v1/namespaces/default/services?watch=1",
                "watch",
            ),
            ("GET", "/api/v1/namespaces/default/services/web", "get"),
            ("POST", "/api/v1/namespaces/default/services", "create"),
            ("PUT", "/api/v1/namespaces/default/services/web", "update"),
            ("PATCH", "/api/v1/namespaces/default/services/web", "patch"),
            (
                "DELETE",
                "/api/v1/namespaces/default/services/web",
                "delete",
            ),
            (
                "DELETE",
                "/api/v1/namespaces/default/services",
                "deletecollection",
            ),
            ("GET", "/api/v1/watch/namespaces/default/services", "watch"),
            ("GET", "/version", "get"),
            ("POST", "/services", "post"),
        ];
        for (method, uri, verb) in cases {
            assert_eq!(verb_and_ref(method, uri).0, verb, "{method} {uri}");
        }
    }

    #[test]
    fn object_references_name_resource_namespace_and_subresource() {
        assert_eq!(
            verb_and_ref("PUT", "/api/v1/namespaces/a/services/web/status").1,
            Some(object("services", "a", "web", "status"))
        );
        assert_eq!(
            verb_and_ref("GET", "/api/v1/namespaces/a").1,
            Some(object("namespaces", "", "a", ""))
        );
        assert_eq!(
            verb_and_ref(
                "GET",
                "/api/v1/namespaces/a/services?fieldSelector=metadata.name%3Dweb"
            )
            .1,
            Some(object("services", "a", "web", ""))
        );
        let deployments = verb_and_ref("GET", "/apis/apps/v1/namespaces/a/deployments/x/scale").1;
        assert_eq!(
            deployments.map(|o| (o.api_group, o.subresource)),
            Some(("apps".to_string(), "scale".to_string()))
        );
        assert_eq!(verb_and_ref("GET", "/openapi/v3").1, None);
        assert_eq!(verb_and_ref("GET", "/api/v1").1, None);
    }
}
