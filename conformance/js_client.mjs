// fal's official JavaScript client (npm `@fal-ai/client`) against the fake fal server.
//
// Run by `conformance/run.sh`; see `conformance/README.md`. Points the client at
// the fake with its documented `requestMiddleware` option, rewriting fal's hosts
// (protocol.md §8), and runs the scenarios of the Rust end-to-end tests: run,
// submit + status with logs + result, subscribe by polling and by streaming,
// cancel, 422, and storage.upload (single PUT, and multipart above 90 MiB), each
// file downloaded back from the fake.
//
// Prints one line per check, `PASS js: <check>` or `FAIL js: <check>: <why>`, and
// goes on after a failure (a scenario that throws is one FAIL); run.sh counts the
// lines. Exits 1 when a check failed.
import { ApiError, createFalClient, ValidationError } from "@fal-ai/client";
import { isDeepStrictEqual } from "node:util";

const urls = JSON.parse(process.argv[2]); // the fake's line: queue_url, run_url, rest_url, outputs
const expected = urls.outputs;
const rewrite = (url) =>
  url
    .replace("https://queue.fal.run", urls.queue_url)
    .replace("https://fal.run", urls.run_url)
    .replace("https://rest.fal.ai", urls.rest_url);
const fal = createFalClient({
  credentials: "test-key",
  requestMiddleware: async (request) => ({ ...request, url: rewrite(request.url) }),
});
const ENDPOINT = "fal-ai/ltx-2.3/text-to-video";
const input = { prompt: "A lighthouse at dusk" };
let failed = 0;

function check(name, condition, detail = "") {
  if (condition) {
    console.log(`PASS js: ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL js: ${name}: ${JSON.stringify(detail).slice(0, 1000)}`);
  }
}

// Runs `body`; a throw is one FAIL named `name`.
async function scenario(name, body) {
  try {
    await body();
  } catch (e) {
    check(name, false, `${e?.name}: ${e?.message ?? e}`);
  }
}

await scenario("run", async () => {
  const run = await fal.run(ENDPOINT, { input });
  check("run", isDeepStrictEqual(run.data, expected[ENDPOINT]), run.data);
});

await scenario("submit + status + result", async () => {
  const { request_id } = await fal.queue.submit(ENDPOINT, { input });
  const seen = [];
  const logsInProgress = [];
  for (let i = 0; i < 50; i++) {
    const status = await fal.queue.status(ENDPOINT, { requestId: request_id, logs: true });
    seen.push(status.status);
    if (status.status === "IN_PROGRESS") logsInProgress.push(status.logs.length);
    if (status.status === "COMPLETED") break;
  }
  check("status logs while in progress", logsInProgress.length > 0 && logsInProgress.every((n) => n >= 1), logsInProgress);
  check("submit + status", seen[0] === "IN_QUEUE" && seen.includes("IN_PROGRESS") && seen.at(-1) === "COMPLETED", seen);
  const result = await fal.queue.result(ENDPOINT, { requestId: request_id });
  check("result", isDeepStrictEqual(result.data, expected[ENDPOINT]), result.data);
});

await scenario("subscribe (polling)", async () => {
  const polled = [];
  const sub = await fal.subscribe(ENDPOINT, {
    input,
    logs: true,
    pollInterval: 50,
    onQueueUpdate: (u) => polled.push(u.status),
  });
  check("subscribe (polling)", isDeepStrictEqual(sub.data, expected[ENDPOINT]) && polled.includes("IN_PROGRESS"), polled);
});

await scenario("subscribe (streaming)", async () => {
  const streamed = [];
  const sse = await fal.subscribe(ENDPOINT, {
    input,
    mode: "streaming",
    logs: true,
    onQueueUpdate: (u) => streamed.push(u.status),
  });
  check(
    "subscribe (streaming)",
    isDeepStrictEqual(sse.data, expected[ENDPOINT]) && streamed.includes("IN_PROGRESS"),
    streamed,
  );
});

await scenario("cancel", async () => {
  const queued = await fal.queue.submit(ENDPOINT, { input });
  await fal.queue.cancel(ENDPOINT, { requestId: queued.request_id }); // 202: resolves
  check("cancel while queued", true);
  try {
    await fal.queue.cancel(ENDPOINT, { requestId: queued.request_id });
    check("cancel again: 400 ALREADY_COMPLETED", false, "no error thrown");
  } catch (e) {
    check("cancel again: 400 ALREADY_COMPLETED", e instanceof ApiError && e.status === 400, String(e));
  }
});

await scenario("422", async () => {
  try {
    await fal.queue.submit("fal-ai/conformance/invalid", { input: {} });
    check("422", false, "no error thrown");
  } catch (e) {
    check("422", e instanceof ValidationError && e.status === 422 && e.fieldErrors[0].msg === "field required", String(e));
  }
  // The vendored document's own validation: `prompt` must be a string.
  try {
    await fal.queue.submit(ENDPOINT, { input: { prompt: 5 } });
    check("422 from the input schema", false, "no error thrown");
  } catch (e) {
    check(
      "422 from the input schema",
      e instanceof ValidationError && e.status === 422 && isDeepStrictEqual(e.fieldErrors[0].loc, ["body", "prompt"]),
      String(e),
    );
  }
});

// Uploads (protocol.md §5): initiate on rest.fal.ai (rewritten to the fake),
// then a PUT straight to the fake's signed upload_url; then GET the file_url.
async function downloaded(url) {
  const response = await fetch(url);
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    bytes: new Uint8Array(await response.arrayBuffer()),
  };
}

await scenario("storage.upload, downloaded back", async () => {
  const small = new Uint8Array(16384).map((_, i) => (i * 7) % 256);
  const url = await fal.storage.upload(new Blob([small], { type: "image/png" }));
  const back = await downloaded(url);
  check(
    "storage.upload, downloaded back",
    back.status === 200 && back.type === "image/png" && Buffer.from(back.bytes).equals(Buffer.from(small)),
    { url, status: back.status, type: back.type, length: back.bytes.length },
  );
});

await scenario("storage.upload multipart (> 90 MiB), downloaded back", async () => {
  // 90 MiB + 1 byte: initiate-multipart, ten 10 MiB part PUTs, complete.
  const big = new Uint8Array(90 * 1024 * 1024 + 1).map((_, i) => (i * 31 + (i >> 20)) % 251);
  const bigUrl = await fal.storage.upload(new Blob([big], { type: "video/mp4" }));
  const bigBack = await downloaded(bigUrl);
  check(
    "storage.upload multipart (> 90 MiB), downloaded back",
    bigBack.status === 200 && bigBack.type === "video/mp4" && Buffer.from(bigBack.bytes).equals(Buffer.from(big)),
    { url: bigUrl, status: bigBack.status, length: bigBack.bytes.length },
  );
});

process.exit(failed ? 1 : 0);
