//! Lists: selectors and paging from the query, and the opaque `continue` token, which
//! carries the revision of the first page and the last (namespace, name) returned.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use service_plan::status::Status;

use super::error::ApiError;
use super::params::Params;
use super::target::Target;
use crate::registry::{ListOptions, ReadObject, Registry, Revision};

/// The token's format version, as upstream writes it.
const TOKEN_VERSION: &str = "meta.k8s.io/v1";

/// kube-apiserver's text for a continue token older than the compaction point.
const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// One page of a list, ready to shape.
#[derive(Debug, Clone)]
pub struct Listed {
    pub items: Vec<ReadObject>,
    /// The list's resourceVersion: the first page's revision on every page.
    pub revision: Revision,
    pub continue_token: Option<String>,
    /// `metadata.remainingItemCount`, when known.
    pub remaining: Option<usize>,
}

/// Lists the target collection with the query's selectors, `limit` and `continue`.
pub async fn list(
    registry: &Registry,
    target: &Target,
    params: &Params,
) -> Result<Listed, ApiError> {
    let mut opts: ListOptions = params.selectors(target.kind)?;
    opts.limit = params
        .integer("limit")?
        .filter(|l| *l > 0)
        .and_then(|l| usize::try_from(l).ok());
    let mut first_revision = None;
    if let Some(token) = params.get("continue").filter(|t| !t.is_empty()) {
        let (revision, after) = decode_continue(token)
            .map_err(|e| ApiError::bad_request(format!("invalid continue token: {e}")))?;
        if revision < registry.compacted_revision() {
            return Err(ApiError::new(Status::expired(CONTINUE_EXPIRED)));
        }
        first_revision = Some(revision);
        opts.continue_after = Some(after);
        opts.at_revision = Some(revision);
    }
    let page = registry.list_served(target.kind, target.namespace.as_deref(), &opts)?;
    let revision = first_revision.unwrap_or(page.revision);
    let continue_token = page
        .continue_after
        .as_ref()
        .map(|after| encode_continue(revision, after));
    Ok(Listed {
        items: page.items,
        revision,
        continue_token,
        remaining: page.remaining,
    })
}

/// Encodes a continue token (base64url of a small JSON document).
pub fn encode_continue(revision: Revision, after: &(String, String)) -> String {
    let token = json!({"v": TOKEN_VERSION, "rv": revision, "start": [after.0, after.1]});
    URL_SAFE_NO_PAD.encode(token.to_string())
}

/// Decodes a continue token into the first page's revision and where to resume.
pub fn decode_continue(token: &str) -> Result<(Revision, (String, String)), String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|e| format!("continue key is not valid: {e}"))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("continue key is not valid: {e}"))?;
    if value.get("v").and_then(Value::as_str) != Some(TOKEN_VERSION) {
        return Err("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)".into());
    }
    let revision = value.get("rv").and_then(Value::as_i64).filter(|rv| *rv > 0);
    let start = value.get("start").and_then(Value::as_array);
    match (revision, start.map(Vec::as_slice)) {
        (Some(revision), Some([Value::String(namespace), Value::String(name)])) => {
            Ok((revision, (namespace.clone(), name.clone())))
        }
        _ => Err("continue key is not valid: missing resourceVersion or start".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_token_round_trips() {
        let token = encode_continue(42, &("default".into(), "web".into()));
        assert_eq!(
            decode_continue(&token).unwrap(),
            (42, ("default".into(), "web".into()))
        );
        assert!(decode_continue("not a token!").is_err());
    }
}
