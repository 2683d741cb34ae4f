//! Documents whose fragments spread each other: refused before anything expands them, on both
//! endpoints and in production, while real documents (a form of 100 questions) still run.
use std::time::Duration;

use nazar::graphql::guard::fan_out;
use serde_json::{Value, json};

use super::post_json;
use crate::{
    collect::{Published, publish_document},
    helpers::{spawn_app, spawn_app_with},
};

/// A fan-out document is refused as too large, fast, on both endpoints.
async fn assert_refused_fast(app: &crate::helpers::TestApp, production: bool) {
    for (path, root) in [("/public/graphql", "PublicQuery"), ("/graphql", "Query")] {
        for levels in [7, 8, 9] {
            for type_condition in [root, "NoSuchType"] {
                let query = fan_out(type_condition, levels);
                let answer = post_json(app, path, None, &json!({ "query": query })).await;
                let case = format!("{path}, {levels} levels on {type_condition}, production {production}");
                assert_eq!(answer.code(), "QUERY_TOO_LARGE", "{case}: {}", answer.body);
                assert_eq!(answer.extensions()["limit"], "selections", "{case}");
                assert_eq!(answer.extensions()["max"], 5000, "{case}");
                assert!(answer.extensions()["requestId"].is_string(), "{case}");
                assert!(
                    answer.elapsed < Duration::from_millis(500),
                    "{case} took {:?}",
                    answer.elapsed
                );
            }
        }
    }
}

#[tokio::test]
async fn nested_fragment_spreads_are_refused_in_milliseconds() {
    let app = spawn_app().await;
    assert_refused_fast(&app, false).await;
}

#[tokio::test]
async fn nested_fragment_spreads_are_refused_in_production_too() {
    let app = spawn_app_with(|c| c.production = true).await;
    assert_refused_fast(&app, true).await;
}

#[tokio::test]
async fn deep_nesting_is_refused_before_the_parser_recurses() {
    let app = spawn_app().await;
    for depth in [100, 100_000] {
        let query = format!("{}__typename{}", "{ a ".repeat(depth), " }".repeat(depth));
        let query = if query.len() > 99_000 {
            query[..99_000].to_owned()
        } else {
            query
        };
        let answer = post_json(&app, "/public/graphql", None, &json!({ "query": query })).await;
        assert_eq!(answer.code(), "QUERY_TOO_LARGE", "depth {depth}: {}", answer.body);
        assert_eq!(answer.extensions()["limit"], "nesting");
    }
}

/// A published form of 100 questions of every common kind.
async fn form_of_100_questions(app: &crate::helpers::TestApp, owner: &crate::helpers::Session) -> Published {
    let kinds = ["NPS", "SHORT_TEXT", "SINGLE_CHOICE", "CSAT", "MULTIPLE_CHOICE"];
    let sections: Vec<Value> = (0..10)
        .map(|s| {
            let questions: Vec<Value> = (0..10)
                .map(|q| {
                    let i = s * 10 + q;
                    let kind = kinds[i % kinds.len()];
                    let mut question = json!({
                        "key": format!("q{i}"), "kind": kind,
                        "title": { "en": format!("Question {i}") },
                    });
                    if kind.ends_with("CHOICE") {
                        question["options"] = json!([
                            { "value": "a", "label": { "en": "A" }, "score": 1 },
                            { "value": "b", "label": { "en": "B" }, "score": 2 },
                        ]);
                    }
                    if i > 0 && i % 10 == 0 {
                        question["showIf"] = json!({ "text": format!("answer(q{}) IS ANSWERED", i - 10) });
                    }
                    question
                })
                .collect();
            json!({ "id": format!("s{s}"), "title": { "en": format!("Page {s}") }, "questions": questions })
        })
        .collect();
    let document = json!({
        "formatVersion": 1, "defaultLocale": "en", "locales": ["en"],
        "title": { "en": "Long form" }, "sections": sections,
    });
    publish_document(app, owner, &document.to_string(), json!({})).await
}

#[tokio::test]
async fn a_form_of_100_questions_is_read_in_one_query_with_fragments() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = form_of_100_questions(&app, &owner).await;
    let query = r#"
        fragment ConditionFields on Condition { text nodes { id op children operand { kind name } values { number text bool date } } }
        fragment OptionFields on PublicOption { value label score }
        fragment ConfigFields on QuestionConfig {
          ... on TextConfig { minLength maxLength pattern }
          ... on ChoiceConfig { minChoices maxChoices allowOther randomizeOptions }
          ... on ScaleConfig { min max }
        }
        fragment QuestionFields on PublicQuestion {
          key kind title description required
          showIf { ...ConditionFields } requireIf { ...ConditionFields }
          config { ...ConfigFields } options { ...OptionFields }
        }
        query Form($id: String!) {
          publicForm(publicId: $id) {
            publicId versionId locale title description acceptingResponses hiddenFields
            sections { id title description showIf { ...ConditionFields } skips { to when { ...ConditionFields } }
                       endIf { ...ConditionFields } disqualifyIf { ...ConditionFields } questions { ...QuestionFields } }
          }
        }"#;
    let answer = post_json(
        &app,
        "/public/graphql",
        None,
        &json!({ "query": query, "variables": { "id": form.public_id } }),
    )
    .await;
    assert!(answer.body["errors"].is_null(), "{}", answer.body);
    let sections = answer.body["data"]["publicForm"]["sections"].as_array().unwrap();
    let questions: usize = sections.iter().map(|s| s["questions"].as_array().unwrap().len()).sum();
    assert_eq!(questions, 100);
    assert_eq!(sections[1]["questions"][0]["showIf"]["text"], "answer(q0) IS ANSWERED");
}

// The server's runtime as in production (`#[tokio::main]`: a worker per core, two here): on
// the one thread of a plain test runtime, whichever request is polled first is checked first,
// and under a busy suite the small request can be polled after every large one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_clients_are_served_while_documents_at_the_caps_are_checked() {
    let app = spawn_app().await;
    // Just under the cap: a fragment of 98 fields spread 50 times, and 4,900 aliases.
    let fields: String = (0..98).map(|i| format!("t{i}: __typename ")).collect();
    let spreads = "...F ".repeat(50);
    let spread_heavy = format!("fragment F on PublicQuery {{ {fields} }} {{ {spreads} }}");
    let aliases: String = (0..4_900).map(|i| format!("a{i}: __typename ")).collect();
    let alias_heavy = format!("{{ {aliases} }}");
    let bodies: Vec<Value> = [spread_heavy.clone(), alias_heavy.clone(), spread_heavy, alias_heavy]
        .iter()
        .map(|query| json!({ "query": query }))
        .collect();
    let heavy = bodies.iter().map(|body| post_json(&app, "/public/graphql", None, body));
    let light = async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        post_json(&app, "/public/graphql", None, &json!({ "query": "{ __typename }" })).await
    };
    let (heavy, light) = tokio::join!(futures_util::future::join_all(heavy), light);
    // Bounded work (a debug build on a shared machine: the figures of a release build are in
    // BENCHMARKS.md), and the small request is not kept waiting behind all of it.
    for answer in &heavy {
        assert!(answer.body["errors"].is_null(), "{:.300}", answer.body.to_string());
        assert!(
            answer.elapsed < Duration::from_secs(15),
            "a document at the caps took {:?}",
            answer.elapsed
        );
    }
    assert_eq!(light.body["data"]["__typename"], "PublicQuery");
    let slowest = heavy.iter().map(|a| a.elapsed).max().unwrap();
    assert!(
        light.elapsed < slowest,
        "the small request waited {:?} (slowest {slowest:?})",
        light.elapsed
    );
}
