#!/usr/bin/env bash
# The main job, with nothing to configure: installs what is missing, builds lockphone and runs
# `lockphone demo`: a throw-away PKI, a callee listening for TLS on 127.0.0.1 and a caller
# placing a TLS + SDES-SRTP (AEAD_AES_256_GCM) Opus call with a test tone each way for a few
# seconds; it checks that each side heard the other's tone and that both verdicts are
# Encrypted, and prints the verdicts and the call statistics. No sound card needed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
scripts/setup.sh
cargo build --release --locked --bin lockphone
"${CARGO_TARGET_DIR:-target}"/release/lockphone demo --duration "${DEMO_SECONDS:-4}" "$@"
