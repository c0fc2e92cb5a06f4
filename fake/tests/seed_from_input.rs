//! `FakeFalConfig::seed_from_input`: each result answers its own input's seed, on the queue and the run server.

use fake_fal::{FakeFal, FakeFalConfig};
use serde_json::{Value, json};

const ID: &str = "acme/echo";

async fn post(url: &str, body: &Value) -> Value {
    reqwest::Client::new().post(url).json(body).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn results_carry_their_own_inputs_seed_only_when_asked() {
    let output = json!({"video": {"url": "https://example.com/v.mp4"}, "seed": 1});
    let fake = FakeFal::start(FakeFalConfig::new().output(ID, output.clone()).seed_from_input(true)).await;
    let client = reqwest::Client::new();
    let mut results = Vec::new();
    for seed in [11, 22, 33] {
        let submitted = post(&format!("{}/{ID}", fake.base_url()), &json!({"prompt": "p", "seed": seed})).await;
        results.push((seed, submitted["response_url"].as_str().unwrap().to_owned()));
    }
    // Read the results in reverse order: each must still be its own.
    for (seed, url) in results.into_iter().rev() {
        // With no polls configured, the first status request completes the request.
        let status: Value = client.get(format!("{url}/status")).send().await.unwrap().json().await.unwrap();
        assert_eq!(status["status"], "COMPLETED");
        let result: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(result["seed"], seed, "{result}");
        assert_eq!(result["video"], output["video"]);
    }
    let run = post(&format!("{}/{ID}", fake.run_base_url()), &json!({"seed": 44})).await;
    assert_eq!(run["seed"], 44);
    // No seed in the input: the configured output's seed.
    let run = post(&format!("{}/{ID}", fake.run_base_url()), &json!({"prompt": "p"})).await;
    assert_eq!(run["seed"], 1);

    let plain = FakeFal::start(FakeFalConfig::new().output(ID, output)).await;
    let run = post(&format!("{}/{ID}", plain.run_base_url()), &json!({"seed": 44})).await;
    assert_eq!(run["seed"], 1, "off by default");
}
