//! Response-body contract checks against the OpenAPI documents that real UniFi
//! Network consoles serve (vendored under `crates/unifi-sim/openapi/`).
//!
//! Conformance tests hand every response body they receive to
//! [`ApiContract::check_response`], so a simulator response that drifts from the
//! real API fails the build. Four things stand between the served documents and
//! a plain JSON Schema validator, and this module deals with each:
//!
//! 1. **Schema names contain spaces** (`"DNS policy"`), so refs such as
//!    `#/components/schemas/DNS policy` are not URI references. Every `$ref` is
//!    rewritten to a percent-encoded JSON pointer into the registered document.
//! 2. **`discriminator` is not a JSON Schema keyword.** A discriminated schema
//!    becomes `allOf: [base copy, enum check on the discriminator property, one
//!    if/then per mapping entry]`, so the concrete mapped schema is enforced and
//!    an unknown discriminator value fails. `allOf` references to a
//!    discriminated schema (how mapped schemas inherit their base) point at the
//!    base copy without the expansion, so dispatch never recurses.
//! 3. **The schemas never forbid extra properties**, but the simulator must not
//!    invent fields: a strict pass checks that every property of every object
//!    is declared by the (resolved, concrete) schema that applies to it.
//!    Objects whose schemas declare no properties at all are free-form.
//! 4. **Documented relaxations and tightenings** of the served documents, see
//!    [`relax_client_name`] and [`tighten_error_schema`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use serde_json::{Map, Value, json};

/// The JSON Schema dialect OpenAPI 3.1 schema objects are written in.
const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";
/// Where the OpenAPI documents keep their named schemas.
const COMPONENTS_PREFIX: &str = "#/components/schemas/";
/// Where the rewritten document keeps discriminated schemas without their
/// dispatch (the target of inheriting `allOf` references).
const BASES_KEY: &str = "x-discriminator-bases";
/// The name every document served by a console gives its error body schema.
/// 9.x documents name it the same but declare no `code` property.
const ERROR_SCHEMA: &str = "Error Message";

/// A compiled view of one vendored OpenAPI document: its operations, its
/// component schemas (relaxed as documented below) and one JSON Schema
/// validator per component schema and per JSON response.
///
/// Loading is the expensive part; checks only read, so one shared instance
/// (e.g. in a `std::sync::LazyLock`) serves every test and thread.
pub struct ApiContract {
    /// The console version of the document, e.g. `10.5.66`.
    version: String,
    /// The component schemas after the relaxations, keyed by their names. The
    /// strict extra-property pass reads these.
    schemas: Map<String, Value>,
    /// Every operation of the document, in document order.
    operations: Vec<Operation>,
    /// One validator per component schema, keyed by schema name.
    schema_validators: HashMap<String, jsonschema::Validator>,
}

struct Operation {
    id: String,
    method: String,
    /// The path template split on `/`, e.g. `["v1", "sites", "{siteId}"]`.
    segments: Vec<String>,
    /// Declared responses keyed by status code (`"200"`, `"201"`).
    responses: BTreeMap<String, ResponseBody>,
}

enum ResponseBody {
    /// The response declares no content: the body must be empty.
    Empty,
    /// An `application/json` body: its OpenAPI schema and its validator.
    Json {
        schema: Value,
        validator: BodyValidator,
    },
    /// Content of media types this module cannot check.
    Unsupported(Vec<String>),
}

enum BodyValidator {
    /// The schema is a plain reference to this component, whose validator is
    /// reused.
    Component(String),
    /// An inline schema, compiled for this response.
    Inline(Box<jsonschema::Validator>),
}

/// The result of one strict pass over the object-shaped parts of a schema
/// that apply to a single instance value.
#[derive(Default)]
struct Shape<'s> {
    /// Property name → every schema that declares it.
    declared: BTreeMap<&'s str, Vec<&'s Value>>,
    /// Some applicable schema has a `properties` keyword.
    declares_properties: bool,
    /// `additionalProperties` schemas (maps): undeclared keys are fine.
    additional: Vec<&'s Value>,
    /// `items` schemas, for arrays.
    items: Vec<&'s Value>,
}

impl<'s> Shape<'s> {
    fn merge(&mut self, other: Shape<'s>) {
        for (name, schemas) in other.declared {
            self.declared.entry(name).or_default().extend(schemas);
        }
        self.declares_properties |= other.declares_properties;
        self.additional.extend(other.additional);
        self.items.extend(other.items);
    }
}

#[allow(dead_code)] // Each test binary that includes this module uses a subset.
impl ApiContract {
    /// Loads `crates/unifi-sim/openapi/network-<version>.json` (path from
    /// `env!("CARGO_MANIFEST_DIR")`) and compiles the validators once.
    ///
    /// Panics when the document cannot be read or compiled: a broken contract
    /// is a broken test setup.
    pub fn load(version: &str) -> ApiContract {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("openapi")
            .join(format!("network-{version}.json"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
        let document: Value = serde_json::from_str(&text)
            .unwrap_or_else(|err| panic!("{} is not JSON: {err}", path.display()));
        Self::from_document(version, &document)
    }

    /// Builds the contract from an already parsed OpenAPI document.
    pub fn from_document(version: &str, document: &Value) -> ApiContract {
        let mut schemas = document
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(|| panic!("network-{version}: no components/schemas"));
        assert_supported_keywords(version, &schemas);
        relax_client_name(&mut schemas);
        tighten_error_schema(version, &mut schemas);

        let uri = format!("https://unifi-sim.invalid/openapi/network-{version}.json");
        let json_schema_document = json_schema_document(&uri, &schemas);
        assert_no_dispatch_cycle(version, &json_schema_document);
        let registry = jsonschema::Registry::new()
            .add(&uri, json_schema_document)
            .and_then(jsonschema::RegistryBuilder::prepare)
            .unwrap_or_else(|err| panic!("network-{version}: cannot register: {err}"));
        let options = jsonschema::draft202012::options()
            .offline()
            .should_validate_formats(true)
            .with_registry(&registry);
        let compile = |what: &str, schema: &Value| {
            let wrapper = json!({
                "$schema": DIALECT,
                "$id": format!("{uri}/wrapper"),
                "allOf": [rewrite_refs(&uri, &schemas, schema, false)],
            });
            options
                .build(&wrapper)
                .unwrap_or_else(|err| panic!("network-{version}: cannot compile {what}: {err}"))
        };

        let schema_validators: HashMap<String, jsonschema::Validator> = schemas
            .keys()
            .map(|name| {
                let reference = json!({ "$ref": component_ref(name) });
                (name.clone(), compile(name, &reference))
            })
            .collect();

        let mut operations = Vec::new();
        let paths = document
            .get("paths")
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("network-{version}: no paths"));
        for (template, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, operation) in item {
                let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                let mut responses = BTreeMap::new();
                let declared = operation.get("responses").and_then(Value::as_object);
                for (status, response) in declared.into_iter().flatten() {
                    let content = response.get("content").and_then(Value::as_object);
                    let body = match content {
                        None => ResponseBody::Empty,
                        Some(content) if content.is_empty() => ResponseBody::Empty,
                        Some(content) => match content
                            .get("application/json")
                            .and_then(|media| media.get("schema"))
                        {
                            Some(schema) => ResponseBody::Json {
                                schema: schema.clone(),
                                validator: match component_name(schema) {
                                    Some(name) if schema_validators.contains_key(&name) => {
                                        BodyValidator::Component(name)
                                    }
                                    _ => BodyValidator::Inline(Box::new(compile(
                                        &format!("{id} {status}"),
                                        schema,
                                    ))),
                                },
                            },
                            None => ResponseBody::Unsupported(content.keys().cloned().collect()),
                        },
                    };
                    responses.insert(status.clone(), body);
                }
                operations.push(Operation {
                    id: id.to_owned(),
                    method: method.to_ascii_uppercase(),
                    segments: template
                        .trim_matches('/')
                        .split('/')
                        .map(str::to_owned)
                        .collect(),
                    responses,
                });
            }
        }

        ApiContract {
            version: version.to_owned(),
            schemas,
            operations,
            schema_validators,
        }
    }

    /// The console version this contract was loaded for.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Validates a response body for an operation: picks the schema from the
    /// operation's response for `status` (any non-2xx → the error schema),
    /// runs the JSON Schema validation (format checks for `uuid`, `date-time`
    /// and `date` on) and the strict extra-property check. `Err` lists every
    /// problem with its JSON path.
    pub fn check_response(
        &self,
        operation_id: &str,
        status: u16,
        body: &[u8],
    ) -> Result<(), String> {
        let operation = self
            .operations
            .iter()
            .find(|operation| operation.id == operation_id)
            .ok_or_else(|| format!("network-{}: no operation `{operation_id}`", self.version))?;
        let context = format!("network-{} {operation_id} {status}", self.version);
        let declared = operation.responses.get(&status.to_string());
        if !(200..300).contains(&status) && !matches!(declared, Some(ResponseBody::Json { .. })) {
            let value = parse_body(&context, body)?;
            return self.check_named(&context, ERROR_SCHEMA, &value);
        }
        match declared {
            None => Err(format!(
                "{context}: the operation declares no {status} response (declared: {})",
                operation
                    .responses
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some(ResponseBody::Empty) if body.is_empty() => Ok(()),
            Some(ResponseBody::Empty) => Err(format!(
                "{context}: the response declares no body, so it must be empty, but it has {} bytes: {}",
                body.len(),
                String::from_utf8_lossy(body)
            )),
            Some(ResponseBody::Unsupported(media_types)) => Err(format!(
                "{context}: cannot check bodies of media types {media_types:?}"
            )),
            Some(ResponseBody::Json { schema, validator }) => {
                let value = parse_body(&context, body)?;
                let validator = match validator {
                    BodyValidator::Component(name) => &self.schema_validators[name],
                    BodyValidator::Inline(validator) => validator,
                };
                let mut problems = schema_problems(validator, &value);
                self.strict_problems(
                    &value,
                    &[(schema, format!("{operation_id} {status} response"))],
                    "$",
                    &mut problems,
                );
                report(&context, problems)
            }
        }
    }

    /// Same for a named component schema (e.g. `"DNS policy"`, `"Error
    /// Message"`).
    pub fn check_schema(&self, schema_name: &str, value: &Value) -> Result<(), String> {
        let context = format!("network-{} schema `{schema_name}`", self.version);
        self.check_named(&context, schema_name, value)
    }

    /// Returns the operationId for a method and a concrete path under `/v1`
    /// (e.g. `("GET", "/v1/sites/88f7…/dns/policies")` → `getDnsPolicyPage`),
    /// matching path templates. A query string is ignored, and so are the
    /// console prefixes `/proxy/network/integration` and `/integration`.
    /// Where several templates match, literal segments win over parameters
    /// (`/firewall/policies/ordering` over `/firewall/policies/{id}`).
    pub fn operation_for(&self, method: &str, path: &str) -> Option<&str> {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let path = ["/proxy/network/integration", "/integration"]
            .iter()
            .find_map(|prefix| path.strip_prefix(prefix))
            .unwrap_or(path);
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.operations
            .iter()
            .filter(|operation| operation.method.eq_ignore_ascii_case(method))
            .filter(|operation| operation.segments.len() == segments.len())
            .filter_map(|operation| {
                let mut literals = Vec::with_capacity(segments.len());
                for (template, actual) in operation.segments.iter().zip(&segments) {
                    let parameter = template.starts_with('{') && template.ends_with('}');
                    if parameter && !actual.is_empty() {
                        literals.push(false);
                    } else if template == actual {
                        literals.push(true);
                    } else {
                        return None;
                    }
                }
                Some((literals, operation.id.as_str()))
            })
            .max_by(|(left, _), (right, _)| left.cmp(right))
            .map(|(_, id)| id)
    }

    /// The operationIds the document declares, in document order.
    pub fn operation_ids(&self) -> impl Iterator<Item = &str> {
        self.operations
            .iter()
            .map(|operation| operation.id.as_str())
    }

    fn check_named(&self, context: &str, schema_name: &str, value: &Value) -> Result<(), String> {
        let validator = self
            .schema_validators
            .get(schema_name)
            .ok_or_else(|| format!("{context}: the document has no schema `{schema_name}`"))?;
        let mut problems = schema_problems(validator, value);
        let reference = json!({ "$ref": component_ref(schema_name) });
        self.strict_problems(
            value,
            &[(&reference, schema_name.to_owned())],
            "$",
            &mut problems,
        );
        report(context, problems)
    }

    /// The strict pass: every property of every object in `value` must be
    /// declared by one of the schemas that apply to it. `schemas` pairs each
    /// applicable schema with a label for inline schemas.
    fn strict_problems(
        &self,
        value: &Value,
        schemas: &[(&Value, String)],
        path: &str,
        problems: &mut Vec<String>,
    ) {
        let mut shape = Shape::default();
        let mut labels: Vec<String> = Vec::new();
        for (schema, fallback) in schemas {
            let mut part = Shape::default();
            self.visit(schema, value, true, &mut part, &mut HashSet::new());
            if part.declares_properties {
                let label = self
                    .concrete_name(schema, value, &mut HashSet::new())
                    .unwrap_or_else(|| fallback.clone());
                if !labels.contains(&label) {
                    labels.push(label);
                }
            }
            shape.merge(part);
        }
        let label = labels.join(" / ");
        match value {
            Value::Object(object) => {
                for (key, member) in object {
                    let member_path = join_path(path, key);
                    let applicable: Vec<(&Value, String)> = match shape.declared.get(key.as_str()) {
                        Some(declared) => declared
                            .iter()
                            .map(|schema| (*schema, format!("{label}.{key}")))
                            .collect(),
                        None if !shape.additional.is_empty() => shape
                            .additional
                            .iter()
                            .map(|schema| (*schema, format!("{label}.{key}")))
                            .collect(),
                        None if shape.declares_properties => {
                            problems
                                .push(format!("{member_path} is not declared by schema {label}"));
                            continue;
                        }
                        // Free-form object: nothing is declared, nothing to check.
                        None => continue,
                    };
                    self.strict_problems(member, &applicable, &member_path, problems);
                }
            }
            Value::Array(elements) => {
                let array_label = schemas
                    .first()
                    .map(|(schema, fallback)| {
                        self.concrete_name(schema, value, &mut HashSet::new())
                            .unwrap_or_else(|| fallback.clone())
                    })
                    .unwrap_or_default();
                let applicable: Vec<(&Value, String)> = shape
                    .items
                    .iter()
                    .map(|schema| (*schema, format!("{array_label}[]")))
                    .collect();
                if applicable.is_empty() {
                    return;
                }
                for (index, element) in elements.iter().enumerate() {
                    self.strict_problems(
                        element,
                        &applicable,
                        &format!("{path}[{index}]"),
                        problems,
                    );
                }
            }
            _ => {}
        }
    }

    /// Collects into `shape` what the schema (following `$ref`, `allOf` and
    /// discriminator dispatch, the same way the rewritten JSON Schema does)
    /// says about the object-level structure of `instance`.
    fn visit<'s>(
        &'s self,
        schema: &'s Value,
        instance: &Value,
        dispatch: bool,
        shape: &mut Shape<'s>,
        seen: &mut HashSet<(*const Value, bool)>,
    ) {
        let Some(object) = schema.as_object() else {
            return;
        };
        if !seen.insert((std::ptr::from_ref(schema), dispatch)) {
            return;
        }
        if let Some(target) = object
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| self.resolve(r))
        {
            self.visit(target, instance, dispatch, shape, seen);
        }
        if dispatch && let Some(target) = self.mapped_target(object, instance) {
            self.visit(target, instance, true, shape, seen);
        }
        for part in object
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            // Inheritance: the referenced schema applies as a base, without
            // its own dispatch (see the module documentation).
            self.visit(part, instance, false, shape, seen);
        }
        if let Some(properties) = object.get("properties").and_then(Value::as_object) {
            shape.declares_properties = true;
            for (name, property) in properties {
                shape
                    .declared
                    .entry(name.as_str())
                    .or_default()
                    .push(property);
            }
        }
        if let Some(additional @ (Value::Bool(true) | Value::Object(_))) =
            object.get("additionalProperties")
        {
            shape.additional.push(additional);
        }
        if let Some(items) = object.get("items") {
            shape.items.push(items);
        }
    }

    /// The name of the most specific named schema that applies to `instance`
    /// through `schema`: the mapped schema after discriminator dispatch, else
    /// the referenced one. `None` for inline schemas.
    fn concrete_name(
        &self,
        schema: &Value,
        instance: &Value,
        seen: &mut HashSet<String>,
    ) -> Option<String> {
        let reference = schema.get("$ref")?.as_str()?;
        let name = ref_name(reference)?;
        let target = self.schemas.get(&name)?.as_object()?;
        if seen.insert(name.clone())
            && let Some(mapped) = target
                .get("discriminator")
                .and_then(|d| mapping_ref(d, instance))
        {
            let mapped = json!({ "$ref": mapped });
            if let Some(deeper) = self.concrete_name(&mapped, instance, seen) {
                return Some(deeper);
            }
        }
        Some(name)
    }

    fn mapped_target(&self, object: &Map<String, Value>, instance: &Value) -> Option<&Value> {
        let reference = mapping_ref(object.get("discriminator")?, instance)?;
        self.resolve(reference)
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        self.schemas.get(&ref_name(reference)?)
    }
}

/// The component a schema consisting of nothing but a `$ref` names.
fn component_name(schema: &Value) -> Option<String> {
    let object = schema.as_object().filter(|object| object.len() == 1)?;
    ref_name(object.get("$ref")?.as_str()?)
}

/// The name of the component schema a `#/components/schemas/<token>` reference
/// points at. The token is a JSON pointer token (`~1` is `/`, `~0` is `~`)
/// and, as a URI fragment, may be percent-encoded; the documents consoles
/// serve leave it raw (`#/components/schemas/DNS policy`).
fn ref_name(reference: &str) -> Option<String> {
    let token = reference.strip_prefix(COMPONENTS_PREFIX)?;
    Some(unescape_token(&decode_percent(token)))
}

/// The reference to a component schema, as a valid URI fragment.
fn component_ref(name: &str) -> String {
    format!("{COMPONENTS_PREFIX}{}", pointer_token(name))
}

fn unescape_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// The `$ref` the discriminator maps the instance's discriminator value to.
fn mapping_ref<'d>(discriminator: &'d Value, instance: &Value) -> Option<&'d str> {
    let property = discriminator.get("propertyName")?.as_str()?;
    let value = instance.get(property)?.as_str()?;
    discriminator.get("mapping")?.get(value)?.as_str()
}

/// RELAXATION: real consoles omit `name` on clients they have not identified,
/// although the documents mark it required. Evidence: the UDR capture
/// `tests/fixtures/integration-v1-clients-list.json` (provenance in
/// `tests/fixtures/SOURCES.md`); the client code that recorded it parses every
/// field as optional because "the UDR omits `name` for a client it has not
/// identified". `name` is therefore dropped from the `required` lists of
/// "Client overview" and "Client details" and of every schema their
/// discriminators map to (Wired/Wireless/VPN/Teleport …), which repeat it.
fn relax_client_name(schemas: &mut Map<String, Value>) {
    let mut names: Vec<String> = Vec::new();
    for base in ["Client overview", "Client details"] {
        names.push(base.to_owned());
        let mapping = schemas
            .get(base)
            .and_then(|schema| schema.pointer("/discriminator/mapping"))
            .and_then(Value::as_object);
        for reference in mapping.into_iter().flat_map(Map::values) {
            if let Some(name) = reference.as_str().and_then(ref_name) {
                names.push(name);
            }
        }
    }
    for name in names {
        if let Some(required) = schemas
            .get_mut(&name)
            .and_then(|schema| schema.get_mut("required"))
            .and_then(Value::as_array_mut)
        {
            required.retain(|field| field != "name");
        }
    }
}

/// TIGHTENING: the documents' error schema ("Error Message") declares its
/// properties but requires none, so an empty object would pass. Every error
/// body captured from a real console carries all of them
/// (`tests/fixtures/integration-v1-error-400-*.json`: statusCode, statusName,
/// code, message, timestamp, requestPath, requestId), so every property the
/// document declares is made required. In 9.x documents the schema declares no
/// `code`, so there a body carrying `code` fails the strict pass instead.
fn tighten_error_schema(version: &str, schemas: &mut Map<String, Value>) {
    let schema = schemas
        .get_mut(ERROR_SCHEMA)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("network-{version}: no schema `{ERROR_SCHEMA}`"));
    let declared: Vec<Value> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| properties.keys().cloned().map(Value::String).collect())
        .unwrap_or_default();
    schema.insert("type".to_owned(), json!("object"));
    schema.insert("required".to_owned(), Value::Array(declared));
}

/// The rewrite and the strict pass understand the keywords the served
/// documents use. A document that starts using a combinator they do not
/// handle fails loudly here instead of being checked wrongly.
fn assert_supported_keywords(version: &str, schemas: &Map<String, Value>) {
    fn walk(version: &str, at: &str, value: &Value) {
        match value {
            Value::Object(object) => {
                for unsupported in ["oneOf", "anyOf", "not", "if", "patternProperties", "$defs"] {
                    assert!(
                        !object.contains_key(unsupported),
                        "network-{version}: {at} uses `{unsupported}`, which the contract checks do not handle"
                    );
                }
                for (key, member) in object {
                    if key != "example" && key != "examples" && key != "default" && key != "enum" {
                        walk(version, &format!("{at}/{key}"), member);
                    }
                }
            }
            Value::Array(elements) => {
                for (index, element) in elements.iter().enumerate() {
                    walk(version, &format!("{at}/{index}"), element);
                }
            }
            _ => {}
        }
    }
    for (name, schema) in schemas {
        if let Some(discriminator) = schema.get("discriminator") {
            let mapping = discriminator.get("mapping").and_then(Value::as_object);
            assert!(
                discriminator
                    .get("propertyName")
                    .and_then(Value::as_str)
                    .is_some()
                    && mapping.is_some(),
                "network-{version}: the discriminator of `{name}` has no propertyName or mapping"
            );
            for target in mapping.into_iter().flat_map(Map::values) {
                let known = target
                    .as_str()
                    .and_then(ref_name)
                    .is_some_and(|target| schemas.contains_key(&target));
                assert!(
                    known,
                    "network-{version}: the discriminator of `{name}` maps to {target}, which is no component schema"
                );
            }
        }
        walk(version, name, schema);
    }
}

/// The JSON Schema document the validators resolve against:
/// `components/schemas/<name>` holds each schema with `$ref`s made absolute and
/// percent-encoded and discriminators expanded; `x-discriminator-bases/<name>`
/// holds each discriminated schema without the expansion.
fn json_schema_document(uri: &str, schemas: &Map<String, Value>) -> Value {
    let mut components = Map::new();
    let mut bases = Map::new();
    for (name, schema) in schemas {
        let rewritten = rewrite_refs(uri, schemas, schema, false);
        match schema.get("discriminator") {
            None => {
                components.insert(name.clone(), rewritten);
            }
            Some(discriminator) => {
                let property = discriminator["propertyName"].as_str().unwrap_or_default();
                let mapping = discriminator["mapping"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                let values: Vec<&String> = mapping.keys().collect();
                let mut all_of = vec![
                    json!({ "$ref": format!("{uri}#/{BASES_KEY}/{}", pointer_token(name)) }),
                    json!({
                        "properties": { property: { "enum": values } },
                        "required": [property],
                    }),
                ];
                for (value, reference) in &mapping {
                    all_of.push(json!({
                        "if": {
                            "properties": { property: { "const": value } },
                            "required": [property],
                        },
                        "then": rewrite_refs(uri, schemas, &json!({ "$ref": reference }), false),
                    }));
                }
                components.insert(name.clone(), json!({ "allOf": all_of }));
                bases.insert(name.clone(), rewritten);
            }
        }
    }
    json!({
        "$schema": DIALECT,
        "$id": uri,
        "components": { "schemas": components },
        BASES_KEY: bases,
    })
}

/// Rewrites every `$ref` in an OpenAPI schema to an absolute, percent-encoded
/// reference into the registered document, drops `discriminator` (expanded
/// separately) and points `allOf` references to discriminated schemas at their
/// base copies. `allof_item` is true for the direct members of an `allOf`.
fn rewrite_refs(
    uri: &str,
    schemas: &Map<String, Value>,
    schema: &Value,
    allof_item: bool,
) -> Value {
    match schema {
        Value::Object(object) => {
            let mut out = Map::new();
            for (key, member) in object {
                match (key.as_str(), member) {
                    ("discriminator", _) => {}
                    ("example" | "examples" | "default" | "enum" | "const", _) => {
                        out.insert(key.clone(), member.clone());
                    }
                    ("$ref", Value::String(reference)) => {
                        let rewritten = match ref_name(reference) {
                            Some(name) => {
                                let discriminated = schemas
                                    .get(&name)
                                    .is_some_and(|s| s.get("discriminator").is_some());
                                let container = if allof_item && discriminated {
                                    BASES_KEY
                                } else {
                                    "components/schemas"
                                };
                                format!("{uri}#/{container}/{}", pointer_token(&name))
                            }
                            None => reference.clone(),
                        };
                        out.insert(key.clone(), Value::String(rewritten));
                    }
                    ("allOf", Value::Array(parts)) => {
                        let parts = parts
                            .iter()
                            .map(|part| rewrite_refs(uri, schemas, part, true));
                        out.insert(key.clone(), Value::Array(parts.collect()));
                    }
                    _ => {
                        out.insert(key.clone(), rewrite_refs(uri, schemas, member, false));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(elements) => Value::Array(
            elements
                .iter()
                .map(|element| rewrite_refs(uri, schemas, element, false))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Refuses a rewritten document in which a schema reaches itself again for
/// the same instance (through `$ref`, `allOf`, `if` and `then`): validating
/// against it would recurse forever.
fn assert_no_dispatch_cycle(version: &str, document: &Value) {
    fn same_instance_refs(schema: &Value, out: &mut Vec<String>) {
        let Some(object) = schema.as_object() else {
            return;
        };
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            out.push(
                reference
                    .split_once('#')
                    .map_or("", |(_, fragment)| fragment)
                    .to_owned(),
            );
        }
        for part in object
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            same_instance_refs(part, out);
        }
        for key in ["if", "then", "else"] {
            if let Some(part) = object.get(key) {
                same_instance_refs(part, out);
            }
        }
    }
    fn visit(
        document: &Value,
        at: &str,
        stack: &mut Vec<String>,
        done: &mut HashSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(position) = stack.iter().position(|entry| entry == at) {
            let mut cycle = stack[position..].to_vec();
            cycle.push(at.to_owned());
            return Some(cycle);
        }
        if done.contains(at) {
            return None;
        }
        stack.push(at.to_owned());
        let mut next = Vec::new();
        if let Some(schema) = document.pointer(&decode_percent(at)) {
            same_instance_refs(schema, &mut next);
        }
        for target in next {
            if let Some(cycle) = visit(document, &target, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(at.to_owned());
        None
    }
    let mut done = HashSet::new();
    let names = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| schemas.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    for name in names {
        let start = format!("/components/schemas/{}", pointer_token(&name));
        if let Some(cycle) = visit(document, &start, &mut Vec::new(), &mut done) {
            let cycle: Vec<String> = cycle.iter().map(|at| decode_percent(at)).collect();
            panic!(
                "network-{version}: schema dispatch recurses: {}",
                cycle.join(" -> ")
            );
        }
    }
}

/// A schema name as one JSON pointer token inside a URI fragment: `~` and `/`
/// escaped per RFC 6901, then everything but unreserved characters
/// percent-encoded (`DNS policy` → `DNS%20policy`).
fn pointer_token(name: &str) -> String {
    let escaped = name.replace('~', "~0").replace('/', "~1");
    let mut out = String::with_capacity(escaped.len());
    for byte in escaped.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Undoes percent-encoding (the JSON pointer escapes stay).
fn decode_percent(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_body(context: &str, body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|err| {
        format!(
            "{context}: the body is not JSON ({err}): {}",
            String::from_utf8_lossy(body)
        )
    })
}

/// Every JSON Schema violation of `value`, as `<JSON path>: <message> (schema
/// <name>)`, without duplicates (a base schema applies on several routes).
fn schema_problems(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    let mut problems: Vec<String> = Vec::new();
    for error in validator.iter_errors(value) {
        let path = json_path(value, error.instance_path().as_str());
        let schema = error
            .absolute_keyword_location()
            .and_then(|location| schema_name_of(location.as_str()))
            .map(|name| format!(" (schema {name})"))
            .unwrap_or_default();
        let problem = format!("{path}: {error}{schema}");
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
    problems
}

/// The component schema a keyword location lies in, from
/// `…#/components/schemas/<token>/…` or `…#/x-discriminator-bases/<token>/…`.
fn schema_name_of(location: &str) -> Option<String> {
    let (_, fragment) = location.split_once('#')?;
    let rest = fragment
        .strip_prefix("/components/schemas/")
        .or_else(|| fragment.strip_prefix(&format!("/{BASES_KEY}/")))?;
    let token = rest.split('/').next()?;
    Some(unescape_token(&decode_percent(token)))
}

/// A JSON pointer into `value` as a JSONPath (`/data/3/foo` → `$.data[3].foo`),
/// telling array indexes from numeric-looking keys by looking at the value.
fn json_path(value: &Value, pointer: &str) -> String {
    let mut path = String::from("$");
    let mut current = Some(value);
    for token in pointer.split('/').skip(1) {
        let token = unescape_token(token);
        match current {
            Some(Value::Array(elements)) => {
                path.push_str(&format!("[{token}]"));
                current = token
                    .parse::<usize>()
                    .ok()
                    .and_then(|index| elements.get(index));
            }
            Some(Value::Object(object)) => {
                path = join_path(&path, &token);
                current = object.get(&token);
            }
            _ => {
                path = join_path(&path, &token);
                current = None;
            }
        }
    }
    path
}

/// `$.a` + `b` → `$.a.b`; keys that are not plain identifiers are quoted.
fn join_path(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", Value::String(key.to_owned()))
    }
}

fn report(context: &str, problems: Vec<String>) -> Result<(), String> {
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{context}: {} problem(s)\n  - {}",
        problems.len(),
        problems.join("\n  - ")
    ))
}
