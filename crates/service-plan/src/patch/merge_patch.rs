//! RFC 7386 JSON merge patch (`application/merge-patch+json`), as `jsonpatch.MergePatch`
//! in evanphx/json-patch v4 applies it for kube-apiserver: objects merge recursively,
//! `null` deletes a key, anything else (arrays included) replaces.

use serde_json::{Map, Value};

use super::PatchError;

/// Applies the merge patch `patch` to `doc`.
///
/// A patch that is not an object replaces the document (RFC 7386 §2); nulls inside values
/// that are inserted whole are dropped, because they could never delete anything there.
pub fn apply(doc: &Value, patch: &Value) -> Value {
    let Value::Object(patch_map) = patch else {
        return prune_nulls(patch.clone());
    };
    let mut base = match doc {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    merge_into(&mut base, patch_map);
    Value::Object(base)
}

/// Decodes a merge-patch body and applies it, rejecting what kube-apiserver rejects with
/// 400 `Invalid JSON Patch`: invalid JSON, `null`, and scalars.
pub fn apply_bytes(doc: &Value, body: &[u8]) -> Result<Value, PatchError> {
    const BAD_PATCH: &str = "Invalid JSON Patch";
    let patch: Value =
        serde_json::from_slice(body).map_err(|_| PatchError::BadRequest(BAD_PATCH.to_owned()))?;
    match patch {
        Value::Object(_) | Value::Array(_) => Ok(apply(doc, &patch)),
        _ => Err(PatchError::BadRequest(BAD_PATCH.to_owned())),
    }
}

fn merge_into(base: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (key, value) in patch {
        if value.is_null() {
            base.shift_remove(key);
            continue;
        }
        match (base.get_mut(key), value) {
            (Some(Value::Object(current)), Value::Object(patch_map)) => {
                merge_into(current, patch_map)
            }
            _ => {
                base.insert(key.clone(), prune_nulls(value.clone()));
            }
        }
    }
}

/// Drops null-valued keys from objects, recursively, including objects inside arrays.
fn prune_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, prune_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(prune_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn label_added_and_removed_like_kubectl_label() {
        let doc = json!({"metadata": {"name": "a", "labels": {"app": "web", "env": "prod"}}});
        let out = apply(
            &doc,
            &json!({"metadata": {"labels": {"env": null, "m": "1"}}}),
        );
        assert_eq!(
            out,
            json!({"metadata": {"name": "a", "labels": {"app": "web", "m": "1"}}})
        );
    }

    #[test]
    fn arrays_replace_whole() {
        let doc = json!({"spec": {"ports": [{"port": 80, "nodePort": 30080}]}});
        let out = apply(&doc, &json!({"spec": {"ports": [{"port": 443}]}}));
        assert_eq!(out, json!({"spec": {"ports": [{"port": 443}]}}));
    }

    #[test]
    fn nulls_in_new_values_are_dropped() {
        let out = apply(&json!({}), &json!({"a": {"b": null, "c": 1}}));
        assert_eq!(out, json!({"a": {"c": 1}}));
    }

    #[test]
    fn object_replaces_scalar_and_scalar_replaces_object() {
        let out = apply(
            &json!({"a": 1, "b": {"x": 1}}),
            &json!({"a": {"y": 2}, "b": "s"}),
        );
        assert_eq!(out, json!({"a": {"y": 2}, "b": "s"}));
    }

    #[test]
    fn non_object_patch_replaces_document() {
        assert_eq!(apply(&json!({"a": 1}), &json!([1, 2])), json!([1, 2]));
    }

    #[test]
    fn apply_bytes_rejects_null_and_scalars() {
        let doc = json!({"a": 1});
        let bad = PatchError::BadRequest("Invalid JSON Patch".into());
        assert_eq!(apply_bytes(&doc, b"null").unwrap_err(), bad);
        assert_eq!(apply_bytes(&doc, b"5").unwrap_err(), bad);
        assert_eq!(apply_bytes(&doc, b"{").unwrap_err(), bad);
        assert_eq!(
            apply_bytes(&doc, br#"{"b":2}"#).unwrap(),
            json!({"a": 1, "b": 2})
        );
    }
}
