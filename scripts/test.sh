#!/usr/bin/env bash
# The whole test suite: starts the real servers the store tests need (see services.sh),
# then runs every test file with node's test runner.
# Pass file paths to run only those: `npm test -- test/codec/codec.test.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then
  # The whole run also checks types and lint, so CI enforces them.
  npx --no-install tsc -p tsconfig.json --noEmit
  npx --no-install biome check --error-on-warnings src test bench examples
fi

bash scripts/services.sh start >/dev/null
# shellcheck disable=SC1091
source .services/env

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  mapfile -t files < <(find test -name '*.test.ts' | sort)
fi
# A test that hangs fails after 5 minutes, and a file that never exits (a leaked handle)
# stops the whole run after 20, instead of holding CI until its own limit.
exec timeout --kill-after=30 "${TEST_RUN_LIMIT:-1200}" \
  node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout=300000 "${files[@]}"
