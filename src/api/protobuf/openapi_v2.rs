//! The gnostic `openapi.v2.Document` that `/openapi/v2` serves as protobuf (what client-go's
//! `OpenAPISchema()` asks for, and so kubectl's explain, apply and edit). Only the messages and
//! fields of github.com/google/gnostic-models `openapiv2/OpenAPIv2.proto` that our document
//! uses are written out, with upstream's tags. kube-apiserver builds the same message from its
//! JSON document (kube-openapi `pkg/handler/handler.go` `ToProtoBinary`), and so does
//! [`Document::from_json`]; a vendor extension's value is its YAML text, and JSON is YAML.

use prost::{Message, Oneof};
use serde_json::{Map, Value};

#[derive(Clone, PartialEq, Message)]
pub struct Document {
    #[prost(string, tag = "1")]
    pub swagger: String,
    #[prost(message, optional, tag = "2")]
    pub info: Option<Info>,
    #[prost(message, optional, tag = "8")]
    pub paths: Option<Paths>,
    #[prost(message, optional, tag = "9")]
    pub definitions: Option<Definitions>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Info {
    #[prost(string, tag = "1")]
    pub title: String,
    #[prost(string, tag = "2")]
    pub version: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct Paths {
    #[prost(message, repeated, tag = "2")]
    pub path: Vec<NamedPathItem>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NamedPathItem {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<PathItem>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PathItem {
    #[prost(message, optional, tag = "2")]
    pub get: Option<Operation>,
    #[prost(message, optional, tag = "3")]
    pub put: Option<Operation>,
    #[prost(message, optional, tag = "4")]
    pub post: Option<Operation>,
    #[prost(message, optional, tag = "5")]
    pub delete: Option<Operation>,
    #[prost(message, optional, tag = "8")]
    pub patch: Option<Operation>,
    #[prost(message, repeated, tag = "9")]
    pub parameters: Vec<ParametersItem>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Operation {
    #[prost(string, repeated, tag = "1")]
    pub tags: Vec<String>,
    #[prost(string, tag = "3")]
    pub description: String,
    #[prost(string, tag = "5")]
    pub operation_id: String,
    #[prost(string, repeated, tag = "6")]
    pub produces: Vec<String>,
    #[prost(string, repeated, tag = "7")]
    pub consumes: Vec<String>,
    #[prost(message, repeated, tag = "8")]
    pub parameters: Vec<ParametersItem>,
    #[prost(message, optional, tag = "9")]
    pub responses: Option<Responses>,
    #[prost(string, repeated, tag = "10")]
    pub schemes: Vec<String>,
    #[prost(message, repeated, tag = "13")]
    pub vendor_extension: Vec<NamedAny>,
}

/// `ParametersItem.oneof.parameter` → `Parameter.oneof.non_body_parameter` → query or path.
#[derive(Clone, PartialEq, Message)]
pub struct ParametersItem {
    #[prost(message, optional, tag = "1")]
    pub parameter: Option<Parameter>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Parameter {
    #[prost(message, optional, tag = "2")]
    pub non_body_parameter: Option<NonBodyParameter>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NonBodyParameter {
    #[prost(oneof = "SubSchema", tags = "3, 4")]
    pub oneof: Option<SubSchema>,
}

#[derive(Clone, PartialEq, Oneof)]
pub enum SubSchema {
    #[prost(message, tag = "3")]
    Query(QueryParameterSubSchema),
    #[prost(message, tag = "4")]
    Path(PathParameterSubSchema),
}

#[derive(Clone, PartialEq, Message)]
pub struct QueryParameterSubSchema {
    #[prost(bool, tag = "1")]
    pub required: bool,
    #[prost(string, tag = "2")]
    pub r#in: String,
    #[prost(string, tag = "3")]
    pub description: String,
    #[prost(string, tag = "4")]
    pub name: String,
    #[prost(string, tag = "6")]
    pub r#type: String,
    #[prost(bool, tag = "20")]
    pub unique_items: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct PathParameterSubSchema {
    #[prost(bool, tag = "1")]
    pub required: bool,
    #[prost(string, tag = "2")]
    pub r#in: String,
    #[prost(string, tag = "3")]
    pub description: String,
    #[prost(string, tag = "4")]
    pub name: String,
    #[prost(string, tag = "5")]
    pub r#type: String,
    #[prost(bool, tag = "19")]
    pub unique_items: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct Responses {
    #[prost(message, repeated, tag = "1")]
    pub response_code: Vec<NamedResponseValue>,
}

/// `NamedResponseValue.value` is a `ResponseValue` whose oneof holds a `Response` (tag 1).
#[derive(Clone, PartialEq, Message)]
pub struct NamedResponseValue {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<ResponseValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ResponseValue {
    #[prost(message, optional, tag = "1")]
    pub response: Option<Response>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Response {
    #[prost(string, tag = "1")]
    pub description: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct Definitions {
    #[prost(message, repeated, tag = "1")]
    pub additional_properties: Vec<NamedSchema>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NamedSchema {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<Schema>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Schema {
    #[prost(string, tag = "1")]
    pub r#ref: String,
    #[prost(string, tag = "2")]
    pub format: String,
    #[prost(string, tag = "3")]
    pub title: String,
    #[prost(string, tag = "4")]
    pub description: String,
    #[prost(string, repeated, tag = "19")]
    pub required: Vec<String>,
    #[prost(message, repeated, tag = "20")]
    pub r#enum: Vec<Any>,
    #[prost(message, optional, tag = "21")]
    pub additional_properties: Option<AdditionalPropertiesItem>,
    #[prost(message, optional, tag = "22")]
    pub r#type: Option<TypeItem>,
    #[prost(message, optional, tag = "23")]
    pub items: Option<ItemsItem>,
    #[prost(message, repeated, tag = "24")]
    pub all_of: Vec<Schema>,
    #[prost(message, optional, tag = "25")]
    pub properties: Option<Properties>,
    #[prost(message, repeated, tag = "31")]
    pub vendor_extension: Vec<NamedAny>,
}

#[derive(Clone, PartialEq, Message)]
pub struct AdditionalPropertiesItem {
    #[prost(oneof = "AdditionalProperties", tags = "1, 2")]
    pub oneof: Option<AdditionalProperties>,
}

#[derive(Clone, PartialEq, Oneof)]
pub enum AdditionalProperties {
    #[prost(message, tag = "1")]
    Schema(Box<Schema>),
    #[prost(bool, tag = "2")]
    Boolean(bool),
}

#[derive(Clone, PartialEq, Message)]
pub struct TypeItem {
    #[prost(string, repeated, tag = "1")]
    pub value: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ItemsItem {
    #[prost(message, repeated, tag = "1")]
    pub schema: Vec<Schema>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Properties {
    #[prost(message, repeated, tag = "1")]
    pub additional_properties: Vec<NamedSchema>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NamedAny {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<Any>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Any {
    #[prost(string, tag = "2")]
    pub yaml: String,
}

fn text(object: &Map<String, Value>, key: &str) -> String {
    object
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn texts(object: &Map<String, Value>, key: &str) -> Vec<String> {
    object
        .get(key)
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn flag(object: &Map<String, Value>, key: &str) -> bool {
    object.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn entries(object: &Map<String, Value>, key: &str) -> impl Iterator<Item = (String, Value)> {
    object
        .get(key)
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|map| map.iter().map(|(k, v)| (k.clone(), v.clone())))
}

/// A value as gnostic keeps it: its YAML text (here its JSON, which YAML parsers read).
fn any(value: &Value) -> Any {
    Any {
        yaml: value.to_string(),
    }
}

fn vendor_extensions(object: &Map<String, Value>) -> Vec<NamedAny> {
    object
        .iter()
        .filter(|(key, _)| key.starts_with("x-"))
        .map(|(name, value)| NamedAny {
            name: name.clone(),
            value: Some(any(value)),
        })
        .collect()
}

impl Document {
    /// The document of a Swagger 2.0 JSON document (keys it does not model are left out).
    pub fn from_json(document: &Value) -> Document {
        let empty = Map::new();
        let object = document.as_object().unwrap_or(&empty);
        let info = object.get("info").and_then(Value::as_object);
        Document {
            swagger: text(object, "swagger"),
            info: info.map(|info| Info {
                title: text(info, "title"),
                version: text(info, "version"),
            }),
            paths: Some(Paths {
                path: entries(object, "paths")
                    .map(|(name, item)| NamedPathItem {
                        name,
                        value: Some(path_item(&item)),
                    })
                    .collect(),
            }),
            definitions: Some(Definitions {
                additional_properties: entries(object, "definitions")
                    .map(|(name, value)| NamedSchema {
                        name,
                        value: Some(Schema::from_json(&value)),
                    })
                    .collect(),
            }),
        }
    }

    /// The encoded message.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode_to_vec()
    }
}

fn path_item(item: &Value) -> PathItem {
    let operation = |method: &str| item.get(method).map(operation);
    PathItem {
        get: operation("get"),
        put: operation("put"),
        post: operation("post"),
        delete: operation("delete"),
        patch: operation("patch"),
        parameters: parameters(item),
    }
}

fn operation(operation: &Value) -> Operation {
    let empty = Map::new();
    let object = operation.as_object().unwrap_or(&empty);
    Operation {
        tags: texts(object, "tags"),
        description: text(object, "description"),
        operation_id: text(object, "operationId"),
        produces: texts(object, "produces"),
        consumes: texts(object, "consumes"),
        parameters: parameters(operation),
        responses: Some(Responses {
            response_code: entries(object, "responses")
                .map(|(name, response)| NamedResponseValue {
                    name,
                    value: Some(ResponseValue {
                        response: Some(Response {
                            description: response["description"]
                                .as_str()
                                .unwrap_or_default()
                                .to_owned(),
                        }),
                    }),
                })
                .collect(),
        }),
        schemes: texts(object, "schemes"),
        vendor_extension: vendor_extensions(object),
    }
}

/// The query and path parameters of an operation or path item.
fn parameters(owner: &Value) -> Vec<ParametersItem> {
    let Some(list) = owner.get("parameters").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(Value::as_object)
        .filter_map(|p| {
            let sub = match p.get("in").and_then(Value::as_str) {
                Some("query") => SubSchema::Query(QueryParameterSubSchema {
                    required: flag(p, "required"),
                    r#in: text(p, "in"),
                    description: text(p, "description"),
                    name: text(p, "name"),
                    r#type: text(p, "type"),
                    unique_items: flag(p, "uniqueItems"),
                }),
                Some("path") => SubSchema::Path(PathParameterSubSchema {
                    required: flag(p, "required"),
                    r#in: text(p, "in"),
                    description: text(p, "description"),
                    name: text(p, "name"),
                    r#type: text(p, "type"),
                    unique_items: flag(p, "uniqueItems"),
                }),
                _ => return None,
            };
            Some(ParametersItem {
                parameter: Some(Parameter {
                    non_body_parameter: Some(NonBodyParameter { oneof: Some(sub) }),
                }),
            })
        })
        .collect()
}

impl Schema {
    /// A JSON schema's message; `true`/`false` schemas (any value) have no keys.
    pub fn from_json(schema: &Value) -> Schema {
        let Some(object) = schema.as_object() else {
            return Schema::default();
        };
        let r#type = match object.get("type") {
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(_)) => texts(object, "type"),
            _ => Vec::new(),
        };
        Schema {
            r#ref: text(object, "$ref"),
            format: text(object, "format"),
            title: text(object, "title"),
            description: text(object, "description"),
            required: texts(object, "required"),
            r#enum: object
                .get("enum")
                .and_then(Value::as_array)
                .map(|values| values.iter().map(any).collect())
                .unwrap_or_default(),
            additional_properties: object.get("additionalProperties").map(|extra| {
                AdditionalPropertiesItem {
                    oneof: Some(match extra {
                        Value::Bool(allowed) => AdditionalProperties::Boolean(*allowed),
                        schema => AdditionalProperties::Schema(Box::new(Schema::from_json(schema))),
                    }),
                }
            }),
            r#type: (!r#type.is_empty()).then_some(TypeItem { value: r#type }),
            items: object.get("items").map(|items| ItemsItem {
                schema: match items {
                    Value::Array(list) => list.iter().map(Schema::from_json).collect(),
                    one => vec![Schema::from_json(one)],
                },
            }),
            all_of: object
                .get("allOf")
                .and_then(Value::as_array)
                .map(|list| list.iter().map(Schema::from_json).collect())
                .unwrap_or_default(),
            properties: object
                .get("properties")
                .and_then(Value::as_object)
                .map(|properties| Properties {
                    additional_properties: properties
                        .iter()
                        .map(|(name, value)| NamedSchema {
                            name: name.clone(),
                            value: Some(Schema::from_json(value)),
                        })
                        .collect(),
                }),
            vendor_extension: vendor_extensions(object),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_schema_round_trips_with_its_extensions() {
        let doc = json!({
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": {"/api/v1/namespaces/{namespace}/services": {
                "parameters": [{"name": "namespace", "in": "path", "required": true, "type": "string", "uniqueItems": true}],
                "get": {"operationId": "listCoreV1NamespacedService", "responses": {"200": {"description": "OK"}},
                        "x-kubernetes-action": "list"},
            }},
            "definitions": {"io.k8s.api.core.v1.ServiceSpec": {
                "type": "object",
                "properties": {
                    "ports": {"type": "array", "items": {"$ref": "#/definitions/io.k8s.api.core.v1.ServicePort"},
                              "x-kubernetes-list-map-keys": ["port", "protocol"]},
                    "selector": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            }},
        });
        let bytes = Document::from_json(&doc).to_bytes();
        let decoded = Document::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded.swagger, "2.0");
        assert_eq!(decoded.info.as_ref().unwrap().version, "v1.32.0");
        let spec = &decoded.definitions.unwrap().additional_properties[0];
        assert_eq!(spec.name, "io.k8s.api.core.v1.ServiceSpec");
        let properties = &spec
            .value
            .as_ref()
            .unwrap()
            .properties
            .as_ref()
            .unwrap()
            .additional_properties;
        let ports = properties[0].value.as_ref().unwrap();
        assert_eq!(ports.r#type.as_ref().unwrap().value, ["array"]);
        assert_eq!(
            ports.items.as_ref().unwrap().schema[0].r#ref,
            "#/definitions/io.k8s.api.core.v1.ServicePort"
        );
        assert_eq!(ports.vendor_extension[0].name, "x-kubernetes-list-map-keys");
        assert_eq!(
            ports.vendor_extension[0].value.as_ref().unwrap().yaml,
            r#"["port","protocol"]"#
        );
        let selector = properties[1].value.as_ref().unwrap();
        assert!(matches!(
            selector.additional_properties.as_ref().unwrap().oneof,
            Some(AdditionalProperties::Schema(_))
        ));
        let path = &decoded.paths.unwrap().path[0];
        let item = path.value.as_ref().unwrap();
        assert_eq!(
            item.get.as_ref().unwrap().operation_id,
            "listCoreV1NamespacedService"
        );
        assert!(matches!(
            item.parameters[0].parameter.as_ref().unwrap().non_body_parameter.as_ref().unwrap().oneof,
            Some(SubSchema::Path(ref p)) if p.name == "namespace" && p.required
        ));
    }
}
