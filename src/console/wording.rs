//! Sentences for people next to the field: kube-apiserver's exact text stays on the page (it
//! is what kubectl prints), and for the common messages a plain sentence goes before it.
//! Presentation only: no rule is decided here.

use std::fmt;

/// One error next to a field: the exact kube-apiserver text, and a sentence for a person
/// when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorText {
    pub plain: Option<String>,
    pub exact: String,
}

impl ErrorText {
    /// The error `exact`, with its plain sentence.
    pub fn new(exact: String) -> ErrorText {
        ErrorText {
            plain: plain_sentence(&exact),
            exact,
        }
    }
}

impl fmt::Display for ErrorText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.exact)
    }
}

/// A sentence for a person for kube-apiserver's `message` (without the field path), or
/// `None` when the exact text is as clear as anything we could say.
pub fn plain_sentence(message: &str) -> Option<String> {
    if let Some(port) = message.strip_prefix("Duplicate value: core.ServicePort{") {
        let number = go_field(port, "Port:")?;
        let protocol = go_field(port, "Protocol:")?;
        return Some(format!(
            "Port {number}/{protocol} is listed twice: each port and protocol may appear once."
        ));
    }
    if let Some(value) = message.strip_prefix("Duplicate value: ") {
        return Some(format!("{value} is already used by another row."));
    }
    if message.starts_with("Required value") {
        return Some("This field is required.".to_string());
    }
    SENTENCES
        .iter()
        .find(|(upstream, _)| message.contains(upstream))
        .map(|(_, sentence)| (*sentence).to_string())
}

/// A part of kube-apiserver's text, and the sentence shown for a message containing it, in
/// the order they are tried.
const SENTENCES: &[(&str, &str)] = &[
    (
        "a DNS-1035 label must consist of",
        "Use lowercase letters, digits and '-', starting with a letter and ending with a letter or digit.",
    ),
    (
        "a lowercase RFC 1123 label must consist of",
        "Use lowercase letters, digits and '-', starting and ending with a letter or digit.",
    ),
    (
        "name part must consist of alphanumeric characters",
        "Use letters, digits, '-', '_' or '.', starting and ending with a letter or digit; a DNS prefix and '/' may come first.",
    ),
    (
        "a valid label must be an empty string or consist of",
        "Use letters, digits, '-', '_' or '.', starting and ending with a letter or digit, or leave the value empty.",
    ),
    (
        "must be no more than 63 characters",
        "Use at most 63 characters.",
    ),
    (
        "must be between 1 and 65535, inclusive",
        "Use a port number from 1 to 65535.",
    ),
    (
        "provided port is already allocated",
        "Another Service already uses this node port; leave it empty to get a free one.",
    ),
    (
        "provided port is not in the valid range",
        "Use a node port from the cluster's range (30000-32767 by default), or leave it empty.",
    ),
];

/// The value after `key` in a Go `%#v` struct, without quotes: `Port:80` → `80`.
fn go_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let start = text
        .find(&format!(" {key}"))
        .map(|i| i + 1)
        .or_else(|| text.starts_with(key).then_some(0))?;
    let rest = &text[start + key.len()..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_port_reads_as_listed_twice() {
        let exact = "Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}";
        assert_eq!(
            plain_sentence(exact).as_deref(),
            Some("Port 80/TCP is listed twice: each port and protocol may appear once.")
        );
    }

    #[test]
    fn regex_texts_read_as_what_to_type() {
        let exact = "Invalid value: \"MyService\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
        assert_eq!(
            plain_sentence(exact).as_deref(),
            Some(
                "Use lowercase letters, digits and '-', starting with a letter and ending with a letter or digit."
            )
        );
        assert_eq!(plain_sentence("Forbidden: may not be set"), None);
    }
}
