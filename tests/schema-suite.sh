#!/usr/bin/env bash
# The generator against the JSON Schema test suite (draft 2020-12): fetches the suite from the source
# distribution of Python's `jsonschema` package on PyPI (which ships it under json/tests/), keeps it under
# target/ (third-party data, never committed), and runs tests/tests/schema_suite.rs on it. The table goes
# to standard output; the full lists (rejected documents, build defects, every disagreement) to
# target/schema-suite-report.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="4.23.0"
suite="target/json-schema-test-suite-$VERSION"
if [ ! -d "$suite/draft2020-12" ]; then
  download="$(mktemp -d)"
  trap 'rm -rf "$download"' EXIT
  python3 -m pip download --quiet --disable-pip-version-check --no-binary :all: --no-deps \
    "jsonschema==$VERSION" -d "$download"
  tar xzf "$download/jsonschema-$VERSION.tar.gz" -C "$download" "jsonschema-$VERSION/json/tests/draft2020-12"
  mkdir -p "$suite"
  mv "$download/jsonschema-$VERSION/json/tests/draft2020-12" "$suite/"
fi
JSON_SCHEMA_TEST_SUITE="$PWD/$suite/draft2020-12" SCHEMA_SUITE_REPORT="$PWD/target/schema-suite-report.txt" \
  cargo test -p integration-tests --test schema_suite -- --ignored --nocapture
