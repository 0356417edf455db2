//! kube-apiserver's deprecated watch paths, `/api/v1/watch/namespaces/{ns}/services[/{name}]`
//! and `/apis/{group}/{version}/watch/...`: the same watches as `?watch=true` on the path
//! without `watch/` (on one object, the collection's watch with
//! `fieldSelector=metadata.name={name}`, as upstream serves it). Requests are rewritten before
//! routing, so every other rule of a watch applies unchanged.

use axum::extract::Request;
use axum::http::Uri;

use super::target::Target;

/// Rewrites a deprecated watch path; leaves any other request as it is.
pub fn rewrite<B>(request: &mut Request<B>) {
    if let Some(uri) = rewritten(request.uri()) {
        *request.uri_mut() = uri;
    }
}

/// Where the `watch` segment of a deprecated watch path is, among the path's `/`-separated
/// segments.
fn watch_segment(segments: &[&str]) -> Option<usize> {
    match segments {
        ["", "api", _, "watch", _, ..] => Some(3),
        ["", "apis", _, _, "watch", _, ..] => Some(4),
        _ => None,
    }
}

fn rewritten(uri: &Uri) -> Option<Uri> {
    // Every request passes here: most are told apart without splitting their path.
    if !uri.path().contains("/watch/") {
        return None;
    }
    let mut segments: Vec<&str> = uri.path().split('/').collect();
    let at = watch_segment(&segments)?;
    segments.remove(at);
    let mut path = segments.join("/");
    let mut pairs: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .filter(|(k, _)| k != "watch")
            .collect();
    pairs.push(("watch".into(), "true".into()));
    let target = Target::parse(&path)?;
    if let (Some(name), None) = (&target.name, target.subresource) {
        let by_name = format!("metadata.name={name}");
        match pairs.iter_mut().find(|(k, _)| k == "fieldSelector") {
            Some((_, selector)) if !selector.is_empty() => {
                *selector = format!("{by_name},{selector}")
            }
            Some((_, selector)) => *selector = by_name,
            None => pairs.push(("fieldSelector".into(), by_name)),
        }
        path.truncate(path.len() - name.len() - 1);
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{path}?{query}").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite_of(uri: &str) -> Option<String> {
        rewritten(&uri.parse().expect("uri")).map(|u| u.to_string())
    }

    #[test]
    fn deprecated_watch_paths_become_watch_queries() {
        assert_eq!(
            rewrite_of("/api/v1/watch/namespaces/default/services?resourceVersion=5").as_deref(),
            Some("/api/v1/namespaces/default/services?resourceVersion=5&watch=true")
        );
        assert_eq!(
            rewrite_of("/api/v1/watch/namespaces/default/services/web").as_deref(),
            Some(
                "/api/v1/namespaces/default/services?watch=true&fieldSelector=metadata.name%3Dweb"
            )
        );
        assert_eq!(
            rewrite_of("/apis/apps/v1/watch/deployments").as_deref(),
            Some("/apis/apps/v1/deployments?watch=true")
        );
        assert_eq!(rewrite_of("/api/v1/namespaces/default/services"), None);
        assert_eq!(rewrite_of("/api/v1/watch/nothing-here"), None);
    }
}
