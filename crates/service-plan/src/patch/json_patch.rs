//! RFC 6902 JSON patch with the semantics and error texts of `gopkg.in/evanphx/json-patch.v4`,
//! the library kube-apiserver v1.32 applies `application/json-patch+json` bodies with.
//! Its quirks are kept on purpose: `replace` of a missing object key adds it, negative
//! array indices count from the end, and `test` compares an object by the document's keys.

use serde_json::{Map, Value};

use super::{PatchError, json_type_name};
use crate::nesting::{MAX_NESTING_DEPTH, depth};

/// The most operations kube-apiserver accepts in one JSON patch (`maxJSONPatchOperations`).
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

/// The most bytes the `copy` operations of one patch may add, summed over its operations:
/// kube-apiserver's `JSONPatchMaxCopyBytes` (3 MiB), set as evanphx's
/// `AccumulatedCopySizeLimit`. Without it 20 copies of `/metadata` into itself double the
/// object 20 times.
pub const MAX_COPY_BYTES: i64 = 3 * 1024 * 1024;

/// Go's `ErrMissing` text, appended to most "does not apply" errors.
const MISSING: &str = "missing value";
/// Go's `ErrInvalidIndex` text.
const INVALID_INDEX: &str = "invalid index referenced";
/// Go's `ErrTestFailed` text.
const TEST_FAILED: &str = "test failed";

/// Applies the JSON patch in `patch_body` to `doc` and returns the patched document.
///
/// Mirrors `jsonPatcher.applyJSPatch` in k8s.io/apiserver: a body that does not decode as a
/// list of operations is a [`PatchError::BadRequest`], more than
/// [`MAX_JSON_PATCH_OPERATIONS`] is [`PatchError::TooLarge`], and the first operation that
/// does not apply rejects the whole patch with [`PatchError::Unprocessable`] carrying
/// evanphx/json-patch's text, e.g.
/// `remove operation does not apply: doc is missing path: "/spec/x/y": missing value`.
pub fn apply(doc: &Value, patch_body: &[u8]) -> Result<Value, PatchError> {
    let ops = decode(patch_body)?;
    if ops.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(PatchError::TooLarge(format!(
            "The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {}",
            ops.len()
        )));
    }
    if !doc.is_object() && !doc.is_array() {
        // Go decodes the current object into a map or slice before patching.
        return Err(PatchError::Internal(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.partialDoc",
            json_type_name(doc)
        )));
    }
    let mut out = doc.clone();
    let mut copied = 0;
    for op in &ops {
        apply_op(&mut out, op, &mut copied).map_err(PatchError::Unprocessable)?;
    }
    Ok(out)
}

/// Decodes the body like `jsonpatch.DecodePatch`: a JSON array of objects (or `null`).
fn decode(body: &[u8]) -> Result<Vec<Option<Map<String, Value>>>, PatchError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| PatchError::BadRequest(e.to_string()))?;
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(map) => Ok(Some(map)),
                // A null element decodes to a nil Operation, which fails later as kind "unknown".
                Value::Null => Ok(None),
                other => Err(PatchError::BadRequest(format!(
                    "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                    json_type_name(&other)
                ))),
            })
            .collect(),
        other => Err(PatchError::BadRequest(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
            json_type_name(&other)
        ))),
    }
}

/// One operation, read lazily like evanphx's `Operation` map.
struct Op<'a>(Option<&'a Map<String, Value>>);

impl Op<'_> {
    fn field(&self, name: &str) -> Option<&Value> {
        // A JSON null decodes to a nil *json.RawMessage, which Go treats as absent.
        self.0.and_then(|m| m.get(name)).filter(|v| !v.is_null())
    }

    fn kind(&self) -> &str {
        match self.field("op") {
            Some(Value::String(s)) => s,
            _ => "unknown",
        }
    }

    fn string_field(&self, name: &str, missing: &str) -> Result<&str, String> {
        match self.field(name) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(format!(
                "json: cannot unmarshal {} into Go value of type string",
                json_type_name(other)
            )),
            None => Err(format!("{missing}: {MISSING}")),
        }
    }

    fn path(&self) -> Result<&str, String> {
        self.string_field("path", "operation missing path field")
    }

    fn from(&self) -> Result<&str, String> {
        self.string_field("from", "operation, missing from field")
    }

    /// The operation's value; a missing or null value becomes JSON null like Go's nil node.
    fn value(&self) -> Option<&Value> {
        self.0.and_then(|m| m.get("value"))
    }
}

/// Applies one operation; `copied` sums the bytes that `copy` operations have added so far.
fn apply_op(
    doc: &mut Value,
    raw: &Option<Map<String, Value>>,
    copied: &mut i64,
) -> Result<(), String> {
    let op = Op(raw.as_ref());
    match op.kind() {
        "add" => add(doc, &op),
        "remove" => remove(doc, &op),
        "replace" => replace(doc, &op),
        "move" => move_op(doc, &op),
        "test" => test(doc, &op),
        "copy" => copy(doc, &op, copied),
        other => Err(format!("Unexpected kind: {other}")),
    }
}

/// Refuses to place `value` at `path` when the document would then nest deeper than
/// [`MAX_NESTING_DEPTH`]. Go's decoder stops at 10,000 levels; ours must stop far earlier,
/// because every later step (validation, encoding, dropping) walks the object recursively,
/// and moving objects into each other can deepen a document by one level per operation.
fn check_depth(path: &str, value: &Value) -> Result<(), String> {
    let at = path.matches('/').count();
    if at + depth(value) > MAX_NESTING_DEPTH {
        return Err(format!("exceeded max depth of {MAX_NESTING_DEPTH}"));
    }
    Ok(())
}

fn add(doc: &mut Value, op: &Op<'_>) -> Result<(), String> {
    let path = op
        .path()
        .map_err(|_| format!("add operation failed to decode path: {MISSING}"))?;
    let value = op.value().cloned().unwrap_or(Value::Null);
    check_depth(path, &value)?;
    let Some((con, key)) = find_object(doc, path) else {
        return Err(format!(
            "add operation does not apply: doc is missing path: \"{path}\": {MISSING}"
        ));
    };
    container_add(con, &key, value).map_err(|e| format!("error in add for path: '{path}': {e}"))
}

fn remove(doc: &mut Value, op: &Op<'_>) -> Result<(), String> {
    let path = op
        .path()
        .map_err(|_| format!("remove operation failed to decode path: {MISSING}"))?;
    let Some((con, key)) = find_object(doc, path) else {
        return Err(format!(
            "remove operation does not apply: doc is missing path: \"{path}\": {MISSING}"
        ));
    };
    container_remove(con, &key)
        .map(drop)
        .map_err(|e| format!("error in remove for path: '{path}': {e}"))
}

fn replace(doc: &mut Value, op: &Op<'_>) -> Result<(), String> {
    let path = op
        .path()
        .map_err(|e| format!("replace operation failed to decode path: {e}"))?;
    let value = op.value().cloned().unwrap_or(Value::Null);
    check_depth(path, &value)?;
    if path.is_empty() {
        if !value.is_object() && !value.is_array() {
            // Go wraps a nil error here, which fmt prints as %!w(<nil>).
            return Err("replace operation value must be object or array: %!w(<nil>)".to_owned());
        }
        *doc = value;
        return Ok(());
    }
    let Some((con, key)) = find_object(doc, path) else {
        return Err(format!(
            "replace operation does not apply: doc is missing path: {path}: {MISSING}"
        ));
    };
    if container_get(con, &key).is_err() {
        return Err(format!(
            "replace operation does not apply: doc is missing key: {path}: {MISSING}"
        ));
    }
    container_set(con, &key, value).map_err(|e| format!("error in remove for path: '{path}': {e}"))
}

fn move_op(doc: &mut Value, op: &Op<'_>) -> Result<(), String> {
    let from = op
        .from()
        .map_err(|e| format!("move operation failed to decode from: {e}"))?;
    let Some((con, key)) = find_object(doc, from) else {
        return Err(format!(
            "move operation does not apply: doc is missing from path: {from}: {MISSING}"
        ));
    };
    // evanphx names the last path segment, not the whole path, in these two errors.
    container_get(con, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
    let value =
        container_remove(con, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
    let path = op
        .path()
        .map_err(|e| format!("move operation failed to decode path: {e}"))?;
    check_depth(path, &value)?;
    let Some((con, key)) = find_object(doc, path) else {
        return Err(format!(
            "move operation does not apply: doc is missing destination path: {path}: {MISSING}"
        ));
    };
    container_add(con, &key, value).map_err(|e| format!("error in move for path: '{path}': {e}"))
}

fn test(doc: &mut Value, op: &Op<'_>) -> Result<(), String> {
    let path = op
        .path()
        .map_err(|e| format!("test operation failed to decode path: {e}"))?;
    let failed = || format!("testing value {path} failed: {TEST_FAILED}");
    if path.is_empty() {
        let expected = op.value().cloned().unwrap_or(Value::Null);
        return if lazy_equal(doc, &expected) {
            Ok(())
        } else {
            Err(failed())
        };
    }
    let Some((con, key)) = find_object(doc, path) else {
        return Err(format!(
            "test operation does not apply: is missing path: {path}: {MISSING}"
        ));
    };
    let current =
        container_get(con, &key).map_err(|e| format!("error in test for path: '{path}': {e}"))?;
    match (current, op.value()) {
        (None, None | Some(Value::Null)) => Ok(()),
        (None, Some(_)) | (Some(_), None) => Err(failed()),
        (Some(current), Some(expected)) if lazy_equal(current, expected) => Ok(()),
        (Some(_), Some(_)) => Err(failed()),
    }
}

fn copy(doc: &mut Value, op: &Op<'_>, copied: &mut i64) -> Result<(), String> {
    let from = op
        .from()
        .map_err(|e| format!("copy operation failed to decode from: {e}"))?;
    let Some((con, key)) = find_object(doc, from) else {
        return Err(format!(
            "copy operation does not apply: doc is missing from path: {from}: {MISSING}"
        ));
    };
    let value = container_get(con, &key)
        .map_err(|e| format!("error in copy for from: '{from}': {e}"))?
        .cloned()
        .unwrap_or(Value::Null);
    let path = op
        .path()
        .map_err(|_| format!("copy operation failed to decode path: {MISSING}"))?;
    let Some((con, key)) = find_object(doc, path) else {
        return Err(format!(
            "copy operation does not apply: doc is missing destination path: {path}: {MISSING}"
        ));
    };
    check_depth(path, &value)?;
    // evanphx counts the copy's encoded size before adding it, and stops past the limit.
    *copied = copied.saturating_add(encoded_len(&value));
    if *copied > MAX_COPY_BYTES {
        return Err(format!(
            "Unable to complete the copy, the accumulated size increase of copy is {copied}, exceeding the limit {MAX_COPY_BYTES}"
        ));
    }
    container_add(con, &key, value)
        .map_err(|e| format!("error while adding value during copy: {e}"))
}

/// The length of `value` encoded as compact JSON, counted without building the text.
fn encoded_len(value: &Value) -> i64 {
    struct Counter(i64);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self
                .0
                .saturating_add(i64::try_from(buf.len()).unwrap_or(i64::MAX));
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a Value to a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// Finds the container holding the last segment of `path`, like evanphx's `findObject`:
/// the first segment before the leading `/` is ignored, every intermediate segment must
/// name an existing object or array, and a path without `/` finds nothing.
fn find_object<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let split: Vec<&str> = path.split('/').collect();
    if split.len() < 2 {
        return None;
    }
    let key = decode_key(split[split.len() - 1]);
    let mut cur = doc;
    for part in &split[1..split.len() - 1] {
        let part = decode_key(part);
        let next = match cur {
            Value::Object(map) => map.get_mut(&part)?,
            Value::Array(items) => {
                let idx = array_index(&part, items.len()).ok()?;
                items.get_mut(idx)?
            }
            _ => return None,
        };
        if !next.is_object() && !next.is_array() {
            return None;
        }
        cur = next;
    }
    Some((cur, key))
}

/// RFC 6901 unescaping in one pass, like Go's `strings.NewReplacer("~1", "/", "~0", "~")`.
fn decode_key(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    let mut chars = segment.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.peek() {
                Some('1') => {
                    chars.next();
                    out.push('/');
                    continue;
                }
                Some('0') => {
                    chars.next();
                    out.push('~');
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
    }
    out
}

/// Go's `strconv.Atoi`, with its error text.
fn atoi(key: &str) -> Result<i64, String> {
    key.parse::<i64>().map_err(|e| {
        let why = match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                "value out of range"
            }
            _ => "invalid syntax",
        };
        format!("strconv.Atoi: parsing {}: {why}", go_quote(key))
    })
}

/// Go's `%q` for the plain strings that reach error messages.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn invalid_index(idx: i64) -> String {
    format!("Unable to access invalid index: {idx}: {INVALID_INDEX}")
}

/// Resolves an index for reading (`partialArray.get`): negative counts from the end.
fn array_index(key: &str, len: usize) -> Result<usize, String> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let mut idx = atoi(key)?;
    if idx < 0 {
        if idx < -len {
            return Err(invalid_index(idx));
        }
        idx += len;
    }
    if idx >= len {
        return Err(invalid_index(idx));
    }
    usize::try_from(idx).map_err(|_| invalid_index(idx))
}

/// `container.get`: a missing object key (or one holding null) is `Ok(None)`, like Go's nil node.
fn container_get<'a>(con: &'a Value, key: &str) -> Result<Option<&'a Value>, String> {
    match con {
        Value::Object(map) => Ok(map.get(key).filter(|v| !v.is_null())),
        Value::Array(items) => {
            let idx = array_index(key, items.len())?;
            Ok(items.get(idx))
        }
        _ => Ok(None),
    }
}

fn container_set(con: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match con {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
            Ok(())
        }
        Value::Array(items) => {
            let idx = array_index(key, items.len())?;
            if let Some(slot) = items.get_mut(idx) {
                *slot = value;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn container_add(con: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match con {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
            Ok(())
        }
        Value::Array(items) => {
            if key == "-" {
                items.push(value);
                return Ok(());
            }
            let mut idx = atoi(key)
                .map_err(|e| format!("value was not a proper array index: '{key}': {e}"))?;
            // The array grows by one, so an index equal to the old length appends.
            let size = i64::try_from(items.len())
                .unwrap_or(i64::MAX)
                .saturating_add(1);
            if idx >= size {
                return Err(invalid_index(idx));
            }
            if idx < 0 {
                if idx < -size {
                    return Err(invalid_index(idx));
                }
                idx += size;
            }
            let idx = usize::try_from(idx).map_err(|_| invalid_index(idx))?;
            items.insert(idx.min(items.len()), value);
            Ok(())
        }
        _ => Ok(()),
    }
}

fn container_remove(con: &mut Value, key: &str) -> Result<Value, String> {
    match con {
        Value::Object(map) => map
            .shift_remove(key)
            .ok_or_else(|| format!("Unable to remove nonexistent key: {key}: {MISSING}")),
        Value::Array(items) => {
            let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
            let mut idx = atoi(key)?;
            if idx >= len {
                return Err(invalid_index(idx));
            }
            if idx < 0 {
                if idx < -len {
                    return Err(invalid_index(idx));
                }
                idx += len;
            }
            let idx = usize::try_from(idx).map_err(|_| invalid_index(idx))?;
            if idx < items.len() {
                Ok(items.remove(idx))
            } else {
                Err(invalid_index(i64::try_from(idx).unwrap_or(i64::MAX)))
            }
        }
        _ => Err(format!(
            "Unable to remove nonexistent key: {key}: {MISSING}"
        )),
    }
}

/// evanphx's `lazyNode.equal`: objects match when every key of the document's object is
/// present and equal in the expected one (extra expected keys are not checked).
fn lazy_equal(current: &Value, expected: &Value) -> bool {
    match (current, expected) {
        (Value::Object(cur), Value::Object(exp)) => cur.iter().all(|(k, v)| match exp.get(k) {
            None => false,
            Some(e) if v.is_null() && e.is_null() => true,
            Some(e) => lazy_equal(v, e),
        }),
        (Value::Object(_), _) => false,
        (Value::Array(cur), Value::Array(exp)) => {
            cur.len() == exp.len() && cur.iter().zip(exp).all(|(c, e)| lazy_equal(c, e))
        }
        (Value::Array(_), _) => false,
        (scalar, expected) => scalar == expected,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn svc() -> Value {
        json!({
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}], "type": "ClusterIP"}
        })
    }

    fn run(patch: &str) -> Result<Value, PatchError> {
        apply(&svc(), patch.as_bytes())
    }

    fn err(patch: &str) -> String {
        match run(patch) {
            Ok(v) => panic!("expected an error, got {v}"),
            Err(e) => e.message().to_owned(),
        }
    }

    #[test]
    fn replace_target_port_like_kubectl_patch_type_json() {
        let out =
            run(r#"[{"op":"replace","path":"/spec/ports/0/targetPort","value":9090}]"#).unwrap();
        assert_eq!(
            out["spec"]["ports"][0],
            json!({"port": 80, "targetPort": 9090})
        );
    }

    #[test]
    fn add_remove_move_copy_test_succeed() {
        let out = run(r#"[
            {"op":"add","path":"/metadata/labels/tier","value":"fe"},
            {"op":"add","path":"/spec/ports/-","value":{"port":8443}},
            {"op":"add","path":"/spec/ports/0","value":{"port":1}},
            {"op":"remove","path":"/spec/ports/1"},
            {"op":"copy","from":"/metadata/labels/app","path":"/metadata/labels/copied"},
            {"op":"move","from":"/metadata/labels/tier","path":"/metadata/labels/moved"},
            {"op":"test","path":"/spec/type","value":"ClusterIP"}
        ]"#)
        .unwrap();
        assert_eq!(
            out["metadata"]["labels"],
            json!({"app": "web", "copied": "web", "moved": "fe"})
        );
        assert_eq!(
            out["spec"]["ports"],
            json!([{"port": 1}, {"port": 443}, {"port": 8443}])
        );
    }

    #[test]
    fn escaped_pointer_segments() {
        let out = run(r#"[{"op":"add","path":"/metadata/labels/a~1b~0c","value":"x"}]"#).unwrap();
        assert_eq!(out["metadata"]["labels"]["a/b~c"], json!("x"));
    }

    #[test]
    fn negative_index_counts_from_the_end() {
        let out = run(r#"[{"op":"remove","path":"/spec/ports/-1"}]"#).unwrap();
        assert_eq!(
            out["spec"]["ports"],
            json!([{"port": 80, "targetPort": 8080}])
        );
    }

    #[test]
    fn replace_of_missing_object_key_adds_it() {
        let out = run(r#"[{"op":"replace","path":"/metadata/labels/new","value":"v"}]"#).unwrap();
        assert_eq!(out["metadata"]["labels"]["new"], json!("v"));
    }

    #[test]
    fn remove_under_missing_parent() {
        assert_eq!(
            err(r#"[{"op":"remove","path":"/spec/nothere/x"}]"#),
            r#"remove operation does not apply: doc is missing path: "/spec/nothere/x": missing value"#
        );
    }

    #[test]
    fn remove_missing_key_of_existing_parent() {
        assert_eq!(
            err(r#"[{"op":"remove","path":"/spec/nothere"}]"#),
            "error in remove for path: '/spec/nothere': Unable to remove nonexistent key: nothere: missing value"
        );
    }

    #[test]
    fn remove_index_out_of_range() {
        assert_eq!(
            err(r#"[{"op":"remove","path":"/spec/ports/5"}]"#),
            "error in remove for path: '/spec/ports/5': Unable to access invalid index: 5: invalid index referenced"
        );
    }

    #[test]
    fn add_under_missing_parent() {
        assert_eq!(
            err(r#"[{"op":"add","path":"/spec/nothere/x","value":1}]"#),
            r#"add operation does not apply: doc is missing path: "/spec/nothere/x": missing value"#
        );
    }

    #[test]
    fn add_bad_index() {
        assert_eq!(
            err(r#"[{"op":"add","path":"/spec/ports/x","value":1}]"#),
            r#"error in add for path: '/spec/ports/x': value was not a proper array index: 'x': strconv.Atoi: parsing "x": invalid syntax"#
        );
        assert_eq!(
            err(r#"[{"op":"add","path":"/spec/ports/3","value":1}]"#),
            "error in add for path: '/spec/ports/3': Unable to access invalid index: 3: invalid index referenced"
        );
    }

    #[test]
    fn replace_failures() {
        assert_eq!(
            err(r#"[{"op":"replace","path":"/spec/nothere/x","value":1}]"#),
            "replace operation does not apply: doc is missing path: /spec/nothere/x: missing value"
        );
        assert_eq!(
            err(r#"[{"op":"replace","path":"/spec/ports/7","value":1}]"#),
            "replace operation does not apply: doc is missing key: /spec/ports/7: missing value"
        );
        assert_eq!(
            err(r#"[{"op":"replace","value":1}]"#),
            "replace operation failed to decode path: operation missing path field: missing value"
        );
    }

    #[test]
    fn move_failures() {
        assert_eq!(
            err(r#"[{"op":"move","from":"/spec/nothere/x","path":"/spec/y"}]"#),
            "move operation does not apply: doc is missing from path: /spec/nothere/x: missing value"
        );
        assert_eq!(
            err(r#"[{"op":"move","from":"/spec/nothere","path":"/spec/y"}]"#),
            "error in move for path: 'nothere': Unable to remove nonexistent key: nothere: missing value"
        );
        assert_eq!(
            err(r#"[{"op":"move","from":"/spec/type","path":"/spec/a/b"}]"#),
            "move operation does not apply: doc is missing destination path: /spec/a/b: missing value"
        );
        assert_eq!(
            err(r#"[{"op":"move","path":"/spec/y"}]"#),
            "move operation failed to decode from: operation, missing from field: missing value"
        );
    }

    #[test]
    fn copy_failures() {
        assert_eq!(
            err(r#"[{"op":"copy","from":"/a/b","path":"/spec/y"}]"#),
            "copy operation does not apply: doc is missing from path: /a/b: missing value"
        );
        assert_eq!(
            err(r#"[{"op":"copy","from":"/spec/ports/9","path":"/spec/y"}]"#),
            "error in copy for from: '/spec/ports/9': Unable to access invalid index: 9: invalid index referenced"
        );
        assert_eq!(
            err(r#"[{"op":"copy","from":"/spec/type","path":"/x/y"}]"#),
            "copy operation does not apply: doc is missing destination path: /x/y: missing value"
        );
    }

    #[test]
    fn test_failures() {
        assert_eq!(
            err(r#"[{"op":"test","path":"/spec/type","value":"NodePort"}]"#),
            "testing value /spec/type failed: test failed"
        );
        assert_eq!(
            err(r#"[{"op":"test","path":"/x/y","value":1}]"#),
            "test operation does not apply: is missing path: /x/y: missing value"
        );
        assert_eq!(
            err(r#"[{"op":"test","path":"/spec/missing","value":1}]"#),
            "testing value /spec/missing failed: test failed"
        );
    }

    #[test]
    fn test_of_missing_key_against_null_passes() {
        assert!(run(r#"[{"op":"test","path":"/spec/missing","value":null}]"#).is_ok());
    }

    #[test]
    fn failing_op_rejects_the_whole_patch() {
        let e = run(r#"[{"op":"add","path":"/metadata/labels/x","value":"1"},{"op":"remove","path":"/nothere"}]"#)
            .unwrap_err();
        assert_eq!(
            e,
            PatchError::Unprocessable(
                "error in remove for path: '/nothere': Unable to remove nonexistent key: nothere: missing value"
                    .into()
            )
        );
    }

    #[test]
    fn unknown_op() {
        assert_eq!(
            err(r#"[{"op":"frobnicate","path":"/a"}]"#),
            "Unexpected kind: frobnicate"
        );
        assert_eq!(err(r#"[{"path":"/a"}]"#), "Unexpected kind: unknown");
    }

    #[test]
    fn body_not_an_array_is_bad_request() {
        assert_eq!(
            run(r#"{"op":"add"}"#).unwrap_err(),
            PatchError::BadRequest(
                "json: cannot unmarshal object into Go value of type jsonpatch.Patch".into()
            )
        );
        assert_eq!(
            run(r#"["add"]"#).unwrap_err(),
            PatchError::BadRequest(
                "json: cannot unmarshal string into Go value of type jsonpatch.Operation".into()
            )
        );
        assert!(matches!(
            run("not json").unwrap_err(),
            PatchError::BadRequest(_)
        ));
    }

    #[test]
    fn null_body_is_a_no_op() {
        assert_eq!(run("null").unwrap(), svc());
    }

    #[test]
    fn too_many_operations() {
        let ops = vec![json!({"op": "test", "path": "/spec/type", "value": "ClusterIP"}); 10_001];
        let body = serde_json::to_vec(&ops).unwrap();
        assert_eq!(
            apply(&svc(), &body).unwrap_err(),
            PatchError::TooLarge(
                "The allowed maximum operations in a JSON patch is 10000, got 10001".into()
            )
        );
    }

    #[test]
    fn replace_whole_document() {
        let out = run(r#"[{"op":"replace","path":"","value":{"a":1}}]"#).unwrap();
        assert_eq!(out, json!({"a": 1}));
        assert_eq!(
            err(r#"[{"op":"replace","path":"","value":1}]"#),
            "replace operation value must be object or array: %!w(<nil>)"
        );
    }

    #[test]
    fn copies_stop_at_the_accumulated_size_limit() {
        // Each copy of /metadata into itself doubles it: the bomb of issue 9.
        let ops: Vec<Value> = (0..20)
            .map(|i| json!({"op": "copy", "from": "/metadata", "path": format!("/metadata/a{i}")}))
            .collect();
        let message = err(&serde_json::to_string(&ops).unwrap());
        assert!(
            message.starts_with(
                "Unable to complete the copy, the accumulated size increase of copy is "
            ),
            "{message}"
        );
        assert!(
            message.ends_with(", exceeding the limit 3145728"),
            "{message}"
        );
    }

    #[test]
    fn copies_within_the_limit_count_their_encoded_size() {
        let mut doc = svc();
        doc["metadata"]["labels"]["big"] = json!("x".repeat(1024 * 1024 - 2));
        let copy = r#"{"op":"copy","from":"/metadata/labels/big","path":"/metadata/labels/c"}"#;
        // A copy counts its quotes too: three copies of exactly 1 MiB fit; the fourth does not.
        let three = format!("[{copy},{copy},{copy}]");
        assert!(apply(&doc, three.as_bytes()).is_ok());
        let four = format!("[{copy},{copy},{copy},{copy}]");
        assert_eq!(
            apply(&doc, four.as_bytes()).unwrap_err(),
            PatchError::Unprocessable(format!(
                "Unable to complete the copy, the accumulated size increase of copy is {}, exceeding the limit 3145728",
                4 * 1024 * 1024
            ))
        );
    }

    #[test]
    fn moving_objects_into_each_other_stops_at_the_depth_limit() {
        // Each op nests the previous object one level deeper inside a new one.
        let mut ops = vec![json!({"op": "add", "path": "/x", "value": {}})];
        for _ in 0..3000 {
            ops.push(json!({"op": "add", "path": "/y", "value": {}}));
            ops.push(json!({"op": "move", "from": "/x", "path": "/y/x"}));
            ops.push(json!({"op": "move", "from": "/y", "path": "/x"}));
        }
        let body = serde_json::to_vec(&ops).unwrap();
        assert_eq!(
            apply(&svc(), &body).unwrap_err(),
            PatchError::Unprocessable("exceeded max depth of 100".into())
        );
    }

    #[test]
    fn adding_a_deep_value_at_a_deep_path_is_refused() {
        let mut value = json!({});
        for _ in 0..60 {
            value = json!({ "n": value });
        }
        let ok = json!([{"op": "add", "path": "/spec/deep", "value": value}]);
        assert!(apply(&svc(), &serde_json::to_vec(&ok).unwrap()).is_ok());
        let mut deeper = value;
        for _ in 0..40 {
            deeper = json!({ "n": deeper });
        }
        let refused = json!([{"op": "add", "path": "/spec/deep", "value": deeper}]);
        assert_eq!(err(&refused.to_string()), "exceeded max depth of 100");
    }
}
