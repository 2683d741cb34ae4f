//! Every list is a Relay connection: forward (`first`/`after`) and backward (`last`/`before`)
//! with stable cursors, both ends in `pageInfo`, a `totalCount`; forms and responses also sort
//! by creation or last change, either way, and take time windows for incremental sync.
use serde_json::{Value, json};

use crate::{
    collect::{promoter, publish_feedback, submit},
    helpers::{Session, TestApp, error_code, error_field, spawn_app},
};

const PAGE: &str =
    "edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount";

async fn forms(app: &TestApp, owner: &Session, args: &str) -> Value {
    let query = format!("{{ forms({args}) {{ {PAGE} }} }}");
    let body = app.gql(Some(&owner.access_token), &query, json!({})).await;
    assert!(body["errors"].is_null(), "forms({args}): {body}");
    body["data"]["forms"].clone()
}

fn ids(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn create_forms(app: &TestApp, owner: &Session, n: usize) -> Vec<String> {
    let mut created = Vec::new();
    for i in 0..n {
        let body = app
            .gql(
                Some(&owner.access_token),
                "mutation($t: String!) { createForm(input: { title: [{ locale: \"en\", text: $t }] }) { form { id } } }",
                json!({ "t": format!("Form {i}") }),
            )
            .await;
        created.push(body["data"]["createForm"]["form"]["id"].as_str().unwrap().to_owned());
    }
    created
}

#[tokio::test]
async fn a_list_pages_forward_and_backward_with_both_ends_and_a_count() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let all = create_forms(&app, &owner, 7).await;

    // Forward: 3 + 3 + 1.
    let mut forward = Vec::new();
    let mut args = "first: 3".to_owned();
    let mut pages = Vec::new();
    loop {
        let page = forms(&app, &owner, &args).await;
        assert_eq!(page["totalCount"], 7);
        forward.extend(ids(&page));
        pages.push(page.clone());
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        args = format!(
            "first: 3, after: \"{}\"",
            page["pageInfo"]["endCursor"].as_str().unwrap()
        );
    }
    assert_eq!(forward, all);
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[0]["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(pages[1]["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(pages[0]["pageInfo"]["startCursor"], pages[0]["edges"][0]["cursor"]);

    // Backward: the last 3, then the 3 before, then the first.
    let mut backward: Vec<String> = Vec::new();
    let mut args = "last: 3".to_owned();
    loop {
        let page = forms(&app, &owner, &args).await;
        let mut chunk = ids(&page);
        chunk.extend(backward);
        backward = chunk;
        if page["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        assert_eq!(page["pageInfo"]["hasNextPage"], args != "last: 3");
        args = format!(
            "last: 3, before: \"{}\"",
            page["pageInfo"]["startCursor"].as_str().unwrap()
        );
    }
    assert_eq!(backward, all);

    // A window between two cursors.
    let after = pages[0]["edges"][0]["cursor"].as_str().unwrap();
    let before = pages[1]["edges"][2]["cursor"].as_str().unwrap();
    let window = forms(
        &app,
        &owner,
        &format!("first: 10, after: \"{after}\", before: \"{before}\""),
    )
    .await;
    assert_eq!(ids(&window), all[1..5]);

    // Cursors stay valid while items are added.
    create_forms(&app, &owner, 1).await;
    let next = forms(
        &app,
        &owner,
        &format!(
            "first: 3, after: \"{}\"",
            pages[0]["pageInfo"]["endCursor"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(ids(&next), all[3..6]);
    assert_eq!(next["totalCount"], 8);
}

#[tokio::test]
async fn page_arguments_are_checked() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    for (args, field) in [
        ("first: 2, last: 2", "last"),
        ("first: 0", "first"),
        ("last: 101", "last"),
        ("after: \"not-a-cursor\"", "after"),
        ("before: \"AAAA\"", "before"),
    ] {
        let body = app
            .gql(
                Some(&owner.access_token),
                &format!("{{ forms({args}) {{ totalCount }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{args}: {body}");
        assert_eq!(error_field(&body), field, "{args}");
    }
}

#[tokio::test]
async fn forms_sort_by_creation_or_change_and_sync_by_time() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let all = create_forms(&app, &owner, 4).await;
    let newest_first = forms(&app, &owner, "orderBy: { direction: DESC }").await;
    assert_eq!(ids(&newest_first), all.iter().rev().cloned().collect::<Vec<_>>());

    // Changing the second form puts it first among the recently changed.
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($id: ID!) { updateFormSettings(input: { id: $id, touchpoint: \"support\" }) { form { id updatedAt } } }",
            json!({ "id": all[1] }),
        )
        .await;
    let changed_at = body["data"]["updateFormSettings"]["form"]["updatedAt"]
        .as_str()
        .unwrap()
        .to_owned();
    let recent = forms(
        &app,
        &owner,
        "orderBy: { field: UPDATED_AT, direction: DESC }, first: 2",
    )
    .await;
    assert_eq!(ids(&recent)[0], all[1]);
    // Its cursor carries the time: the next page continues in that order.
    let rest = forms(
        &app,
        &owner,
        &format!(
            "orderBy: {{ field: UPDATED_AT, direction: DESC }}, first: 5, after: \"{}\"",
            recent["pageInfo"]["endCursor"].as_str().unwrap()
        ),
    )
    .await;
    let mut seen = ids(&recent);
    seen.extend(ids(&rest));
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[1..], [all[3].clone(), all[2].clone(), all[0].clone()]);
    // A cursor of one order is refused in another.
    let body = app
        .gql(
            Some(&owner.access_token),
            &format!(
                "{{ forms(after: \"{}\") {{ totalCount }} }}",
                recent["pageInfo"]["endCursor"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    // What changed since a time.
    let since = forms(&app, &owner, &format!("updatedSince: \"{changed_at}\"")).await;
    assert_eq!(ids(&since), [all[1].clone()]);
    assert_eq!(since["totalCount"], 1);
}

#[tokio::test]
async fn responses_list_newest_first_and_sync_by_time() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    let mut submitted = Vec::new();
    for _ in 0..5 {
        // A second apart by the server's clock.
        app.clock.advance(chrono::Duration::seconds(1));
        let body = submit(&app, &form, json!({ "answers": promoter() })).await;
        submitted.push(
            body["data"]["submitResponse"]["response"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let list = |args: String| {
        let query = format!(
            "query($id: ID!) {{ responses(formId: $id, {args}) {{ edges {{ cursor node {{ id completedAt updatedAt }} }} pageInfo {{ hasNextPage endCursor }} totalCount }} }}"
        );
        let app = &app;
        let token = owner.access_token.clone();
        let form_id = form.form_id.clone();
        async move {
            let body = app.gql(Some(&token), &query, json!({ "id": form_id })).await;
            assert!(body["errors"].is_null(), "{body}");
            body["data"]["responses"].clone()
        }
    };
    let newest = list("orderBy: { direction: DESC }, first: 2".into()).await;
    assert_eq!(ids(&newest), [submitted[4].clone(), submitted[3].clone()]);
    assert_eq!(newest["totalCount"], 5);
    let third_completed = newest["edges"][1]["node"]["completedAt"].as_str().unwrap().to_owned();
    let since = list(format!("completedAfter: \"{third_completed}\"")).await;
    assert_eq!(ids(&since), submitted[3..]);
    let before = list(format!("completedBefore: \"{third_completed}\"")).await;
    assert_eq!(ids(&before), submitted[..3]);
    // A partner's sync: what changed since, in change order, page by page.
    let updated = newest["edges"][1]["node"]["updatedAt"].as_str().unwrap().to_owned();
    let first = list(format!(
        "updatedSince: \"{updated}\", orderBy: {{ field: UPDATED_AT }}, first: 1"
    ))
    .await;
    let next = list(format!(
        "updatedSince: \"{updated}\", orderBy: {{ field: UPDATED_AT }}, first: 1, after: \"{}\"",
        first["pageInfo"]["endCursor"].as_str().unwrap()
    ))
    .await;
    assert_eq!([ids(&first), ids(&next)].concat(), submitted[3..]);
    assert_eq!(next["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn every_list_in_either_schema_is_a_complete_connection() {
    for sdl in [nazar::graphql::sdl(), nazar::graphql::public_sdl()] {
        let lines: Vec<&str> = sdl.lines().collect();
        let mut connections = 0;
        for (i, line) in lines.iter().enumerate() {
            // A type's definition: every connection has the same four fields.
            if let Some(name) = line.strip_prefix("type ").and_then(|l| l.split_whitespace().next())
                && name.ends_with("Connection")
            {
                connections += 1;
                let body: String = lines[i..].iter().take_while(|l| **l != "}").copied().collect();
                for field in ["edges: [", "nodes: [", "pageInfo: PageInfo!", "totalCount: Int!"] {
                    assert!(body.contains(field), "{name} lacks {field}");
                }
            }
            // A field returning a connection: the four Relay arguments.
            let returns_connection =
                line.starts_with('\t') && line.trim_end_matches('!').ends_with("Connection") && line.contains("): ");
            if returns_connection {
                let start = (0..i)
                    .rev()
                    .find(|&j| lines[j].starts_with('\t') && !lines[j].starts_with("\t\t") && lines[j].ends_with('('))
                    .unwrap();
                let signature = lines[start..=i].join("\n");
                for arg in ["first: Int", "after: String", "last: Int", "before: String"] {
                    assert!(signature.contains(arg), "{} lacks {arg}", lines[start].trim());
                }
            }
        }
        if sdl.contains("type Query") {
            assert!(connections >= 8, "only {connections} connections");
            let page_info: String = sdl
                .split("type PageInfo {")
                .nth(1)
                .unwrap()
                .split('}')
                .next()
                .unwrap()
                .to_owned();
            for field in [
                "hasNextPage: Boolean!",
                "hasPreviousPage: Boolean!",
                "startCursor: String",
                "endCursor: String",
            ] {
                assert!(page_info.contains(field), "PageInfo lacks {field}");
            }
        }
    }
}
