#!/usr/bin/env bash
# FIPS mode, end to end: builds the `fips` release binary (rustls on the aws-lc-rs FIPS module;
# needs cmake and Go, installed by scripts/setup.sh --fips), then proves on 127.0.0.1 that
#   1. it registers at the peers kit's kamailio over TLS and reports FIPS mode (the Connected
#      event's security.fips, an AES-GCM suite, the "FIPS mode" start-up line);
#   2. it never asks the user to accept an untrusted certificate, and ignores "Always trust"
#      decisions in the trust store (the seeds: FIPS prevents accepting untrusted certificates);
#   3. it refuses a server offering only X25519 key exchange (NIST curves only) and one offering
#      only ChaCha20-Poly1305 (AES-GCM only), each an `openssl s_server`.
# The build goes to its own target folder (default target-fips; FIPS_TARGET_DIR overrides) and
# takes long cold (the FIPS module is compiled from source): see the time it prints.
#   scripts/test-fips.sh [--keep-target]    (default: the FIPS target folder is deleted after)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2} CARGO_TERM_COLOR=never
TARGET=${FIPS_TARGET_DIR:-$PWD/target-fips}
KEEP=0
[ "${1:-}" = "--keep-target" ] && KEEP=1

fail() { echo "test-fips: FAIL: $*" >&2; exit 1; }

scripts/setup.sh --fips

echo "== FIPS build (target $TARGET)"
start=$(date +%s)
CARGO_TARGET_DIR="$TARGET" cargo build --release --locked --features fips --bin lockphone
echo "test-fips: FIPS build took $(( $(date +%s) - start )) s"
BIN="$TARGET/release/lockphone"

RUN=$(mktemp -d /tmp/lockphone-fips.XXXXXX)
SERVERS=()
cleanup() {
	tests/peers/stop-peers.sh "$RUN" >/dev/null 2>&1 || true
	for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$RUN"
	if [ "$KEEP" = 0 ]; then rm -rf "$TARGET"; fi
}
trap cleanup EXIT
export PEERS_RUN="$RUN" PEERS_PKI="$RUN/pki"
tests/peers/gen-pki.sh "$PEERS_PKI" >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
tests/peers/start-kamailio.sh --port "$PORT" --auth digest --duration 300 >/dev/null

printf 'alicepw\n' >"$RUN/alice.password"
chmod 600 "$RUN/alice.password"
account() { # account FILE PORT CA_FILE
	cat >"$1" <<EOF
[[account]]
name = "alice"
aor = "sip:alice@127.0.0.1"
registrar = "sip:127.0.0.1:$2"
[account.auth]
method = "digest"
password_file = "$RUN/alice.password"
[account.tls]
ca_file = "$3"
trust_store = "$RUN/trusted-servers.json"
EOF
}
register() { # register CONFIG → stdout JSON events in $RUN/out.json, stderr in $RUN/err.txt
	set +e
	XDG_CONFIG_HOME="$RUN/xdg" timeout --kill-after=5 30 "$BIN" register --config "$1" --json \
		--duration 1 >"$RUN/out.json" 2>"$RUN/err.txt" </dev/null
	echo $?
	set -e
}

echo "== 1. registers at kamailio over TLS in FIPS mode"
account "$RUN/ok.toml" "$PORT" "$PEERS_PKI/ca.crt"
code=$(register "$RUN/ok.toml")
[ "$code" = 0 ] || fail "register exited $code: $(cat "$RUN/err.txt")"
grep -q '"event":"registered"' "$RUN/out.json" || fail "not registered"
connected=$(grep '"event":"connected"' "$RUN/out.json")
echo "$connected" | jq -e '.security.fips == true' >/dev/null || fail "Connected does not report FIPS: $connected"
echo "$connected" | jq -e '.security.cipher_suite | test("AES_(128|256)_GCM")' >/dev/null ||
	fail "not an AES-GCM suite: $connected"
grep -q "FIPS mode" "$RUN/err.txt" || fail "no FIPS mode start-up line"
echo "test-fips: $(echo "$connected" | jq -c '.security | {tls_version, cipher_suite, fips}')"

echo "== 2. an untrusted certificate is refused without a question, stored decisions ignored"
account "$RUN/untrusted.toml" "$PORT" "$PEERS_PKI/rogue.crt"
"$BIN" trust --store "$RUN/trusted-servers.json" import --identity 127.0.0.1 "$PEERS_PKI/server.crt" >/dev/null
code=$(register "$RUN/untrusted.toml")
[ "$code" = 4 ] || fail "untrusted server: exit $code, expected 4 (TLS): $(cat "$RUN/err.txt")"
! grep -q '"event":"trust-decision-required"' "$RUN/out.json" || fail "FIPS mode asked for a trust decision"
! grep -q '"event":"registered"' "$RUN/out.json" || fail "registered with an untrusted certificate"

echo "== 3. X25519-only and ChaCha20-only servers are refused"
s_server() { # s_server PORT ARGS... (background, pid recorded)
	local port=$1
	shift
	timeout 60 openssl s_server -quiet -accept "127.0.0.1:$port" -cert "$PEERS_PKI/server.crt" \
		-key "$PEERS_PKI/server.key" "$@" </dev/null >/dev/null 2>&1 &
	SERVERS+=("$!")
	for _ in $(seq 50); do
		(echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
		sleep 0.1
	done
	fail "openssl s_server did not start"
}
X_PORT=$(free_port)
s_server "$X_PORT" -groups X25519
account "$RUN/x25519.toml" "$X_PORT" "$PEERS_PKI/ca.crt"
code=$(register "$RUN/x25519.toml")
[ "$code" = 4 ] || fail "X25519-only server: exit $code, expected 4: $(cat "$RUN/err.txt")"
C_PORT=$(free_port)
s_server "$C_PORT" -ciphersuites TLS_CHACHA20_POLY1305_SHA256 \
	-cipher ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305
account "$RUN/chacha.toml" "$C_PORT" "$PEERS_PKI/ca.crt"
code=$(register "$RUN/chacha.toml")
[ "$code" = 4 ] || fail "ChaCha20-only server: exit $code, expected 4: $(cat "$RUN/err.txt")"

echo "test-fips: OK"
