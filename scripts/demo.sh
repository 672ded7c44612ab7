#!/usr/bin/env bash
# The main job, with nothing to configure: installs what is missing, builds lockphone, makes a
# throw-away PKI, starts the peers kit's kamailio as a TLS registrar (SHA-256 digest) on
# 127.0.0.1, and registers to it with `lockphone register`: TLS with the server certificate
# verified, the digest challenge answered, registered, refreshed, then un-registered.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
scripts/setup.sh
cargo build --release --locked --bin lockphone

export PEERS_RUN
PEERS_RUN="$(mktemp -d "${TMPDIR:-/tmp}/lockphone-demo.XXXXXX")"
trap 'tests/peers/stop-peers.sh "$PEERS_RUN" >/dev/null 2>&1 || true' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tests/peers/start-kamailio.sh --port "$port" --auth digest --digest-algorithm SHA-256 --duration 120 >/dev/null

umask 077
cat >"$PEERS_RUN/demo.toml" <<TOML
[[account]]
name = "alice"
aor = "sip:alice@127.0.0.1"
registrar = "sip:127.0.0.1:$port"
transport = "tls"
expires = 60

[account.auth]
method = "digest"
password_file = "alice.password"

[account.tls]
ca_file = "pki/ca.crt"
TOML
echo alicepw >"$PEERS_RUN/alice.password"

echo "lockphone demo: registering alice at kamailio on 127.0.0.1:$port over TLS (SHA-256 digest)"
"${CARGO_TARGET_DIR:-target}"/release/lockphone register --config "$PEERS_RUN/demo.toml" --duration "${DEMO_SECONDS:-5}"
