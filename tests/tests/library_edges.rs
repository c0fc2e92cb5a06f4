//! The library's everyday edges (issue 13, item 4): `FromStr` on generated
//! enums, base URLs from the environment, one-level error messages with the
//! chain behind `source()`, per-request headers, untyped JSON calls and the
//! raw output beside the typed one, files given as paths or bytes.

use std::time::Duration as StdDuration;

use fake_fal::{FakeFal, Fault, Route};
use fal_ltx::error::ParseEnumError;
use fal_ltx::ltx_2_3::text_to_video::{
    AspectRatio, Duration as Seconds, Fps, Ltx23TextToVideo, Ltx23TextToVideoInput, Resolution,
};
use fal_ltx::{Client, Endpoint, Error, RequestOptions, SubscribeMode, SubscribeOptions};
use integration_tests::support;
use serde_json::json;

/// Every listed value parses back from its `Display` text (the wire value).
fn round_trips<T>(all: &[T])
where
    T: std::str::FromStr<Err = ParseEnumError> + std::fmt::Display + PartialEq + std::fmt::Debug,
{
    for value in all {
        assert_eq!(&value.to_string().parse::<T>().expect("a listed value"), value);
    }
}

#[test]
fn generated_enums_parse_their_wire_values() {
    round_trips(Seconds::ALL);
    round_trips(Fps::ALL);
    round_trips(Resolution::ALL);
    round_trips(AspectRatio::ALL);
    assert_eq!("16:9".parse::<AspectRatio>(), Ok(AspectRatio::Ratio16x9));
    assert_eq!("8".parse::<Seconds>(), Ok(Seconds::Seconds8));
}

#[test]
fn an_unknown_enum_value_lists_the_accepted_ones() {
    let error = "720p".parse::<Resolution>().unwrap_err();
    assert_eq!(error.to_string(), "unknown Resolution `720p`: expected one of 1080p, 1440p, 2160p");
    assert_eq!(error.type_name(), "Resolution");
    assert_eq!(error.given(), "720p");
    // An integer enum takes the number as written, not a variant name or a padded number.
    let error = "Seconds8".parse::<Seconds>().unwrap_err();
    assert_eq!(error.accepted(), ["6", "8", "10"]);
    assert!(" 8".parse::<Seconds>().is_err());
}

/// A lookup over `pairs`, standing in for the process environment.
fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// The fake fal server with the schema's example output for text-to-video,
/// answering at once.
async fn fake() -> FakeFal {
    let output = support::output_from_schema_examples(Ltx23TextToVideo::ID);
    FakeFal::start(support::fake_config().output(Ltx23TextToVideo::ID, output).polls(0, 0)).await
}

#[tokio::test]
async fn the_environment_gives_the_key_and_every_base_url() {
    let fake = fake().await;
    let (queue, run, rest) = (fake.base_url(), format!(" {} ", fake.run_base_url()), fake.rest_base_url());
    let lookup =
        env(&[("FAL_KEY", "env-key"), ("FAL_QUEUE_URL", &queue), ("FAL_RUN_URL", &run), ("FAL_REST_URL", &rest)]);
    let client = Client::builder().env_with(lookup).poll_interval(StdDuration::from_millis(5)).build().expect("client");
    let input = Ltx23TextToVideoInput::new("a lighthouse");
    client.subscribe(&input).await.expect("subscribe through FAL_QUEUE_URL");
    client.run(&input).await.expect("run through FAL_RUN_URL");
    client.upload(b"bytes".to_vec(), "text/plain", "a.txt").await.expect("upload through FAL_REST_URL");
    let requests = fake.requests();
    // Every call but the upload's PUT to the signed storage URL carries the key.
    let keyed = requests.iter().filter(|r| r.method != "PUT");
    assert!(keyed.clone().count() >= 4 && keyed.clone().all(|r| r.header("authorization") == Some("Key env-key")));
    assert_eq!(fake.submissions(Ltx23TextToVideo::ID), 1);
    assert_eq!(fake.runs(Ltx23TextToVideo::ID), 1);
    assert_eq!(fake.stored_files().len(), 1);
}

#[test]
fn empty_variables_are_unset_and_later_settings_win() {
    let lookup = env(&[("FAL_KEY", "k"), ("FAL_QUEUE_URL", "  "), ("FAL_RUN_URL", "ftp://bad")]);
    // The bad FAL_RUN_URL is replaced before it is checked; the empty queue URL is the default.
    let client = Client::builder().env_with(lookup).run_base_url("http://127.0.0.1:9").build().expect("client");
    let debug = format!("{client:?}");
    assert!(debug.contains("https://queue.fal.run"), "{debug}");
    assert!(debug.contains("http://127.0.0.1:9"), "{debug}");
}

#[test]
fn an_invalid_base_url_names_its_variable_and_hides_credentials() {
    let lookup = env(&[("FAL_KEY", "k"), ("FAL_REST_URL", "https://user:hunter2@rest.example/?token=t0k")]);
    let error = Client::builder().env_with(lookup).build().expect_err("credentials in the URL");
    let Error::InvalidBaseUrl { variable, url, .. } = &error else { panic!("{error:?}") };
    assert_eq!(*variable, Some("FAL_REST_URL"));
    let text = error.to_string();
    assert!(text.contains("FAL_REST_URL"), "{text}");
    for secret in ["hunter2", "t0k"] {
        assert!(!text.contains(secret) && !url.contains(secret), "{text}");
    }
    // Given in code: no variable named.
    let error = Client::builder().key("k").queue_base_url("ftp://x").build().expect_err("ftp");
    assert!(matches!(error, Error::InvalidBaseUrl { variable: None, .. }), "{error:?}");
}

/// The `Display` of `error` and of each of its causes.
fn chain(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    std::iter::successors(Some(error), |e| e.source()).map(ToString::to_string).collect()
}

#[tokio::test]
async fn display_is_one_level_and_the_report_has_the_chain() {
    let client = Client::builder().key("k").build().expect("client");
    // Validation: the violations are in the source, once.
    let error = client.subscribe(&Ltx23TextToVideoInput::new("")).await.expect_err("empty prompt");
    let levels = chain(&error);
    assert_eq!(levels.len(), 2, "{levels:?}");
    assert_eq!(levels[0], "invalid input, nothing was sent to fal (fix the input)");
    assert!(levels[1].contains("/prompt"), "{levels:?}");
    assert_eq!(error.report().to_string(), levels.join(": "));
    assert_eq!(format!("{:#}", error.report()), levels.join("\n  caused by: "));

    // A local file: the path and a hint, then the I/O error's text.
    let error = client.upload_file("/no/such/dir/cat.png").await.expect_err("missing file");
    let levels = chain(&error);
    assert!(levels[0].contains("/no/such/dir/cat.png") && levels[0].contains("check that the path"), "{levels:?}");
    assert!(!levels[0].contains(&levels[1]), "the cause is not repeated: {levels:?}");
    assert_eq!(error.report().to_string(), levels.join(": "));
}

/// A client of `fake`, polling every 5 ms.
fn client_of(fake: &FakeFal) -> Client {
    Client::builder()
        .key("k")
        .queue_base_url(fake.base_url())
        .run_base_url(fake.run_base_url())
        .poll_interval(StdDuration::from_millis(5))
        .subscribe_mode(SubscribeMode::Polling)
        .build()
        .expect("client")
}

#[tokio::test]
async fn extra_headers_go_with_submit_and_run_and_defaults_merge() {
    let fake = fake().await;
    let defaults = RequestOptions::new().header("X-Team", "video").header("X-Trace", "default");
    let client = Client::builder()
        .key("k")
        .queue_base_url(fake.base_url())
        .run_base_url(fake.run_base_url())
        .request_options(defaults)
        .build()
        .expect("client");
    let input = Ltx23TextToVideoInput::new("a lighthouse");
    let per_call = RequestOptions::new().header("x-trace", "call-7");
    let handle = client.submit_with(&input, &per_call).await.expect("submit");
    client.run_with(&input, &per_call).await.expect("run");
    handle.status(false).await.expect("status");
    let requests = fake.requests();
    for route in [Route::Submit, Route::Run] {
        let sent = requests.iter().find(|r| r.route == Some(route)).expect("sent");
        assert_eq!(sent.header("x-team"), Some("video"), "{route:?}");
        assert_eq!(sent.header("x-trace"), Some("call-7"), "{route:?}: the per-call value wins");
    }
    let status = requests.iter().find(|r| r.route == Some(Route::Status)).expect("status");
    assert_eq!(status.header("x-team"), None, "status calls carry no extra headers");
}

#[tokio::test]
async fn headers_the_client_owns_are_refused_before_sending() {
    let fake = fake().await;
    let client = client_of(&fake);
    let input = Ltx23TextToVideoInput::new("a lighthouse");
    for (name, value, hint) in [
        ("Authorization", "Key other", "ClientBuilder::key"),
        ("transfer-encoding", "chunked", "hop-by-hop"),
        ("Connection", "close", "hop-by-hop"),
        ("x-fal-queue-priority", "low", "RequestOptions::priority"),
        ("bad name", "x", "not a valid header name"),
        ("x-ok", "line\nbreak", "cannot be sent"),
    ] {
        let options = RequestOptions::new().header(name, value);
        let error = client.submit_with(&input, &options).await.expect_err(name);
        let Error::InvalidRequestOptions { reason } = &error else { panic!("{name}: {error:?}") };
        assert!(reason.contains(hint), "{name}: {reason}");
        assert!(client.run_json(Ltx23TextToVideo::ID, &json!({}), &options).await.is_err(), "{name}");
    }
    assert!(fake.requests().is_empty(), "nothing was sent");
    // Debug shows header names, never values (a proxy token stays out of logs).
    let debug = format!("{:?}", RequestOptions::new().header("x-proxy-token", "s3cret"));
    assert!(debug.contains("x-proxy-token") && !debug.contains("s3cret"), "{debug}");
}

#[tokio::test]
async fn json_calls_take_any_endpoint_id_and_return_the_raw_output() {
    let mut output = support::output_from_schema_examples(Ltx23TextToVideo::ID);
    output["added_at_fal_later"] = json!({"frames": 121});
    let fake = FakeFal::start(support::fake_config().output(Ltx23TextToVideo::ID, output.clone()).polls(1, 1)).await;
    let client = client_of(&fake);
    // A field the generated input type does not have goes through as is.
    let body = json!({"prompt": "a lighthouse", "not_in_the_schema": true});

    let handle = client.submit_json(Ltx23TextToVideo::ID, &body, &RequestOptions::new()).await.expect("submit");
    assert_eq!(handle.endpoint_id(), Ltx23TextToVideo::ID);
    assert_eq!(handle.saved().endpoint_id, Ltx23TextToVideo::ID);
    assert_eq!(handle.wait().await.expect("wait"), output);
    let again = client.request_json(Ltx23TextToVideo::ID, handle.request_id()).expect("handle");
    assert_eq!(again.result().await.expect("result"), output);

    let mut seen = 0;
    let subscribed = client
        .subscribe_json(Ltx23TextToVideo::ID, &body, &SubscribeOptions::new(), |_| seen += 1)
        .await
        .expect("subscribe");
    assert_eq!(subscribed, output);
    assert!(seen >= 2, "updates reached the callback");
    let ran = client.run_json(Ltx23TextToVideo::ID, &body, &RequestOptions::new()).await.expect("run");
    assert_eq!(ran.output, output);
    assert!(ran.request_id.is_some());

    let submits: Vec<_> = fake.requests().into_iter().filter(|r| r.route == Some(Route::Submit)).collect();
    assert_eq!(submits.len(), 2);
    assert!(submits.iter().all(|r| r.json() == Some(body.clone()) && r.path() == "/fal-ai/ltx-2.3/text-to-video"));

    // Beside a typed output: the raw JSON, with the field the type does not know.
    let typed = client.submit(&Ltx23TextToVideoInput::new("a lighthouse")).await.expect("typed submit");
    let raw = typed.untyped().wait().await.expect("raw");
    assert_eq!(raw["added_at_fal_later"]["frames"], 121);
    assert_eq!(typed.result_raw().await.expect("raw result"), raw);
    let decoded = typed.decode(&raw).expect("decodes as the typed output");
    assert_eq!(serde_json::to_value(&decoded).expect("json")["video"], raw["video"]);
    let bad = typed.decode(&json!({"video": 3})).expect_err("not an output");
    assert!(matches!(&bad, Error::Decode { request_id: Some(id), .. } if id == typed.request_id()), "{bad:?}");
}

#[tokio::test]
async fn json_calls_follow_the_typed_billing_rules() {
    let fake = fake().await;
    let client = client_of(&fake);
    // A reset after the submit was processed: fal may have queued it, so it is not sent again.
    fake.push_fault(Route::Submit, Fault::Drop);
    let body = json!({"prompt": "a lighthouse"});
    let error = client.submit_json(Ltx23TextToVideo::ID, &body, &RequestOptions::new()).await.expect_err("reset");
    assert!(!error.certainly_not_accepted(), "{error:?}");
    assert_eq!(fake.submissions(Ltx23TextToVideo::ID), 1, "never twice in the queue");
    // fal's ingress refusing it (no request id, nginx's page) is retried.
    fake.push_fault(Route::Submit, Fault::Respond { status: 503, headers: vec![], request_id: false });
    client.submit_json(Ltx23TextToVideo::ID, &body, &RequestOptions::new()).await.expect("retried after the 503");
    assert_eq!(fake.submissions(Ltx23TextToVideo::ID), 2);
    // A malformed endpoint id: nothing sent.
    let before = fake.requests().len();
    for bad in ["", "fal-ai", "fal-ai//x", "fal-ai/../admin", "fal-ai/x?y=1", "fal ai/x"] {
        let error = client.submit_json(bad, &body, &RequestOptions::new()).await.expect_err(bad);
        assert!(matches!(error, Error::InvalidRequestOptions { .. }), "{bad}: {error:?}");
    }
    assert_eq!(fake.requests().len(), before);
}

#[tokio::test]
async fn local_files_in_an_input_are_uploaded_once_and_urls_pass_through() {
    use fal_ltx::ltx_2_3_22b::image_to_video_lora::{Ltx2322bImageToVideoLora, Ltx2322bImageToVideoLoraInput};
    use fal_ltx::storage::UploadEvent;
    use fal_ltx::types::LoRAInput;

    let id = Ltx2322bImageToVideoLora::ID;
    let output = support::output_from_schema_examples(id);
    let fake = FakeFal::start(support::fake_config().output(id, output).polls(0, 0)).await;
    let client = Client::builder()
        .key("k")
        .queue_base_url(fake.base_url())
        .rest_base_url(fake.rest_base_url())
        .poll_interval(StdDuration::from_millis(5))
        .build()
        .expect("client");
    let dir = tempfile::tempdir().expect("tempdir");
    let image = dir.path().join("first-frame.png");
    std::fs::write(&image, b"not really a png").expect("write");
    let image = image.to_str().expect("utf-8 path").to_owned();
    let weights = dir.path().join("style.safetensors");
    std::fs::write(&weights, b"weights").expect("write");
    let loras = vec![
        LoRAInput::new(weights.to_str().expect("utf-8")),
        LoRAInput::new("owner/hub-lora"),
        LoRAInput::new("https://example.com/lora.safetensors"),
    ];
    let mut input = Ltx2322bImageToVideoLoraInput::new("a cat", image.clone(), loras).with_end_image_url(image.clone());

    // Not uploaded yet: refused, nothing sent.
    let error = client.subscribe(&input).await.expect_err("a local path");
    let Error::InvalidRequestOptions { reason } = &error else { panic!("{error:?}") };
    assert!(reason.contains("first-frame.png") && reason.contains("upload_files"), "{reason}");
    assert!(fake.requests().is_empty());

    let mut events = Vec::new();
    let uploaded = client
        .upload_files(&mut input, |event| {
            events.push(match event {
                UploadEvent::Uploading { path, size } => format!("start {} {size:?}", path.display()),
                UploadEvent::Uploaded { path, file } => format!("done {} {}", path.display(), file.url),
                _ => unreachable!("no other event"),
            });
        })
        .await
        .expect("uploads");
    // The image (used twice) once, the weights once; the hub id and the URL untouched.
    assert_eq!(uploaded.len(), 2);
    assert_eq!(fake.stored_files().len(), 2);
    assert_eq!(events.len(), 4, "{events:?}");
    assert!(events[0].starts_with("start") && events[0].ends_with("Some(16)"), "{events:?}");
    assert_eq!(input.image_url, uploaded[0].url);
    assert_eq!(input.end_image_url.as_deref(), Some(uploaded[0].url.as_str()));
    assert_eq!(input.loras[0].path, uploaded[1].url);
    assert_eq!(input.loras[1].path, "owner/hub-lora");
    assert_eq!(input.loras[2].path, "https://example.com/lora.safetensors");
    client.subscribe(&input).await.expect("sent once uploaded");

    // One value at a time: a URL passes, a path and bytes are uploaded.
    assert_eq!(client.file_url("https://example.com/a.png").await.expect("url"), "https://example.com/a.png");
    let from_bytes = client.file_url(fal_ltx::FileInput::bytes(b"abc".to_vec(), "a.txt", "text/plain")).await;
    assert!(from_bytes.expect("bytes").starts_with("http"));
    assert_eq!(fake.stored_files().len(), 3);
}
