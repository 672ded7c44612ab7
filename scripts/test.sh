#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script):
# installs what is missing, then format and lint checks, every unit, simulation and interop
# test against the real peers of tests/peers, the doc tests, and the release binary's
# hardening, and the main job (`lockphone demo`, a secure call on 127.0.0.1). Takes about
# 25 minutes on 2 cores from a clean clone.
#   LOCKPHONE_TEST_FIPS=1 scripts/test.sh   also builds the FIPS binary and proves it against
#   kamailio (scripts/test-fips.sh; the FIPS module's cold build adds ~8-12 minutes, so it is
#   a separate CI job rather than part of every run)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2} CARGO_TERM_COLOR=never
scripts/setup.sh

echo "== format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== tests (unit, simulation, interop with kamailio/baresip/SIPp)"
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked

echo "== release build and hardening"
cargo build --release --locked --bin lockphone
scripts/check-hardening.sh "${CARGO_TARGET_DIR:-target}/release/lockphone"

echo "== the main job: lockphone demo"
"${CARGO_TARGET_DIR:-target}/release/lockphone" demo --duration 3

if [ "${LOCKPHONE_TEST_FIPS:-0}" = 1 ]; then
	echo "== FIPS build and its proof against kamailio"
	scripts/test-fips.sh
fi
