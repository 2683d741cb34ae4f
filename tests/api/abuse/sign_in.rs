//! Password guessing stays bounded (per address, per email and address, a slow-down per email)
//! while the owner, from an address that has not been failing, still signs in: nobody can
//! lock an account out by guessing its password wrong.
use std::time::Duration;

use serde_json::json;

use super::{Answer, post_raw};
use crate::helpers::{PASSWORD, TestApp, spawn_app_with};

const SIGN_IN: &str = "mutation($input: SignInInput!) { signIn(input: $input) { role } }";
const WRONG: &str = "not the password at all";

async fn sign_in(app: &TestApp, email: &str, password: &str, address: &str) -> Answer {
    let body = json!({ "query": SIGN_IN, "variables": { "input": { "email": email, "password": password } } });
    post_raw(app, "/graphql", None, body.to_string(), &[("x-forwarded-for", address)]).await
}

fn outcome(answer: &Answer) -> &str {
    if answer.body["data"]["signIn"]["role"].is_string() {
        "SIGNED_IN"
    } else {
        answer.code()
    }
}

async fn app() -> TestApp {
    spawn_app_with(|c| {
        c.trusted_proxy_hops = 1;
        c.public_rate_limit_per_address = 0;
    })
    .await
}

#[tokio::test]
async fn an_address_guessing_one_account_is_stopped_and_the_owner_still_signs_in() {
    let app = app().await;
    let owner = app.sign_up().await;
    for _ in 0..5 {
        assert_eq!(
            outcome(&sign_in(&app, &owner.email, WRONG, "10.0.0.1").await),
            "UNAUTHENTICATED"
        );
    }
    let refused = sign_in(&app, &owner.email, PASSWORD, "10.0.0.1").await;
    assert_eq!(outcome(&refused), "RATE_LIMITED");
    assert!(
        refused.extensions()["retryAfter"]
            .as_u64()
            .is_some_and(|s| (1..=900).contains(&s))
    );
    // The owner, elsewhere, is not locked out.
    assert_eq!(
        outcome(&sign_in(&app, &owner.email, PASSWORD, "10.0.0.2").await),
        "SIGNED_IN"
    );
    // The next window forgives the guesser.
    app.clock.advance(chrono::Duration::minutes(15));
    assert_eq!(
        outcome(&sign_in(&app, &owner.email, PASSWORD, "10.0.0.1").await),
        "SIGNED_IN"
    );
}

#[tokio::test]
async fn a_crowd_of_addresses_gets_one_guess_each_and_the_owner_still_signs_in() {
    let app = app().await;
    let owner = app.sign_up().await;
    // Twenty addresses guess once each: the account is now under attack.
    for i in 0..20 {
        let answer = sign_in(&app, &owner.email, WRONG, &format!("10.0.1.{i}")).await;
        assert_eq!(outcome(&answer), "UNAUTHENTICATED");
    }
    // An address that already failed gets no second guess, not even the right one…
    let again = sign_in(&app, &owner.email, PASSWORD, "10.0.1.3").await;
    assert_eq!(outcome(&again), "RATE_LIMITED");
    assert!(
        again.elapsed < Duration::from_millis(900),
        "refusals are not slowed: {:?}",
        again.elapsed
    );
    // …a new address gets one guess, answered a second later…
    let guess = sign_in(&app, &owner.email, WRONG, "10.0.2.1").await;
    assert_eq!(outcome(&guess), "UNAUTHENTICATED");
    assert!(guess.elapsed >= Duration::from_secs(1), "{:?}", guess.elapsed);
    assert_eq!(
        outcome(&sign_in(&app, &owner.email, WRONG, "10.0.2.1").await),
        "RATE_LIMITED"
    );
    // …and the owner, from an address that has not been failing, signs in.
    let owner_in = sign_in(&app, &owner.email, PASSWORD, "10.0.3.1").await;
    assert_eq!(outcome(&owner_in), "SIGNED_IN", "{}", owner_in.body);
    // Other accounts are untouched.
    let other = app.sign_up().await;
    let answer = sign_in(&app, &other.email, PASSWORD, "10.0.1.3").await;
    assert_eq!(outcome(&answer), "SIGNED_IN");
    assert!(answer.elapsed < Duration::from_millis(900));
}

#[tokio::test]
async fn an_address_guessing_many_accounts_is_stopped() {
    let app = app().await;
    let owner = app.sign_up().await;
    for i in 0..50 {
        let email = format!("nobody-{i}@example.com");
        assert_eq!(
            outcome(&sign_in(&app, &email, WRONG, "10.0.4.1").await),
            "UNAUTHENTICATED"
        );
    }
    assert_eq!(
        outcome(&sign_in(&app, &owner.email, PASSWORD, "10.0.4.1").await),
        "RATE_LIMITED"
    );
    assert_eq!(
        outcome(&sign_in(&app, &owner.email, PASSWORD, "10.0.4.2").await),
        "SIGNED_IN"
    );
}
