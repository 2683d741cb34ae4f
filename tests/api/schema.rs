//! The checked-in schema is the code's, and everything in it is described.
use nazar::graphql::{QueryLimits, public_sdl, schema_builder, sdl};
use serde_json::Value;

#[test]
fn schema_file_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == sdl(),
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql` and commit it"
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("public.graphql");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == public_sdl(),
        "public.graphql is stale: run `cargo run -- schema --public > public.graphql` and commit it"
    );
}

#[tokio::test]
async fn every_type_field_argument_and_value_has_a_description() {
    let schema = schema_builder(QueryLimits::default()).finish();
    let query = r#"{ __schema { types { name kind description
        fields(includeDeprecated: true) { name description args { name description } }
        inputFields { name description }
        enumValues(includeDeprecated: true) { name description } } } }"#;
    let response = schema.execute(query).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data: Value = response.data.into_json().unwrap();
    let described = |v: &Value| v["description"].as_str().is_some_and(|d| !d.trim().is_empty());
    let mut missing = Vec::new();
    for ty in data["__schema"]["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        // Introspection types and the scalars the GraphQL specification defines are not ours.
        if name.starts_with("__") || ["String", "Int", "Float", "Boolean", "ID"].contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(name.to_owned());
        }
        for (list, label) in [
            ("fields", "field"),
            ("inputFields", "input field"),
            ("enumValues", "value"),
        ] {
            for item in ty[list].as_array().into_iter().flatten() {
                if !described(item) {
                    missing.push(format!("{label} {name}.{}", item["name"].as_str().unwrap()));
                }
                for arg in item["args"].as_array().into_iter().flatten() {
                    if !described(arg) {
                        missing.push(format!(
                            "argument {name}.{}({})",
                            item["name"].as_str().unwrap(),
                            arg["name"].as_str().unwrap()
                        ));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "undescribed: {missing:#?}");
}

#[test]
fn every_code_the_server_can_emit_is_listed_in_the_readme() {
    let readme = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let listed = readme
        .split("<!-- codes:begin -->\n")
        .nth(1)
        .and_then(|rest| rest.split("<!-- codes:end -->").next())
        .expect("README has a codes section");
    assert!(
        listed == nazar::codes::markdown(),
        "the README's list of codes is stale: put the output of `cargo run -- codes` between its markers"
    );
    for code in nazar::error::code::ALL {
        assert!(readme.contains(&format!("`{code}`")), "the README does not list {code}");
    }
    // The schema's enums are the catalogue's.
    let sdl = nazar::graphql::sdl();
    for code in nazar::codes::ProblemCode::ALL {
        assert!(
            sdl.contains(&format!("\t{}\n", code.as_str())),
            "{} is not in ProblemCode",
            code.as_str()
        );
    }
}

#[tokio::test]
async fn every_mutation_takes_one_input_object_and_returns_a_payload() {
    for schema in [
        schema_builder(QueryLimits::default()).finish().execute(MUTATIONS).await,
        nazar::graphql::public_schema_builder(QueryLimits::default())
            .finish()
            .execute(MUTATIONS)
            .await,
    ] {
        assert!(schema.errors.is_empty(), "{:?}", schema.errors);
        let data: Value = schema.data.into_json().unwrap();
        let fields = data["__schema"]["mutationType"]["fields"].as_array().unwrap();
        assert!(fields.len() >= 4);
        for field in fields {
            let name = field["name"].as_str().unwrap();
            let args = field["args"].as_array().unwrap();
            // `signOut` acts on the caller's own session and needs nothing.
            if name != "signOut" {
                assert_eq!(args.len(), 1, "{name} takes {} arguments", args.len());
                assert_eq!(args[0]["name"], "input", "{name}");
                assert_eq!(args[0]["type"]["kind"], "NON_NULL", "{name}");
                assert_eq!(args[0]["type"]["ofType"]["kind"], "INPUT_OBJECT", "{name}");
            }
            assert_eq!(field["type"]["kind"], "NON_NULL", "{name}");
            assert_eq!(
                field["type"]["ofType"]["kind"], "OBJECT",
                "{name} returns no payload object"
            );
        }
    }
}

const MUTATIONS: &str = "{ __schema { mutationType { fields { name
    args { name type { kind ofType { kind name } } } type { kind ofType { kind name } } } } } }";
