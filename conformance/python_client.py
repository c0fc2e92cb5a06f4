"""fal's official Python client (PyPI `fal-client`) against the fake fal server.

Run by `conformance/run.sh`; see `conformance/README.md`. Points the client at
the fake as protocol.md §8 describes (module globals for plain HTTP) and
runs the scenarios of the Rust end-to-end tests: run, submit + status with
logs + result, subscribe by polling and by streaming, cancel, 422, and
uploads (the CDN-token path and the storage initiate + PUT path), each
downloaded back from the fake.

Prints one line per check, `PASS python: <check>` or `FAIL python: <check>: <why>`,
and goes on after a failure (a scenario that raises is one FAIL); run.sh counts
the lines. Exits 1 when a check failed.
"""

import json
import sys

import httpx

import fal_client
import fal_client.client as fc

urls = json.loads(sys.argv[1])  # the fake's line: queue_url, run_url, outputs
expected = urls["outputs"]  # endpoint id -> the output the fake returns
fc.RUN_URL_FORMAT = urls["run_url"] + "/"
fc.QUEUE_URL_FORMAT = urls["queue_url"] + "/"
fc.REST_URL = urls["rest_url"]
fc.CDN_URL = urls["queue_url"]

client = fal_client.SyncClient(key="test-key")
ENDPOINT = "fal-ai/ltx-2.3/text-to-video"
ARGS = {"prompt": "A lighthouse at dusk"}
failed = 0


def check(name, condition, detail=""):
    global failed
    if condition:
        print(f"PASS python: {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL python: {name}: {str(detail)[:1000]}", flush=True)


def scenario(name):
    """Runs the decorated function now; an exception is one FAIL named `name`."""

    def run(function):
        try:
            function()
        except Exception as e:  # noqa: BLE001 - any error is a failed check, reported, then the next scenario runs
            check(name, False, f"{type(e).__name__}: {e}")
        return function

    return run


@scenario("run")
def _():
    out = client.run(ENDPOINT, arguments=ARGS)
    check("run", out == expected[ENDPOINT], out)


@scenario("submit + status + result")
def _():
    handle = client.submit(ENDPOINT, arguments=ARGS)
    seen = []
    logs_in_progress = []
    for _ in range(50):
        status = handle.status(with_logs=True)
        seen.append(type(status).__name__)
        if isinstance(status, fal_client.InProgress):
            logs_in_progress.append(len(status.logs))
        if isinstance(status, fal_client.Completed):
            break
    check("status logs while in progress", logs_in_progress and all(n >= 1 for n in logs_in_progress), logs_in_progress)
    check("submit + status", seen[0] == "Queued" and seen[-1] == "Completed" and "InProgress" in seen, seen)
    check("result", handle.get() == expected[ENDPOINT])


@scenario("subscribe (polling)")
def _():
    updates = []
    out = client.subscribe(
        ENDPOINT, arguments=ARGS, with_logs=True, on_queue_update=lambda u: updates.append(type(u).__name__)
    )
    check("subscribe (polling)", out == expected[ENDPOINT] and "InProgress" in updates, updates)


@scenario("status stream (SSE)")
def _():
    handle = client.submit(ENDPOINT, arguments=ARGS)
    events = [type(e).__name__ for e in handle.iter_events(with_logs=True)]
    check("status stream (SSE)", events and events[-1] == "Completed" and "InProgress" in events, events)
    check("result after stream", handle.get() == expected[ENDPOINT])


@scenario("cancel")
def _():
    handle = client.submit(ENDPOINT, arguments=ARGS)
    handle.cancel()  # 202 CANCELLATION_REQUESTED: no error
    check("cancel while queued", True)
    try:
        handle.cancel()
        check("cancel again: 400 ALREADY_COMPLETED", False, "no error raised")
    except fal_client.client.FalClientHTTPError as e:
        check("cancel again: 400 ALREADY_COMPLETED", e.status_code == 400, (e.status_code, str(e)))


@scenario("422")
def _():
    try:
        client.submit("fal-ai/conformance/invalid", arguments={})
        check("422", False, "no error raised")
    except fal_client.client.FalClientHTTPError as e:
        check("422", e.status_code == 422 and "field required" in str(e), (e.status_code, str(e)))
    # The vendored document's own validation: `prompt` must be a string.
    try:
        client.submit(ENDPOINT, arguments={"prompt": 5})
        check("422 from the input schema", False, "no error raised")
    except fal_client.client.FalClientHTTPError as e:
        check("422 from the input schema", e.status_code == 422, (e.status_code, str(e)))


# Uploads (protocol.md §5). The default repository, fal_v3: CDN token from
# REST_URL, then POST CDN_URL/files/upload (no fallback, so that a failure shows).
data = bytes(range(256)) * 64


@scenario("upload (CDN token + /files/upload), downloaded back")
def _():
    url = client.upload(data, "image/png", "frame.png", fallback_repository=[])
    got = httpx.get(url)
    check(
        "upload (CDN token + /files/upload), downloaded back",
        got.status_code == 200 and got.content == data and got.headers["content-type"] == "image/png",
        (url, got.status_code, len(got.content), got.headers.get("content-type")),
    )


@scenario("upload (storage initiate + signed PUT), downloaded back")
def _():
    # The "fal" repository: storage initiate (storage_type=gcs) + PUT to the signed URL.
    url = client.upload(data[::-1], "video/mp4", "clip.mp4", repository="fal", fallback_repository=[])
    got = httpx.get(url)
    check(
        "upload (storage initiate + signed PUT), downloaded back",
        got.status_code == 200 and got.content == data[::-1] and got.headers["content-type"] == "video/mp4",
        (url, got.status_code, len(got.content), got.headers.get("content-type")),
    )


sys.exit(1 if failed else 0)
