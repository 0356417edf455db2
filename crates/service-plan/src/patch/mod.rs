//! Patch application: JSON patch, JSON merge patch and strategic merge patch over
//! `serde_json::Value` documents, answering failures in kube-apiserver's words.
//! Decoding the result into a typed object is the caller's job.

pub mod json_patch;
pub mod merge_patch;
pub mod strategic;

pub use strategic::{ListStrategy, PatchSchema};

/// Why a patch could not be applied, grouped by the HTTP status kube-apiserver answers with.
///
/// The message is always kube-apiserver's own text; the front door wraps it in a
/// `metav1.Status` with the matching code and reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// 400 BadRequest: the body is not a patch of the requested type (`errors.NewBadRequest`).
    #[error("{0}")]
    BadRequest(String),
    /// 422 with reason `Invalid` and one cause of reason `UnexpectedServerResponse`
    /// (`errors.NewGenericServerResponse(422, …)`), e.g. a JSON patch op that does not apply.
    #[error("{0}")]
    Unprocessable(String),
    /// 413 RequestEntityTooLarge: a JSON patch with more operations than kube-apiserver allows.
    #[error("{0}")]
    TooLarge(String),
    /// 500 with an empty reason: kube-apiserver returns the patch library's plain error
    /// unchanged, e.g. a strategic list element without its merge key.
    #[error("{0}")]
    Internal(String),
}

impl PatchError {
    /// The HTTP status code kube-apiserver answers this error with.
    pub fn code(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unprocessable(_) => 422,
            Self::TooLarge(_) => 413,
            Self::Internal(_) => 500,
        }
    }

    /// The error text, exactly as kube-apiserver prints it.
    pub fn message(&self) -> &str {
        match self {
            Self::BadRequest(m)
            | Self::Unprocessable(m)
            | Self::TooLarge(m)
            | Self::Internal(m) => m,
        }
    }
}

/// Go's name for the JSON type of `v` in `encoding/json` unmarshal errors
/// (`json: cannot unmarshal object into Go value of type …`).
pub(crate) fn json_type_name(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Renders `v` the way Go's `fmt.Sprintf("%v", …)` prints a decoded JSON value, so error
/// messages that embed patch content read exactly like kube-apiserver's.
pub(crate) fn go_fmt(v: &serde_json::Value) -> String {
    let mut out = String::new();
    write_go(&mut out, v);
    out
}

fn write_go(out: &mut String, v: &serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_go(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Go's fmt sorts map keys when printing.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push_str("map[");
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(key);
                out.push(':');
                if let Some(value) = map.get(key.as_str()) {
                    write_go(out, value);
                }
            }
            out.push(']');
        }
    }
}

/// Go's `reflect.TypeOf(x)` name for a value decoded by apimachinery's JSON decoder
/// (integers become `int64`), as printed in `expected a …, but received a …` errors.
pub(crate) fn go_type_name(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        // fmt prints a nil reflect.Type through %s like this.
        Value::Null => "%!s(<nil>)",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn go_fmt_prints_maps_sorted_and_lists_space_separated() {
        let v = json!({"port": 80, "$patch": "delete", "names": ["a", "b"], "x": null});
        assert_eq!(go_fmt(&v), "map[$patch:delete names:[a b] port:80 x:<nil>]");
    }

    #[test]
    fn go_type_names_match_reflect() {
        assert_eq!(go_type_name(&json!("a")), "string");
        assert_eq!(go_type_name(&json!(1)), "int64");
        assert_eq!(go_type_name(&json!(1.5)), "float64");
        assert_eq!(go_type_name(&json!({})), "map[string]interface {}");
        assert_eq!(go_type_name(&json!([])), "[]interface {}");
    }

    #[test]
    fn error_codes() {
        assert_eq!(PatchError::BadRequest(String::new()).code(), 400);
        assert_eq!(PatchError::Unprocessable(String::new()).code(), 422);
        assert_eq!(PatchError::TooLarge(String::new()).code(), 413);
        assert_eq!(PatchError::Internal("x".into()).message(), "x");
    }
}
