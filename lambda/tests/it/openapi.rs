//! docs/openapi.yaml documents exactly the routes the function serves, and what the function
//! answers matches the document's shapes where it matters most.

use crate::common;

use std::collections::BTreeSet;

use common::*;
use image_edit_lambda::ROUTES;
use serde_json::Value;

fn document() -> Value {
    let path = common::root().join("docs/openapi.yaml");
    let text = std::fs::read_to_string(path).expect("docs/openapi.yaml");
    serde_norway::from_str(&text).expect("valid YAML")
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head"];

#[test]
fn documented_routes_are_the_served_routes() {
    let doc = document();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.0")));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if METHODS.contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let served: BTreeSet<(String, String)> = ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
    assert_eq!(documented, served);
}

#[test]
fn security_is_the_cognito_id_token_in_authorization() {
    let doc = document();
    let scheme = &doc["components"]["securitySchemes"]["cognitoIdToken"];
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(scheme["in"], "header");
    assert_eq!(scheme["name"], "Authorization");
    assert_eq!(doc["security"][0]["cognitoIdToken"], serde_json::json!([]));
}

#[test]
fn every_error_code_the_function_uses_is_documented() {
    let doc = document();
    let codes: BTreeSet<&str> =
        doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
            .as_array()
            .expect("codes")
            .iter()
            .filter_map(Value::as_str)
            .collect();
    for code in image_edit_lambda::errors::ApiError::CODES {
        assert!(codes.contains(code), "{code} is not in docs/openapi.yaml's Error.code enum");
    }
}

#[tokio::test]
async fn capabilities_have_the_documented_required_fields() {
    let doc = document();
    let required = |schema: &str| -> Vec<String> {
        doc["components"]["schemas"][schema]["required"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    for family in ["stability"] {
        let app = app(family, FakeModel::ok(family, 8, 8));
        let resp = app.handle(event("GET", "/capabilities", "/capabilities", None, Some("user-a"))).await;
        assert_eq!(status(&resp), 200);
        let caps = json_body(&resp);
        for field in required("Capabilities") {
            assert!(caps.get(&field).is_some(), "{family}: {field}");
        }
        assert_eq!(caps["family"], family);
        let ops = caps["operations"].as_array().expect("operations");
        assert!(!ops.is_empty());
        for op in ops {
            for field in ["name", "prompt", "mask", "maskPrompt", "model"] {
                assert!(op.get(field).is_some(), "{family}: {field}");
            }
        }
    }
}
