#!/usr/bin/env bash
# fal's official clients against our fake fal server: the evidence that the
# fake speaks fal's protocol (see conformance/README.md). Installs PyPI
# `fal-client` and npm `@fal-ai/client` into a throwaway directory, starts
# `fake-fal` on 127.0.0.1 and runs conformance/{python_client.py,js_client.mjs}.
set -euo pipefail
cd "$(dirname "$0")/.."

# The versions protocol.md was written against.
PY_CLIENT="fal-client==1.0.3"
JS_CLIENT="@fal-ai/client@1.10.1"

work="$(mktemp -d)"
fake_pid=""
cleanup() {
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== conformance: installing $PY_CLIENT and $JS_CLIENT into $work"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "$PY_CLIENT"
cp conformance/js_client.mjs "$work/"
(cd "$work" && npm install --silent --no-audit --no-fund "$JS_CLIENT" >/dev/null)

cargo build --quiet -p integration-tests --bin fake-fal
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
coproc FAKE { "$target_dir/debug/fake-fal"; }
fake_pid="$FAKE_PID"
read -r line <&"${FAKE[0]}"

# Each check prints "<client>: <scenario>: ok"; the first failure exits non-zero (set -e stops here).
echo "== conformance: fal's Python client"
"$work/venv/bin/python" conformance/python_client.py "$line" | tee "$work/python.log"
echo "== conformance: fal's JavaScript client"
(cd "$work" && node js_client.mjs "$line") | tee "$work/js.log"
passed="$(cat "$work/python.log" "$work/js.log" | grep -c ': ok$')"
echo "conformance: $passed passed, 0 failed"
