//! Label and field selectors, parsed, checked and matched exactly as kube-apiserver v1.32 does.
//!
//! Mirrors apimachinery `pkg/labels/selector.go`, `pkg/fields/selector.go`, the field label
//! conversions of `pkg/apis/core/v1/conversion.go` and the `…ToSelectableFields` functions of
//! `pkg/registry/*/strategy.go`. Every error is the text kube-apiserver puts in its 400 BadRequest.

use crate::json::Pointer as _;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;
use serde_json::Value;

use crate::field::{FieldError, FieldErrors, go_quote, go_string_slice};
use crate::format::{is_qualified_name, is_valid_label_value};

/// The `kind` of core/v1 Services.
pub const KIND_SERVICE: &str = "Service";
/// The `kind` of core/v1 Endpoints.
pub const KIND_ENDPOINTS: &str = "Endpoints";
/// The `kind` of core/v1 Pods.
pub const KIND_POD: &str = "Pod";
/// The `kind` of core/v1 Nodes.
pub const KIND_NODE: &str = "Node";
/// The `kind` of core/v1 Namespaces.
pub const KIND_NAMESPACE: &str = "Namespace";
/// The `kind` of core/v1 Events.
pub const KIND_EVENT: &str = "Event";
/// The `kind` of core/v1 Secrets.
pub const KIND_SECRET: &str = "Secret";
/// The `kind` of apps/v1 Deployments.
pub const KIND_DEPLOYMENT: &str = "Deployment";
/// The `kind` of discovery.k8s.io/v1 EndpointSlices.
pub const KIND_ENDPOINT_SLICE: &str = "EndpointSlice";

const FIELD_METADATA_NAME: &str = "metadata.name";
const FIELD_METADATA_NAMESPACE: &str = "metadata.namespace";

// ---------------------------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------------------------

/// The operator of one label requirement; mirrors `selection.Operator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `k in (a,b)`: the label is present with one of the values.
    In,
    /// `k notin (a,b)`: the label is absent or has none of the values.
    NotIn,
    /// `k=v`: the label is present with that value.
    Equals,
    /// `k==v`: the same as `k=v`, kept apart only so that it prints back as written.
    DoubleEquals,
    /// `k!=v`: the label is absent or has another value.
    NotEquals,
    /// `k`: the label is present.
    Exists,
    /// `!k`: the label is absent.
    DoesNotExist,
    /// `k>n`: the label is present and is an integer greater than `n`.
    GreaterThan,
    /// `k<n`: the label is present and is an integer less than `n`.
    LessThan,
}

impl Operator {
    /// The operator's name in apimachinery's `selection` package (`in`, `!=`, `gt`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

/// The binary operators in the order upstream lists them in its parse error.
const BINARY_OPERATORS: [Operator; 7] = [
    Operator::In,
    Operator::NotIn,
    Operator::Equals,
    Operator::DoubleEquals,
    Operator::NotEquals,
    Operator::GreaterThan,
    Operator::LessThan,
];

/// One label requirement: a key, an operator and its values; mirrors `labels.Requirement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

impl Requirement {
    /// Builds a validated requirement; mirrors `labels.NewRequirement`.
    ///
    /// The error is the aggregate of every problem found, in upstream's order and words, e.g.
    /// `values[0][app]: Invalid value: "-x": a valid label must be …`.
    pub fn new(key: &str, operator: Operator, values: Vec<String>) -> Result<Requirement, String> {
        let mut errs = FieldErrors::new();
        if let Some(e) = validate_label_key(key, "key") {
            errs.push(e);
        }
        match operator {
            Operator::In | Operator::NotIn => {
                if values.is_empty() {
                    errs.push(FieldError::invalid(
                        "values",
                        go_string_slice(&values),
                        "for 'in', 'notin' operators, values set can't be empty",
                    ));
                }
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
                if values.len() != 1 {
                    errs.push(FieldError::invalid(
                        "values",
                        go_string_slice(&values),
                        "exact-match compatibility requires one single value",
                    ));
                }
            }
            Operator::Exists | Operator::DoesNotExist => {
                if !values.is_empty() {
                    errs.push(FieldError::invalid(
                        "values",
                        go_string_slice(&values),
                        "values set must be empty for exists and does not exist",
                    ));
                }
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errs.push(FieldError::invalid(
                        "values",
                        go_string_slice(&values),
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    if v.parse::<i64>().is_err() {
                        errs.push(FieldError::invalid(
                            format!("values[{i}]"),
                            v,
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ));
                    }
                }
            }
        }
        for (i, v) in values.iter().enumerate() {
            let msgs = is_valid_label_value(v);
            if !msgs.is_empty() {
                errs.push(FieldError::invalid(
                    format!("values[{i}][{key}]"),
                    v,
                    msgs.join("; "),
                ));
            }
        }
        if errs.is_empty() {
            Ok(Requirement {
                key: key.to_string(),
                operator,
                values,
            })
        } else {
            Err(errs.aggregate())
        }
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values, as given (sorted and unique when parsed from a string).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether a label set satisfies this requirement; mirrors `Requirement.Matches`.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let has_value = |v: &String| self.values.iter().any(|x| x == v);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                labels.get(&self.key).is_some_and(has_value)
            }
            Operator::NotIn | Operator::NotEquals => !labels.get(&self.key).is_some_and(has_value),
            Operator::Exists => labels.contains_key(&self.key),
            Operator::DoesNotExist => !labels.contains_key(&self.key),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(actual) = labels.get(&self.key).and_then(|v| v.parse::<i64>().ok()) else {
                    return false;
                };
                // A requirement built by hand may break the one-integer rule; it matches nothing.
                let [wanted] = self.values.as_slice() else {
                    return false;
                };
                let Ok(wanted) = wanted.parse::<i64>() else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    actual > wanted
                } else {
                    actual < wanted
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    /// Prints the requirement as `Requirement.String` does, values sorted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let (open, close) = match self.operator {
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
            Operator::In => (" in (", ")"),
            Operator::NotIn => (" notin (", ")"),
            Operator::Equals => ("=", ""),
            Operator::DoubleEquals => ("==", ""),
            Operator::NotEquals => ("!=", ""),
            Operator::GreaterThan => (">", ""),
            Operator::LessThan => ("<", ""),
        };
        let mut values: Vec<&str> = self.values.iter().map(String::as_str).collect();
        values.sort_unstable();
        write!(f, "{open}{}{close}", values.join(","))
    }
}

/// A label selector: the AND of its requirements, or a selector that selects nothing.
///
/// Mirrors `labels.Selector` (`internalSelector` and `nothingSelector`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
    selects_nothing: bool,
}

impl LabelSelector {
    /// A selector that matches every label set; mirrors `labels.Everything`.
    pub fn everything() -> LabelSelector {
        LabelSelector::default()
    }

    /// A selector that matches no label set; mirrors `labels.Nothing`.
    pub fn nothing() -> LabelSelector {
        LabelSelector {
            requirements: Vec::new(),
            selects_nothing: true,
        }
    }

    /// Parses the `labelSelector` query parameter (kubectl `-l`); mirrors `labels.Parse`.
    ///
    /// The empty string selects everything. Errors carry upstream's text, e.g.
    /// `unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt`.
    pub fn parse(selector: &str) -> Result<LabelSelector, String> {
        let mut parser = Parser::new(selector);
        let mut requirements = parser.parse()?;
        // Upstream sorts by key so that String() is deterministic; matching does not care.
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            requirements,
            selects_nothing: false,
        })
    }

    /// Converts a `metav1.LabelSelector` (Deployments, PodDisruptionBudgets, …); mirrors
    /// `metav1.LabelSelectorAsSelector`.
    ///
    /// An empty selector selects everything; a missing one (`None` upstream) selects nothing,
    /// which callers express with [`LabelSelector::nothing`].
    pub fn from_label_selector(selector: &metav1::LabelSelector) -> Result<LabelSelector, String> {
        let match_labels = selector.match_labels.as_ref();
        let match_expressions = selector.match_expressions.as_deref().unwrap_or_default();
        if match_labels.is_none_or(BTreeMap::is_empty) && match_expressions.is_empty() {
            return Ok(LabelSelector::everything());
        }
        let mut requirements = Vec::new();
        for (k, v) in match_labels.into_iter().flatten() {
            requirements.push(Requirement::new(k, Operator::Equals, vec![v.clone()])?);
        }
        for expr in match_expressions {
            let operator = match expr.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(format!(
                        "{} is not a valid label selector operator",
                        go_quote(other)
                    ));
                }
            };
            let values = expr.values.clone().unwrap_or_default();
            requirements.push(Requirement::new(&expr.key, operator, values)?);
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            requirements,
            selects_nothing: false,
        })
    }

    /// A selector requiring every `key=value` of the map; mirrors `labels.SelectorFromSet`.
    ///
    /// Like upstream, an empty map selects everything and nothing is validated; for a
    /// Service's `spec.selector` use [`matches_service_selector`] instead.
    pub fn from_map(map: &BTreeMap<String, String>) -> LabelSelector {
        LabelSelector {
            requirements: map
                .iter()
                .map(|(k, v)| Requirement {
                    key: k.clone(),
                    operator: Operator::Equals,
                    values: vec![v.clone()],
                })
                .collect(),
            selects_nothing: false,
        }
    }

    /// Whether a label set satisfies every requirement; mirrors `Selector.Matches`.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.selects_nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether the selector does not restrict anything; mirrors `Selector.Empty`.
    pub fn is_empty(&self) -> bool {
        !self.selects_nothing && self.requirements.is_empty()
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }
}

impl fmt::Display for LabelSelector {
    /// Prints the selector as `Selector.String` does: requirements joined by commas.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// Whether a Service's `spec.selector` selects a Pod with these labels.
///
/// Mirrors the endpoints and EndpointSlice controllers: a Service without a selector gets no
/// endpoints from them, and an empty map is stored as no selector, so it selects nothing.
pub fn matches_service_selector(
    selector: Option<&BTreeMap<String, String>>,
    labels: &BTreeMap<String, String>,
) -> bool {
    match selector {
        Some(map) if !map.is_empty() => map.iter().all(|(k, v)| labels.get(k) == Some(v)),
        _ => false,
    }
}

/// Mirrors `validateLabelKey`: one error whose detail joins every `IsQualifiedName` message.
fn validate_label_key(key: &str, path: &str) -> Option<FieldError> {
    let msgs = is_qualified_name(key);
    (!msgs.is_empty()).then(|| FieldError::invalid(path, key, msgs.join("; ")))
}

/// A lexer token; mirrors `labels.Token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Error,
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

/// Mirrors `string2token`: the literal tokens, everything else being an identifier.
fn literal_token(s: &[u8]) -> Option<Token> {
    Some(match s {
        b")" => Token::ClosedPar,
        b"," => Token::Comma,
        b"!" => Token::DoesNotExist,
        b"==" => Token::DoubleEquals,
        b"=" => Token::Equals,
        b">" => Token::GreaterThan,
        b"in" => Token::In,
        b"<" => Token::LessThan,
        b"!=" => Token::NotEquals,
        b"notin" => Token::NotIn,
        b"(" => Token::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special_symbol(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// The byte-wise lexer of `labels.Lexer`; a NUL byte reads like the end, as in Go.
struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Lexer<'_> {
    fn read(&mut self) -> u8 {
        match self.s.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                b
            }
            None => 0,
        }
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    fn literal(buffer: &[u8]) -> String {
        // Tokens end only at ASCII bytes, so the buffer is whole UTF-8; lossy never alters it.
        String::from_utf8_lossy(buffer).into_owned()
    }

    fn scan_id_or_keyword(&mut self) -> (Token, String) {
        let mut buffer = Vec::new();
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if is_special_symbol(ch) || is_whitespace(ch) {
                self.unread();
                break;
            }
            buffer.push(ch);
        }
        let tok = literal_token(&buffer).unwrap_or(Token::Identifier);
        (tok, Self::literal(&buffer))
    }

    fn scan_special_symbol(&mut self) -> (Token, String) {
        let mut buffer = Vec::new();
        let mut last: Option<(Token, String)> = None;
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if !is_special_symbol(ch) {
                self.unread();
                break;
            }
            buffer.push(ch);
            if let Some(tok) = literal_token(&buffer) {
                last = Some((tok, Self::literal(&buffer)));
            } else if last.is_some() {
                self.unread();
                break;
            }
        }
        last.unwrap_or_else(|| {
            (
                Token::Error,
                format!("error expected: keyword found '{}'", Self::literal(&buffer)),
            )
        })
    }

    fn lex(&mut self) -> (Token, String) {
        let mut ch = self.read();
        while is_whitespace(ch) {
            ch = self.read();
        }
        if ch == 0 {
            return (Token::EndOfString, String::new());
        }
        self.unread();
        if is_special_symbol(ch) {
            self.scan_special_symbol()
        } else {
            self.scan_id_or_keyword()
        }
    }
}

/// Whether `in` and `notin` read as keywords or, inside values, as plain identifiers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

/// The recursive-descent parser of `labels.Parser`.
struct Parser {
    items: Vec<(Token, String)>,
    position: usize,
}

impl Parser {
    fn new(selector: &str) -> Parser {
        let mut lexer = Lexer {
            s: selector.as_bytes(),
            pos: 0,
        };
        let mut items = Vec::new();
        loop {
            let item = lexer.lex();
            let end = item.0 == Token::EndOfString;
            items.push(item);
            if end {
                break;
            }
        }
        Parser { items, position: 0 }
    }

    fn lookahead(&self, context: Context) -> (Token, String) {
        let (tok, lit) = self
            .items
            .get(self.position)
            .cloned()
            .unwrap_or((Token::EndOfString, String::new()));
        let tok = match (context, tok) {
            (Context::Values, Token::In | Token::NotIn) => Token::Identifier,
            _ => tok,
        };
        (tok, lit)
    }

    fn consume(&mut self, context: Context) -> (Token, String) {
        let item = self.lookahead(context);
        self.position += 1;
        item
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, String> {
        let mut requirements = Vec::new();
        loop {
            let (tok, lit) = self.lookahead(Context::Values);
            match tok {
                Token::Identifier | Token::DoesNotExist => {
                    let r = self
                        .parse_requirement()
                        .map_err(|e| format!("unable to parse requirement: {e}"))?;
                    requirements.push(r);
                    let (t, l) = self.consume(Context::Values);
                    match t {
                        Token::EndOfString => return Ok(requirements),
                        Token::Comma => {
                            let (t2, l2) = self.lookahead(Context::Values);
                            if t2 != Token::Identifier && t2 != Token::DoesNotExist {
                                return Err(format!(
                                    "found '{l2}', expected: identifier after ','"
                                ));
                            }
                        }
                        _ => {
                            return Err(format!("found '{l}', expected: ',' or 'end of string'"));
                        }
                    }
                }
                Token::EndOfString => return Ok(requirements),
                _ => {
                    return Err(format!(
                        "found '{lit}', expected: !, identifier, or 'end of string'"
                    ));
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, String> {
        let (key, inferred) = self.parse_key_and_infer_operator()?;
        if let Some(op) = inferred {
            return Requirement::new(&key, op, Vec::new());
        }
        let operator = self.parse_operator()?;
        let values = match operator {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        // Upstream collects values in a set and lists them sorted, so indexes in errors
        // refer to the sorted order.
        Requirement::new(&key, operator, values.into_iter().collect())
    }

    /// Returns the key and `Exists`/`DoesNotExist` when no binary operator follows.
    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<Operator>), String> {
        let mut operator = None;
        let (mut tok, mut literal) = self.consume(Context::Values);
        if tok == Token::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            (tok, literal) = self.consume(Context::Values);
        }
        if tok != Token::Identifier {
            return Err(format!("found '{literal}', expected: identifier"));
        }
        // The parser has no field path, so Go prints the nil path as `<nil>`.
        if let Some(e) = validate_label_key(&literal, "<nil>") {
            return Err(e.to_string());
        }
        let (next, _) = self.lookahead(Context::Values);
        if (next == Token::EndOfString || next == Token::Comma) && operator.is_none() {
            operator = Some(Operator::Exists);
        }
        Ok((literal, operator))
    }

    fn parse_operator(&mut self) -> Result<Operator, String> {
        let (tok, lit) = self.consume(Context::KeyAndOperator);
        Ok(match tok {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => {
                let expected: Vec<&str> = BINARY_OPERATORS.iter().map(|o| o.as_str()).collect();
                return Err(format!("found '{lit}', expected: {}", expected.join(", ")));
            }
        })
    }

    fn parse_values(&mut self) -> Result<BTreeSet<String>, String> {
        let (tok, lit) = self.consume(Context::Values);
        if tok != Token::OpenPar {
            // Upstream's message has no comma here.
            return Err(format!("found '{lit}' expected: '('"));
        }
        let (tok, lit) = self.lookahead(Context::Values);
        match tok {
            Token::Identifier | Token::Comma => {
                let s = self.parse_identifiers_list()?;
                if self.consume(Context::Values).0 != Token::ClosedPar {
                    return Err(format!("found '{lit}', expected: ')'"));
                }
                Ok(s)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(BTreeSet::from([String::new()]))
            }
            _ => Err(format!("found '{lit}', expected: ',', ')' or identifier")),
        }
    }

    /// A comma-separated list whose items may be empty: `(a,,b)`, `(,a)`, `(a,)`.
    fn parse_identifiers_list(&mut self) -> Result<BTreeSet<String>, String> {
        let mut s = BTreeSet::new();
        loop {
            let (tok, lit) = self.consume(Context::Values);
            match tok {
                Token::Identifier => {
                    s.insert(lit);
                    let (tok2, lit2) = self.lookahead(Context::Values);
                    match tok2 {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(s),
                        _ => return Err(format!("found '{lit2}', expected: ',' or ')'")),
                    }
                }
                Token::Comma => {
                    if s.is_empty() {
                        s.insert(String::new());
                    }
                    let (tok2, _) = self.lookahead(Context::Values);
                    if tok2 == Token::ClosedPar {
                        s.insert(String::new());
                        return Ok(s);
                    }
                    if tok2 == Token::Comma {
                        self.consume(Context::Values);
                        s.insert(String::new());
                    }
                }
                _ => return Err(format!("found '{lit}', expected: ',', or identifier")),
            }
        }
    }

    fn parse_exact_value(&mut self) -> Result<BTreeSet<String>, String> {
        let (tok, _) = self.lookahead(Context::Values);
        if tok == Token::EndOfString || tok == Token::Comma {
            return Ok(BTreeSet::from([String::new()]));
        }
        let (tok, lit) = self.consume(Context::Values);
        if tok == Token::Identifier {
            Ok(BTreeSet::from([lit]))
        } else {
            Err(format!("found '{lit}', expected: identifier"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Field selectors
// ---------------------------------------------------------------------------------------------

/// The operator of one field term; mirrors the terms of `fields.Selector`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOperator {
    /// `f=v` or `f==v`: the field equals the value.
    Equals,
    /// `f!=v`: the field differs from the value.
    NotEquals,
}

/// One `field=value` or `field!=value` term, the value unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTerm {
    /// The field path as written, e.g. `involvedObject.uid`.
    pub field: String,
    /// Whether the field must equal or differ from the value.
    pub operator: FieldOperator,
    /// The value with `\,`, `\=` and `\\` unescaped.
    pub value: String,
}

/// A field selector: the AND of its terms; mirrors `fields.Selector`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

impl FieldSelector {
    /// A selector that matches every object; mirrors `fields.Everything`.
    pub fn everything() -> FieldSelector {
        FieldSelector::default()
    }

    /// Parses the `fieldSelector` query parameter; mirrors `fields.ParseSelector`.
    ///
    /// Terms are split on unescaped commas and checked in sorted order, as upstream does,
    /// so with several bad terms the error names the first in byte order.
    pub fn parse(selector: &str) -> Result<FieldSelector, String> {
        let mut parts = split_terms(selector);
        parts.sort_unstable();
        let mut terms = Vec::new();
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            let Some((field, operator, rhs)) = split_term(part) else {
                return Err(format!(
                    "invalid selector: '{selector}'; can't understand '{part}'"
                ));
            };
            terms.push(FieldTerm {
                field: field.to_string(),
                operator,
                value: unescape_value(rhs)?,
            });
        }
        Ok(FieldSelector { terms })
    }

    /// The terms, in the sorted order of their source text.
    pub fn terms(&self) -> &[FieldTerm] {
        &self.terms
    }

    /// Whether the selector does not restrict anything; mirrors `Selector.Empty`.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The value an `=`/`==` term requires of a field, if any; mirrors `RequiresExactMatch`.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.operator == FieldOperator::Equals && t.field == field)
            .map(|t| t.value.as_str())
    }

    /// Checks every field against those kube-apiserver supports for `kind`.
    ///
    /// Mirrors the field label conversion functions (`AddFieldLabelConversionFunc` in
    /// `pkg/apis/core/v1/conversion.go`, `runtime.DefaultMetaV1FieldSelectorConversion` for
    /// kinds without one); the error is the text of the 400 BadRequest, e.g.
    /// `field label not supported: spec.foo`.
    pub fn check_supported(&self, kind: &str) -> Result<(), String> {
        self.terms
            .iter()
            .try_for_each(|t| convert_field_label(kind, &t.field).map(|_| ()))
    }

    /// The selector of a request to `group`'s `kind`, its fields named as the stored objects'
    /// field set names them, or upstream's 400 text for a field the request's version does not
    /// support.
    ///
    /// events.k8s.io/v1 Events are stored as core Events: their labels map to the core field
    /// set (`AddFieldLabelConversionsForEvent` in `pkg/apis/events/v1/conversion.go`, e.g.
    /// `regarding.name` → `involvedObject.name`); other kinds keep their labels
    /// ([`FieldSelector::check_supported`]).
    pub fn for_request(&self, group: &str, kind: &str) -> Result<FieldSelector, String> {
        if group != crate::events::GROUP_NAME || kind != KIND_EVENT {
            self.check_supported(kind)?;
            return Ok(self.clone());
        }
        let terms = self
            .terms
            .iter()
            .map(|t| {
                let field = EVENTS_V1_FIELD_LABELS
                    .iter()
                    .find(|(label, _)| *label == t.field)
                    .map(|(_, core)| (*core).to_owned())
                    .ok_or_else(|| format!("field label not supported: {}", t.field))?;
                Ok(FieldTerm { field, ..t.clone() })
            })
            .collect::<Result<_, String>>()?;
        Ok(FieldSelector { terms })
    }

    /// Whether an object, as JSON, satisfies every term; mirrors `Selector.Matches` over the
    /// kind's `…ToSelectableFields` set.
    ///
    /// Fields the kind does not expose, and fields the object leaves unset, read as `""`.
    pub fn matches(&self, object: &Value, kind: &str) -> bool {
        self.terms.iter().all(|t| {
            let actual = match convert_field_label(kind, &t.field) {
                Ok(field) => selectable_field(object, kind, field),
                Err(_) => String::new(),
            };
            match t.operator {
                FieldOperator::Equals => actual == t.value,
                FieldOperator::NotEquals => actual != t.value,
            }
        })
    }
}

impl fmt::Display for FieldSelector {
    /// Prints the selector as `Selector.String` does, values escaped again.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = match t.operator {
                FieldOperator::Equals => "=",
                FieldOperator::NotEquals => "!=",
            };
            write!(f, "{}{op}{}", t.field, escape_value(&t.value))?;
        }
        Ok(())
    }
}

/// events.k8s.io/v1 field labels and the core Event fields they select
/// (`AddFieldLabelConversionsForEvent`).
const EVENTS_V1_FIELD_LABELS: [(&str, &str); 13] = [
    ("reason", "reason"),
    ("regarding.kind", "involvedObject.kind"),
    ("regarding.namespace", "involvedObject.namespace"),
    ("regarding.name", "involvedObject.name"),
    ("regarding.uid", "involvedObject.uid"),
    ("regarding.apiVersion", "involvedObject.apiVersion"),
    (
        "regarding.resourceVersion",
        "involvedObject.resourceVersion",
    ),
    ("regarding.fieldPath", "involvedObject.fieldPath"),
    ("reportingController", "reportingComponent"),
    ("source", "source"),
    ("type", "type"),
    (FIELD_METADATA_NAMESPACE, FIELD_METADATA_NAMESPACE),
    (FIELD_METADATA_NAME, FIELD_METADATA_NAME),
];

/// Mirrors `fields.EscapeValue`: backslash, comma and equals sign get a backslash.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Mirrors `splitTerms`: splits on commas not preceded by a backslash, keeping the escapes.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(selector.get(start..i).unwrap_or_default());
            start = i + 1;
        }
    }
    terms.push(selector.get(start..).unwrap_or_default());
    terms
}

/// Mirrors `splitTerm`: the first `!=`, `==` or `=` splits; the left side has no escaping.
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    const OPERATORS: [(&str, FieldOperator); 3] = [
        ("!=", FieldOperator::NotEquals),
        ("==", FieldOperator::Equals),
        ("=", FieldOperator::Equals),
    ];
    for (i, _) in term.char_indices() {
        let rest = term.get(i..).unwrap_or_default();
        for (op, operator) in OPERATORS {
            if let Some(rhs) = rest.strip_prefix(op) {
                return Some((term.get(..i).unwrap_or_default(), operator, rhs));
            }
        }
    }
    None
}

/// Mirrors `UnescapeValue`, including Go printing the offending rune as its number.
fn unescape_value(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            if !matches!(c, '\\' | ',' | '=') {
                return Err(format!(
                    "invalid field selector: invalid escape sequence: \\{c}"
                ));
            }
            out.push(c);
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            ',' | '=' => {
                return Err(format!(
                    "invalid field selector: unescaped character in value: {}",
                    u32::from(c)
                ));
            }
            _ => out.push(c),
        }
    }
    if in_slash {
        return Err("invalid field selector: invalid escape sequence: \\".to_string());
    }
    Ok(out)
}

/// The field label conversion kube-apiserver applies for `kind`: the canonical field name,
/// or upstream's error for a field it does not support.
fn convert_field_label<'a>(kind: &str, label: &'a str) -> Result<&'a str, String> {
    let supported: &[&str] = match kind {
        KIND_POD => &[
            FIELD_METADATA_NAME,
            FIELD_METADATA_NAMESPACE,
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ],
        KIND_NODE => &[FIELD_METADATA_NAME, "spec.unschedulable"],
        KIND_EVENT => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
            FIELD_METADATA_NAMESPACE,
            FIELD_METADATA_NAME,
        ],
        KIND_NAMESPACE => &["status.phase", FIELD_METADATA_NAME],
        KIND_SECRET => &["type", FIELD_METADATA_NAMESPACE, FIELD_METADATA_NAME],
        KIND_SERVICE => &[
            FIELD_METADATA_NAMESPACE,
            FIELD_METADATA_NAME,
            "spec.clusterIP",
            "spec.type",
        ],
        // Kinds without a conversion function of their own (Endpoints, EndpointSlice,
        // Deployment, …) get runtime.DefaultMetaV1FieldSelectorConversion.
        _ => {
            return if label == FIELD_METADATA_NAME || label == FIELD_METADATA_NAMESPACE {
                Ok(label)
            } else {
                Err(format!(
                    "{} is not a known field selector: only {}, {}",
                    go_quote(label),
                    go_quote(FIELD_METADATA_NAME),
                    go_quote(FIELD_METADATA_NAMESPACE)
                ))
            };
        }
    };
    if supported.contains(&label) {
        Ok(label)
    } else if kind == KIND_POD && label == "spec.host" {
        // Kept upstream for old v1 clients that sent spec.host.
        Ok("spec.nodeName")
    } else {
        Err(format!("field label not supported: {label}"))
    }
}

/// Reads a string at a JSON pointer; absent and non-string values read as `""`.
fn string_at(object: &Value, pointer: &str) -> String {
    object
        .at(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Reads a boolean at a JSON pointer as Go prints it; absent reads as `false`.
fn bool_at(object: &Value, pointer: &str) -> String {
    object
        .at(pointer)
        .and_then(Value::as_bool)
        .unwrap_or(false)
        .to_string()
}

/// The value of one canonical field in the kind's selectable field set.
///
/// Mirrors `ObjectMetaFieldsSet` plus the kind's `…ToSelectableFields`; a field the set does
/// not hold reads as `""`, as `fields.Set.Get` does.
fn selectable_field(object: &Value, kind: &str, field: &str) -> String {
    let cluster_scoped = kind == KIND_NODE || kind == KIND_NAMESPACE;
    match (kind, field) {
        (_, FIELD_METADATA_NAME) => string_at(object, "/metadata/name"),
        (_, FIELD_METADATA_NAMESPACE) if !cluster_scoped => {
            string_at(object, "/metadata/namespace")
        }
        (KIND_POD, "spec.nodeName") => string_at(object, "/spec/nodeName"),
        (KIND_POD, "spec.restartPolicy") => string_at(object, "/spec/restartPolicy"),
        (KIND_POD, "spec.schedulerName") => string_at(object, "/spec/schedulerName"),
        (KIND_POD, "spec.serviceAccountName") => string_at(object, "/spec/serviceAccountName"),
        (KIND_POD, "spec.hostNetwork") => bool_at(object, "/spec/hostNetwork"),
        (KIND_POD, "status.phase") => string_at(object, "/status/phase"),
        (KIND_POD, "status.podIP") => {
            // v1→internal conversion makes podIP authoritative, falling back to podIPs[0].
            let ip = string_at(object, "/status/podIP");
            if ip.is_empty() {
                string_at(object, "/status/podIPs/0/ip")
            } else {
                ip
            }
        }
        (KIND_POD, "status.nominatedNodeName") => string_at(object, "/status/nominatedNodeName"),
        (KIND_NODE, "spec.unschedulable") => bool_at(object, "/spec/unschedulable"),
        (KIND_NAMESPACE, "status.phase") => string_at(object, "/status/phase"),
        (KIND_SERVICE, "spec.clusterIP") => string_at(object, "/spec/clusterIP"),
        (KIND_SERVICE, "spec.type") => string_at(object, "/spec/type"),
        (KIND_SECRET, "type") => string_at(object, "/type"),
        (KIND_EVENT, _) => event_field(object, field),
        // status.podIPs is accepted by the conversion but absent from the Pod's field set.
        _ => String::new(),
    }
}

/// Mirrors the Event `GetAttrs` of `pkg/registry/core/event/strategy.go`.
fn event_field(object: &Value, field: &str) -> String {
    match field {
        "involvedObject.kind" => string_at(object, "/involvedObject/kind"),
        "involvedObject.namespace" => string_at(object, "/involvedObject/namespace"),
        "involvedObject.name" => string_at(object, "/involvedObject/name"),
        "involvedObject.uid" => string_at(object, "/involvedObject/uid"),
        "involvedObject.apiVersion" => string_at(object, "/involvedObject/apiVersion"),
        "involvedObject.resourceVersion" => string_at(object, "/involvedObject/resourceVersion"),
        "involvedObject.fieldPath" => string_at(object, "/involvedObject/fieldPath"),
        "reason" => string_at(object, "/reason"),
        "reportingComponent" => string_at(object, "/reportingComponent"),
        "source" => {
            // events.k8s.io writers leave source.component empty and set reportingController,
            // which core/v1 shows as reportingComponent.
            let component = string_at(object, "/source/component");
            if component.is_empty() {
                string_at(object, "/reportingComponent")
            } else {
                component
            }
        }
        "type" => string_at(object, "/type"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NAME_PART_REGEX_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const LABEL_VALUE_REGEX_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_parse_errors_use_upstream_text() {
        let long_value = "a".repeat(64);
        let cases: Vec<(&str, String, String)> = vec![
            ("two identifiers", "a b".into(), "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt".into()),
            ("bang after key", "x!".into(), "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt".into()),
            ("bare bang", "!".into(), "unable to parse requirement: found '', expected: identifier".into()),
            ("leading not-equals", "!=a".into(), "found '!=', expected: !, identifier, or 'end of string'".into()),
            ("bang before paren", "!(".into(), "unable to parse requirement: found '(', expected: identifier".into()),
            ("trailing comma", "x=a,".into(), "found '', expected: identifier after ','".into()),
            ("comma then operator", "x=a,=b".into(), "found '=', expected: identifier after ','".into()),
            ("missing comma", "x=a b".into(), "found 'b', expected: ',' or 'end of string'".into()),
            ("second operator", "x=a=b".into(), "found '=', expected: ',' or 'end of string'".into()),
            ("leading comma", ",x".into(), "found ',', expected: !, identifier, or 'end of string'".into()),
            ("leading paren", "(x)".into(), "found '(', expected: !, identifier, or 'end of string'".into()),
            ("in without paren", "x in a".into(), "unable to parse requirement: found 'a' expected: '('".into()),
            ("in with operator", "x in (=)".into(), "unable to parse requirement: found '=', expected: ',', ')' or identifier".into()),
            ("in without comma", "x in (a b)".into(), "unable to parse requirement: found 'b', expected: ',' or ')'".into()),
            ("in unclosed", "x in (a".into(), "unable to parse requirement: found '', expected: ',' or ')'".into()),
            ("in operator after comma", "x in (a,=)".into(), "unable to parse requirement: found '=', expected: ',', or identifier".into()),
            ("in extra paren", "x in (a))".into(), "found ')', expected: ',' or 'end of string'".into()),
            ("equals paren", "x=(".into(), "unable to parse requirement: found '(', expected: identifier".into()),
            ("invalid key", "-x=a".into(), format!("unable to parse requirement: <nil>: Invalid value: \"-x\": {NAME_PART_REGEX_MSG}")),
            (
                "key with two slashes",
                "a/b/c".into(),
                "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".into(),
            ),
            (
                "key with bad prefix",
                "Example.com/x".into(),
                "unable to parse requirement: <nil>: Invalid value: \"Example.com/x\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".into(),
            ),
            ("invalid value", "x=-a".into(), format!("unable to parse requirement: values[0][x]: Invalid value: \"-a\": {LABEL_VALUE_REGEX_MSG}")),
            ("invalid value sorted index", "x in (b,-a)".into(), format!("unable to parse requirement: values[0][x]: Invalid value: \"-a\": {LABEL_VALUE_REGEX_MSG}")),
            ("value too long", format!("x={long_value}"), format!("unable to parse requirement: values[0][x]: Invalid value: \"{long_value}\": must be no more than 63 characters")),
            ("gt not integer", "x>a".into(), "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer".into()),
            ("lt negative is not a label value", "x<-1".into(), format!("unable to parse requirement: values[0][x]: Invalid value: \"-1\": {LABEL_VALUE_REGEX_MSG}")),
            ("lt empty", "x<".into(), "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, the value must be an integer".into()),
            (
                "gt two errors",
                "x>-".into(),
                format!("unable to parse requirement: [values[0]: Invalid value: \"-\": for 'Gt', 'Lt' operators, the value must be an integer, values[0][x]: Invalid value: \"-\": {LABEL_VALUE_REGEX_MSG}]"),
            ),
        ];
        for (name, input, want) in cases {
            assert_eq!(LabelSelector::parse(&input), Err(want), "{name}: {input:?}");
        }
    }

    #[test]
    fn label_parse_accepts_upstream_grammar() {
        let cases = [
            ("", ""),
            ("   ", ""),
            ("x", "x"),
            ("!x", "!x"),
            (" ! x ", "!x"),
            ("x=a", "x=a"),
            ("x==a", "x==a"),
            ("x!=a", "x!=a"),
            ("x=", "x="),
            ("x>1", "x>1"),
            ("x<10", "x<10"),
            ("x in (b,a)", "x in (a,b)"),
            ("x notin (a)", "x notin (a)"),
            ("x in ()", "x in ()"),
            ("x in (a,,b)", "x in (,a,b)"),
            ("x in (,a)", "x in (,a)"),
            ("x in (a,)", "x in (,a)"),
            ("in in (in,notin)", "in in (in,notin)"),
            ("z=1 , y , !w,\tx in (a)\n", "!w,x in (a),y,z=1"),
            ("example.com/app=web", "example.com/app=web"),
        ];
        for (input, printed) in cases {
            let sel = LabelSelector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(sel.to_string(), printed, "{input:?}");
        }
        assert!(LabelSelector::parse("").unwrap().is_empty());
    }

    #[test]
    fn label_operators_match_like_upstream() {
        let l = labels(&[
            ("app", "web"),
            ("tier", "front"),
            ("n", "5"),
            ("word", "five"),
        ]);
        let cases = [
            ("app=web", true),
            ("app=db", false),
            ("missing=web", false),
            ("app==web", true),
            ("app!=db", true),
            ("app!=web", false),
            ("missing!=web", true),
            ("app", true),
            ("missing", false),
            ("!missing", true),
            ("!app", false),
            ("app in (db,web)", true),
            ("app in (db)", false),
            ("missing in (web)", false),
            ("app notin (db)", true),
            ("app notin (web)", false),
            ("missing notin (web)", true),
            ("n>4", true),
            ("n>5", false),
            ("n<6", true),
            ("n<5", false),
            ("word>1", false),
            ("missing>1", false),
            ("missing=", false),
            ("app=web,tier=front", true),
            ("app=web,tier=back", false),
            ("", true),
        ];
        for (input, want) in cases {
            let sel = LabelSelector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(sel.matches(&l), want, "{input:?}");
        }
    }

    #[test]
    fn nothing_matches_nothing_and_everything_matches_all() {
        let l = labels(&[("app", "web")]);
        assert!(!LabelSelector::nothing().matches(&l));
        assert!(!LabelSelector::nothing().matches(&BTreeMap::new()));
        assert!(LabelSelector::everything().matches(&l));
        assert!(!LabelSelector::nothing().is_empty());
    }

    fn meta_selector(
        match_labels: &[(&str, &str)],
        exprs: &[(&str, &str, Option<&[&str]>)],
    ) -> metav1::LabelSelector {
        metav1::LabelSelector {
            match_labels: (!match_labels.is_empty()).then(|| labels(match_labels)),
            match_expressions: (!exprs.is_empty()).then(|| {
                exprs
                    .iter()
                    .map(|(k, op, vals)| metav1::LabelSelectorRequirement {
                        key: k.to_string(),
                        operator: op.to_string(),
                        values: vals.map(|v| v.iter().map(|s| s.to_string()).collect()),
                    })
                    .collect()
            }),
        }
    }

    #[test]
    fn from_label_selector_matches_like_upstream() {
        let sel = LabelSelector::from_label_selector(&meta_selector(
            &[("app", "web")],
            &[
                ("tier", "In", Some(&["front", "edge"])),
                ("env", "NotIn", Some(&["prod"])),
                ("track", "Exists", None),
                ("canary", "DoesNotExist", None),
            ],
        ))
        .unwrap();
        assert_eq!(
            sel.to_string(),
            "app=web,!canary,env notin (prod),tier in (edge,front),track"
        );
        let base = [("app", "web"), ("tier", "edge"), ("track", "x")];
        assert!(sel.matches(&labels(&base)));
        assert!(sel.matches(&labels(&[
            ("app", "web"),
            ("tier", "front"),
            ("track", ""),
            ("env", "dev")
        ])));
        assert!(!sel.matches(&labels(&[("app", "db"), ("tier", "edge"), ("track", "x")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("tier", "back"), ("track", "x")])));
        assert!(!sel.matches(&labels(&[
            ("app", "web"),
            ("tier", "edge"),
            ("track", "x"),
            ("env", "prod")
        ])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("tier", "edge")])));
        assert!(!sel.matches(&labels(&[
            ("app", "web"),
            ("tier", "edge"),
            ("track", "x"),
            ("canary", "1")
        ])));

        let empty = LabelSelector::from_label_selector(&metav1::LabelSelector::default()).unwrap();
        assert!(empty.is_empty());
        assert!(empty.matches(&labels(&base)));
    }

    #[test]
    fn from_label_selector_errors_use_upstream_text() {
        let cases: Vec<(&str, metav1::LabelSelector, String)> = vec![
            (
                "unknown operator",
                meta_selector(&[], &[("a", "Gt", Some(&["1"]))]),
                "\"Gt\" is not a valid label selector operator".into(),
            ),
            (
                "in without values",
                meta_selector(&[], &[("a", "In", None)]),
                "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty".into(),
            ),
            (
                "exists with values",
                meta_selector(&[], &[("a", "Exists", Some(&["x"]))]),
                "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not exist".into(),
            ),
            (
                "bad key",
                meta_selector(&[("-a", "x")], &[]),
                format!("key: Invalid value: \"-a\": {NAME_PART_REGEX_MSG}"),
            ),
            (
                "bad match label value",
                meta_selector(&[("a", "x y")], &[]),
                format!("values[0][a]: Invalid value: \"x y\": {LABEL_VALUE_REGEX_MSG}"),
            ),
            (
                "bad key and value",
                meta_selector(&[], &[("-a", "NotIn", Some(&["ok", "-b"]))]),
                format!("[key: Invalid value: \"-a\": {NAME_PART_REGEX_MSG}, values[1][-a]: Invalid value: \"-b\": {LABEL_VALUE_REGEX_MSG}]"),
            ),
        ];
        for (name, sel, want) in cases {
            assert_eq!(
                LabelSelector::from_label_selector(&sel),
                Err(want),
                "{name}"
            );
        }
    }

    #[test]
    fn from_map_requires_every_pair_and_empty_selects_all() {
        let sel = LabelSelector::from_map(&labels(&[("app", "web"), ("tier", "front")]));
        assert_eq!(sel.to_string(), "app=web,tier=front");
        assert!(sel.matches(&labels(&[("app", "web"), ("tier", "front"), ("x", "y")])));
        assert!(!sel.matches(&labels(&[("app", "web")])));
        assert!(LabelSelector::from_map(&BTreeMap::new()).matches(&labels(&[("app", "web")])));
    }

    #[test]
    fn service_selector_empty_or_absent_selects_nothing() {
        let pod = labels(&[("app", "web"), ("tier", "front")]);
        let sel = labels(&[("app", "web")]);
        assert!(matches_service_selector(Some(&sel), &pod));
        assert!(!matches_service_selector(
            Some(&labels(&[("app", "db")])),
            &pod
        ));
        assert!(!matches_service_selector(
            Some(&labels(&[("zone", "a")])),
            &pod
        ));
        assert!(!matches_service_selector(Some(&BTreeMap::new()), &pod));
        assert!(!matches_service_selector(None, &pod));
    }

    #[test]
    fn field_parse_errors_use_upstream_text() {
        let cases = [
            (
                "no operator",
                "a",
                "invalid selector: 'a'; can't understand 'a'",
            ),
            (
                "sorted first bad term",
                "b=1,a",
                "invalid selector: 'b=1,a'; can't understand 'a'",
            ),
            (
                "unescaped equals",
                "a=b=c",
                "invalid field selector: unescaped character in value: 61",
            ),
            (
                "not-equals then equals",
                "a!==b",
                "invalid field selector: unescaped character in value: 61",
            ),
            (
                "trailing backslash",
                "a=b\\",
                "invalid field selector: invalid escape sequence: \\",
            ),
            (
                "unknown escape",
                "a=\\x",
                "invalid field selector: invalid escape sequence: \\x",
            ),
        ];
        for (name, input, want) in cases {
            assert_eq!(
                FieldSelector::parse(input),
                Err(want.to_string()),
                "{name}: {input:?}"
            );
        }
    }

    #[test]
    fn field_parse_splits_and_unescapes() {
        let sel = FieldSelector::parse("b!=2,a==1,,c=x\\,y\\=z\\\\,d=").unwrap();
        let got: Vec<(&str, FieldOperator, &str)> = sel
            .terms()
            .iter()
            .map(|t| (t.field.as_str(), t.operator, t.value.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", FieldOperator::Equals, "1"),
                ("b", FieldOperator::NotEquals, "2"),
                ("c", FieldOperator::Equals, "x,y=z\\"),
                ("d", FieldOperator::Equals, ""),
            ]
        );
        assert_eq!(sel.to_string(), "a=1,b!=2,c=x\\,y\\=z\\\\,d=");
        assert_eq!(sel.requires_exact_match("a"), Some("1"));
        assert_eq!(sel.requires_exact_match("b"), None);
        assert!(FieldSelector::parse("").unwrap().is_empty());
        assert!(FieldSelector::parse(",").unwrap().is_empty());
    }

    #[test]
    fn unsupported_fields_are_rejected_with_upstream_text() {
        let cases = [
            (
                "Service",
                "spec.foo=x",
                "field label not supported: spec.foo",
            ),
            (
                "Pod",
                "spec.containers=x",
                "field label not supported: spec.containers",
            ),
            (
                "Node",
                "metadata.namespace=x",
                "field label not supported: metadata.namespace",
            ),
            (
                "Namespace",
                "spec.finalizers=x",
                "field label not supported: spec.finalizers",
            ),
            ("Event", "message=x", "field label not supported: message"),
            (
                "Endpoints",
                "spec.foo=x",
                "\"spec.foo\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
            ),
            (
                "EndpointSlice",
                "addressType=IPv4",
                "\"addressType\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
            ),
            (
                "Deployment",
                "spec.replicas=1",
                "\"spec.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
            ),
            (
                "Deployment",
                "b\"=1",
                "\"b\\\"\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
            ),
            // Terms are checked in sorted order, so the first error is the first bad term.
            (
                "Service",
                "z=1,metadata.name=a,b=2",
                "field label not supported: b",
            ),
        ];
        for (kind, input, want) in cases {
            let sel = FieldSelector::parse(input).unwrap();
            assert_eq!(
                sel.check_supported(kind),
                Err(want.to_string()),
                "{kind}: {input:?}"
            );
        }
    }

    #[test]
    fn supported_fields_pass_the_check() {
        let cases: [(&str, &[&str]); 9] = [
            (
                "Service",
                &[
                    "metadata.name",
                    "metadata.namespace",
                    "spec.clusterIP",
                    "spec.type",
                ],
            ),
            ("Endpoints", &["metadata.name", "metadata.namespace"]),
            ("EndpointSlice", &["metadata.name", "metadata.namespace"]),
            ("Deployment", &["metadata.name", "metadata.namespace"]),
            (
                "Pod",
                &[
                    "metadata.name",
                    "metadata.namespace",
                    "spec.nodeName",
                    "spec.restartPolicy",
                    "spec.schedulerName",
                    "spec.serviceAccountName",
                    "spec.hostNetwork",
                    "status.phase",
                    "status.podIP",
                    "status.podIPs",
                    "status.nominatedNodeName",
                    "spec.host",
                ],
            ),
            ("Node", &["metadata.name", "spec.unschedulable"]),
            ("Namespace", &["metadata.name", "status.phase"]),
            (
                "Event",
                &[
                    "involvedObject.kind",
                    "involvedObject.namespace",
                    "involvedObject.name",
                    "involvedObject.uid",
                    "involvedObject.apiVersion",
                    "involvedObject.resourceVersion",
                    "involvedObject.fieldPath",
                    "reason",
                    "reportingComponent",
                    "source",
                    "type",
                    "metadata.namespace",
                    "metadata.name",
                ],
            ),
            ("Secret", &["type", "metadata.name", "metadata.namespace"]),
        ];
        for (kind, fields) in cases {
            for field in fields {
                let sel = FieldSelector::parse(&format!("{field}=x")).unwrap();
                assert_eq!(sel.check_supported(kind), Ok(()), "{kind}: {field}");
            }
        }
    }

    /// Asserts that `field=want` matches, `field!=want` does not, and `field=other` does not.
    fn assert_field(kind: &str, object: &Value, field: &str, want: &str) {
        let eq = FieldSelector::parse(&format!("{field}={}", escape_value(want))).unwrap();
        let double = FieldSelector::parse(&format!("{field}=={}", escape_value(want))).unwrap();
        let ne = FieldSelector::parse(&format!("{field}!={}", escape_value(want))).unwrap();
        let other = FieldSelector::parse(&format!("{field}=other-value")).unwrap();
        assert!(eq.matches(object, kind), "{kind}: {field}={want:?}");
        assert!(double.matches(object, kind), "{kind}: {field}=={want:?}");
        assert!(!ne.matches(object, kind), "{kind}: {field}!={want:?}");
        assert!(!other.matches(object, kind), "{kind}: {field}=other-value");
    }

    #[test]
    fn pod_fields_match() {
        let pod = json!({
            "metadata": {"name": "web-0", "namespace": "prod"},
            "spec": {"nodeName": "node-1", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                     "serviceAccountName": "default", "hostNetwork": true},
            "status": {"phase": "Running", "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}],
                       "nominatedNodeName": "node-2"}
        });
        for (field, want) in [
            ("metadata.name", "web-0"),
            ("metadata.namespace", "prod"),
            ("spec.nodeName", "node-1"),
            ("spec.host", "node-1"),
            ("spec.restartPolicy", "Always"),
            ("spec.schedulerName", "default-scheduler"),
            ("spec.serviceAccountName", "default"),
            ("spec.hostNetwork", "true"),
            ("status.phase", "Running"),
            ("status.podIP", "10.0.0.5"),
            ("status.podIPs", ""),
            ("status.nominatedNodeName", "node-2"),
        ] {
            assert_field("Pod", &pod, field, want);
        }
        let bare = json!({"metadata": {"name": "p"}, "status": {"podIPs": [{"ip": "fd00::7"}]}});
        for (field, want) in [
            ("spec.nodeName", ""),
            ("spec.hostNetwork", "false"),
            ("status.phase", ""),
            ("status.podIP", "fd00::7"),
            ("metadata.namespace", ""),
        ] {
            assert_field("Pod", &bare, field, want);
        }
    }

    #[test]
    fn service_endpoints_deployment_and_slice_fields_match() {
        let svc = json!({"metadata": {"name": "web", "namespace": "default"},
                         "spec": {"clusterIP": "None", "type": "ClusterIP"}});
        for (field, want) in [
            ("metadata.name", "web"),
            ("metadata.namespace", "default"),
            ("spec.clusterIP", "None"),
            ("spec.type", "ClusterIP"),
        ] {
            assert_field("Service", &svc, field, want);
        }
        let obj = json!({"metadata": {"name": "web", "namespace": "default"}});
        for kind in ["Endpoints", "EndpointSlice", "Deployment"] {
            assert_field(kind, &obj, "metadata.name", "web");
            assert_field(kind, &obj, "metadata.namespace", "default");
        }
    }

    #[test]
    fn node_namespace_and_secret_fields_match() {
        let node = json!({"metadata": {"name": "node-1"}, "spec": {"unschedulable": true}});
        assert_field("Node", &node, "metadata.name", "node-1");
        assert_field("Node", &node, "spec.unschedulable", "true");
        assert_field(
            "Node",
            &json!({"metadata": {"name": "n"}}),
            "spec.unschedulable",
            "false",
        );

        let ns = json!({"metadata": {"name": "prod"}, "status": {"phase": "Terminating"}});
        assert_field("Namespace", &ns, "metadata.name", "prod");
        assert_field("Namespace", &ns, "status.phase", "Terminating");

        let secret = json!({"metadata": {"name": "s", "namespace": "d"}, "type": "Opaque"});
        assert_field("Secret", &secret, "type", "Opaque");
    }

    #[test]
    fn event_fields_match() {
        let event = json!({
            "metadata": {"name": "web.17a", "namespace": "default"},
            "involvedObject": {"kind": "Service", "namespace": "default", "name": "web", "uid": "1234-abcd",
                               "apiVersion": "v1", "resourceVersion": "42", "fieldPath": "spec.ports{http}"},
            "reason": "EnsuringLoadBalancer",
            "reportingComponent": "service-controller",
            "source": {"component": "service-lb-controller"},
            "type": "Normal"
        });
        for (field, want) in [
            ("metadata.name", "web.17a"),
            ("metadata.namespace", "default"),
            ("involvedObject.kind", "Service"),
            ("involvedObject.namespace", "default"),
            ("involvedObject.name", "web"),
            ("involvedObject.uid", "1234-abcd"),
            ("involvedObject.apiVersion", "v1"),
            ("involvedObject.resourceVersion", "42"),
            ("involvedObject.fieldPath", "spec.ports{http}"),
            ("reason", "EnsuringLoadBalancer"),
            ("reportingComponent", "service-controller"),
            ("source", "service-lb-controller"),
            ("type", "Normal"),
        ] {
            assert_field("Event", &event, field, want);
        }
        // Without source.component, `source` falls back to the reporting controller.
        let new_style = json!({"metadata": {"name": "e"}, "reportingComponent": "kubelet"});
        assert_field("Event", &new_style, "source", "kubelet");
        assert_field("Event", &new_style, "involvedObject.uid", "");
    }

    #[test]
    fn describe_style_event_selector_ands_all_terms() {
        let event = json!({
            "metadata": {"name": "e", "namespace": "default"},
            "involvedObject": {"kind": "Service", "namespace": "default", "name": "web", "uid": "u1"}
        });
        let sel = FieldSelector::parse(
            "involvedObject.name=web,involvedObject.namespace=default,involvedObject.kind=Service,involvedObject.uid=u1",
        )
        .unwrap();
        assert_eq!(sel.check_supported("Event"), Ok(()));
        assert!(sel.matches(&event, "Event"));
        let other = FieldSelector::parse("involvedObject.name=web,involvedObject.uid=u2").unwrap();
        assert!(!other.matches(&event, "Event"));
        assert!(FieldSelector::everything().matches(&event, "Event"));
    }

    #[test]
    fn events_v1_selectors_select_the_stored_core_fields() {
        let event = json!({
            "metadata": {"name": "e", "namespace": "default"},
            "involvedObject": {"kind": "Service", "name": "web"},
            "reportingComponent": "service-controller",
        });
        let sel = FieldSelector::parse("regarding.name=web,reportingController=service-controller")
            .unwrap()
            .for_request("events.k8s.io", "Event")
            .unwrap();
        assert_eq!(
            sel.to_string(),
            "involvedObject.name=web,reportingComponent=service-controller"
        );
        assert!(sel.matches(&event, "Event"));
        // The core names are not events.k8s.io/v1 labels, and the other way round.
        for (group, selector) in [
            ("events.k8s.io", "involvedObject.name=web"),
            ("", "regarding.name=web"),
        ] {
            let field = selector.split('=').next().unwrap_or_default();
            assert_eq!(
                FieldSelector::parse(selector)
                    .unwrap()
                    .for_request(group, "Event"),
                Err(format!("field label not supported: {field}"))
            );
        }
    }

    #[test]
    fn no_input_panics() {
        let inputs = [
            "",
            "\0",
            "a\0b",
            "é=ü",
            "é in (ü,",
            "(((",
            ")))",
            "!!!",
            "<<>>",
            "x in ((",
            "\\",
            "a=\\",
            "=",
            "!=",
            "==",
            "a,\\,b",
            "ключ=значение",
            "x\u{200b}=1",
        ];
        for input in inputs {
            let _ = LabelSelector::parse(input);
            if let Ok(sel) = FieldSelector::parse(input) {
                let _ = sel.check_supported("Pod");
                let _ = sel.matches(&json!(null), "Pod");
                let _ = sel.matches(&json!({"metadata": 5}), "Event");
            }
        }
    }
}
