//! Form documents through the API: export → import → export round trips, a table of refused
//! documents, the Google Forms conversion of a document using every item type, and every
//! template of the library (it imports, passes the checks, publishes, its conditions behave).
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, problems, spawn_app};

const EDIT: &str = "form { id status } version { id number problems { path code message } }";

/// The document of a form with every part a document holds: screens, theme, settings, a
/// touchpoint, every configurable kind, options with scores, conditions of every place (as
/// text, as a tree, as both), skips, an end and a disqualification rule.
fn rich_document() -> Value {
    let fa_en = |fa: &str, en: &str| json!({ "fa": fa, "en": en });
    json!({
        "formatVersion": 1,
        "defaultLocale": "fa",
        "locales": ["fa", "en"],
        "title": fa_en("نظرسنجی کامل", "Complete survey"),
        "description": fa_en("همه چیز", "Everything"),
        "touchpoint": "support",
        "settings": { "responseLimit": "ONE_PER_RESPONDENT", "allowAnonymous": false, "responseQuota": 250,
                      "allowedOrigins": ["https://shop.example.com"], "closesAt": "2027-01-01T00:00:00Z" },
        "welcome": { "enabled": true, "title": fa_en("سلام", "Hello"), "buttonLabel": fa_en("شروع", "Start") },
        "thankYou": { "enabled": true, "title": fa_en("ممنون", "Thanks"), "redirectUrl": "https://example.com/done" },
        "theme": { "primaryColor": "#0a7", "logoUrl": "https://cdn.example.com/logo.png", "fontFamily": "Vazirmatn" },
        "sections": [
            { "id": "main", "title": fa_en("اصلی", "Main"), "questions": [
                { "key": "service", "kind": "CSAT", "required": true, "metric": "CSAT", "title": fa_en("خدمات", "Service") },
                { "key": "why", "kind": "LONG_TEXT", "title": fa_en("چرا؟", "Why?"),
                  "config": { "minLength": 2, "maxLength": 500, "pattern": "^[^<>]*$" },
                  "showIf": { "text": "answer(service) <= 3" } },
                { "key": "plan", "kind": "MULTIPLE_CHOICE", "title": fa_en("طرح", "Plan"),
                  "config": { "allowOther": true, "randomizeOptions": true, "minChoices": 1, "maxChoices": 2 },
                  "options": [
                      { "value": "basic", "label": fa_en("پایه", "Basic"), "score": 1 },
                      { "value": "pro", "label": fa_en("حرفه‌ای", "Pro"), "score": 2.5 },
                      { "value": "team", "label": fa_en("تیمی", "Team") } ],
                  "requireIf": { "tree": { "any": [
                      { "compare": { "subject": { "answer": "service" }, "op": "AT_LEAST", "value": { "number": 4 } } },
                      { "answered": { "subject": { "hidden": "order" }, "answered": true } } ] } } },
                { "key": "stars", "kind": "RATING", "title": fa_en("ستاره", "Stars"), "config": { "maxStars": 7 } },
                { "key": "age", "kind": "NUMBER", "title": fa_en("سن", "Age"), "config": { "min": 18, "max": 99.5, "integerOnly": true } },
                { "key": "since", "kind": "DATE", "title": fa_en("از کی", "Since"), "config": { "min": "2020-01-01" } },
                { "key": "order", "kind": "HIDDEN" } ],
              "skips": [ { "when": { "text": "answer(plan) CONTAINS ANY (\"team\")" }, "to": "team" } ],
              "endIf": { "text": "answer(service) = 5 AND NOT answer(plan) IS ANSWERED",
                         "tree": { "all": [
                             { "compare": { "subject": { "answer": "service" }, "op": "EQUALS", "value": { "number": 5 } } },
                             { "not": { "answered": { "subject": { "answer": "plan" }, "answered": true } } } ] } } },
            { "id": "solo", "title": fa_en("تک", "Solo"),
              "showIf": { "text": "answer(plan) CONTAINS NONE (\"team\")" },
              "questions": [ { "key": "email", "kind": "EMAIL", "title": fa_en("ایمیل", "Email") } ],
              "disqualifyIf": { "text": "answer(age) < 20" } },
            { "id": "team", "title": fa_en("تیم", "Team"), "questions": [
                { "key": "size", "kind": "LIKERT", "title": fa_en("اندازه", "Size"), "options": [
                    { "value": "small", "label": fa_en("کوچک", "Small"), "score": 1 },
                    { "value": "large", "label": fa_en("بزرگ", "Large"), "score": 2 } ] } ] }
        ]
    })
}

async fn import(app: &TestApp, token: &str, document: &str) -> Value {
    let query = format!("mutation($input: ImportFormInput!) {{ importForm(input: $input) {{ {EDIT} }} }}");
    app.gql(Some(token), &query, json!({ "input": { "document": document } }))
        .await
}

async fn export(app: &TestApp, token: &str, form: &Value, version: Option<&Value>) -> Value {
    let query = "query($id: ID!, $version: ID) { exportForm(id: $id, versionId: $version) }";
    app.gql(Some(token), query, json!({ "id": form, "version": version }))
        .await
}

fn ok<'a>(body: &'a Value, field: &str) -> &'a Value {
    assert!(body["errors"].is_null(), "{body}");
    &body["data"][field]
}

fn exported(body: &Value) -> String {
    ok(body, "exportForm").as_str().expect("a document").to_owned()
}

/// Imports `document`, exports the new draft, imports that and exports again: the two exports
/// must be the same bytes. Returns the first export and the first import's result.
async fn round_trip(app: &TestApp, token: &str, document: &str) -> (String, Value) {
    let created = import(app, token, document).await;
    let first_edit = ok(&created, "importForm").clone();
    let first = exported(&export(app, token, &first_edit["form"]["id"], None).await);
    let again = import(app, token, &first).await;
    let second_form = &ok(&again, "importForm")["form"]["id"];
    assert_ne!(second_form, &first_edit["form"]["id"]);
    let second = exported(&export(app, token, second_form, None).await);
    assert_eq!(first, second, "export → import → export changed the document");
    (first, first_edit)
}

#[tokio::test]
async fn export_import_export_is_the_same_document() {
    let mut app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.as_str();
    let source = serde_json::to_string(&rich_document()).unwrap();
    let (first, edit) = round_trip(&app, token, &source).await;
    assert_eq!(edit["form"]["status"], "DRAFT");
    assert_eq!(edit["version"]["problems"], json!([]), "{edit}");

    // Everything the document held came through: compare the export with the source, part by part.
    let doc: Value = serde_json::from_str(&first).unwrap();
    let src = rich_document();
    for field in ["title", "description", "touchpoint", "locales", "defaultLocale"] {
        assert_eq!(doc[field], src[field], "{field}");
    }
    assert_eq!(doc["formatVersion"], 1);
    assert_eq!(doc["settings"]["responseQuota"], 250);
    assert_eq!(doc["settings"]["responseLimit"], "ONE_PER_RESPONDENT");
    assert_eq!(doc["settings"]["allowedOrigins"], json!(["https://shop.example.com"]));
    assert_eq!(doc["thankYou"]["redirectUrl"], "https://example.com/done");
    assert_eq!(doc["theme"]["fontFamily"], "Vazirmatn");
    let sections = doc["sections"].as_array().unwrap();
    assert_eq!(
        sections.iter().map(|s| s["id"].as_str().unwrap()).collect::<Vec<_>>(),
        ["s1", "s2", "s3"]
    );
    let main = &sections[0];
    let questions = main["questions"].as_array().unwrap();
    let src_questions = src["sections"][0]["questions"].as_array().unwrap();
    assert_eq!(questions.len(), src_questions.len());
    for (q, s) in questions.iter().zip(src_questions) {
        for field in ["key", "kind", "options"] {
            assert_eq!(q[field], s[field], "{} {field}", s["key"]);
        }
        let title = if s["title"].is_null() {
            json!({})
        } else {
            s["title"].clone()
        };
        assert_eq!(q["title"], title, "{} title", s["key"]);
    }
    assert_eq!(questions[1]["config"]["pattern"], "^[^<>]*$");
    assert_eq!(questions[2]["config"]["maxChoices"], 2);
    assert_eq!(questions[3]["config"]["maxStars"], 7);
    assert_eq!(questions[4]["config"]["max"], 99.5);
    assert_eq!(questions[5]["config"]["min"], "2020-01-01");
    assert_eq!(questions[0]["metric"], "CSAT");
    // Conditions: canonical text and the tree, whichever the source gave.
    assert_eq!(questions[1]["showIf"]["text"], "answer(service) <= 3");
    assert_eq!(
        questions[1]["showIf"]["tree"],
        json!({ "compare": { "subject": { "answer": "service" }, "op": "AT_MOST", "value": { "number": 3 } } })
    );
    assert_eq!(
        questions[2]["requireIf"]["text"],
        "answer(service) >= 4 OR hidden(order) IS ANSWERED"
    );
    assert_eq!(questions[2]["requireIf"]["tree"], src_questions[2]["requireIf"]["tree"]);
    assert_eq!(main["skips"][0]["to"], "s3");
    assert_eq!(main["skips"][0]["when"]["text"], "answer(plan) CONTAINS ANY (\"team\")");
    assert_eq!(main["endIf"]["tree"], src["sections"][0]["endIf"]["tree"]);
    assert_eq!(sections[1]["showIf"]["text"], "answer(plan) CONTAINS NONE (\"team\")");
    assert_eq!(sections[1]["disqualifyIf"]["text"], "answer(age) < 20");

    // A published version exports by its ID; edits then go to a new draft, and each exports as itself.
    let form = edit["form"]["id"].clone();
    let published = app
        .gql(
            Some(token),
            "mutation($id: ID!) { publishForm(input: { id: $id }) { version { id } } }",
            json!({ "id": form }),
        )
        .await;
    let version = ok(&published, "publishForm")["version"]["id"].clone();
    let rename = app
        .gql(
            Some(token),
            "mutation($input: UpdateFormInput!) { updateForm(input: $input) { version { number } } }",
            json!({ "input": { "id": form, "title": [{ "locale": "fa", "text": "نسخه دوم" }, { "locale": "en", "text": "Second" }] } }),
        )
        .await;
    assert_eq!(ok(&rename, "updateForm")["version"]["number"], 2);
    assert_eq!(exported(&export(&app, token, &form, Some(&version)).await), first);
    let draft = exported(&export(&app, token, &form, None).await);
    assert!(draft.contains("\"en\": \"Second\"") && !first.contains("\"en\": \"Second\""));

    // Another organization sees neither the form nor its versions.
    let other = app.sign_up().await;
    let body = export(&app, &other.access_token, &form, Some(&version)).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    app.stop().await;
}

/// The (code, path) pairs a refusal must hold.
type Expected = Vec<(&'static str, &'static str)>;

#[tokio::test]
async fn bad_documents_are_refused_with_every_problem_at_its_path() {
    let mut app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.as_str();
    let good = rich_document();
    let edit = |change: &dyn Fn(&mut Value)| {
        let mut doc = good.clone();
        change(&mut doc);
        serde_json::to_string(&doc).unwrap()
    };
    let cases: Vec<(&str, String, Expected)> = vec![
        (
            "not JSON",
            "{\"formatVersion\": 1,".into(),
            vec![("MALFORMED_JSON", "$")],
        ),
        (
            "too large",
            format!("{{\"pad\": \"{}\"}}", "x".repeat(800 * 1024)),
            vec![("DOCUMENT_TOO_LARGE", "$")],
        ),
        (
            "too deep",
            format!("{}{}", "[".repeat(101), "]".repeat(101)),
            vec![("DOCUMENT_TOO_DEEP", "$")],
        ),
        ("not an object", "[1, 2]".into(), vec![("INVALID_TYPE", "$")]),
        (
            "another format version",
            edit(&|d| d["formatVersion"] = json!(2)),
            vec![("UNSUPPORTED_FORMAT_VERSION", "$.formatVersion")],
        ),
        (
            "no format version",
            edit(&|d| {
                d.as_object_mut().unwrap().remove("formatVersion");
            }),
            vec![("REQUIRED", "$.formatVersion")],
        ),
        (
            "an unknown field",
            edit(&|d| d["colour"] = json!("red")),
            vec![("UNKNOWN_FIELD", "$.colour")],
        ),
        (
            "an unknown kind",
            edit(&|d| d["sections"][0]["questions"][3]["kind"] = json!("STARS")),
            vec![("UNKNOWN_KIND", "$.sections[0].questions[3].kind")],
        ),
        (
            "a question without a key",
            edit(&|d| {
                d["sections"][2]["questions"][0].as_object_mut().unwrap().remove("key");
            }),
            vec![("REQUIRED", "$.sections[2].questions[0].key")],
        ),
        (
            "an invalid key",
            edit(&|d| d["sections"][1]["questions"][0]["key"] = json!("E-mail")),
            vec![("INVALID_KEY", "$.sections[1].questions[0].key")],
        ),
        (
            "a key used twice",
            edit(&|d| d["sections"][2]["questions"][0]["key"] = json!("email")),
            vec![("DUPLICATE_KEY", "$.sections[2].questions[0].key")],
        ),
        (
            "a configuration where the kind takes none",
            edit(&|d| d["sections"][1]["questions"][0]["config"] = json!({ "maxLength": 3 })),
            vec![("NOT_APPLICABLE", "$.sections[1].questions[0].config")],
        ),
        (
            "a configuration value of the wrong type",
            edit(&|d| d["sections"][0]["questions"][3]["config"]["maxStars"] = json!("seven")),
            vec![("INVALID_VALUE", "$.sections[0].questions[3].config.maxStars")],
        ),
        (
            "an inverted range",
            edit(&|d| d["sections"][0]["questions"][5]["config"]["max"] = json!("2019-12-31")),
            vec![("RANGE_INVERTED", "$.sections[0].questions[5].config.min")],
        ),
        (
            "a repeated option value",
            edit(&|d| d["sections"][0]["questions"][2]["options"][1]["value"] = json!("basic")),
            vec![("DUPLICATE", "$.sections[0].questions[2].options[1].value")],
        ),
        (
            "a translation in a locale the form lacks",
            edit(&|d| d["sections"][0]["questions"][0]["title"]["de"] = json!("Service")),
            vec![("UNKNOWN_LOCALE", "$.sections[0].questions[0].title.de")],
        ),
        (
            "an unreadable condition",
            edit(&|d| d["sections"][0]["questions"][1]["showIf"] = json!({ "text": "answer(service) <=" })),
            vec![("INVALID_CONDITION", "$.sections[0].questions[1].showIf.text")],
        ),
        (
            "a malformed tree",
            edit(&|d| d["sections"][0]["questions"][1]["showIf"] = json!({ "tree": { "maybe": [] } })),
            vec![("INVALID_CONDITION", "$.sections[0].questions[1].showIf.tree")],
        ),
        (
            "text and tree that disagree",
            edit(&|d| d["sections"][0]["endIf"]["text"] = json!("answer(service) = 4")),
            vec![("CONDITION_MISMATCH", "$.sections[0].endIf")],
        ),
        (
            "a condition on an unknown question",
            edit(&|d| d["sections"][1]["disqualifyIf"]["text"] = json!("answer(height) < 20")),
            vec![("CONDITION_UNKNOWN_QUESTION", "$.sections[1].disqualifyIf.nodes[0]")],
        ),
        (
            "a condition on an undeclared attribute",
            edit(&|d| d["sections"][1]["showIf"]["text"] = json!("attribute(plan) = \"pro\"")),
            vec![("CONDITION_UNKNOWN_ATTRIBUTE", "$.sections[1].showIf.nodes[0]")],
        ),
        (
            "a condition on a later question",
            edit(&|d| d["sections"][0]["questions"][1]["showIf"]["text"] = json!("answer(email) IS ANSWERED")),
            vec![("CONDITION_LATER_QUESTION", "$.sections[0].questions[1].showIf.nodes[0]")],
        ),
        (
            "an option value that is not an option",
            edit(&|d| d["sections"][0]["skips"][0]["when"]["text"] = json!("answer(plan) CONTAINS ANY (\"gold\")")),
            vec![("CONDITION_UNKNOWN_OPTION", "$.sections[0].skips[0].when.nodes[0]")],
        ),
        (
            "a skip to a section the document lacks",
            edit(&|d| d["sections"][0]["skips"][0]["to"] = json!("nowhere")),
            vec![("SKIP_TARGET_UNKNOWN", "$.sections[0].skips[0].to")],
        ),
        (
            "a skip backwards",
            edit(&|d| {
                d["sections"][2]["skips"] = json!([{ "when": { "text": "answer(size) = \"small\"" }, "to": "main" }])
            }),
            vec![("SKIP_LOOP", "$.sections[2].skips[0].to")],
        ),
        (
            "a section id used twice",
            edit(&|d| d["sections"][1]["id"] = json!("main")),
            vec![("DUPLICATE", "$.sections[1].id")],
        ),
        (
            "a bad colour, quota and origin",
            edit(&|d| {
                d["theme"]["primaryColor"] = json!("green");
                d["settings"]["responseQuota"] = json!(0);
                d["settings"]["allowedOrigins"] = json!(["shop.example.com"]);
            }),
            vec![
                ("INVALID_COLOR", "$.theme.primaryColor"),
                ("OUT_OF_RANGE", "$.settings.responseQuota"),
                ("INVALID_ORIGIN", "$.settings.allowedOrigins[0]"),
            ],
        ),
        (
            "many problems at once",
            edit(&|d| {
                d["formatVersion"] = json!(3);
                d["sections"][0]["questions"][3]["kind"] = json!("STARS");
                d["sections"][1]["questions"][0]["key"] = json!("E-mail");
                d["welcome"]["title"]["de"] = json!("Hallo");
                d["sections"][2]["questions"][0]["options"][0]["score"] = json!("high");
            }),
            vec![
                ("UNSUPPORTED_FORMAT_VERSION", "$.formatVersion"),
                ("UNKNOWN_KIND", "$.sections[0].questions[3].kind"),
                ("INVALID_KEY", "$.sections[1].questions[0].key"),
                ("UNKNOWN_LOCALE", "$.welcome.title.de"),
                ("INVALID_VALUE", "$.sections[2].questions[0].options[0].score"),
            ],
        ),
    ];
    for (name, document, expected) in &cases {
        let body = import(&app, token, document).await;
        let found = problems(&body);
        for (code, path) in expected {
            assert!(
                found.iter().any(|(c, p)| c == code && p == path),
                "{name}: ({code}, {path}) not in {found:?}"
            );
        }
        if expected.len() == 1 {
            assert_eq!(found.len(), 1, "{name}: {found:?}");
        }
        // The same problems without creating anything.
        let checked = app
            .gql(
                Some(token),
                "query($d: String!) { checkFormDocument(document: $d) { path code } }",
                json!({ "d": document }),
            )
            .await;
        let listed: Vec<(String, String)> = ok(&checked, "checkFormDocument")
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["code"].as_str().unwrap().to_owned(),
                    p["path"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(listed, found, "{name}");
    }
    let forms = app
        .gql(Some(token), "{ forms { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(
        ok(&forms, "forms")["edges"],
        json!([]),
        "a refused document created a form"
    );
    let checked = app
        .gql(
            Some(token),
            "query($d: String!) { checkFormDocument(document: $d) { code } }",
            json!({ "d": serde_json::to_string(&good).unwrap() }),
        )
        .await;
    assert_eq!(ok(&checked, "checkFormDocument"), &json!([]));
    // Declaring the attribute makes the document that used it import.
    let declared = app
        .gql(
            Some(token),
            "mutation { createRespondentAttribute(input: { name: \"plan\", type: STRING, label: \"Plan\" }) { attribute { name } } }",
            json!({}),
        )
        .await;
    assert!(declared["errors"].is_null(), "{declared}");
    let with_attribute = edit(&|d| d["sections"][1]["showIf"]["text"] = json!("attribute(plan) = \"pro\""));
    ok(&import(&app, token, &with_attribute).await, "importForm");
    // Importing takes authoring rights.
    let analyst = app.add_member(&owner, "ANALYST").await;
    let body = import(&app, &analyst.access_token, &serde_json::to_string(&good).unwrap()).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    app.stop().await;
}

const GOOGLE_FORM: &str = include_str!("../data/google-form-every-item.json");

#[tokio::test]
async fn a_google_form_with_every_item_type_converts_item_by_item() {
    let mut app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.as_str();
    let query = format!(
        "mutation($input: ImportGoogleFormInput!) {{ importGoogleForm(input: $input) {{
           edit {{ {EDIT} }} items {{ itemId title path outcome keys notes {{ code message }} }} }} }}"
    );
    let body = app
        .gql(
            Some(token),
            &query,
            json!({ "input": { "document": GOOGLE_FORM, "locale": "en" } }),
        )
        .await;
    let result = ok(&body, "importGoogleForm").clone();
    let items = result["items"].as_array().unwrap();
    let google: Value = serde_json::from_str(GOOGLE_FORM).unwrap();
    assert_eq!(
        items.len(),
        google["items"].as_array().unwrap().len(),
        "one report per item"
    );
    let report = |id: &str| -> (String, Vec<String>, Vec<String>) {
        let item = items
            .iter()
            .find(|i| i["itemId"] == id)
            .unwrap_or_else(|| panic!("no report for {id}"));
        let strings = |v: &Value, f: &dyn Fn(&Value) -> &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| f(x).as_str().unwrap().to_owned())
                .collect()
        };
        (
            item["outcome"].as_str().unwrap().to_owned(),
            strings(&item["keys"], &|x| x),
            strings(&item["notes"], &|x| &x["code"]),
        )
    };
    let form = result["edit"]["form"]["id"].clone();
    let document: Value = serde_json::from_str(&exported(&export(&app, token, &form, None).await)).unwrap();
    let question = |key: &str| -> Value {
        document["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["questions"].as_array().unwrap().iter())
            .find(|q| q["key"] == key)
            .unwrap_or_else(|| panic!("no question {key}"))
            .clone()
    };
    let values = |q: &Value| -> Vec<String> {
        q["options"]
            .as_array()
            .map(|o| o.iter().map(|o| o["value"].as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    assert_eq!(document["title"], json!({ "en": "Customer feedback" }));
    assert_eq!(document["locales"], json!(["en"]));

    // item id → (outcome, kinds of the questions made, note codes)
    let expectations: &[(&str, &str, &[&str], &[&str])] = &[
        ("1a2b0001", "CONVERTED", &["SINGLE_CHOICE"], &[]),
        ("1a2b0002", "ADAPTED", &["MULTIPLE_CHOICE"], &["OPTION_IMAGE_DROPPED"]),
        ("1a2b0003", "CONVERTED", &["DROPDOWN"], &[]),
        ("1a2b0004", "CONVERTED", &["SHORT_TEXT"], &[]),
        ("1a2b0005", "CONVERTED", &["LONG_TEXT"], &[]),
        ("1a2b0006", "CONVERTED", &["RATING"], &[]),
        ("1a2b0007", "CONVERTED", &["LIKERT"], &[]),
        ("1a2b0008", "ADAPTED", &["RATING"], &["ICON_CHANGED"]),
        ("5e6f0001", "CONVERTED", &[], &[]),
        ("1a2b0009", "CONVERTED", &["DATE"], &[]),
        ("1a2b0010", "ADAPTED", &["DATE"], &["TIME_DROPPED"]),
        ("1a2b0011", "ADAPTED", &["SHORT_TEXT"], &["TIME_AS_TEXT"]),
        ("1a2b0012", "ADAPTED", &["SHORT_TEXT"], &["TIME_AS_TEXT"]),
        ("5e6f0002", "CONVERTED", &[], &[]),
        (
            "1a2b0014",
            "CONVERTED",
            &["SINGLE_CHOICE", "SINGLE_CHOICE", "SINGLE_CHOICE"],
            &[],
        ),
        (
            "1a2b0015",
            "ADAPTED",
            &["MULTIPLE_CHOICE", "MULTIPLE_CHOICE"],
            &["ROW_ORDER_FIXED"],
        ),
        ("1a2b0016", "SKIPPED", &[], &["FILE_UPLOAD_NOT_SUPPORTED"]),
        ("1a2b0017", "SKIPPED", &[], &["TEXT_NOT_SUPPORTED"]),
        ("1a2b0018", "SKIPPED", &[], &["IMAGE_NOT_SUPPORTED"]),
        ("1a2b0019", "SKIPPED", &[], &["VIDEO_NOT_SUPPORTED"]),
        (
            "1a2b0020",
            "ADAPTED",
            &["SINGLE_CHOICE"],
            &["GRADING_AS_SCORES", "FEEDBACK_DROPPED", "JUMP_NOT_SUPPORTED"],
        ),
        ("1a2b0021", "ADAPTED", &["SINGLE_CHOICE"], &["JUMP_NOT_SUPPORTED"]),
        ("1a2b0022", "ADAPTED", &["SHORT_TEXT"], &["IMAGE_DROPPED"]),
    ];
    for (id, outcome, kinds, notes) in expectations {
        let (found_outcome, keys, found_notes) = report(id);
        assert_eq!(&found_outcome, outcome, "{id}");
        assert_eq!(found_notes, *notes, "{id}");
        let found_kinds: Vec<String> = keys
            .iter()
            .map(|k| question(k)["kind"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(found_kinds, *kinds, "{id}");
    }
    let key = |id: &str, n: usize| report(id).1[n].clone();

    // Choices: options, "other", shuffling, required.
    let plan = question(&key("1a2b0001", 0));
    assert_eq!(values(&plan), ["basic", "pro", "enterprise"]);
    assert_eq!(plan["required"], true);
    assert_eq!(plan["config"]["allowOther"], true);
    assert_eq!(plan["options"][1]["label"], json!({ "en": "Pro" }));
    assert_eq!(question(&key("1a2b0002", 0))["config"]["randomizeOptions"], true);
    assert_eq!(values(&question(&key("1a2b0003", 0))), ["iran", "germany", "canada"]);
    assert_eq!(question(&key("1a2b0004", 0))["required"], true);
    // Scales: 1–5 without labels as stars, 0–10 with labels as a Likert scale scored by its numbers.
    assert_eq!(question(&key("1a2b0006", 0))["config"]["maxStars"], 5);
    let likert = question(&key("1a2b0007", 0));
    assert_eq!(values(&likert), (0..=10).map(|n| n.to_string()).collect::<Vec<_>>());
    assert_eq!(likert["options"][0]["label"], json!({ "en": "0 — Not likely" }));
    assert_eq!(likert["options"][10]["label"], json!({ "en": "10 — Very likely" }));
    assert_eq!(likert["options"][7]["score"], 7);
    assert_eq!(likert["required"], true);
    assert_eq!(question(&key("1a2b0008", 0))["config"]["maxStars"], 7);
    // Times as patterned text.
    assert!(
        question(&key("1a2b0011", 0))["config"]["pattern"]
            .as_str()
            .unwrap()
            .contains("[0-5][0-9]$")
    );
    // Grid rows: one question each, titled by grid and row, with the columns as options.
    let rows: Vec<Value> = report("1a2b0014").1.iter().map(|k| question(k)).collect();
    assert_eq!(rows[1]["title"], json!({ "en": "Rate each area — Price" }));
    assert!(
        rows.iter()
            .all(|r| r["required"] == true && values(r) == ["poor", "fair", "good"])
    );
    assert_eq!(question(&key("1a2b0015", 1))["required"], false);
    // Quiz points as scores.
    let quiz = question(&key("1a2b0020", 0));
    assert_eq!(
        quiz["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["score"].clone())
            .collect::<Vec<_>>(),
        [json!(0), json!(2), json!(0)]
    );
    // Page breaks as sections; "go to section" as skips; "submit form" as an end rule.
    let sections = document["sections"].as_array().unwrap();
    assert_eq!(sections.len(), 3);
    assert_eq!(sections[1]["title"], json!({ "en": "Basics" }));
    assert_eq!(sections[1]["description"], json!({ "en": "A few dates and times." }));
    assert_eq!(sections[0]["questions"].as_array().unwrap().len(), 8);
    assert_eq!(sections[2]["questions"].as_array().unwrap().len(), 8);
    let plan_key = key("1a2b0001", 0);
    assert_eq!(
        sections[0]["skips"],
        json!([
            { "when": { "text": format!("answer({plan_key}) = \"basic\""),
                        "tree": { "compare": { "subject": { "answer": plan_key }, "op": "EQUALS", "value": { "text": "basic" } } } },
              "to": "s2" },
            { "when": { "text": format!("answer({plan_key}) = \"pro\""),
                        "tree": { "compare": { "subject": { "answer": plan_key }, "op": "EQUALS", "value": { "text": "pro" } } } },
              "to": "s3" }
        ])
    );
    assert_eq!(
        sections[0]["endIf"]["text"],
        format!("answer({plan_key}) = \"enterprise\"")
    );
    assert!(sections[2].get("skips").is_none(), "the backward jump is not a skip");
    assert_eq!(result["edit"]["version"]["problems"], json!([]), "{result}");

    // The skips work: "pro" goes straight to the third section.
    let evaluated = app
        .gql(
            Some(token),
            "query($form: ID!, $answers: [AnswerInput!]) { evaluateForm(formId: $form, answers: $answers) {
               path { section { position } } finish } }",
            json!({ "form": form, "answers": [{ "key": plan_key, "value": { "choices": ["pro"] } }] }),
        )
        .await;
    let path: Vec<i64> = ok(&evaluated, "evaluateForm")["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["section"]["position"].as_i64().unwrap())
        .collect();
    assert_eq!(path, [0, 2]);

    // What is not a Google form is refused as a whole.
    let body = app
        .gql(
            Some(token),
            &query,
            json!({ "input": { "document": "{\"formatVersion\": 1}", "locale": "en" } }),
        )
        .await;
    assert_eq!(problems(&body), [("NOT_A_GOOGLE_FORM".to_owned(), "$".to_owned())]);
    let body = app
        .gql(
            Some(token),
            &query,
            json!({ "input": { "document": GOOGLE_FORM, "locale": "English" } }),
        )
        .await;
    assert_eq!(
        problems(&body),
        [("INVALID_LOCALE".to_owned(), "input.locale".to_owned())]
    );
    app.stop().await;
}

/// How each template's conditions must behave: (template, question, answers that show it,
/// answers that hide it).
fn condition_cases() -> Vec<(&'static str, &'static str, Value, Value)> {
    let n = |key: &str, v: i64| json!({ "key": key, "value": { "number": v } });
    let c = |key: &str, v: &[&str]| json!({ "key": key, "value": { "choices": v } });
    let b = |key: &str, v: bool| json!({ "key": key, "value": { "bool": v } });
    vec![
        ("ces", "difficulty", json!([n("effort", 3)]), json!([n("effort", 4)])),
        (
            "ces",
            "resolved",
            json!([c("interaction", &["support"])]),
            json!([c("interaction", &["purchase"])]),
        ),
        (
            "retention",
            "leave_reason",
            json!([c("continue", &["unsure"])]),
            json!([c("continue", &["likely"])]),
        ),
        (
            "churn",
            "competitor",
            json!([c("reasons", &["price", "competitor"])]),
            json!([c("reasons", &["price"])]),
        ),
        (
            "website",
            "missing",
            json!([b("found", false)]),
            json!([b("found", true)]),
        ),
        (
            "onboarding",
            "confusing",
            json!([n("setup_ease", 4)]),
            json!([n("setup_ease", 5)]),
        ),
        (
            "onboarding",
            "phone",
            json!([b("wants_call", true)]),
            json!([b("wants_call", false)]),
        ),
        (
            "success_story",
            "display_name",
            json!([c("consent", &["yes_named"])]),
            json!([c("consent", &["yes_anonymous"])]),
        ),
    ]
}

fn values_of(question: &Value) -> Vec<&str> {
    question["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect()
}

async fn visible(app: &TestApp, form: &Value, answers: Value) -> (Vec<String>, Vec<String>) {
    let body = app
        .gql(
            None,
            "query($form: ID!, $answers: [AnswerInput!]) { evaluateForm(formId: $form, answers: $answers) {
               visibleKeys requiredKeys } }",
            json!({ "form": form, "answers": answers }),
        )
        .await;
    let result = ok(&body, "evaluateForm");
    let keys = |f: &str| -> Vec<String> {
        result[f]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect()
    };
    (keys("visibleKeys"), keys("requiredKeys"))
}

#[tokio::test]
async fn every_template_imports_passes_the_checks_publishes_and_behaves() {
    let mut app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.as_str();
    let listed = app
        .gql(
            Some(token),
            "{ formTemplates { key touchpoint metrics locales sectionCount questionCount document
               title { fa: text(locale: \"fa\") en: text(locale: \"en\") }
               description { fa: text(locale: \"fa\") en: text(locale: \"en\") } } }",
            json!({}),
        )
        .await;
    let templates = ok(&listed, "formTemplates").as_array().unwrap().clone();
    let keys: Vec<&str> = templates.iter().map(|t| t["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "nps",
            "csat",
            "ces",
            "retention",
            "churn",
            "conversion",
            "website",
            "onboarding",
            "success_story"
        ]
    );
    let metrics = |key: &str| templates.iter().find(|t| t["key"] == key).unwrap()["metrics"].clone();
    assert_eq!(metrics("nps"), json!(["NPS"]));
    assert_eq!(metrics("csat"), json!(["CSAT"]));
    assert_eq!(metrics("ces"), json!(["CES"]));
    for template in &templates {
        assert!(!template["metrics"].as_array().unwrap().is_empty(), "{template}");
    }
    let mut forms = std::collections::HashMap::new();
    for template in &templates {
        let key = template["key"].as_str().unwrap();
        assert_eq!(template["locales"], json!(["fa", "en"]), "{key}");
        for part in ["title", "description"] {
            for locale in ["fa", "en"] {
                let text = template[part][locale].as_str().unwrap_or_default();
                assert!(text.chars().count() > 3, "{key} {part} {locale}");
            }
        }
        let created = app
            .gql(
                Some(token),
                &format!(
                    "mutation($input: CreateFormFromTemplateInput!) {{ createFormFromTemplate(input: $input) {{ {EDIT} warnings {{ code }} }} }}"
                ),
                json!({ "input": { "template": key } }),
            )
            .await;
        let edit = ok(&created, "createFormFromTemplate");
        assert_eq!(edit["version"]["problems"], json!([]), "{key}: {edit}");
        assert_eq!(edit["warnings"], json!([]), "{key}");
        let form = edit["form"]["id"].clone();
        let published = app
            .gql(
                Some(token),
                "mutation($id: ID!) { publishForm(input: { id: $id }) { form { status } } }",
                json!({ "id": form }),
            )
            .await;
        assert_eq!(ok(&published, "publishForm")["form"]["status"], "PUBLISHED", "{key}");
        // The template's own document and a form made from it export alike.
        let from_form: Value = serde_json::from_str(&exported(&export(&app, token, &form, None).await)).unwrap();
        let template_doc: Value = serde_json::from_str(template["document"].as_str().unwrap()).unwrap();
        assert_eq!(from_form["title"], template_doc["title"], "{key}");
        let count = |d: &Value| {
            d["sections"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["questions"].as_array().unwrap().len())
                .sum::<usize>()
        };
        assert_eq!(count(&from_form), count(&template_doc), "{key}");
        assert_eq!(template["questionCount"], count(&template_doc), "{key}");
        // Its document round-trips like any export.
        round_trip(&app, token, template["document"].as_str().unwrap()).await;
        forms.insert(key.to_owned(), form);
    }

    // NPS: a 0–10 score, a "why?", a required tenure question, optional age and gender.
    let (shown, required) = visible(&app, &forms["nps"], json!([])).await;
    assert_eq!(shown, ["nps", "reason", "tenure", "age", "gender"]);
    assert_eq!(required, ["nps", "tenure"]);
    // CSAT: three sections; "what disappointed you?" exactly at 3 or less out of 5.
    let csat: Value = serde_json::from_str(templates[1]["document"].as_str().unwrap()).unwrap();
    assert_eq!(csat["sections"].as_array().unwrap().len(), 3);
    for score in 1..=5 {
        let (shown, _) = visible(
            &app,
            &forms["csat"],
            json!([{ "key": "service", "value": { "number": score } }]),
        )
        .await;
        assert_eq!(
            shown.contains(&"disappointed".to_owned()),
            score <= 3,
            "service {score}"
        );
        assert!(shown.contains(&"brand_comparison".to_owned()));
    }
    // CES: the 1–7 kind, after a purchase or a support interaction.
    let ces: Value = serde_json::from_str(templates[2]["document"].as_str().unwrap()).unwrap();
    assert_eq!(ces["sections"][0]["questions"][1]["kind"], "CES");
    assert_eq!(values_of(&ces["sections"][0]["questions"][0]), ["purchase", "support"]);
    // Churn: reasons and an open "anything else".
    let (shown, required) = visible(&app, &forms["churn"], json!([])).await;
    assert!(shown.contains(&"anything_else".to_owned()) && required.contains(&"reasons".to_owned()));
    // Success story: an explicit, required consent to publish.
    let (_, required) = visible(&app, &forms["success_story"], json!([])).await;
    assert!(required.contains(&"consent".to_owned()));
    for (template, key, show, hide) in condition_cases() {
        let (shown, _) = visible(&app, &forms[template], show.clone()).await;
        assert!(shown.contains(&key.to_owned()), "{template}: {key} hidden for {show}");
        let (shown, _) = visible(&app, &forms[template], hide.clone()).await;
        assert!(!shown.contains(&key.to_owned()), "{template}: {key} shown for {hide}");
    }
    // A required question shown by a condition is required only when shown.
    let (_, required) = visible(
        &app,
        &forms["onboarding"],
        json!([{ "key": "wants_call", "value": { "bool": true } }]),
    )
    .await;
    assert!(required.contains(&"phone".to_owned()));

    // A title of one's own; unknown templates are refused with the list.
    let named = app
        .gql(
            Some(token),
            "mutation($input: CreateFormFromTemplateInput!) { createFormFromTemplate(input: $input) { form { title { text(locale: \"en\") } } } }",
            json!({ "input": { "template": "csat", "title": [{ "locale": "fa", "text": "رضایت فروشگاه" }, { "locale": "en", "text": "Store CSAT" }] } }),
        )
        .await;
    assert_eq!(
        ok(&named, "createFormFromTemplate")["form"]["title"]["text"],
        "Store CSAT"
    );
    let unknown = app
        .gql(
            Some(token),
            "mutation { createFormFromTemplate(input: { template: \"nope\" }) { form { id } } }",
            json!({}),
        )
        .await;
    let found = problems(&unknown);
    assert_eq!(found, [("UNKNOWN_TEMPLATE".to_owned(), "input.template".to_owned())]);
    app.stop().await;
}
