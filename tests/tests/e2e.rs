//! End to end with the generated types: for one endpoint of each family,
//! `subscribe` goes through the local fake fal server (submit → IN_QUEUE →
//! IN_PROGRESS → COMPLETED → result) and returns the typed output; an
//! out-of-range input is rejected before the server sees anything.

use std::time::Duration;

use fake_fal::{FakeFal, RecordedRequest};
use fal_ltx::ltx_2::extend_video::Ltx2ExtendVideoInput;
use fal_ltx::ltx_2_3::text_to_video::{AspectRatio, Duration as Seconds, Ltx23TextToVideoInput};
use fal_ltx::ltx_2_3_22b::distilled_text_to_video_lora::Ltx2322bDistilledTextToVideoLoraInput;
use fal_ltx::ltxv_13b_098_distilled::extend::Ltxv13b098DistilledExtendInput;
use fal_ltx::types::{ExtendVideoConditioningInput, LoRAInput};
use fal_ltx::validation::Constraint;
use fal_ltx::{Client, Endpoint, EndpointInput, Error, SubscribeMode};
use integration_tests::support;
use integration_tests::support::fake_config;
use serde_json::Value;

/// The output the fake returns: built from the schema's examples, which
/// must include the video.
fn output_from_schema_examples(endpoint_id: &str) -> Value {
    let output = support::output_from_schema_examples(endpoint_id);
    assert!(output.get("video").is_some(), "{endpoint_id}: the schema gives no example video");
    output
}

async fn fake_for<E: Endpoint>() -> (FakeFal, Client, Value) {
    let output = output_from_schema_examples(E::ID);
    let fake = FakeFal::start(fake_config().output(E::ID, output.clone()).polls(2, 1)).await;
    let client = Client::builder()
        .key("test-key")
        .queue_base_url(fake.base_url())
        .run_base_url(fake.run_base_url())
        .poll_interval(Duration::from_millis(5))
        .subscribe_mode(SubscribeMode::Polling)
        .build()
        .expect("client");
    (fake, client, output)
}

/// Submits `input`, checks the typed output equals what the fake returned
/// and the exchange followed fal's queue protocol.
async fn subscribe_round_trip<I>(input: I)
where
    I: EndpointInput + serde::Serialize,
    <I::Endpoint as Endpoint>::Output: serde::Serialize,
{
    let id = <I::Endpoint as Endpoint>::ID;
    let (fake, client, expected) = fake_for::<I::Endpoint>().await;
    let output = client.subscribe(&input).await.unwrap_or_else(|e| panic!("{id}: {e}"));
    let got = serde_json::to_value(&output).expect("serialize output");
    assert!(fal_ltx::validation::json_equal(&got, &expected), "{id}: output {got} != {expected}");

    let requests: Vec<RecordedRequest> = fake.requests();
    let submit = &requests[0];
    assert_eq!((submit.method.as_str(), submit.path()), ("POST", format!("/{id}").as_str()), "{id}: submit");
    assert_eq!(submit.json(), Some(serde_json::to_value(&input).expect("input json")), "{id}: body sent");
    assert_eq!(submit.header("authorization"), Some("Key test-key"));
    let polls = requests.iter().filter(|r| r.path().ends_with("/status")).count();
    assert_eq!(polls, 4, "{id}: 2 IN_QUEUE + 1 IN_PROGRESS + 1 COMPLETED polls");
    let last = requests.last().expect("a result call");
    assert_eq!(last.method, "GET");
    let app: Vec<&str> = id.split('/').take(2).collect();
    assert!(last.path().starts_with(&format!("/{}/requests/", app.join("/"))), "{id}: result at {}", last.path());
}

#[tokio::test]
async fn ltx_2_family_subscribe() {
    let input = Ltx2ExtendVideoInput::new("https://example.com/in.mp4").with_prompt("keep walking");
    subscribe_round_trip(input).await;
}

#[tokio::test]
async fn ltx_2_3_family_subscribe() {
    let input = Ltx23TextToVideoInput::new("A lighthouse at dusk")
        .with_duration(Seconds::Seconds8)
        .with_aspect_ratio(AspectRatio::Ratio9x16);
    subscribe_round_trip(input).await;
}

#[tokio::test]
async fn ltx_2_3_22b_family_subscribe() {
    let input = Ltx2322bDistilledTextToVideoLoraInput::new("a cowboy at noon", vec![LoRAInput::new("owner/lora")])
        .with_num_frames(241);
    subscribe_round_trip(input).await;
}

#[tokio::test]
async fn ltxv_13b_098_distilled_family_subscribe() {
    let video = ExtendVideoConditioningInput::new("https://example.com/in.mp4").with_start_frame_num(16);
    subscribe_round_trip(Ltxv13b098DistilledExtendInput::new("Woman walking", video)).await;
}

#[tokio::test]
async fn an_out_of_range_input_is_rejected_before_any_request() {
    use fal_ltx::ltx_2_3_22b::distilled_text_to_video_lora::Ltx2322bDistilledTextToVideoLora;
    let (fake, client, _) = fake_for::<Ltx2322bDistilledTextToVideoLora>().await;
    let input = Ltx2322bDistilledTextToVideoLoraInput::new("a cowboy", vec![]).with_num_frames(500).with_fps(0.5);

    for result in [
        client.subscribe(&input).await.map(drop),
        client.submit(&input).await.map(drop),
        client.run(&input).await.map(drop),
    ] {
        let Err(Error::Validation(error)) = result else { panic!("expected a validation error, got {result:?}") };
        let paths: Vec<(&str, &Constraint)> =
            error.violations.iter().map(|v| (v.path.as_str(), &v.constraint)).collect();
        assert_eq!(paths, [("/num_frames", &Constraint::Maximum(481.0)), ("/fps", &Constraint::Minimum(1.0))]);
    }
    assert!(fake.requests().is_empty(), "the server saw {:?}", fake.requests());
}
