//! Field errors in kube-apiserver's words: apimachinery `pkg/util/validation/field`.
//!
//! A [`FieldError`] keeps the bad value already printed the way Go's `fmt` prints it, so
//! that the rendered text matches kube-apiserver character for character.

use std::fmt;

/// The kind of a field error; mirrors `field.ErrorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
    TypeInvalid,
}

impl ErrorType {
    /// The text that starts an error body, e.g. `Invalid value`.
    pub fn text(self) -> &'static str {
        match self {
            ErrorType::NotFound => "Not found",
            ErrorType::Required => "Required value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Invalid | ErrorType::TypeInvalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
            ErrorType::Internal => "Internal error",
        }
    }

    /// The `details.causes[].reason` of a 422 Status.
    pub fn reason(self) -> &'static str {
        match self {
            ErrorType::NotFound => "FieldValueNotFound",
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooMany => "FieldValueTooMany",
            ErrorType::Internal => "InternalError",
            ErrorType::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    /// Whether the bad value is printed in the body (`field.Error.ErrorBody`).
    fn shows_value(self) -> bool {
        !matches!(
            self,
            ErrorType::Required | ErrorType::Forbidden | ErrorType::TooLong | ErrorType::Internal
        )
    }
}

/// One validation error: a type, a field path, a bad value and a detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub error_type: ErrorType,
    pub field: String,
    /// The bad value as Go's `fmt` prints it (`"abc"`, `0`, `[]string{"a"}`); `None` when omitted.
    pub value: Option<String>,
    pub detail: String,
}

impl FieldError {
    fn new(
        error_type: ErrorType,
        field: impl Into<String>,
        value: Option<String>,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            error_type,
            field: field.into(),
            value,
            detail: detail.into(),
        }
    }

    /// `field.Invalid(path, value, detail)`.
    pub fn invalid(
        field: impl Into<String>,
        value: impl GoValue,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(ErrorType::Invalid, field, Some(value.go()), detail)
    }

    /// `field.Required(path, detail)`.
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Required, field, None, detail)
    }

    /// `field.Duplicate(path, value)`.
    pub fn duplicate(field: impl Into<String>, value: impl GoValue) -> Self {
        Self::new(ErrorType::Duplicate, field, Some(value.go()), "")
    }

    /// `field.NotFound(path, value)`.
    pub fn not_found(field: impl Into<String>, value: impl GoValue) -> Self {
        Self::new(ErrorType::NotFound, field, Some(value.go()), "")
    }

    /// `field.Forbidden(path, detail)`.
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Forbidden, field, None, detail)
    }

    /// `field.NotSupported(path, value, supported)`: the supported values are sorted and quoted.
    pub fn not_supported(
        field: impl Into<String>,
        value: impl GoValue,
        supported: &[&str],
    ) -> Self {
        let mut sorted: Vec<&str> = supported.to_vec();
        sorted.sort_unstable();
        let detail = if sorted.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = sorted.iter().map(|s| go_quote(s)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(ErrorType::NotSupported, field, Some(value.go()), detail)
    }

    /// `field.NotSupported(path, value, supported)` with the supported values in the order
    /// given, for callers upstream that pass a literal list rather than a sorted set.
    pub fn not_supported_in_order(
        field: impl Into<String>,
        value: impl GoValue,
        supported: &[&str],
    ) -> Self {
        let quoted: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
        let detail = format!("supported values: {}", quoted.join(", "));
        Self::new(ErrorType::NotSupported, field, Some(value.go()), detail)
    }

    /// `field.TooLong(path, value, max)` in the v1.32 wording.
    pub fn too_long(field: impl Into<String>, max_bytes: usize) -> Self {
        Self::new(
            ErrorType::TooLong,
            field,
            None,
            format!("may not be more than {max_bytes} bytes"),
        )
    }

    /// `field.InternalError(path, err)`.
    pub fn internal(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Internal, field, None, detail)
    }

    /// The text after the field path, as in `details.causes[].message`.
    pub fn body(&self) -> String {
        let mut s = self.error_type.text().to_string();
        if self.error_type.shows_value()
            && let Some(v) = &self.value
        {
            s.push_str(": ");
            s.push_str(v);
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// An ordered list of field errors, as `field.ErrorList`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// An empty list.
    pub fn new() -> Self {
        FieldErrors(Vec::new())
    }

    /// Appends one error.
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    /// Appends all errors of another list, keeping their order.
    pub fn extend(&mut self, other: FieldErrors) {
        self.0.extend(other.0);
    }

    /// True when there is no error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of errors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates over the errors in order.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// The aggregate text (`utilerrors.Aggregate.Error`): duplicates removed, several in `[...]`.
    pub fn aggregate(&self) -> String {
        let mut seen: Vec<String> = Vec::new();
        for e in &self.0 {
            let text = e.to_string();
            if !seen.contains(&text) {
                seen.push(text);
            }
        }
        if seen.len() == 1 {
            seen.remove(0)
        } else {
            format!("[{}]", seen.join(", "))
        }
    }
}

impl From<Vec<FieldError>> for FieldErrors {
    fn from(v: Vec<FieldError>) -> Self {
        FieldErrors(v)
    }
}

impl IntoIterator for FieldErrors {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a FieldErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A value printed as Go's `fmt` `%v`/`%#v` prints it in a field error.
pub trait GoValue {
    /// The Go text of this value.
    fn go(&self) -> String;
}

impl GoValue for &str {
    fn go(&self) -> String {
        go_quote(self)
    }
}

impl GoValue for String {
    fn go(&self) -> String {
        go_quote(self)
    }
}

impl GoValue for &String {
    fn go(&self) -> String {
        go_quote(self)
    }
}

macro_rules! go_plain {
    ($($t:ty),*) => {$(
        impl GoValue for $t {
            fn go(&self) -> String { self.to_string() }
        }
    )*};
}
go_plain!(i32, i64, u16, u32, u64, usize, bool);

/// A nil pointer prints as the quoted string `"null"` in a field error.
impl<T: GoValue> GoValue for Option<T> {
    fn go(&self) -> String {
        match self {
            Some(v) => v.go(),
            None => go_quote("null"),
        }
    }
}

/// A value whose Go text was built by hand (struct literals, typed slices).
#[derive(Debug, Clone)]
pub struct Raw(pub String);

impl GoValue for Raw {
    fn go(&self) -> String {
        self.0.clone()
    }
}

/// `[]string{"a", "b"}`, or `[]string(nil)` for no values.
pub fn go_string_slice(values: &[String]) -> Raw {
    go_typed_slice("string", values)
}

/// `[]core.IPFamily{"IPv4"}` and the like.
pub fn go_typed_slice(type_name: &str, values: &[String]) -> Raw {
    if values.is_empty() {
        return Raw(format!("[]{type_name}(nil)"));
    }
    let quoted: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
    Raw(format!("[]{type_name}{{{}}}", quoted.join(", ")))
}

/// Go's `strconv.Quote`: double quotes, backslash escapes, printable Unicode kept as is.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Approximates Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space; not other spaces, controls, format or private-use characters.
fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    // Format characters (Cf) and private use areas that Go does not print.
    !matches!(u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF
        | 0xD800..=0xDFFF | 0xFFFE | 0xFFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_renders_value_and_detail() {
        let e = FieldError::invalid(
            "spec.ports[0].port",
            0,
            "must be between 1 and 65535, inclusive",
        );
        assert_eq!(
            e.to_string(),
            "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"
        );
        assert_eq!(e.error_type.reason(), "FieldValueInvalid");
    }

    #[test]
    fn required_and_forbidden_never_show_the_value() {
        assert_eq!(
            FieldError::required("spec.ports[1].name", "").to_string(),
            "spec.ports[1].name: Required value"
        );
        assert_eq!(
            FieldError::forbidden("spec.healthCheckNodePort", "field is immutable").to_string(),
            "spec.healthCheckNodePort: Forbidden: field is immutable"
        );
        assert_eq!(
            FieldError::too_long("metadata.annotations", 262144).to_string(),
            "metadata.annotations: Too long: may not be more than 262144 bytes"
        );
    }

    #[test]
    fn not_supported_sorts_and_quotes() {
        let e = FieldError::not_supported("spec.ports[0].protocol", "tcp", &["TCP", "UDP", "SCTP"]);
        assert_eq!(
            e.to_string(),
            "spec.ports[0].protocol: Unsupported value: \"tcp\": supported values: \"SCTP\", \"TCP\", \"UDP\""
        );
    }

    #[test]
    fn nil_prints_as_quoted_null() {
        let e = FieldError::invalid(
            "spec.loadBalancerClass",
            None::<String>,
            "may not change once set",
        );
        assert_eq!(
            e.to_string(),
            "spec.loadBalancerClass: Invalid value: \"null\": may not change once set"
        );
    }

    #[test]
    fn duplicate_without_detail_ends_after_the_value() {
        assert_eq!(
            FieldError::duplicate("spec.ports[1].name", "http").to_string(),
            "spec.ports[1].name: Duplicate value: \"http\""
        );
    }

    #[test]
    fn go_quote_escapes_like_strconv_quote() {
        assert_eq!(go_quote("a\"b"), "\"a\\\"b\"");
        assert_eq!(go_quote("a\nb\t\u{1}"), "\"a\\nb\\t\\x01\"");
        assert_eq!(go_quote("héllo"), "\"héllo\"");
        assert_eq!(go_quote("\u{200b}"), "\"\\u200b\"");
    }

    #[test]
    fn slices_print_in_go_syntax() {
        assert_eq!(
            go_string_slice(&["10.96.0.10".into(), "fd00::10".into()]).0,
            "[]string{\"10.96.0.10\", \"fd00::10\"}"
        );
        assert_eq!(go_string_slice(&[]).0, "[]string(nil)");
    }

    #[test]
    fn aggregate_dedups_and_brackets() {
        let one = FieldError::invalid("metadata.labels", "my label", "x");
        let list = FieldErrors(vec![one.clone(), one.clone()]);
        assert_eq!(
            list.aggregate(),
            "metadata.labels: Invalid value: \"my label\": x"
        );
        let two = FieldErrors(vec![one, FieldError::required("spec.ports", "")]);
        assert_eq!(
            two.aggregate(),
            "[metadata.labels: Invalid value: \"my label\": x, spec.ports: Required value]"
        );
    }
}
