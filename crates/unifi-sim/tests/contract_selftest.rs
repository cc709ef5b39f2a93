//! Self-test of the OpenAPI contract checker (`tests/support/openapi.rs`):
//! real captured bodies pass, and each kind of drift the conformance tests
//! rely on it to catch fails with a message naming the problem.
//!
//! This file does not touch the simulator itself, only the checker.

#[path = "support/openapi.rs"]
mod openapi;

use std::path::PathBuf;
use std::sync::LazyLock;

use openapi::ApiContract;
use serde_json::{Value, json};

/// The document of the console version the simulator follows.
static CURRENT: LazyLock<ApiContract> = LazyLock::new(|| ApiContract::load("10.5.66"));
/// The first document with DNS policies.
static FIRST_DNS: LazyLock<ApiContract> = LazyLock::new(|| ApiContract::load("10.1.68"));
/// A document without DNS policies, whose error schema has no `code`.
static NO_DNS: LazyLock<ApiContract> = LazyLock::new(|| ApiContract::load("9.5.21"));

const SITE: &str = "88f7af54-98f8-306a-a1c7-c9349722b1f6";

fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

fn fixture(name: &str) -> Value {
    serde_json::from_slice(&fixture_bytes(name))
        .unwrap_or_else(|err| panic!("fixture {name} is not JSON: {err}"))
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("a JSON value serializes")
}

/// The check must fail, and its message must contain every one of `needles`.
#[track_caller]
fn assert_fails(result: Result<(), String>, needles: &[&str]) {
    let message = match result {
        Ok(()) => panic!("the check passed, but it must fail mentioning {needles:?}"),
        Err(message) => message,
    };
    for needle in needles {
        assert!(
            message.contains(needle),
            "the failure must mention {needle:?}, but it reads:\n{message}"
        );
    }
}

#[track_caller]
fn assert_passes(result: Result<(), String>) {
    if let Err(message) = result {
        panic!("the check must pass, but:\n{message}");
    }
}

/// A valid A-record DNS policy, from the live capture.
fn a_record() -> Value {
    fixture("integration-v1-dns-policy-get.json")
}

fn with(mut value: Value, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    edit(value.as_object_mut().expect("an object"));
    value
}

#[test]
fn the_contract_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ApiContract>();
}

#[test]
fn every_integration_response_fixture_validates_against_its_operation() {
    let cases: &[(&str, &str, u16)] = &[
        ("integration-v1-info.json", "getInfo", 200),
        ("integration-v1-sites-list.json", "getSiteOverviewPage", 200),
        (
            "integration-v1-clients-list.json",
            "getConnectedClientOverviewPage",
            200,
        ),
        ("integration-v1-dns-policy-get.json", "getDnsPolicy", 200),
        (
            "integration-v1-dns-policy-create-response-201.json",
            "createDnsPolicy",
            201,
        ),
        (
            "integration-v1-error-400-record-already-exists.json",
            "createDnsPolicy",
            400,
        ),
        (
            "integration-v1-error-400-ttlseconds-null.json",
            "createDnsPolicy",
            400,
        ),
        (
            "integration-v1-error-400-unknown-property-id.json",
            "updateDnsPolicy",
            400,
        ),
        (
            "integration-v1-error-400-unknown-property-metadata.json",
            "createDnsPolicy",
            400,
        ),
    ];
    for (name, operation, status) in cases {
        let result = CURRENT.check_response(operation, *status, &fixture_bytes(name));
        assert!(
            result.is_ok(),
            "{name} as {operation} {status}: {}",
            result.unwrap_err()
        );
    }
}

#[test]
fn every_integration_response_fixture_is_covered_by_the_table_above() {
    // A new `integration-v1-*` response fixture must be added to the table of
    // the test above; requests and the OpenAPI excerpt are not responses.
    let covered = [
        "integration-v1-info.json",
        "integration-v1-sites-list.json",
        "integration-v1-clients-list.json",
        "integration-v1-dns-policy-get.json",
        "integration-v1-dns-policy-create-response-201.json",
        "integration-v1-error-400-record-already-exists.json",
        "integration-v1-error-400-ttlseconds-null.json",
        "integration-v1-error-400-unknown-property-id.json",
        "integration-v1-error-400-unknown-property-metadata.json",
    ];
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for entry in std::fs::read_dir(&dir).expect("the fixtures directory is readable") {
        let name = entry.expect("a directory entry").file_name();
        let name = name.to_string_lossy();
        let response = name.starts_with("integration-v1-")
            && !name.contains("-request-")
            && !name.starts_with("integration-v1-openapi-");
        assert!(
            !response || covered.contains(&name.as_ref()),
            "{name} is not checked"
        );
    }
}

#[test]
fn error_fixtures_validate_against_the_error_schema_for_any_non_2xx_status() {
    let body = fixture_bytes("integration-v1-error-400-record-already-exists.json");
    for status in [400, 401, 404, 409, 429, 500] {
        assert_passes(CURRENT.check_response("getDnsPolicy", status, &body));
    }
    assert_passes(CURRENT.check_schema(
        "Error Message",
        &fixture("integration-v1-error-400-ttlseconds-null.json"),
    ));
}

/// The captured A record as a 10.1.68 console would send it: that document's
/// "DNS policy" declares no `metadata` (10.2.105 consoles send it, and 10.5.66
/// declares and requires it).
fn a_record_10_1() -> Value {
    with(a_record(), |policy| {
        policy.remove("metadata");
    })
}

#[test]
fn real_bodies_also_validate_against_the_earlier_documents() {
    assert_passes(FIRST_DNS.check_response("getDnsPolicy", 200, &bytes(&a_record_10_1())));
    assert_passes(FIRST_DNS.check_response(
        "getConnectedClientOverviewPage",
        200,
        &fixture_bytes("integration-v1-clients-list.json"),
    ));
    assert_passes(NO_DNS.check_response(
        "getSiteOverviewPage",
        200,
        &fixture_bytes("integration-v1-sites-list.json"),
    ));
    assert_passes(NO_DNS.check_response(
        "getInfo",
        200,
        &fixture_bytes("integration-v1-info.json"),
    ));
}

#[test]
fn a_record_without_ttl_fails() {
    let policy = with(a_record(), |policy| {
        policy.remove("ttlSeconds");
    });
    assert_fails(
        CURRENT.check_response("getDnsPolicy", 200, &bytes(&policy)),
        &[
            "\"ttlSeconds\" is a required property",
            "IntegrationDnsARecordDto",
        ],
    );
}

#[test]
fn a_record_ttl_above_the_maximum_of_the_document_fails() {
    let policy = with(a_record(), |policy| {
        policy.insert("ttlSeconds".into(), json!(90000));
    });
    assert_fails(
        CURRENT.check_response("getDnsPolicy", 200, &bytes(&policy)),
        &["$.ttlSeconds", "90000", "86400"],
    );
    // 10.1.68 allowed up to 604800 seconds.
    let policy = with(a_record_10_1(), |policy| {
        policy.insert("ttlSeconds".into(), json!(90000));
    });
    assert_passes(FIRST_DNS.check_response("getDnsPolicy", 200, &bytes(&policy)));
}

#[test]
fn fields_are_checked_against_the_loaded_version() {
    // `metadata` is declared (and required) by 10.5.66 but unknown to 10.1.68.
    assert_fails(
        FIRST_DNS.check_response("getDnsPolicy", 200, &bytes(&a_record())),
        &["$.metadata is not declared by schema IntegrationDnsARecordDto"],
    );
    assert_fails(
        CURRENT.check_response("getDnsPolicy", 200, &bytes(&a_record_10_1())),
        &["\"metadata\" is a required property"],
    );
}

#[test]
fn unknown_discriminator_value_fails() {
    let policy = with(a_record(), |policy| {
        policy.insert("type".into(), json!("PTR_RECORD"));
    });
    assert_fails(
        CURRENT.check_response("getDnsPolicy", 200, &bytes(&policy)),
        &["$.type", "PTR_RECORD"],
    );
}

#[test]
fn the_discriminator_selects_the_concrete_schema() {
    // An A record's fields under MX_RECORD: the MX schema applies, which
    // requires other fields and declares none of the A-record ones.
    let policy = with(a_record(), |policy| {
        policy.insert("type".into(), json!("MX_RECORD"));
    });
    assert_fails(
        CURRENT.check_response("getDnsPolicy", 200, &bytes(&policy)),
        &[
            "\"mailServerDomain\" is a required property",
            "$.ipv4Address is not declared by schema IntegrationDnsMxRecordDto",
        ],
    );
    let mx = json!({
        "type": "MX_RECORD",
        "id": "0ce73be5-f734-4b24-aac2-d91dbe88202d",
        "enabled": true,
        "metadata": { "origin": "USER_DEFINED" },
        "domain": "example.com",
        "mailServerDomain": "mail.example.com",
        "priority": 10
    });
    assert_passes(CURRENT.check_schema("DNS policy", &mx));
}

#[test]
fn extra_property_fails_with_its_path_and_the_concrete_schema() {
    let policy = with(a_record(), |policy| {
        policy.insert("foo".into(), json!(1));
    });
    assert_fails(
        CURRENT.check_response("getDnsPolicy", 200, &bytes(&policy)),
        &["$.foo is not declared by schema IntegrationDnsARecordDto"],
    );
    let page = json!({
        "offset": 0, "limit": 25, "count": 4, "totalCount": 4,
        "data": [a_record(), a_record(), a_record(), policy],
    });
    assert_fails(
        CURRENT.check_response("getDnsPolicyPage", 200, &bytes(&page)),
        &["$.data[3].foo is not declared by schema IntegrationDnsARecordDto"],
    );
}

#[test]
fn extra_property_in_nested_objects_fails() {
    let policy = with(a_record(), |policy| {
        policy.insert(
            "metadata".into(),
            json!({ "origin": "USER_DEFINED", "managed": true }),
        );
    });
    assert_fails(
        CURRENT.check_schema("DNS policy", &policy),
        &["$.metadata.managed is not declared by schema User defined entity metadata"],
    );
    let mut clients = fixture("integration-v1-clients-list.json");
    clients["data"][1]["access"]["authorized"] = json!(true);
    assert_fails(
        CURRENT.check_response("getConnectedClientOverviewPage", 200, &bytes(&clients)),
        &["$.data[1].access.authorized is not declared by schema Default client access overview"],
    );
    // …whereas a guest access declares `authorized` (and requires it).
    clients["data"][1]["access"]["type"] = json!("GUEST");
    assert_passes(CURRENT.check_response("getConnectedClientOverviewPage", 200, &bytes(&clients)));
    clients["data"][1]["access"] = json!({ "type": "GUEST" });
    assert_fails(
        CURRENT.check_response("getConnectedClientOverviewPage", 200, &bytes(&clients)),
        &["$.data[1].access", "\"authorized\" is a required property"],
    );
}

#[test]
fn client_discriminators_are_enforced() {
    let mut clients = fixture("integration-v1-clients-list.json");
    clients["data"][0]["type"] = json!("BLUETOOTH");
    clients["data"][2]["access"]["type"] = json!("ROAMING");
    clients["data"][3]
        .as_object_mut()
        .expect("a client")
        .remove("macAddress");
    assert_fails(
        CURRENT.check_response("getConnectedClientOverviewPage", 200, &bytes(&clients)),
        &[
            "$.data[0].type",
            "BLUETOOTH",
            "$.data[2].access.type",
            "ROAMING",
            "$.data[3]: \"macAddress\" is a required property",
        ],
    );
}

#[test]
fn clients_without_a_name_pass_but_other_required_fields_stay_required() {
    // The documented relaxation (see relax_client_name in support/openapi.rs).
    let mut clients = fixture("integration-v1-clients-list.json");
    clients["data"][0]
        .as_object_mut()
        .expect("a client")
        .remove("name");
    assert_passes(CURRENT.check_response("getConnectedClientOverviewPage", 200, &bytes(&clients)));
    clients["data"][0]
        .as_object_mut()
        .expect("a client")
        .remove("id");
    assert_fails(
        CURRENT.check_response("getConnectedClientOverviewPage", 200, &bytes(&clients)),
        &["$.data[0]: \"id\" is a required property"],
    );
    let details = with(
        fixture("integration-v1-clients-list.json")["data"][1].clone(),
        |client| {
            client.remove("name");
        },
    );
    assert_passes(CURRENT.check_response("getConnectedClientDetails", 200, &bytes(&details)));
    assert_passes(NO_DNS.check_schema("Client details", &details));
}

#[test]
fn page_without_total_count_fails() {
    let page = with(fixture("integration-v1-sites-list.json"), |page| {
        page.remove("totalCount");
    });
    assert_fails(
        CURRENT.check_response("getSiteOverviewPage", 200, &bytes(&page)),
        &["$: \"totalCount\" is a required property"],
    );
}

#[test]
fn non_uuid_id_fails() {
    let policy = with(a_record(), |policy| {
        policy.insert("id".into(), json!("policy-1"));
    });
    assert_fails(
        CURRENT.check_response("getDnsPolicy", 200, &bytes(&policy)),
        &["$.id", "\"policy-1\" is not a \"uuid\""],
    );
    let mut sites = fixture("integration-v1-sites-list.json");
    sites["data"][0]["id"] = json!("default");
    assert_fails(
        CURRENT.check_response("getSiteOverviewPage", 200, &bytes(&sites)),
        &["$.data[0].id", "uuid"],
    );
}

#[test]
fn non_date_time_timestamp_fails() {
    let error = with(
        fixture("integration-v1-error-400-ttlseconds-null.json"),
        |error| {
            error.insert("timestamp".into(), json!("22/04/2026 18:13"));
        },
    );
    assert_fails(
        CURRENT.check_response("createDnsPolicy", 400, &bytes(&error)),
        &["$.timestamp", "date-time"],
    );
}

#[test]
fn error_body_without_code_fails() {
    let error = with(
        fixture("integration-v1-error-400-ttlseconds-null.json"),
        |error| {
            error.remove("code");
        },
    );
    assert_fails(
        CURRENT.check_response("createDnsPolicy", 400, &bytes(&error)),
        &["\"code\" is a required property", "Error Message"],
    );
    let extra = with(
        fixture("integration-v1-error-400-ttlseconds-null.json"),
        |error| {
            error.insert("details".into(), json!([]));
        },
    );
    assert_fails(
        CURRENT.check_response("createDnsPolicy", 400, &bytes(&extra)),
        &["$.details is not declared by schema Error Message"],
    );
}

#[test]
fn nine_x_error_schema_has_no_code() {
    let with_code = fixture("integration-v1-error-400-ttlseconds-null.json");
    assert_fails(
        NO_DNS.check_response("getSiteOverviewPage", 404, &bytes(&with_code)),
        &["$.code is not declared by schema Error Message"],
    );
    let without_code = with(with_code, |error| {
        error.remove("code");
    });
    assert_passes(NO_DNS.check_response("getSiteOverviewPage", 404, &bytes(&without_code)));
}

#[test]
fn delete_bodies_must_be_empty() {
    assert_passes(CURRENT.check_response("deleteDnsPolicy", 200, b""));
    assert_fails(
        CURRENT.check_response("deleteDnsPolicy", 200, b"{}"),
        &["must be empty", "2 bytes"],
    );
}

#[test]
fn undeclared_statuses_operations_and_non_json_bodies_fail() {
    assert_fails(
        CURRENT.check_response("createDnsPolicy", 200, &bytes(&a_record())),
        &["declares no 200 response", "201"],
    );
    assert_fails(
        CURRENT.check_response("getDnsPolicy", 200, b"<html>"),
        &["not JSON"],
    );
    assert_fails(
        NO_DNS.check_response("getDnsPolicy", 200, &bytes(&a_record())),
        &["no operation `getDnsPolicy`"],
    );
    assert_fails(
        CURRENT.check_schema("DNS record", &a_record()),
        &["no schema `DNS record`"],
    );
}

#[test]
fn operations_are_found_by_method_and_concrete_path() {
    let policy = "0ce73be5-f734-4b24-aac2-d91dbe88202d";
    let cases = [
        ("GET", "/v1/info".to_owned(), Some("getInfo")),
        ("GET", "/v1/sites".to_owned(), Some("getSiteOverviewPage")),
        (
            "GET",
            format!("/v1/sites/{SITE}/clients"),
            Some("getConnectedClientOverviewPage"),
        ),
        (
            "GET",
            format!("/v1/sites/{SITE}/clients/{policy}"),
            Some("getConnectedClientDetails"),
        ),
        (
            "GET",
            format!("/v1/sites/{SITE}/dns/policies"),
            Some("getDnsPolicyPage"),
        ),
        (
            "POST",
            format!("/v1/sites/{SITE}/dns/policies"),
            Some("createDnsPolicy"),
        ),
        (
            "GET",
            format!("/v1/sites/{SITE}/dns/policies/{policy}"),
            Some("getDnsPolicy"),
        ),
        (
            "PUT",
            format!("/v1/sites/{SITE}/dns/policies/{policy}"),
            Some("updateDnsPolicy"),
        ),
        (
            "delete",
            format!("/v1/sites/{SITE}/dns/policies/{policy}"),
            Some("deleteDnsPolicy"),
        ),
        (
            "GET",
            format!("/v1/sites/{SITE}/dns/policies?offset=0&limit=25"),
            Some("getDnsPolicyPage"),
        ),
        (
            "GET",
            format!("/proxy/network/integration/v1/sites/{SITE}/dns/policies"),
            Some("getDnsPolicyPage"),
        ),
        // A literal segment beats a path parameter.
        (
            "GET",
            format!("/v1/sites/{SITE}/firewall/policies/ordering"),
            Some("getFirewallPolicyOrdering"),
        ),
        (
            "GET",
            format!("/v1/sites/{SITE}/firewall/policies/{policy}"),
            Some("getFirewallPolicy"),
        ),
        (
            "PATCH",
            format!("/v1/sites/{SITE}/dns/policies/{policy}"),
            None,
        ),
        ("GET", format!("/v1/sites/{SITE}/dns"), None),
        ("GET", "/v1/sites//clients".to_owned(), None),
    ];
    for (method, path, expected) in &cases {
        assert_eq!(
            CURRENT.operation_for(method, path),
            *expected,
            "{method} {path}"
        );
    }
    assert_eq!(
        NO_DNS.operation_for("GET", &format!("/v1/sites/{SITE}/dns/policies")),
        None
    );
    assert_eq!(
        FIRST_DNS.operation_for("GET", &format!("/v1/sites/{SITE}/dns/policies")),
        Some("getDnsPolicyPage")
    );
}

#[test]
fn every_operation_of_every_document_can_be_looked_up() {
    for contract in [&*CURRENT, &*FIRST_DNS, &*NO_DNS] {
        let ids: Vec<&str> = contract.operation_ids().collect();
        assert!(
            ids.contains(&"getInfo"),
            "network-{}: {ids:?}",
            contract.version()
        );
        for id in ids {
            // Unknown statuses are refused per operation, not per document.
            let error = contract
                .check_response(id, 299, b"")
                .expect_err("299 is never declared");
            assert!(error.contains("declares no 299 response"), "{error}");
        }
    }
}

/// A minimal OpenAPI document around the given component schemas.
fn document(schemas: Value) -> Value {
    json!({
        "openapi": "3.1.0",
        "paths": {
            "/v1/things/{thingId}": {
                "get": {
                    "operationId": "getThing",
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": { "schema": { "$ref": "#/components/schemas/A thing" } }
                            }
                        }
                    }
                }
            }
        },
        "components": { "schemas": schemas }
    })
}

#[test]
fn names_needing_escapes_resolve() {
    let contract = ApiContract::from_document(
        "synthetic",
        &document(json!({
            "Error Message": { "properties": { "message": { "type": "string" } } },
            "A thing": {
                "type": "object",
                "properties": { "part": { "$ref": "#/components/schemas/Part (a~1b ~0c) 100%" } },
                "required": ["part"]
            },
            "Part (a/b ~c) 100%": {
                "type": "object",
                "properties": { "size": { "type": "integer" } },
                "required": ["size"]
            }
        })),
    );
    assert_passes(contract.check_response("getThing", 200, br#"{"part":{"size":1}}"#));
    assert_fails(
        contract.check_response("getThing", 200, br#"{"part":{"size":"L","colour":1}}"#),
        &[
            "$.part.size: \"L\" is not of type \"integer\" (schema Part (a/b ~c) 100%)",
            "$.part.colour is not declared by schema Part (a/b ~c) 100%",
        ],
    );
}

#[test]
#[should_panic(expected = "schema dispatch recurses")]
fn a_discriminator_mapping_back_to_itself_is_refused_at_load() {
    // Dispatching "A thing" on kind=SELF would validate "A thing" again, for
    // the same value, forever.
    ApiContract::from_document(
        "synthetic",
        &document(json!({
            "Error Message": { "properties": { "message": { "type": "string" } } },
            "A thing": {
                "type": "object",
                "discriminator": {
                    "propertyName": "kind",
                    "mapping": { "SELF": "#/components/schemas/Alias" }
                },
                "properties": { "kind": { "type": "string" } },
                "required": ["kind"]
            },
            "Alias": { "$ref": "#/components/schemas/A thing" }
        })),
    );
}
