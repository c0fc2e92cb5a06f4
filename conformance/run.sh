#!/usr/bin/env bash
# fal's official clients against the fake fal server (crate `fake-fal`): the evidence that the fake speaks fal's
# protocol (see conformance/README.md). Installs PyPI `fal-client` and npm `@fal-ai/client` into a throwaway
# directory, builds and starts the `fake-fal` binary on 127.0.0.1 and runs conformance/{python_client.py,js_client.mjs}.
# Each script prints one line per check, `PASS <client>: <check>` or `FAIL <client>: <check>: <why>`; this script
# counts them, prints `conformance: N passed, M failed`, and exits 1 when a check failed, a script failed without
# saying which check, or no check ran.
set -euo pipefail
cd "$(dirname "$0")/.."

# The versions protocol.md was written against.
PY_CLIENT="fal-client==1.0.3"
JS_CLIENT="@fal-ai/client@1.10.1"
# Signs the webhook reference vector independently of our code (conformance/webhook_vector.py).
PY_CRYPTO="cryptography==48.0.0"

work="$(mktemp -d)"
fake_pid=""
cleanup() {
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== conformance: installing $PY_CLIENT and $JS_CLIENT into $work"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "$PY_CLIENT" "$PY_CRYPTO"
cp conformance/js_client.mjs "$work/"
(cd "$work" && npm install --silent --no-audit --no-fund "$JS_CLIENT" >/dev/null)

echo "== conformance: building and starting fake-fal"
cargo build --quiet -p fake-fal --bin fake-fal
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
# --exit-on-stdin-eof: the fake's stdin is the coprocess pipe, so it also exits when this script does.
coproc FAKE { "$target_dir/debug/fake-fal" --schemas schemas --invalid-endpoint fal-ai/conformance/invalid --exit-on-stdin-eof; }
fake_pid="$FAKE_PID"
if ! read -r -t 60 line <&"${FAKE[0]}"; then
  echo "conformance: fake-fal printed no URL line" >&2
  exit 1
fi

# A script that exits non-zero without any FAIL line (a crash, an import error) counts as one failure.
run_client() {
  local name="$1" log="$2"
  shift 2
  local status=0
  "$@" 2>&1 | tee "$log" || status=$?
  if [ "$status" -ne 0 ] && ! grep -q '^FAIL ' "$log"; then
    echo "FAIL $name: exited with status $status before reporting a failed check" | tee -a "$log"
  fi
}

echo "== conformance: fal's Python client"
run_client python "$work/python.log" "$work/venv/bin/python" conformance/python_client.py "$line"
echo "== conformance: fal's JavaScript client"
run_client js "$work/js.log" bash -c 'cd "$1" && node js_client.mjs "$2"' _ "$work" "$line"

echo "== conformance: the webhook reference vector, made again by Python's cryptography"
if "$work/venv/bin/python" conformance/webhook_vector.py --check tests/fixtures/webhook/reference_vector.json; then
  echo "PASS python: webhook reference vector signed by cryptography equals tests/fixtures/webhook/reference_vector.json" | tee "$work/vector.log"
else
  echo "FAIL python: webhook reference vector differs from tests/fixtures/webhook/reference_vector.json" | tee "$work/vector.log"
fi

passed="$(cat "$work/python.log" "$work/js.log" "$work/vector.log" | grep -c '^PASS ' || true)"
failed="$(cat "$work/python.log" "$work/js.log" "$work/vector.log" | grep -c '^FAIL ' || true)"
echo "conformance: $passed passed, $failed failed"
if [ "$failed" -gt 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
