#!/usr/bin/env bash
# The README's test command: set-up, type check, lint, then every test (kernel tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --quiet
echo "== typecheck"; npx tsc --noEmit -p .
echo "== lint"; npx eslint --max-warnings=0 .
echo "== tests"; node scripts/run-tests.mjs "$@"
