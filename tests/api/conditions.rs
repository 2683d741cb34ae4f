//! Conditions through the API: writing them as text or as trees and reading them back, the
//! static checks (warnings while editing, refusals at publication), the public evaluation of
//! the path, versions and copies, refusals of unreadable input.
use serde_json::{Value, json};

use crate::{
    forms::{Author, fa_en},
    helpers::{TestApp, error_code, error_field, spawn_app},
};

const NODES: &str = "text nodes { id op children operand { kind name } values { number text bool date } }";

/// The CSAT questionnaire: section 0 asks `service` (CSAT, required), `plan` (pro / basic),
/// `why` (long text) and carries the hidden field `channel`; section 1 asks `nps` (required);
/// section 2 asks `comment`.
struct Csat {
    form: Value,
    sections: Vec<Value>,
    questions: std::collections::HashMap<&'static str, Value>,
}

async fn csat(author: &Author<'_>) -> Csat {
    let created = author.create_form("رضایت مشتری", "Customer satisfaction").await;
    let form = created["form"]["id"].clone();
    let mut sections = vec![created["version"]["sections"][0]["id"].clone()];
    for (fa, en) in [("برند", "Brand"), ("پایان", "Exit")] {
        let added = author
            .ok(
                "addSection",
                "AddSectionInput",
                json!({ "formId": form, "title": fa_en(fa, en) }),
            )
            .await;
        sections.push(added["section"]["id"].clone());
    }
    let mut questions = std::collections::HashMap::new();
    let plan_options = json!([
        { "value": "basic", "label": fa_en("پایه", "Basic") },
        { "value": "pro", "label": fa_en("حرفه‌ای", "Pro") }
    ]);
    for (section, key, kind, required, options) in [
        (0, "service", "CSAT", true, Value::Null),
        (0, "plan", "SINGLE_CHOICE", false, plan_options),
        (0, "why", "LONG_TEXT", false, Value::Null),
        (0, "channel", "HIDDEN", false, Value::Null),
        (1, "nps", "NPS", true, Value::Null),
        (2, "comment", "SHORT_TEXT", false, Value::Null),
    ] {
        let mut input = json!({
            "sectionId": sections[section], "kind": kind, "key": key, "required": required,
            "title": fa_en("پرسش", "Question")
        });
        if !options.is_null() {
            input["options"] = options;
        }
        let body = author.add_question(input).await;
        assert!(body["errors"].is_null(), "{body}");
        questions.insert(key, body["data"]["addQuestion"]["question"]["id"].clone());
    }
    Csat {
        form,
        sections,
        questions,
    }
}

async fn set_question_logic(app: &TestApp, token: &str, input: Value) -> Value {
    let query = format!(
        "mutation($input: SetQuestionLogicInput!) {{ setQuestionLogic(input: $input) {{
            question {{ key showIf {{ {NODES} }} requireIf {{ {NODES} }} }} warnings {{ path code message }} }} }}"
    );
    app.gql(Some(token), &query, json!({ "input": input })).await
}

async fn set_section_logic(app: &TestApp, token: &str, input: Value) -> Value {
    let query = "mutation($input: SetSectionLogicInput!) { setSectionLogic(input: $input) {
        section { id showIf { text } skips { when { text } to section { position } } endIf { text } disqualifyIf { text } }
        warnings { path code message } } }";
    app.gql(Some(token), query, json!({ "input": input })).await
}

const EVALUATE: &str = "query($form: ID!, $version: ID, $answers: [AnswerInput!], $attributes: [AttributeValueInput!],
    $hidden: [HiddenValueInput!], $after: ID!) {
  evaluateForm(formId: $form, versionId: $version, answers: $answers, attributes: $attributes, hidden: $hidden) {
    version { number }
    path { section { position } questions { key } requiredKeys next { kind section { position } } }
    visibleKeys requiredKeys finish valid violations { key code message }
    next(after: $after) { kind section { position } } } }";

async fn evaluate(app: &TestApp, token: Option<&str>, csat: &Csat, vars: Value) -> Value {
    let mut variables = json!({ "form": csat.form, "after": csat.sections[0] });
    for (k, v) in vars.as_object().unwrap() {
        variables[k] = v.clone();
    }
    app.gql(token, EVALUATE, variables).await
}

/// The first problem's code (input problems come as BAD_USER_INPUT with a list of problems),
/// else the error's own code.
fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["problems"][0]["code"]
        .as_str()
        .unwrap_or_else(|| error_code(body))
}

fn ok(body: &Value, field: &str) -> Value {
    assert!(body["errors"].is_null(), "{body}");
    body["data"][field].clone()
}

fn pairs(list: &Value, a: &str, b: &str) -> Vec<(String, String)> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|p| (p[a].as_str().unwrap().to_owned(), p[b].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn conditions_are_written_as_text_or_trees_and_the_csat_follow_up_appears_exactly_at_three_or_less() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.as_str();
    let author = Author::new(&app, &owner);
    let attribute = app
        .gql(
            Some(token),
            "mutation($input: CreateRespondentAttributeInput!) { createRespondentAttribute(input: $input) { attribute { name } } }",
            json!({ "input": { "name": "tier", "type": "STRING", "label": "Tier" } }),
        )
        .await;
    assert!(attribute["errors"].is_null(), "{attribute}");
    let csat = csat(&author).await;

    // Text in, canonical text and the node list out; the require-if as a tree.
    let body = set_question_logic(
        &app,
        token,
        json!({
            "questionId": csat.questions["why"],
            "showIf": { "text": "answer( service )<=3" },
            "requireIf": { "compare": { "subject": { "answer": "plan" }, "op": "EQUALS", "value": { "text": "pro" } } }
        }),
    )
    .await;
    let edit = ok(&body, "setQuestionLogic");
    assert_eq!(edit["warnings"], json!([]));
    let show_if = &edit["question"]["showIf"];
    assert_eq!(show_if["text"], "answer(service) <= 3");
    assert_eq!(
        show_if["nodes"],
        json!([{ "id": 0, "op": "AT_MOST", "children": [], "operand": { "kind": "ANSWER", "name": "service" },
                 "values": [{ "number": 3.0, "text": null, "bool": null, "date": null }] }])
    );
    assert_eq!(edit["question"]["requireIf"]["text"], "answer(plan) = \"pro\"");

    // A nested tree: flat nodes with child references, and its text parses back to it.
    let tree = json!({ "any": [
        { "compare": { "subject": { "answer": "service" }, "op": "AT_LEAST", "value": { "number": 4 } } },
        { "all": [
            { "contains": { "subject": { "answer": "plan" }, "op": "ANY", "values": [{ "text": "pro" }] } },
            { "not": { "compare": { "subject": { "attribute": "tier" }, "op": "EQUALS", "value": { "text": "gold" } } } },
            { "answered": { "subject": { "hidden": "channel" }, "answered": true } }
        ] }
    ] });
    let from_tree = ok(
        &set_question_logic(
            &app,
            token,
            json!({ "questionId": csat.questions["comment"], "showIf": tree }),
        )
        .await,
        "setQuestionLogic",
    );
    let text = from_tree["question"]["showIf"]["text"].as_str().unwrap().to_owned();
    assert_eq!(
        text,
        "answer(service) >= 4 OR answer(plan) CONTAINS ANY (\"pro\") AND NOT attribute(tier) = \"gold\" AND hidden(channel) IS ANSWERED"
    );
    let nodes = &from_tree["question"]["showIf"]["nodes"];
    let shape: Vec<(String, Value)> = nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["op"].as_str().unwrap().to_owned(), n["children"].clone()))
        .collect();
    let expected: Vec<(String, Value)> = [
        ("OR", json!([1, 2])),
        ("AT_LEAST", json!([])),
        ("AND", json!([3, 4, 6])),
        ("CONTAINS_ANY", json!([])),
        ("NOT", json!([5])),
        ("EQUALS", json!([])),
        ("IS_ANSWERED", json!([])),
    ]
    .into_iter()
    .map(|(op, children)| (op.to_owned(), children))
    .collect();
    assert_eq!(shape, expected);
    let from_text = ok(
        &set_question_logic(
            &app,
            token,
            json!({ "questionId": csat.questions["comment"], "showIf": { "text": text } }),
        )
        .await,
        "setQuestionLogic",
    );
    assert_eq!(from_text["question"]["showIf"], from_tree["question"]["showIf"]);

    // Section 0: very satisfied skips to the exit; a test channel disqualifies.
    let body = set_section_logic(
        &app,
        token,
        json!({
            "sectionId": csat.sections[0],
            "skips": [{ "when": { "text": "answer(service) = 5" }, "to": csat.sections[2] }],
            "disqualifyIf": { "text": "hidden(channel) = \"test\"" }
        }),
    )
    .await;
    let edit = ok(&body, "setSectionLogic");
    assert_eq!(edit["warnings"], json!([]));
    assert_eq!(edit["section"]["skips"][0]["section"]["position"], 2);
    assert_eq!(edit["section"]["disqualifyIf"]["text"], "hidden(channel) = \"test\"");
    let published = author.by_id("publishForm", &csat.form).await;
    assert!(published["errors"].is_null(), "{published}");

    // The public evaluation, without credentials.
    for service in 1..=5 {
        let body = evaluate(
            &app,
            None,
            &csat,
            json!({ "answers": [{ "key": "service", "value": { "number": service } }] }),
        )
        .await;
        let result = ok(&body, "evaluateForm");
        let visible: Vec<&str> = result["visibleKeys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert_eq!(visible.contains(&"why"), service <= 3, "service {service}: {result}");
        assert_eq!(visible.contains(&"nps"), service != 5, "service {service}: {result}");
    }
    let body = evaluate(
        &app,
        None,
        &csat,
        json!({ "answers": [
            { "key": "service", "value": { "number": 2 } },
            { "key": "plan", "value": { "choices": ["pro"] } }
        ] }),
    )
    .await;
    let result = ok(&body, "evaluateForm");
    assert_eq!(result["requiredKeys"], json!(["service", "why", "nps"]));
    assert_eq!(result["valid"], false);
    assert_eq!(
        pairs(&result["violations"], "key", "code"),
        [("why".into(), "REQUIRED".into()), ("nps".into(), "REQUIRED".into())]
    );
    assert_eq!(result["finish"], "COMPLETE");
    assert_eq!(
        result["next"],
        json!({ "kind": "SECTION", "section": { "position": 1 } })
    );

    // Very satisfied: straight to the exit; earlier answers to skipped questions are off the path.
    let body = evaluate(
        &app,
        None,
        &csat,
        json!({ "answers": [
            { "key": "service", "value": { "number": 5 } },
            { "key": "why", "value": { "text": "late" } },
            { "key": "nps", "value": { "number": 9 } },
            { "key": "nope", "value": { "number": 1 } }
        ] }),
    )
    .await;
    let result = ok(&body, "evaluateForm");
    let positions: Vec<i64> = result["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["section"]["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [0, 2]);
    assert_eq!(result["path"][0]["next"]["section"]["position"], 2);
    assert_eq!(
        result["path"][1]["next"],
        json!({ "kind": "COMPLETE", "section": null })
    );
    assert_eq!(
        pairs(&result["violations"], "key", "code"),
        [
            ("why".into(), "ANSWER_OFF_PATH".into()),
            ("nps".into(), "ANSWER_OFF_PATH".into()),
            ("nope".into(), "UNKNOWN_QUESTION".into())
        ]
    );
    // The comment shows for the satisfied (service >= 4).
    assert_eq!(result["path"][1]["questions"], json!([{ "key": "comment" }]));

    // Attributes and hidden fields.
    let body = evaluate(
        &app,
        None,
        &csat,
        json!({
            "answers": [{ "key": "service", "value": { "number": 1 } }, { "key": "plan", "value": { "choices": ["pro"] } }],
            "attributes": [{ "name": "tier", "value": { "text": "silver" } }],
            "hidden": [{ "key": "channel", "value": "sms" }]
        }),
    )
    .await;
    assert!(
        ok(&body, "evaluateForm")["visibleKeys"]
            .as_array()
            .unwrap()
            .contains(&json!("comment"))
    );
    let body = evaluate(
        &app,
        None,
        &csat,
        json!({ "hidden": [{ "key": "channel", "value": "test" }] }),
    )
    .await;
    let result = ok(&body, "evaluateForm");
    assert_eq!(result["finish"], "DISQUALIFIED");
    assert_eq!(result["path"].as_array().unwrap().len(), 1);
    assert_eq!(result["next"]["kind"], "DISQUALIFY");

    // Inputs that do not fit the form are refused, naming the field.
    for (vars, code, field) in [
        (
            json!({ "answers": [{ "key": "service", "value": { "text": "5" } }] }),
            "INVALID_ANSWER",
            "answers[0].value",
        ),
        (
            json!({ "answers": [{ "key": "plan", "value": { "choices": ["gold"] } }] }),
            "INVALID_ANSWER",
            "answers[0].value.choices",
        ),
        (
            json!({ "answers": [{ "key": "plan", "value": { "choices": ["pro", "basic"] } }] }),
            "INVALID_ANSWER",
            "answers[0].value",
        ),
        (
            json!({ "answers": [{ "key": "channel", "value": { "text": "x" } }] }),
            "INVALID_ANSWER",
            "answers[0].key",
        ),
        (
            json!({ "answers": [{ "key": "nps", "value": { "number": 1 } }, { "key": "nps", "value": { "number": 2 } }] }),
            "DUPLICATE",
            "answers[1].key",
        ),
        (
            json!({ "attributes": [{ "name": "ltv", "value": { "number": 1 } }] }),
            "UNKNOWN_ATTRIBUTE",
            "attributes[0].name",
        ),
        (
            json!({ "attributes": [{ "name": "tier", "value": { "number": 1 } }] }),
            "INVALID_ATTRIBUTE",
            "attributes[0].value",
        ),
        (
            json!({ "hidden": [{ "key": "nps", "value": "1" }] }),
            "UNKNOWN_HIDDEN_FIELD",
            "hidden[0].key",
        ),
    ] {
        let body = evaluate(&app, None, &csat, vars.clone()).await;
        assert_eq!((self::code(&body), error_field(&body)), (code, field), "{vars}: {body}");
    }
}

#[tokio::test]
async fn every_static_check_warns_while_editing_and_refuses_publication_with_its_path() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.as_str();
    let author = Author::new(&app, &owner);
    let csat = csat(&author).await;
    let why = "sections[0].questions[2]";
    let cases: Vec<(&str, &str, &str)> = vec![
        ("answer(nope) = 1", "CONDITION_UNKNOWN_QUESTION", "showIf.nodes[0]"),
        ("attribute(nope) = 1", "CONDITION_UNKNOWN_ATTRIBUTE", "showIf.nodes[0]"),
        (
            "hidden(nope) = \"x\"",
            "CONDITION_UNKNOWN_HIDDEN_FIELD",
            "showIf.nodes[0]",
        ),
        ("answer(service) = \"5\"", "CONDITION_TYPE_MISMATCH", "showIf.nodes[0]"),
        ("answer(plan) > 3", "CONDITION_TYPE_MISMATCH", "showIf.nodes[0]"),
        ("answer(plan) = \"gold\"", "CONDITION_UNKNOWN_OPTION", "showIf.nodes[0]"),
        ("answer(service) = 6", "CONDITION_OUT_OF_RANGE", "showIf.nodes[0]"),
        (
            "answer(service) BETWEEN (4, 2)",
            "CONDITION_REVERSED_BETWEEN",
            "showIf.nodes[0]",
        ),
        (
            "answer(plan) = \"pro\" OR (answer(service) < 3 AND answer(service) > 4)",
            "CONDITION_CONTRADICTION",
            "showIf.nodes[2]",
        ),
        (
            "answer(plan) CONTAINS ALL (\"pro\", \"basic\")",
            "CONDITION_CONTRADICTION",
            "showIf.nodes[0]",
        ),
        ("answer(nps) >= 9", "CONDITION_LATER_QUESTION", "showIf.nodes[0]"),
        (
            "answer(service) > 3 AND answer(service) < 3",
            "UNREACHABLE_QUESTION",
            "",
        ),
    ];
    for (text, code, at) in cases {
        let path = if at.is_empty() {
            why.to_owned()
        } else {
            format!("{why}.{at}")
        };
        let body = set_question_logic(
            &app,
            token,
            json!({ "questionId": csat.questions["why"], "showIf": { "text": text } }),
        )
        .await;
        let warnings = pairs(&ok(&body, "setQuestionLogic")["warnings"], "path", "code");
        assert!(warnings.contains(&(path.clone(), code.into())), "{text}: {warnings:?}");
        let refused = author.by_id("publishForm", &csat.form).await;
        assert_eq!(error_code(&refused), "FORM_NOT_PUBLISHABLE", "{text}");
        let problems = pairs(&refused["errors"][0]["extensions"]["problems"], "path", "code");
        assert!(problems.contains(&(path, code.into())), "{text}: {problems:?}");
    }
    // Clean again: publishable.
    let body = set_question_logic(&app, token, json!({ "questionId": csat.questions["why"] })).await;
    assert_eq!(ok(&body, "setQuestionLogic")["warnings"], json!([]));

    // Section rules: a skip back loops; an end rule that always holds leaves the rest unreachable.
    let body = set_section_logic(
        &app,
        token,
        json!({ "sectionId": csat.sections[1], "skips": [{ "when": { "text": "answer(nps) < 7" }, "to": csat.sections[0] }] }),
    )
    .await;
    assert_eq!(
        pairs(&ok(&body, "setSectionLogic")["warnings"], "path", "code"),
        [("sections[1].skips[0].to".to_owned(), "SKIP_LOOP".to_owned())]
    );
    set_section_logic(&app, token, json!({ "sectionId": csat.sections[1] })).await;
    let body = set_section_logic(
        &app,
        token,
        json!({ "sectionId": csat.sections[0], "endIf": { "text": "answer(service) IS ANSWERED OR answer(service) IS NOT ANSWERED" } }),
    )
    .await;
    assert_eq!(
        pairs(&ok(&body, "setSectionLogic")["warnings"], "path", "code"),
        [
            ("sections[1]".to_owned(), "UNREACHABLE_SECTION".to_owned()),
            ("sections[2]".to_owned(), "UNREACHABLE_SECTION".to_owned())
        ]
    );
    let refused = author.by_id("publishForm", &csat.form).await;
    assert_eq!(error_code(&refused), "FORM_NOT_PUBLISHABLE");
    set_section_logic(&app, token, json!({ "sectionId": csat.sections[0] })).await;

    // The version's own view lists the same problems; a deleted skip target is reported there.
    let body = set_section_logic(
        &app,
        token,
        json!({ "sectionId": csat.sections[0], "skips": [{ "when": { "text": "answer(service) = 5" }, "to": csat.sections[1] }] }),
    )
    .await;
    ok(&body, "setSectionLogic");
    let deleted = app
        .gql(
            Some(token),
            "mutation($id: ID!) { deleteSection(input: { id: $id }) { version { conditionProblems { path code } problems { path code } } } }",
            json!({ "id": csat.sections[1] }),
        )
        .await;
    let version = &ok(&deleted, "deleteSection")["version"];
    let expected = [("sections[0].skips[0].to".to_owned(), "SKIP_TARGET_UNKNOWN".to_owned())];
    assert_eq!(pairs(&version["conditionProblems"], "path", "code"), expected);
    assert!(pairs(&version["problems"], "path", "code").contains(&expected[0]));
    set_section_logic(&app, token, json!({ "sectionId": csat.sections[0] })).await;
    let published = author.by_id("publishForm", &csat.form).await;
    assert!(published["errors"].is_null(), "{published}");
}

#[tokio::test]
async fn unreadable_conditions_and_unknown_skip_targets_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.as_str();
    let author = Author::new(&app, &owner);
    let csat = csat(&author).await;
    let other = author.create_form("دیگر", "Other").await;
    let why = &csat.questions["why"];
    let too_long = format!("answer(service) = \"{}\"", "x".repeat(10_001));
    let deep = format!("{}answer(service) = 1{}", "(".repeat(40), ")".repeat(40));
    let nested = |levels: usize| {
        (0..levels).fold(
            json!({ "text": "answer(service) = 1" }),
            |inner, _| json!({ "not": inner }),
        )
    };
    // Twenty levels of tree are fine (checked below); forty are refused.
    let cases: Vec<(Value, &str, &str)> = vec![
        (nested(40), "INVALID_CONDITION", ""),
        (
            json!({ "text": "answer(service) <=" }),
            "INVALID_CONDITION",
            "input.showIf.text",
        ),
        (
            json!({ "text": "score(service) = 1" }),
            "INVALID_CONDITION",
            "input.showIf.text",
        ),
        (
            json!({ "text": "answer(service) = 1 AND" }),
            "INVALID_CONDITION",
            "input.showIf.text",
        ),
        (
            json!({ "text": "answer(service) = 'x'" }),
            "INVALID_CONDITION",
            "input.showIf.text",
        ),
        (json!({ "text": too_long }), "INVALID_CONDITION", "input.showIf.text"),
        (json!({ "text": deep }), "INVALID_CONDITION", "input.showIf.text"),
        (
            json!({ "text": "answer(Service) = 1" }),
            "INVALID_CONDITION",
            "input.showIf",
        ),
        (json!({ "all": [] }), "INVALID_CONDITION", "input.showIf"),
        (
            json!({ "contains": { "subject": { "answer": "plan" }, "op": "ANY", "values": [] } }),
            "INVALID_CONDITION",
            "input.showIf",
        ),
        (
            json!({ "any": [{ "text": "answer(service) = 1" }, { "text": "answer(service) =" }] }),
            "INVALID_CONDITION",
            "input.showIf.any[1].text",
        ),
        (
            json!({ "text": "answer(service) = 1", "all": [] }),
            "GRAPHQL_VALIDATION_FAILED",
            "",
        ),
    ];
    for (condition, expected, field) in cases {
        let body = set_question_logic(&app, token, json!({ "questionId": why, "showIf": condition })).await;
        assert_eq!(code(&body), expected, "{condition}: {body}");
        if !field.is_empty() {
            assert_eq!(error_field(&body), field, "{condition}: {body}");
        }
        assert!(!body.to_string().contains("panicked"));
    }
    let body = set_question_logic(&app, token, json!({ "questionId": why, "showIf": nested(20) })).await;
    assert_eq!(
        ok(&body, "setQuestionLogic")["question"]["showIf"]["text"],
        format!("{}answer(service) = 1", "NOT ".repeat(20))
    );
    // Skips name sections of this form.
    let skip = |to: &Value| json!({ "sectionId": csat.sections[0], "skips": [{ "when": { "text": "answer(service) = 5" }, "to": to }] });
    let body = set_section_logic(&app, token, skip(&other["version"]["sections"][0]["id"])).await;
    assert_eq!(
        (code(&body), error_field(&body)),
        ("SKIP_TARGET_UNKNOWN", "input.skips[0].to")
    );
    let body = set_section_logic(&app, token, skip(&csat.questions["why"])).await;
    assert_eq!(error_field(&body), "input.skips[0].to", "{body}");
    let many: Vec<Value> = (0..51)
        .map(|_| json!({ "when": { "text": "answer(service) = 5" }, "to": csat.sections[2] }))
        .collect();
    let body = set_section_logic(&app, token, json!({ "sectionId": csat.sections[0], "skips": many })).await;
    assert_eq!((code(&body), error_field(&body)), ("TOO_MANY", "input.skips"));
    // Nothing was saved.
    let body = set_section_logic(&app, token, json!({ "sectionId": csat.sections[0] })).await;
    assert_eq!(ok(&body, "setSectionLogic")["section"]["skips"], json!([]));
}

#[tokio::test]
async fn conditions_travel_with_versions_and_copies_and_only_published_versions_are_public() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.as_str();
    let author = Author::new(&app, &owner);
    let csat = csat(&author).await;
    set_question_logic(
        &app,
        token,
        json!({ "questionId": csat.questions["why"], "showIf": { "text": "answer(service) <= 3" } }),
    )
    .await;
    set_section_logic(
        &app,
        token,
        json!({ "sectionId": csat.sections[0], "skips": [{ "when": { "text": "answer(service) = 5" }, "to": csat.sections[2] }] }),
    )
    .await;

    // A never-published key can be renamed: conditions follow it.
    author
        .ok(
            "updateQuestion",
            "UpdateQuestionInput",
            json!({ "id": csat.questions["service"], "key": "satisfaction" }),
        )
        .await;
    let read = "query($id: ID!) { form(id: $id) { draftVersion { id sections { skips { when { text } section { position } } questions { key showIf { text } } } }
        publishedVersion { id number } } }";
    let form = ok(&app.gql(Some(token), read, json!({ "id": csat.form })).await, "form");
    let draft = &form["draftVersion"];
    assert_eq!(
        draft["sections"][0]["questions"][2]["showIf"]["text"],
        "answer(satisfaction) <= 3"
    );
    assert_eq!(
        draft["sections"][0]["skips"][0]["when"]["text"],
        "answer(satisfaction) = 5"
    );

    // A draft is not public; its members evaluate it.
    let answers = json!({ "answers": [{ "key": "satisfaction", "value": { "number": 5 } }] });
    let body = evaluate(&app, None, &csat, answers.clone()).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let outsider = app.sign_up_as("outsider@example.com", "Elsewhere").await;
    let body = evaluate(&app, Some(&outsider.access_token), &csat, answers.clone()).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = evaluate(&app, Some(token), &csat, answers.clone()).await;
    assert_eq!(
        ok(&body, "evaluateForm")["visibleKeys"],
        json!(["satisfaction", "plan", "comment"])
    );

    // Published: public. A new draft keeps the conditions; the published version is unchanged.
    let published = author.by_id("publishForm", &csat.form).await;
    assert!(published["errors"].is_null(), "{published}");
    let v1 =
        ok(&app.gql(Some(token), read, json!({ "id": csat.form })).await, "form")["publishedVersion"]["id"].clone();
    let body = evaluate(&app, None, &csat, answers.clone()).await;
    assert_eq!(ok(&body, "evaluateForm")["version"]["number"], 1);
    set_question_logic(
        &app,
        token,
        json!({ "questionId": csat.questions["why"], "showIf": { "text": "answer(satisfaction) <= 2" } }),
    )
    .await;
    let form = ok(&app.gql(Some(token), read, json!({ "id": csat.form })).await, "form");
    assert_eq!(
        form["draftVersion"]["sections"][0]["skips"][0]["section"]["position"],
        2
    );
    assert_eq!(
        form["draftVersion"]["sections"][0]["questions"][2]["showIf"]["text"],
        "answer(satisfaction) <= 2"
    );
    let three = json!({ "answers": [{ "key": "satisfaction", "value": { "number": 3 } }] });
    let public = ok(&evaluate(&app, None, &csat, three.clone()).await, "evaluateForm");
    assert!(public["visibleKeys"].as_array().unwrap().contains(&json!("why")));
    // Anyone may name a published version; only members the draft.
    let mut with_draft = three.clone();
    with_draft["version"] = form["draftVersion"]["id"].clone();
    let body = evaluate(&app, None, &csat, with_draft.clone()).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let member = ok(&evaluate(&app, Some(token), &csat, with_draft).await, "evaluateForm");
    assert_eq!(member["version"]["number"], 2);
    assert!(!member["visibleKeys"].as_array().unwrap().contains(&json!("why")));
    let mut with_v1 = three.clone();
    with_v1["version"] = v1;
    let old = ok(&evaluate(&app, None, &csat, with_v1).await, "evaluateForm");
    assert_eq!(old["version"]["number"], 1);

    // A copy is another form: its skips point to its own sections.
    let copy = author.by_id("duplicateForm", &csat.form).await;
    let copy_id = copy["data"]["duplicateForm"]["form"]["id"].clone();
    let copied = ok(&app.gql(Some(token), read, json!({ "id": copy_id })).await, "form");
    let skips = &copied["draftVersion"]["sections"][0]["skips"];
    assert_eq!(skips[0]["section"]["position"], 2, "{copied}");
    assert_eq!(
        copied["draftVersion"]["sections"][0]["questions"][2]["showIf"]["text"],
        "answer(satisfaction) <= 2"
    );
}
