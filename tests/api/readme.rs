//! The README's first session, run as written: its shell block, against a server of the test's
//! own, every answer checked. If the README drifts from the API, this fails.
use serde_json::Value;

use crate::helpers::spawn_app;

/// The `sh` block under "A first session with curl".
fn session() -> String {
    let readme = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## A first session with curl")
        .nth(1)
        .expect("the README has a first session");
    let block = section.split("```sh\n").nth(1).expect("a shell block");
    block.split("\n```").next().unwrap().to_owned()
}

#[tokio::test]
async fn the_readme_session_runs_as_written() {
    let app = spawn_app().await;
    let script = session();
    assert!(
        script.contains("API=localhost:8000\n"),
        "the session names its server first"
    );
    // One answer per line: every curl of the session, as written, with a newline after it.
    let script = format!(
        "set -eu -o pipefail\ncurl() {{ command curl \"$@\"; echo; }}\n{}",
        script.replacen("API=localhost:8000", &format!("API={}", app.addr), 1)
    );
    // Run beside the server, which this test's runtime keeps serving meanwhile.
    let output =
        tokio::task::spawn_blocking(move || std::process::Command::new("bash").arg("-c").arg(&script).output())
            .await
            .unwrap()
            .expect("bash and curl are installed (CI installs them)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the session failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Vec<Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    for answer in &answers {
        assert!(answer["errors"].is_null(), "a step of the session failed: {answer}");
    }
    let find = |pointer: &str| {
        answers
            .iter()
            .find_map(|a| a.pointer(pointer).filter(|v| !v.is_null()).cloned())
            .unwrap_or_else(|| panic!("no answer has {pointer}: {answers:#?}"))
    };
    assert_eq!(find("/data/me/role"), "OWNER");
    assert_eq!(find("/data/publishForm/form/status"), "PUBLISHED");
    assert_eq!(find("/data/publicForm/sections/0/questions/0/key"), "nps");
    assert_eq!(find("/data/submitResponse/response/status"), "COMPLETED");
    assert_eq!(find("/data/formReport/responses/completed"), 1);
    assert_eq!(find("/data/formReport/nps/score"), 100.0);
    // The partner's call, with the API key the session created.
    assert_eq!(find("/data/forms/totalCount"), 1);
    assert_eq!(find("/data/forms/nodes/0/report/nps/score"), 100.0);
}
