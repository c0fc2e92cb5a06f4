//! The library API a user's tests start from: `try_start`, `FakeFalConfig::from_schemas_dir`, scripted delays
//! (`processing_time`, `latency`) and the recorded requests' routes.

use std::time::{Duration, Instant};

use fake_fal::schemas::Schemas;
use fake_fal::{FakeFal, FakeFalConfig, Route};
use serde_json::{Value, json};

const SCHEMAS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas");
const ENDPOINT: &str = "fal-ai/ltx-2/text-to-video";

async fn post(url: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new().post(url).json(body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn get(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn from_schemas_dir_serves_every_endpoint_with_its_example_and_validates() {
    let schemas = Schemas::load(SCHEMAS).unwrap();
    let fake = FakeFal::try_start(FakeFalConfig::from_schemas_dir(SCHEMAS).unwrap()).await.unwrap();
    let served = fake.outputs();
    assert_eq!(served.keys().map(String::as_str).collect::<Vec<_>>(), schemas.endpoint_ids().collect::<Vec<_>>());
    let expected = schemas.example_output(ENDPOINT).unwrap();
    assert!(expected["video"]["url"].is_string(), "{expected}");

    let (status, output) = post(&format!("{}/{ENDPOINT}", fake.run_base_url()), &json!({"prompt": "p"})).await;
    assert_eq!((status, &output), (200, &expected));
    let (status, error) = post(&format!("{}/{ENDPOINT}", fake.run_base_url()), &json!({"prompt": 5})).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["detail"][0]["loc"], json!(["body", "prompt"]));
    let (status, _) = post(&format!("{}/acme/unknown", fake.run_base_url()), &json!({})).await;
    assert_eq!(status, 404);

    let error = FakeFalConfig::from_schemas_dir("/no/such/dir").unwrap_err().to_string();
    assert!(error.contains("/no/such/dir"), "{error}");
}

#[tokio::test]
async fn processing_time_holds_a_request_in_progress() {
    const SLOW: &str = "acme/slow";
    const STUCK: &str = "acme/stuck";
    let time = Duration::from_millis(300);
    let fake = FakeFal::start(
        FakeFalConfig::new()
            .output(SLOW, json!({"ok": 1}))
            .output(STUCK, json!({"ok": 2}))
            .polls(0, 1)
            .processing_time(SLOW, time)
            .processing_time(STUCK, Duration::from_secs(3600)),
    )
    .await;

    // An endpoint that takes an hour: once its polls are used up it stays IN_PROGRESS, its result is not ready.
    let (_, stuck) = post(&format!("{}/{STUCK}", fake.base_url()), &json!({})).await;
    let url = stuck["response_url"].as_str().unwrap().to_owned();
    for _ in 0..4 {
        let (status, body) = get(&format!("{url}/status?logs=1")).await;
        assert_eq!((status, body["status"].as_str()), (202, Some("IN_PROGRESS")), "{body}");
        assert_eq!(body["logs"].as_array().map(Vec::len), Some(1), "{body}");
    }
    assert_eq!(get(&url).await.0, 400, "result before completion");
    // A cancel still completes it at once.
    let cancel = reqwest::Client::new().put(format!("{url}/cancel")).send().await.unwrap();
    assert_eq!(cancel.status(), 202);
    assert_eq!(get(&format!("{url}/status")).await.1["status"], "COMPLETED");

    // 300 ms: polling, COMPLETED comes no earlier than that after the submit.
    let started = Instant::now();
    let (_, slow) = post(&format!("{}/{SLOW}", fake.base_url()), &json!({})).await;
    let url = slow["response_url"].as_str().unwrap().to_owned();
    loop {
        let (_, body) = get(&format!("{url}/status")).await;
        if body["status"] == "COMPLETED" {
            break;
        }
        assert_eq!(body["status"], "IN_PROGRESS");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(started.elapsed() >= time, "completed after {:?}", started.elapsed());
    assert_eq!(get(&url).await, (200, json!({"ok": 1})));

    // The status stream: IN_PROGRESS (its poll), then it waits for the processing time, then COMPLETED.
    let started = Instant::now();
    let (_, slow) = post(&format!("{}/{SLOW}", fake.base_url()), &json!({})).await;
    let url = slow["response_url"].as_str().unwrap().to_owned();
    let text = reqwest::get(format!("{url}/status/stream")).await.unwrap().text().await.unwrap();
    assert!(started.elapsed() >= time, "stream closed after {:?}", started.elapsed());
    let states: Vec<String> = text
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(|data| serde_json::from_str::<Value>(data).unwrap()["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states.first().map(String::as_str), Some("IN_PROGRESS"), "{states:?}");
    assert_eq!(states.last().map(String::as_str), Some("COMPLETED"), "{states:?}");

    // A run waits for it too.
    let started = Instant::now();
    let (status, output) = post(&format!("{}/{SLOW}", fake.run_base_url()), &json!({})).await;
    assert_eq!((status, output), (200, json!({"ok": 1})));
    assert!(started.elapsed() >= time, "run answered after {:?}", started.elapsed());
}

#[tokio::test]
async fn latency_delays_every_answer_of_its_route() {
    const ID: &str = "acme/app";
    let delay = Duration::from_millis(200);
    let fake = FakeFal::start(FakeFalConfig::new().output(ID, json!({})).latency(Route::Status, delay)).await;
    let (_, submitted) = post(&format!("{}/{ID}", fake.base_url()), &json!({})).await;
    for _ in 0..2 {
        let started = Instant::now();
        let (status, body) = get(submitted["status_url"].as_str().unwrap()).await;
        assert_eq!(status, 200, "{body}");
        assert!(started.elapsed() >= delay, "status answered after {:?}", started.elapsed());
    }
    let routes: Vec<Option<Route>> = fake.requests().iter().map(|r| r.route).collect();
    assert_eq!(routes, [Some(Route::Submit), Some(Route::Status), Some(Route::Status)]);
}

#[tokio::test]
async fn recorded_requests_name_their_route() {
    const ID: &str = "acme/app";
    let fake = FakeFal::start(FakeFalConfig::new().output(ID, json!({"x": 1}))).await;
    let (_, submitted) =
        post(&format!("{}/{ID}?fal_webhook=http%3A%2F%2F127.0.0.1%3A9%2Fhook", fake.base_url()), &json!({"a": 1}))
            .await;
    let url = submitted["response_url"].as_str().unwrap();
    let _ = get(&format!("{url}/status")).await;
    let _ = get(url).await;
    let _ = post(&format!("{}/{ID}", fake.run_base_url()), &json!({})).await;
    let _ = get(&format!("{}/nothing/here", fake.base_url())).await;
    let requests = fake.requests();
    let routes: Vec<Option<Route>> = requests.iter().map(|r| r.route).collect();
    assert_eq!(routes, [Some(Route::Submit), Some(Route::Status), Some(Route::Result), Some(Route::Run), None]);
    assert_eq!(requests[0].query("fal_webhook").as_deref(), Some("http://127.0.0.1:9/hook"));
    assert_eq!(requests[0].json(), Some(json!({"a": 1})));
    assert_eq!(requests[0].path(), format!("/{ID}"));
}
