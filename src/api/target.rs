//! What a resource URL names: the kind, the namespace, the object and the subresource,
//! read from `/api/v1/...` and `/apis/{group}/{version}/...` paths as kube-apiserver routes
//! them. Anything else is the generic 404.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::registry::{Kind, kind_for};

/// A subresource this server serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subresource {
    /// `.../{name}/status`.
    Status,
    /// `deployments/{name}/scale`.
    Scale,
    /// `serviceaccounts/{name}/token`: TokenRequest.
    Token,
}

/// The resource a request is about.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: &'static Kind,
    /// The namespace from the URL; `None` for cluster-scoped kinds and all-namespace lists.
    pub namespace: Option<String>,
    /// The object's name; `None` for the collection.
    pub name: Option<String>,
    pub subresource: Option<Subresource>,
}

impl Target {
    /// Parses a request path; `None` when the path serves nothing.
    pub fn parse(path: &str) -> Option<Target> {
        let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return None;
        }
        let (group, version, rest) = match segments.as_slice() {
            ["api", version, rest @ ..] => ("", *version, rest),
            ["apis", group, version, rest @ ..] => (*group, *version, rest),
            _ => return None,
        };
        // `/api/v1/namespaces/{ns}/status` is the Namespace's subresource, not a resource in it.
        let (namespace, rest) = match rest {
            ["namespaces", ns, resource, ..]
                if kind_for(group, version, resource).is_some_and(|k| k.namespaced) =>
            {
                (Some((*ns).to_string()), &rest[2..])
            }
            _ => (None, rest),
        };
        let (resource, name, sub) = match rest {
            [resource] => (*resource, None, None),
            [resource, name] => (*resource, Some((*name).to_string()), None),
            [resource, name, sub] => (*resource, Some((*name).to_string()), Some(*sub)),
            _ => return None,
        };
        let kind = kind_for(group, version, resource)?;
        // Namespaced objects live under their namespace; only their lists span all of them.
        if kind.namespaced && namespace.is_none() && name.is_some() {
            return None;
        }
        let subresource = match sub {
            None => None,
            Some("status") if kind.subresources.contains(&"status") => Some(Subresource::Status),
            Some("scale") if kind.subresources.contains(&"scale") => Some(Subresource::Scale),
            Some("token") if kind.subresources.contains(&"token") => Some(Subresource::Token),
            Some(_) => return None,
        };
        Some(Target {
            kind,
            namespace,
            name,
            subresource,
        })
    }

    /// A 405 for any method but POST on a create-only subresource (TokenRequest).
    pub fn reject_create_only(&self) -> Result<(), ApiError> {
        match self.subresource {
            Some(Subresource::Token) => Err(ApiError::method_not_allowed()),
            _ => Ok(()),
        }
    }

    /// The namespace objects are read and written in: `""` for cluster-scoped kinds.
    pub fn namespace_or_empty(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }

    /// The object name, or `""` on a collection path (handlers only call this on object paths).
    pub fn name_or_empty(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Target {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Target::parse(parts.uri.path()).ok_or_else(ApiError::path_not_found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resource, namespace, name and subresource of a parsed path.
    type Parts = (
        &'static str,
        Option<String>,
        Option<String>,
        Option<Subresource>,
    );

    fn parts(path: &str) -> Option<Parts> {
        Target::parse(path).map(|t| (t.kind.resource.plural, t.namespace, t.name, t.subresource))
    }

    #[test]
    fn namespaced_cluster_scoped_and_subresource_paths() {
        assert_eq!(
            parts("/api/v1/namespaces/default/services"),
            Some(("services", Some("default".into()), None, None))
        );
        assert_eq!(
            parts("/api/v1/services"),
            Some(("services", None, None, None))
        );
        assert_eq!(
            parts("/api/v1/namespaces/default"),
            Some(("namespaces", None, Some("default".into()), None))
        );
        assert_eq!(
            parts("/api/v1/namespaces/default/status"),
            Some((
                "namespaces",
                None,
                Some("default".into()),
                Some(Subresource::Status)
            ))
        );
        assert_eq!(
            parts("/apis/apps/v1/namespaces/a/deployments/web/status"),
            Some((
                "deployments",
                Some("a".into()),
                Some("web".into()),
                Some(Subresource::Status)
            ))
        );
    }

    #[test]
    fn unknown_paths_serve_nothing() {
        for path in [
            "/api/v2/services",
            "/api/v1/services/x",
            "/api/v1/namespaces/default/services/x/scale",
            "/api/v1/namespaces/default/endpoints/x/status",
            "/api/v1/namespaces/default/nodes",
            "/apis/apps/v1/services",
            "/api/v1/namespaces/default/services/",
            "/api/v1/namespaces/default/services/a/status/b",
        ] {
            assert!(Target::parse(path).is_none(), "{path}");
        }
    }
}
