//! The example of README.md, verbatim from the line after this header (tests/readme_sync.rs keeps them equal):
//! a user's own fal client, tested against the fake.

use std::time::Duration;

use fake_fal::{CannedResponse, FakeFal, FakeFalConfig, Fault, Route};
use serde_json::{Value, json};

const ENDPOINT: &str = "fal-ai/ltx-2/text-to-video";

/// The code under test: a small fal queue client (submit, poll the status, read the result).
async fn generate(queue_url: &str, key: &str, prompt: &str) -> Result<String, String> {
    let http = reqwest::Client::new();
    let call = |request: reqwest::RequestBuilder| async move {
        let response = request.header("authorization", format!("Key {key}")).send().await.map_err(|e| e.to_string())?;
        let (status, text) = (response.status(), response.text().await.map_err(|e| e.to_string())?);
        if !status.is_success() {
            return Err(format!("HTTP {status}: {text}"));
        }
        serde_json::from_str::<Value>(&text).map_err(|e| e.to_string())
    };
    let submitted = call(http.post(format!("{queue_url}/{ENDPOINT}")).json(&json!({"prompt": prompt}))).await?;
    let status_url = submitted["status_url"].as_str().ok_or("no status_url")?;
    while call(http.get(status_url)).await?["status"] != "COMPLETED" {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let output = call(http.get(submitted["response_url"].as_str().ok_or("no response_url")?)).await?;
    Ok(output["video"]["url"].as_str().ok_or("no video url")?.to_owned())
}

#[tokio::test]
async fn generate_returns_the_video_url() {
    let fake = FakeFal::start(
        FakeFalConfig::new()
            .output(ENDPOINT, json!({"video": {"url": "https://example.com/v.mp4"}, "seed": 7}))
            .polls(2, 1), // two IN_QUEUE answers, one IN_PROGRESS, then COMPLETED
    )
    .await;

    let url = generate(&fake.base_url(), "test-key", "A lighthouse at dusk").await.unwrap();

    assert_eq!(url, "https://example.com/v.mp4");
    let requests = fake.requests();
    assert_eq!(requests[0].route, Some(Route::Submit));
    assert_eq!(requests[0].header("authorization"), Some("Key test-key"));
    assert_eq!(requests[0].json().unwrap()["prompt"], "A lighthouse at dusk");
    let polls = requests.iter().filter(|r| r.route == Some(Route::Status)).count();
    assert_eq!(polls, 4);
}

#[tokio::test]
async fn generate_reports_fal_errors() {
    let fake = FakeFal::start(
        FakeFalConfig::new()
            .output(ENDPOINT, json!({}))
            .result_error(ENDPOINT, CannedResponse::json(500, &json!({"detail": "runner crashed"}))),
    )
    .await;
    let error = generate(&fake.base_url(), "k", "p").await.unwrap_err();
    assert!(error.contains("500") && error.contains("runner crashed"), "{error}");

    // A scripted fault for the next submit only: fal's ingress answers 503, nothing is queued.
    fake.push_fault(Route::Submit, Fault::ingress(503));
    let error = generate(&fake.base_url(), "k", "p").await.unwrap_err();
    assert!(error.contains("503"), "{error}");
    assert_eq!(fake.submissions(ENDPOINT), 1, "only the first call's submit was queued");
}

#[tokio::test]
async fn generate_waits_for_a_slow_model() {
    let fake = FakeFal::start(
        FakeFalConfig::new()
            .output(ENDPOINT, json!({"video": {"url": "https://example.com/v.mp4"}}))
            .processing_time(ENDPOINT, Duration::from_millis(200)), // IN_PROGRESS for 200 ms after the submit
    )
    .await;
    assert!(generate(&fake.base_url(), "k", "p").await.is_ok());
    let polls = fake.requests().iter().filter(|r| r.route == Some(Route::Status)).count();
    assert!(polls > 1, "the client polled until the model was done ({polls} polls)");
}
