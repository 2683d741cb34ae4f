//! Submissions through the public API: the form as a respondent sees it, every answer rule
//! with its code, the path in both flows, partial → resume on another device → complete,
//! idempotent retries and key reuse, and concurrency (one key, quotas).
use futures_util::future::join_all;
use nazar::service::response::idempotency;
use serde_json::{Value, json};

use crate::{
    collect::{
        FEEDBACK_FORM, answer, answer_of, count_rows, key, proceed, promoter, public, publish_document,
        publish_feedback, refusal, result, set_settings, staff_response, start, submit,
    },
    helpers::{error_code, spawn_app},
};

#[tokio::test]
async fn a_published_form_is_shown_as_a_respondent_sees_it() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    let query = "query($id: String!, $locale: String, $version: ID) {
        publicForm(publicId: $id, locale: $locale, versionId: $version) {
        publicId versionId locale locales title hiddenFields acceptingResponses showsScores responseLimit
        sections { id title disqualifyIf { text } skips { when { text } to }
          questions { key kind title required showIf { text } requireIf { text } config { __typename }
            options { value label score } } } } }";
    let body = public(&app, query, json!({ "id": form.public_id })).await;
    let fa = &body["data"]["publicForm"];
    assert_eq!(fa["locale"], "fa", "{body}");
    assert_eq!(fa["title"], "نظرسنجی فروشگاه");
    assert_eq!(fa["versionId"], json!(form.version_id));
    assert_eq!(fa["hiddenFields"], json!(["order_id"]));
    assert_eq!(fa["acceptingResponses"], true);
    let keys: Vec<&str> = fa["sections"][0]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["nps", "reason", "plan", "features", "service"]);
    let reason = &fa["sections"][0]["questions"][1];
    assert_eq!(reason["showIf"]["text"], "answer(nps) <= 6");
    assert_eq!(reason["title"], "چه چیزی ناامیدتان کرد؟");
    assert_eq!(fa["sections"][0]["skips"][0]["to"], fa["sections"][2]["id"]);
    assert_eq!(fa["sections"][1]["disqualifyIf"]["text"], "answer(employee) = true");
    assert_eq!(
        fa["sections"][2]["questions"][0]["requireIf"]["text"],
        "answer(nps) <= 6"
    );
    let plan = &fa["sections"][0]["questions"][2];
    assert_eq!(
        plan["options"][1],
        json!({ "value": "pro", "label": "حرفه‌ای", "score": null })
    );
    assert_eq!(plan["config"]["__typename"], "ChoiceConfig");

    // Another locale, by language; scores once the form shows them.
    set_settings(&app, &owner, &form.form_id, json!({ "showScores": true })).await;
    let body = public(&app, query, json!({ "id": form.public_id, "locale": "en-GB" })).await;
    let en = &body["data"]["publicForm"];
    assert_eq!(
        (en["locale"].as_str(), en["title"].as_str()),
        (Some("en"), Some("Store feedback"))
    );
    assert_eq!(en["showsScores"], true);
    assert_eq!(
        en["sections"][0]["questions"][2]["options"][1],
        json!({ "value": "pro", "label": "Pro", "score": 2.0 })
    );

    // Unknown, draft and archived forms are not there; closed ones say so.
    let none = public(&app, query, json!({ "id": "no-such-form" })).await;
    assert!(none["data"]["publicForm"].is_null(), "{none}");
    let draft = app
        .gql(
            Some(&owner.access_token),
            "mutation($input: ImportFormInput!) { importForm(input: $input) { form { publicId } } }",
            json!({ "input": { "document": FEEDBACK_FORM } }),
        )
        .await;
    let draft_id = draft["data"]["importForm"]["form"]["publicId"].clone();
    let body = public(&app, query, json!({ "id": draft_id })).await;
    assert!(body["data"]["publicForm"].is_null(), "{body}");
    let closed = app
        .gql(
            Some(&owner.access_token),
            "mutation($id: ID!) { closeForm(input: { id: $id }) { form { status } } }",
            json!({ "id": form.form_id }),
        )
        .await;
    assert_eq!(closed["data"]["closeForm"]["form"]["status"], "CLOSED", "{closed}");
    let body = public(&app, query, json!({ "id": form.public_id })).await;
    assert_eq!(body["data"]["publicForm"]["acceptingResponses"], false, "{body}");
}

#[tokio::test]
async fn every_answer_rule_refuses_with_its_code_and_persian_digits_are_read() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    // The promoter's answers are nps (0), plan (1), service (2): a case replaces one of them
    // or adds a fourth. (answers, hidden fields, expected code, path, key)
    let replaced = |i: usize, a: Value| {
        let mut answers = promoter();
        answers[i] = a;
        answers
    };
    let added = |a: Value| {
        let mut answers = promoter();
        answers.as_array_mut().unwrap().push(a);
        answers
    };
    let cases: Vec<(Value, Value, &str, &str, &str)> = vec![
        (
            replaced(0, answer("nps", json!({ "number": 11 }))),
            json!([]),
            "OUT_OF_RANGE",
            "input.answers[0].value",
            "nps",
        ),
        (
            replaced(0, answer("nps", json!({ "number": 7.5 }))),
            json!([]),
            "NOT_INTEGER",
            "input.answers[0].value",
            "nps",
        ),
        (
            replaced(0, answer("nps", json!({ "text": "ده" }))),
            json!([]),
            "INVALID_NUMBER",
            "input.answers[0].value",
            "nps",
        ),
        (
            replaced(0, answer("nps", json!({ "bool": true }))),
            json!([]),
            "INVALID_ANSWER",
            "input.answers[0].value",
            "nps",
        ),
        (
            replaced(1, answer("plan", json!({ "choices": ["gold"] }))),
            json!([]),
            "INVALID_OPTION",
            "input.answers[1].value.choices[0]",
            "plan",
        ),
        (
            replaced(1, answer("plan", json!({ "choices": ["basic", "pro"] }))),
            json!([]),
            "TOO_MANY_CHOICES",
            "input.answers[1].value.choices",
            "plan",
        ),
        (
            replaced(
                1,
                json!({ "key": "plan", "value": { "choices": [] }, "otherText": "  " }),
            ),
            json!([]),
            "BLANK",
            "input.answers[1].otherText",
            "plan",
        ),
        (
            replaced(2, answer("service", json!({ "number": 0 }))),
            json!([]),
            "OUT_OF_RANGE",
            "input.answers[2].value",
            "service",
        ),
        (
            added(answer("features", json!({ "choices": ["speed", "price", "support"] }))),
            json!([]),
            "TOO_MANY_CHOICES",
            "input.answers[3].value.choices",
            "features",
        ),
        (
            added(answer("features", json!({ "choices": [] }))),
            json!([]),
            "TOO_FEW_CHOICES",
            "input.answers[3].value.choices",
            "features",
        ),
        (
            added(json!({ "key": "features", "value": { "choices": ["speed"] }, "otherText": "x" })),
            json!([]),
            "OTHER_NOT_ALLOWED",
            "input.answers[3].otherText",
            "features",
        ),
        (
            added(answer("email", json!({ "text": "not-an-email" }))),
            json!([]),
            "INVALID_EMAIL",
            "input.answers[3].value",
            "email",
        ),
        (
            added(answer("contact", json!({ "text": "12" }))),
            json!([]),
            "INVALID_PHONE",
            "input.answers[3].value",
            "contact",
        ),
        (
            added(answer("visit", json!({ "date": "2019-12-31" }))),
            json!([]),
            "OUT_OF_RANGE",
            "input.answers[3].value",
            "visit",
        ),
        (
            added(answer("visit", json!({ "text": "۲۰۲۶-۰۲-۳۰" }))),
            json!([]),
            "INVALID_DATE",
            "input.answers[3].value",
            "visit",
        ),
        (
            added(answer("colour", json!({ "text": "blue" }))),
            json!([]),
            "UNKNOWN_QUESTION",
            "input.answers[3].key",
            "colour",
        ),
        (
            added(answer("nps", json!({ "number": 9 }))),
            json!([]),
            "DUPLICATE",
            "input.answers[3].key",
            "nps",
        ),
        (
            added(answer("order_id", json!({ "text": "A-1" }))),
            json!([]),
            "HIDDEN_FIELD",
            "input.answers[3].key",
            "order_id",
        ),
        (
            promoter(),
            json!([{ "key": "coupon", "value": "X" }]),
            "UNKNOWN_HIDDEN_FIELD",
            "input.hidden[0].key",
            "coupon",
        ),
        (
            promoter(),
            json!([{ "key": "order_id", "value": "x".repeat(1001) }]),
            "TOO_LONG",
            "input.hidden[0].value",
            "order_id",
        ),
    ];
    for (answers, hidden, code, path, key) in cases {
        let body = submit(&app, &form, json!({ "answers": answers, "hidden": hidden })).await;
        let problems = refusal(&body);
        assert!(
            problems.contains(&(code.to_owned(), path.to_owned(), key.to_owned())),
            "expected {code} at {path} for {key}: {body}"
        );
    }
    assert_eq!(
        count_rows(&app, "SELECT COUNT(*) FROM responses").await,
        0,
        "refused submissions write nothing"
    );

    // Persian and Arabic-Indic digits in numbers, phones and dates; "other" text; scores.
    let body = submit(
        &app,
        &form,
        json!({
            "answers": [
                answer("nps", json!({ "text": "۹" })),
                { "key": "plan", "value": { "choices": [] }, "otherText": "طرح ویژه" },
                answer("features", json!({ "choices": ["speed", "price"] })),
                answer("service", json!({ "text": "٤" })),
                answer("contact", json!({ "text": "۰۹۱۲ ۳۴۵ ۶۷۸۹" })),
                answer("visit", json!({ "text": "۲۰۲۶-۰۳-۰۱" })),
                answer("email", json!({ "text": " Sara@Example.COM " }))
            ],
            "hidden": [{ "key": "order_id", "value": "A-۱۲" }]
        }),
    )
    .await;
    let done = result(&body, "submitResponse");
    assert_eq!(done["response"]["status"], "COMPLETED");
    assert!(done["response"]["totalScore"].is_null(), "scores are not shown: {done}");
    let staff = staff_response(&app, &owner.access_token, &done["response"]["id"]).await;
    let answers = &staff["answers"];
    assert_eq!(answer_of(answers, "nps")["number"], 9.0);
    assert_eq!(answer_of(answers, "service")["number"], 4.0);
    assert_eq!(answer_of(answers, "contact")["text"], "09123456789");
    assert_eq!(answer_of(answers, "visit")["date"], "2026-03-01");
    assert_eq!(answer_of(answers, "email")["text"], "sara@example.com");
    assert_eq!(
        answer_of(answers, "order_id")["text"],
        "A-۱۲",
        "hidden values are kept as sent"
    );
    let plan = answer_of(answers, "plan");
    assert_eq!(
        (plan["choices"].clone(), plan["otherText"].clone()),
        (json!([]), json!("طرح ویژه"))
    );
    assert_eq!(answer_of(answers, "features")["score"], 3.5);
    assert_eq!(staff["totalScore"], 3.5);
    // Typed rows: one per answer, one per chosen option.
    let id = done["response"]["id"].as_str().unwrap();
    assert_eq!(count_rows(&app, "SELECT COUNT(*) FROM answers").await, 8, "{id}");
    assert_eq!(count_rows(&app, "SELECT COUNT(*) FROM answer_choices").await, 2);
    assert_eq!(
        count_rows(
            &app,
            "SELECT COUNT(*) FROM answers WHERE question_key = 'nps' AND number_value = 9"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_single_shot_submit_follows_the_path() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({ "showScores": true })).await;

    // A detractor must say why and leave an email (require-if); both are named.
    let detractor = json!([
        answer("nps", json!({ "number": 5 })),
        answer("plan", json!({ "choices": ["enterprise"] })),
        answer("service", json!({ "number": 2 }))
    ]);
    let body = submit(&app, &form, json!({ "answers": detractor })).await;
    let problems = refusal(&body);
    assert!(
        problems.contains(&("REQUIRED".into(), "input.answers".into(), "reason".into())),
        "{body}"
    );
    assert!(
        problems.contains(&("REQUIRED".into(), "input.answers".into(), "email".into())),
        "{body}"
    );

    // A promoter skips the details section: an answer there is off the path, refused.
    let mut answers = promoter();
    answers
        .as_array_mut()
        .unwrap()
        .push(answer("age", json!({ "number": 30 })));
    let body = submit(&app, &form, json!({ "answers": answers })).await;
    assert_eq!(
        refusal(&body),
        [(
            "ANSWER_OFF_PATH".to_owned(),
            "input.answers[3]".to_owned(),
            "age".to_owned()
        )]
    );
    // As is the reason of someone who is not a detractor.
    let mut answers = promoter();
    answers
        .as_array_mut()
        .unwrap()
        .push(answer("reason", json!({ "text": "slow" })));
    let body = submit(&app, &form, json!({ "answers": answers })).await;
    assert_eq!(refusal(&body)[0].0, "ANSWER_OFF_PATH");

    // A passive sees the details section; an employee is disqualified there.
    let passive = |employee: bool| {
        json!([
            answer("nps", json!({ "number": 8 })),
            answer("plan", json!({ "choices": ["enterprise"] })),
            answer("features", json!({ "choices": ["speed"] })),
            answer("service", json!({ "number": 4 })),
            answer("age", json!({ "number": 30 })),
            answer("employee", json!({ "bool": employee }))
        ])
    };
    let body = submit(&app, &form, json!({ "answers": passive(false) })).await;
    let done = result(&body, "submitResponse");
    assert_eq!(done["response"]["status"], "COMPLETED");
    assert_eq!(done["response"]["totalScore"], 5.0, "enterprise 3 + speed 2");
    assert_eq!(done["response"]["progress"]["finish"], "COMPLETE");
    assert!(done["response"]["resumeToken"].is_null());
    let body = submit(&app, &form, json!({ "answers": passive(true) })).await;
    let done = result(&body, "submitResponse");
    assert_eq!(done["response"]["status"], "DISQUALIFIED");
    assert!(done["response"]["completedAt"].is_string());

    // The detractor with everything required.
    let mut answers = detractor.clone();
    let list = answers.as_array_mut().unwrap();
    list.push(answer("reason", json!({ "text": "دیر رسید" })));
    list.push(answer("email", json!({ "text": "a@b.co" })));
    let body = submit(&app, &form, json!({ "answers": answers })).await;
    assert_eq!(result(&body, "submitResponse")["response"]["status"], "COMPLETED");
    assert_eq!(
        count_rows(&app, "SELECT COUNT(*) FROM responses WHERE status = 'COMPLETED'").await,
        2
    );
    assert_eq!(
        count_rows(&app, "SELECT COUNT(*) FROM answers WHERE completed_at IS NOT NULL").await,
        6 + 5,
        "completed answers carry the completion time (disqualified ones do not)"
    );
}

#[tokio::test]
async fn a_partial_response_resumes_on_another_device_and_completes() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    let body = start(
        &app,
        &form,
        json!({
            "channel": "IN_APP", "locale": "fa", "deviceId": "phone-1",
            "answers": [answer("nps", json!({ "number": 5 })), answer("plan", json!({ "choices": ["gold"] }))],
            "hidden": [{ "key": "order_id", "value": "A-1" }]
        }),
    )
    .await;
    let started = result(&body, "startResponse");
    let response = &started["response"];
    assert_eq!(response["status"], "IN_PROGRESS");
    assert_eq!(
        started["rejected"],
        json!([{ "key": "plan", "path": "input.answers[1].value.choices[0]", "code": "INVALID_OPTION",
                 "message": "\"gold\" is not an option of `plan`" }])
    );
    let keys = |r: &Value| -> Vec<String> {
        r["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["key"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(keys(response), ["nps", "order_id"]);
    assert_eq!(
        response["progress"]["missingKeys"],
        json!(["reason", "plan", "service", "email"])
    );
    let token = response["resumeToken"].as_str().unwrap().to_owned();

    // Another device picks it up with the token.
    let query = "query($token: String!) { resumeResponse(resumeToken: $token) { id status answers { key number } } }";
    let resumed = public(&app, query, json!({ "token": token })).await;
    assert_eq!(resumed["data"]["resumeResponse"]["id"], response["id"], "{resumed}");
    assert_eq!(resumed["data"]["resumeResponse"]["answers"][0]["number"], 5.0);

    // The respondent changes their mind: now a promoter. An answer off the path is kept while
    // the response is partial (the path may change again).
    let body = proceed(
        &app,
        "saveResponse",
        json!({ "resumeToken": token, "answers": [
            answer("nps", json!({ "number": 10 })), answer("age", json!({ "number": 40 })),
            answer("plan", json!({ "choices": ["pro"] })), answer("service", json!({ "number": 5 }))
        ] }),
    )
    .await;
    let saved = result(&body, "saveResponse");
    assert_eq!(saved["rejected"], json!([]));
    assert_eq!(saved["response"]["progress"]["offPathKeys"], json!(["age"]));
    assert_eq!(saved["response"]["progress"]["missingKeys"], json!([]));
    assert_eq!(keys(&saved["response"]), ["age", "nps", "order_id", "plan", "service"]);

    // Withdraw and re-answer; an invalid answer is not kept, the valid ones are.
    let body = proceed(
        &app,
        "saveResponse",
        json!({ "resumeToken": token, "clear": ["age"],
                "answers": [answer("features", json!({ "choices": ["support"] })), answer("visit", json!({ "date": "2019-01-01" }))] }),
    )
    .await;
    let saved = result(&body, "saveResponse");
    assert_eq!(saved["rejected"][0]["code"], "OUT_OF_RANGE");
    assert_eq!(
        keys(&saved["response"]),
        ["features", "nps", "order_id", "plan", "service"]
    );
    let body = proceed(
        &app,
        "saveResponse",
        json!({ "resumeToken": token, "answers": [answer("age", json!({ "number": 41 }))] }),
    )
    .await;
    result(&body, "saveResponse");

    // Completion drops the off-path answer and lists it.
    let body = proceed(&app, "completeResponse", json!({ "resumeToken": token })).await;
    let done = result(&body, "completeResponse");
    assert_eq!(done["droppedKeys"], json!(["age"]));
    assert_eq!(done["response"]["status"], "COMPLETED");
    assert!(done["response"]["resumeToken"].is_null());
    assert!(
        done["response"]["timeToCompleteSeconds"]
            .as_i64()
            .is_some_and(|s| s >= 0)
    );
    assert_eq!(
        keys(&done["response"]),
        ["features", "nps", "order_id", "plan", "service"]
    );
    let staff = staff_response(&app, &owner.access_token, &done["response"]["id"]).await;
    assert_eq!(
        (staff["channel"].as_str(), staff["deviceId"].as_str()),
        (Some("IN_APP"), Some("phone-1"))
    );
    assert_eq!(
        count_rows(&app, "SELECT COUNT(*) FROM answers WHERE question_key = 'age'").await,
        0
    );

    // A finished response takes nothing more; a bad token is refused.
    let body = proceed(
        &app,
        "saveResponse",
        json!({ "resumeToken": token, "answers": [answer("age", json!({ "number": 41 }))] }),
    )
    .await;
    assert_eq!(error_code(&body), "RESPONSE_FINISHED", "{body}");
    let body = proceed(&app, "completeResponse", json!({ "resumeToken": "rt_forged" })).await;
    assert_eq!(error_code(&body), "INVALID_RESUME_TOKEN", "{body}");

    // Completing without the required answers is refused and leaves the response as it was.
    let body = start(
        &app,
        &form,
        json!({ "answers": [answer("nps", json!({ "number": 3 }))] }),
    )
    .await;
    let token = result(&body, "startResponse")["response"]["resumeToken"].clone();
    let body = proceed(&app, "completeResponse", json!({ "resumeToken": token })).await;
    let missing: Vec<String> = refusal(&body).into_iter().map(|(_, _, key)| key).collect();
    assert_eq!(missing, ["reason", "plan", "service", "email"]);
    let resumed = public(&app, query, json!({ "token": token })).await;
    assert_eq!(resumed["data"]["resumeResponse"]["status"], "IN_PROGRESS");
}

#[tokio::test]
async fn retries_with_a_key_write_once_and_a_reused_key_is_refused() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    let input = json!({ "idempotencyKey": "order-1-feedback", "answers": promoter() });
    let first = submit(&app, &form, input.clone()).await;
    let again = submit(&app, &form, input.clone()).await;
    let (first, again) = (result(&first, "submitResponse"), result(&again, "submitResponse"));
    assert_eq!(first["response"]["id"], again["response"]["id"]);
    assert_eq!(
        (first["replayed"].as_bool(), again["replayed"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(count_rows(&app, "SELECT COUNT(*) FROM responses").await, 1);

    let mut other = input.clone();
    other["answers"][0] = answer("nps", json!({ "number": 9 }));
    let body = submit(&app, &form, other).await;
    assert_eq!(error_code(&body), "IDEMPOTENCY_KEY_REUSED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.idempotencyKey");

    // A refused write does not use up its key.
    let body = submit(&app, &form, json!({ "idempotencyKey": "k-2", "answers": [] })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let body = submit(&app, &form, json!({ "idempotencyKey": "k-2", "answers": promoter() })).await;
    assert_eq!(result(&body, "submitResponse")["replayed"], false);

    // Saves and completions too.
    let body = start(&app, &form, json!({ "idempotencyKey": "s-1" })).await;
    let token = result(&body, "startResponse")["response"]["resumeToken"].clone();
    let again = start(&app, &form, json!({ "idempotencyKey": "s-1" })).await;
    assert_eq!(result(&again, "startResponse")["response"]["resumeToken"], token);
    let save = json!({ "resumeToken": token, "idempotencyKey": "save-1", "answers": promoter() });
    for replayed in [false, true] {
        let body = proceed(&app, "saveResponse", save.clone()).await;
        assert_eq!(result(&body, "saveResponse")["replayed"], replayed, "{body}");
    }
    let mut other = save.clone();
    other["answers"] = json!([answer("nps", json!({ "number": 1 }))]);
    let body = proceed(&app, "saveResponse", other).await;
    assert_eq!(error_code(&body), "IDEMPOTENCY_KEY_REUSED");
    let complete = json!({ "resumeToken": token, "idempotencyKey": "done-1" });
    for replayed in [false, true] {
        let body = proceed(&app, "completeResponse", complete.clone()).await;
        let done = result(&body, "completeResponse");
        assert_eq!(
            (done["replayed"].as_bool(), done["response"]["status"].as_str()),
            (Some(replayed), Some("COMPLETED"))
        );
    }
    assert_eq!(count_rows(&app, "SELECT COUNT(*) FROM responses").await, 3);

    // Keys are remembered for a retention period, then forgotten: the key is free again.
    let later = chrono::Utc::now() + chrono::Duration::days(idempotency::RETENTION_DAYS);
    let forgotten = idempotency::purge(app.db.conn(), later).await.unwrap();
    assert_eq!(forgotten, 5);
    let body = submit(&app, &form, input).await;
    assert_eq!(result(&body, "submitResponse")["replayed"], false);
    assert_eq!(count_rows(&app, "SELECT COUNT(*) FROM responses").await, 4);
}

#[tokio::test]
async fn fifty_concurrent_submissions_with_one_key_make_one_response() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    let input = json!({ "idempotencyKey": key(), "answers": promoter() });
    let bodies = join_all((0..50).map(|_| submit(&app, &form, input.clone()))).await;
    let ids: std::collections::HashSet<String> = bodies
        .iter()
        .map(|b| {
            result(b, "submitResponse")["response"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every retry names the same response");
    let fresh = bodies
        .iter()
        .filter(|b| b["data"]["submitResponse"]["replayed"] == false)
        .count();
    assert_eq!(fresh, 1);
    assert_eq!(count_rows(&app, "SELECT COUNT(*) FROM responses").await, 1);
    assert_eq!(count_rows(&app, "SELECT COUNT(*) FROM answers").await, 3);
}

#[tokio::test]
async fn a_quota_of_100_under_200_concurrent_submissions_accepts_exactly_100() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({ "responseQuota": 100 })).await;
    let bodies = join_all((0..200).map(|_| submit(&app, &form, json!({ "answers": promoter() })))).await;
    let accepted = bodies.iter().filter(|b| b["errors"].is_null()).count();
    let full = bodies
        .iter()
        .filter(|b| b["errors"][0]["extensions"]["code"] == "QUOTA_REACHED")
        .count();
    assert_eq!(
        (accepted, full),
        (100, 100),
        "{:?}",
        bodies.iter().find(|b| !b["errors"].is_null())
    );
    assert_eq!(
        count_rows(&app, "SELECT COUNT(*) FROM responses WHERE status = 'COMPLETED'").await,
        100
    );
    let body = start(&app, &form, json!({})).await;
    assert_eq!(error_code(&body), "QUOTA_REACHED");
    let query = "query($id: String!) { publicForm(publicId: $id) { acceptingResponses } }";
    let body = public(&app, query, json!({ "id": form.public_id })).await;
    assert_eq!(body["data"]["publicForm"]["acceptingResponses"], false);

    // A larger quota lets responses in again, counted from what is stored.
    set_settings(&app, &owner, &form.form_id, json!({ "responseQuota": 101 })).await;
    let body = submit(&app, &form, json!({ "answers": promoter() })).await;
    result(&body, "submitResponse");
    let body = submit(&app, &form, json!({ "answers": promoter() })).await;
    assert_eq!(error_code(&body), "QUOTA_REACHED");
}

#[tokio::test]
async fn closed_forms_refuse_and_older_versions_are_answered_until_then() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = Some(owner.access_token.as_str());
    let form = publish_feedback(&app, &owner, json!({})).await;
    // A new version: the old one still takes responses while the form is open.
    let body = app
        .gql(
            token,
            "mutation($input: UpdateFormInput!) { updateForm(input: $input) { version { id } } }",
            json!({ "input": { "id": form.form_id, "title": [{ "locale": "fa", "text": "نسخه دو" }, { "locale": "en", "text": "Version two" }] } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app
        .gql(
            token,
            "mutation($id: ID!) { publishForm(input: { id: $id }) { version { id } } }",
            json!({ "id": form.form_id }),
        )
        .await;
    let v2 = body["data"]["publishForm"]["version"]["id"].clone();
    assert_ne!(v2, json!(form.version_id));
    let old = submit(
        &app,
        &form,
        json!({ "versionId": form.version_id, "answers": promoter() }),
    )
    .await;
    assert_eq!(
        result(&old, "submitResponse")["response"]["versionId"],
        json!(form.version_id)
    );
    let new = submit(&app, &form, json!({ "answers": promoter() })).await;
    assert_eq!(result(&new, "submitResponse")["response"]["versionId"], v2);
    let other = publish_document(&app, &owner, FEEDBACK_FORM, json!({})).await;
    let body = submit(
        &app,
        &form,
        json!({ "versionId": other.version_id, "answers": promoter() }),
    )
    .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.versionId");

    for (mutation, accepted) in [("closeForm", false), ("reopenForm", true)] {
        let body = app
            .gql(
                token,
                &format!("mutation($id: ID!) {{ {mutation}(input: {{ id: $id }}) {{ form {{ status }} }} }}"),
                json!({ "id": form.form_id }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        for version in [json!(form.version_id), v2.clone()] {
            let body = submit(&app, &form, json!({ "versionId": version, "answers": promoter() })).await;
            if accepted {
                result(&body, "submitResponse");
            } else {
                assert_eq!(error_code(&body), "FORM_CLOSED", "{body}");
            }
        }
    }
    // The closing date is read against the server's clock: an hour ahead it takes responses,
    // two hours later it does not.
    let accepting = || async {
        let body = crate::collect::public(
            &app,
            "query($id: String!) { publicForm(publicId: $id) { acceptingResponses } }",
            json!({ "id": form.public_id }),
        )
        .await;
        body["data"]["publicForm"]["acceptingResponses"].clone()
    };
    let soon = (app.clock.now() + chrono::Duration::hours(1)).to_rfc3339();
    set_settings(&app, &owner, &form.form_id, json!({ "closesAt": soon })).await;
    assert_eq!(accepting().await, json!(true));
    let now = app.clock.now();
    app.clock.set(now + chrono::Duration::hours(2));
    assert_eq!(accepting().await, json!(false));
    app.clock.set(now);
    let past = (app.clock.now() - chrono::Duration::minutes(1)).to_rfc3339();
    set_settings(&app, &owner, &form.form_id, json!({ "closesAt": past })).await;
    let body = start(&app, &form, json!({})).await;
    assert_eq!(error_code(&body), "FORM_CLOSED");
    let body = submit(
        &app,
        &form,
        json!({ "publicId": "no-such-form", "answers": promoter() }),
    )
    .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
}

#[tokio::test]
async fn a_submission_costs_the_same_few_statements_whatever_its_size() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    // The fewest of three runs (the test suite shares two cores; nothing here batches, but a
    // stray statement of another request on the same handle would count).
    let fewest = |answers: Value| {
        let (app, form) = (&app, &form);
        async move {
            let mut fewest = u64::MAX;
            for _ in 0..3 {
                let before = app.db.statements();
                let body = submit(
                    app,
                    form,
                    json!({ "answers": answers, "hidden": [{ "key": "order_id", "value": "A-1" }] }),
                )
                .await;
                result(&body, "submitResponse");
                fewest = fewest.min(app.db.statements() - before);
            }
            fewest
        }
    };
    let small = fewest(promoter()).await;
    let mut answers = promoter();
    let list = answers.as_array_mut().unwrap();
    list[0] = answer("nps", json!({ "number": 8 }));
    for item in [
        answer("features", json!({ "choices": ["speed", "price"] })),
        answer("age", json!({ "number": 30 })),
        answer("employee", json!({ "bool": false })),
        answer("email", json!({ "text": "a@b.co" })),
        answer("contact", json!({ "text": "09123456789" })),
        answer("visit", json!({ "date": "2026-03-01" })),
    ] {
        list.push(item);
    }
    let large = fewest(answers).await;
    // Form and key lookup first, the payload's answers and chosen options last (transactions'
    // BEGIN and COMMIT are not counted). In between, the writes:
    let expected = if app.db.backend() == sea_orm::DbBackend::Postgres {
        // one statement (claim, response, answers, chosen options, the pending-counts record,
        // the event when an endpoint wants it);
        5
    } else {
        // key claim, response, answers, chosen options, the pending-counts record, whether an
        // endpoint wants `response.completed`.
        10
    };
    assert_eq!((small, large), (expected, expected));
}
