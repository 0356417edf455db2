//! Reading the defaulted JSON as Go reads the decoded struct: a missing, `null` or mistyped
//! field is the zero value, and a pointer is set only when present and not `null`.

use serde_json::Value;

/// A string field, `""` when unset.
pub fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A list field, empty when unset.
pub fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// A pointer or struct field, `None` when unset.
pub fn child<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|c| !c.is_null())
}

/// An integer field, 0 when unset.
pub fn num(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// An integer pointer field, `None` when unset.
pub fn opt_num(v: &Value, key: &str) -> Option<i64> {
    child(v, key).and_then(Value::as_i64)
}

/// Go's "is the zero value" for a required field: unset, `""`, `0`, `[]` or `{}`.
pub fn is_empty(v: &Value, key: &str) -> bool {
    match child(v, key) {
        None => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::Bool(b)) => !b,
        Some(Value::Null) => true,
    }
}
