//! What a request is in the audit log's words: the Kubernetes verb and the object it names,
//! from `service_plan::rbac::request_info` — the same reading RBAC authorises.

use serde::Serialize;
use service_plan::json::Pointer as _;

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
                .at(&format!("/metadata/{field}"))
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
    match service_plan::rbac::new_request_info(method, path, query.unwrap_or("")) {
        Ok(info) if info.is_resource_request => RequestAttributes {
            verb: info.verb,
            object: Some(ObjectRef {
                resource: info.resource,
                namespace: info.namespace,
                name: info.name,
                api_group: info.api_group,
                api_version: info.api_version,
                subresource: info.subresource,
                ..Default::default()
            }),
        },
        Ok(info) => RequestAttributes {
            verb: info.verb,
            object: None,
        },
        // A bare `/api/v1/watch`: kube-apiserver fails it before auditing a verb.
        Err(_) => RequestAttributes {
            verb: method.to_ascii_lowercase(),
            object: None,
        },
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
        // RequestInfoFactory names a namespace's own namespace, as its objectRef shows.
        assert_eq!(
            verb_and_ref("GET", "/api/v1/namespaces/a").1,
            Some(object("namespaces", "a", "a", ""))
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
