//! Text no database can store: NUL in any string argument or input field of either schema
//! (found by walking the schema) is refused with BAD_USER_INPUT naming the field, on every
//! backend alike; an unpaired surrogate never gets as far as a string. Nothing answers
//! INTERNAL_SERVER_ERROR.
use std::collections::HashMap;

use serde_json::{Value, json};

use super::{post_json, post_raw};
use crate::helpers::{Session, TestApp, spawn_app_with};

const TYPE_REF: &str = "kind name ofType { kind name ofType { kind name ofType { kind name } } }";

/// The schema's types by name, from introspection.
async fn types(app: &TestApp, path: &str) -> (HashMap<String, Value>, Vec<String>) {
    let query = format!(
        "{{ __schema {{ queryType {{ name }} mutationType {{ name }}
            types {{ name kind fields {{ name args {{ name type {{ {TYPE_REF} }} }} }}
                     inputFields {{ name type {{ {TYPE_REF} }} }} }} }} }}"
    );
    let answer = post_json(app, path, None, &json!({ "query": query })).await;
    let schema = &answer.body["data"]["__schema"];
    assert!(schema.is_object(), "{}", answer.body);
    let roots = ["queryType", "mutationType"]
        .iter()
        .filter_map(|r| schema[r]["name"].as_str().map(str::to_owned))
        .collect();
    let types = schema["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone()))
        .collect();
    (types, roots)
}

/// The type as written in a variable declaration (`[ID!]!`).
fn written(type_ref: &Value) -> String {
    match type_ref["kind"].as_str().unwrap() {
        "NON_NULL" => format!("{}!", written(&type_ref["ofType"])),
        "LIST" => format!("[{}]", written(&type_ref["ofType"])),
        _ => type_ref["name"].as_str().unwrap().to_owned(),
    }
}

/// Every way to put a string into a value of `type_ref`: (path below the argument, the value
/// with NUL there).
fn string_leaves(types: &HashMap<String, Value>, type_ref: &Value, seen: &mut Vec<String>) -> Vec<(String, Value)> {
    match type_ref["kind"].as_str().unwrap() {
        "NON_NULL" => string_leaves(types, &type_ref["ofType"], seen),
        "LIST" => string_leaves(types, &type_ref["ofType"], seen)
            .into_iter()
            .map(|(path, value)| (format!("[0]{path}"), json!([value])))
            .collect(),
        "SCALAR" => match type_ref["name"].as_str().unwrap() {
            "Int" | "Float" | "Boolean" => Vec::new(),
            _ => vec![(String::new(), json!("a\u{0}b"))],
        },
        "INPUT_OBJECT" => {
            let name = type_ref["name"].as_str().unwrap().to_owned();
            if seen.contains(&name) || seen.len() > 4 {
                return Vec::new();
            }
            seen.push(name.clone());
            let mut leaves = Vec::new();
            for field in types[&name]["inputFields"].as_array().unwrap() {
                let field_name = field["name"].as_str().unwrap();
                for (path, value) in string_leaves(types, &field["type"], seen) {
                    leaves.push((format!(".{field_name}{path}"), json!({ field_name: value })));
                }
            }
            seen.pop();
            leaves
        }
        _ => Vec::new(),
    }
}

/// Sends NUL through every string leaf of every argument of every root field of the schema
/// served on `path`; returns how many cases were tried.
async fn walk(app: &TestApp, path: &str, owner: &Session) -> usize {
    let (types, roots) = types(app, path).await;
    let mut cases = 0;
    for root in &roots {
        let keyword = if types[root]["name"] == types[&roots[0]]["name"] {
            "query"
        } else {
            "mutation"
        };
        for field in types[root]["fields"].as_array().unwrap() {
            let field_name = field["name"].as_str().unwrap();
            for arg in field["args"].as_array().unwrap() {
                let arg_name = arg["name"].as_str().unwrap();
                for (leaf, value) in string_leaves(&types, &arg["type"], &mut Vec::new()) {
                    let query = format!(
                        "{keyword}($v: {}) {{ {field_name}({arg_name}: $v) }}",
                        written(&arg["type"])
                    );
                    let body = json!({ "query": query, "variables": { "v": value } });
                    let answer = post_json(app, path, Some(&owner.access_token), &body).await;
                    let case = format!("{path} {field_name}({arg_name}{leaf})");
                    assert_eq!(answer.code(), "BAD_USER_INPUT", "{case}: {}", answer.body);
                    assert_eq!(answer.extensions()["field"], format!("{arg_name}{leaf}"), "{case}");
                    cases += 1;

                    // The same value with an unpaired surrogate: not valid JSON text, refused
                    // as a malformed request.
                    let raw = body.to_string().replace("\\u0000", "\\ud800");
                    let answer = post_raw(app, path, Some(&owner.access_token), raw, &[]).await;
                    assert_eq!(
                        (answer.status, answer.code()),
                        (400, "BAD_REQUEST"),
                        "{case}: {}",
                        answer.body
                    );
                }
            }
        }
    }
    cases
}

#[tokio::test]
async fn nul_in_any_string_of_either_schema_is_refused_naming_the_field() {
    let app = spawn_app_with(|c| c.public_rate_limit_per_address = 0).await;
    let owner = app.sign_up().await;
    let staff = walk(&app, "/graphql", &owner).await;
    let public = walk(&app, "/public/graphql", &owner).await;
    assert!(staff > 200, "only {staff} string inputs found in the staff schema");
    assert!(public > 20, "only {public} string inputs found in the public schema");
}

#[tokio::test]
async fn nul_in_literals_and_the_reported_cases_is_refused() {
    let app = spawn_app_with(|c| c.public_rate_limit_per_address = 0).await;
    let owner = app.sign_up().await;
    let cases = [
        (
            "/public/graphql",
            "{ publicForm(publicId: \"a\\u0000b\") { title } }",
            "publicId",
        ),
        (
            "/graphql",
            "{ forms(search: \"a\\u0000b\") { nodes { id } } }",
            "search",
        ),
        (
            "/graphql",
            "mutation { signIn(input: { email: \"a\\u0000b@example.com\", password: \"x\" }) { role } }",
            "input.email",
        ),
        (
            "/graphql",
            "mutation { signIn(input: { email: \"a@example.com\", password: \"a\\u0000b\" }) { role } }",
            "input.password",
        ),
    ];
    for (path, query, field) in cases {
        let answer = post_json(&app, path, Some(&owner.access_token), &json!({ "query": query })).await;
        assert_eq!(answer.code(), "BAD_USER_INPUT", "{query}: {}", answer.body);
        assert_eq!(answer.extensions()["field"], field, "{query}");
    }
    // A surrogate escape inside the query text is a syntax error, not a string.
    let answer = post_json(
        &app,
        "/public/graphql",
        None,
        &json!({ "query": "{ publicForm(publicId: \"\\ud800\") { title } }" }),
    )
    .await;
    assert_eq!(answer.code(), "GRAPHQL_PARSE_FAILED", "{}", answer.body);
    // A text answer with NUL, the way a respondent's app would send it.
    let query = "mutation($input: NewResponseInput!) { submitResponse(input: $input) { response { id } } }";
    let variables = json!({ "input": { "publicId": "x", "idempotencyKey": "k",
        "answers": [{ "key": "reason", "value": { "text": "bad\u{0}" } }] } });
    let answer = post_json(
        &app,
        "/public/graphql",
        None,
        &json!({ "query": query, "variables": variables }),
    )
    .await;
    assert_eq!(answer.code(), "BAD_USER_INPUT");
    assert_eq!(answer.extensions()["field"], "input.answers[0].value.text");
}
