#!/usr/bin/env bash
# Calls/s benchmark (not a test): Lockphone `answer` as a TLS UAS answering SDES offers from the
# kit's SIPp UAC, next to SIPp's own UAS rate measured in the same run
# (tests/peers/bench-sipp-tls.sh MODE=tls: SIPp UAC -> stunnel -> stunnel -> SIPp UAS).
#
#   SIPp UAC (TCP) -> stunnel client (TLS, alice's client certificate: Lockphone accepts SDES keys
#   only over TLS whose far end it verified) -> Lockphone `answer --play silence` (no recording).
#   Each call: INVITE (four SDES suites) / 100 / 200 (SDP answer with a=crypto) / ACK / BYE / 200,
#   no hold time (sipp -d 0). SIPp sends no media; Lockphone opens its media socket pair and media
#   task per call and sends (silence) until the BYE. One TLS connection carries all calls.
#
# env: CALLS (10000 per side), RATE (offered calls/s, 8000), LIMIT (max concurrent calls, 100: with
#      a high RATE the UAS's own speed sets the rate), MAX_SECS (120, bound per side),
#      LOCKPHONE (default target/release/lockphone; built with cargo if missing),
#      SIPP_BENCH=0 skips the SIPp UAS side, PEERS_RUN (default: a fresh folder).
# Prints detail lines and:  RESULT lockphone_cps=... sipp_cps=... ratio=...
# Exit 0 if every Lockphone call succeeded.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
KIT="$ROOT/tests/peers"
. "$KIT/lib.sh"
need_cmd sipp stunnel bc python3
CALLS=${CALLS:-10000} RATE=${RATE:-8000} LIMIT=${LIMIT:-100} MAX_SECS=${MAX_SECS:-120}
LOCKPHONE=${LOCKPHONE:-$ROOT/target/release/lockphone}
if [ ! -x "$LOCKPHONE" ]; then
	log "building $LOCKPHONE"
	(cd "$ROOT" && CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2} cargo build --release --bin lockphone) >&2
fi
peers_run_dir
ensure_pki
D="$PEERS_RUN/bench-lockphone"
mkdir -p "$D"
cleanup() { for n in lockphone-answer bench-uac-tls sampler; do stop_pidfile "$PEERS_RUN/$n.pid"; done; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
LP_PORT=$(free_port) UAC_TLS=$(free_port) UAC_SIP=$(free_port)
UAC_MEDIA=$(python3 -c 'import socket
for _ in range(100):
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    try:
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("127.0.0.1", p + 2)); print(p); break
    except OSError: pass')

# Lockphone: bob, TLS listener with bob's certificate, PCMU (SIPp offers PCMU), default SRTP policy
# (mandatory) and suites.
cat >"$D/bob.toml" <<EOF
[[account]]
name = "bob"
aor = "sip:bob@127.0.0.1"
register = false
transport = "tls"
[account.tls]
ca_file = "$PEERS_PKI/ca.crt"
client_certificate = "$PEERS_PKI/bob.crt"
client_key = "$PEERS_PKI/bob.key"
trust_store = "$D/trust.json"
[account.calls]
listen = "127.0.0.1:$LP_PORT"
codecs = ["pcmu"]
EOF
LP_WRAPPER=$(start_bounded lockphone-answer $((MAX_SECS + 20)) "$D/answer.err" \
	env RUST_LOG="${RUST_LOG:-warn}" XDG_CONFIG_HOME="$D/xdg" "$LOCKPHONE" answer -c "$D/bob.toml" --json --play silence --timeout $((MAX_SECS + 10)))
# start_bounded sends the command's stdout and stderr to one file: events are the JSON lines.
wait_log "$D/answer.err" "listening for calls on" 15 || die "lockphone answer did not start: $(tail -5 "$D/answer.err")"
LP_PID=$(pgrep -P "$LP_WRAPPER" | head -1)
[ -n "$LP_PID" ] || die "no lockphone process under $LP_WRAPPER"

# Sample Lockphone's resources while it runs: peak open files, UDP sockets, threads, RSS.
start_bounded sampler $((MAX_SECS + 20)) "$D/samples.txt" bash -c '
	while [ -d /proc/'"$LP_PID"' ]; do
		fds=$(ls /proc/'"$LP_PID"'/fd 2>/dev/null | wc -l)
		threads=$(awk "/^Threads:/{print \$2}" /proc/'"$LP_PID"'/status 2>/dev/null)
		rss=$(awk "/^VmRSS:/{print \$2}" /proc/'"$LP_PID"'/status 2>/dev/null)
		udp=$(ss -Huan -p 2>/dev/null | grep -c "pid='"$LP_PID"',") || true
		echo "$fds ${threads:-0} ${rss:-0} ${udp:-0}"
		sleep 0.5
	done' >/dev/null

"$KIT/start-stunnel.sh" bench-uac-tls client --accept "$UAC_TLS" --connect "$LP_PORT" \
	--cert "$PEERS_PKI/alice.pem" --duration $((MAX_SECS + 20)) >/dev/null
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# machine-wide: busy and total ticks of all cores (the machine may be shared)
machine_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
read -r busy0 total0 < <(machine_ticks)
ticks0=$(cpu_ticks "$LP_PID")
t0=$(date +%s.%N)
set +e
timeout --kill-after=5 $((MAX_SECS + 5)) sipp -sf "$KIT/sipp/uac-sdes.xml" -t t1 -i 127.0.0.1 -p "$UAC_SIP" \
	-mp "$UAC_MEDIA" "127.0.0.1:$UAC_TLS" -key to_user bob -key to_hostport "127.0.0.1:$LP_PORT" -key sdp_proto RTP/SAVP \
	-d 0 -m "$CALLS" -r "$RATE" -l "$LIMIT" -nostdin -timeout "${MAX_SECS}s" -timeout_error \
	-trace_stat -stf "$D/uac-stat.csv" -fd 1 -trace_err -error_file "$D/uac-errors.log" \
	-trace_screen -screen_file "$D/uac-screen.log" </dev/null >"$D/uac.out" 2>&1
sipp_rc=$?
set -e
t1=$(date +%s.%N)
ticks1=$(cpu_ticks "$LP_PID")
read -r busy1 total1 < <(machine_ticks)
stat_col() { awk -F';' -v name="$1" 'NR==1{for(i=1;i<=NF;i++) if($i==name) c=i} END{print $c+0}' "$D/uac-stat.csv" 2>/dev/null || echo 0; }
ok=$(stat_col "SuccessfulCall(C)")
failed=$(stat_col "FailedCall(C)")
secs=$(echo "$t1 - $t0" | bc -l)
lp_cps=$(echo "$ok / $secs" | bc -l)
hz=$(getconf CLK_TCK)
lp_cpu=$(echo "($ticks1 - $ticks0) / $hz / $secs * 100" | bc -l)
machine_busy=$(echo "($busy1 - $busy0) * 100 / ($total1 - $total0)" | bc -l)
# Lockphone's own account of the calls (it keeps answering until stopped below).
sleep 1
ended=$(grep -c '"event":"call-ended"' "$D/answer.err" || true)
hung_up=$(grep '"event":"call-ended"' "$D/answer.err" | grep -c '"end_reason":"the far end hung up"' || true)
srtp=$(grep '"event":"call-ended"' "$D/answer.err" | grep -c '"srtp_suite":"AEAD_AES_256_GCM"' || true)
peak() { awk -v c="$1" 'BEGIN{m=0} {if ($c+0 > m) m = $c+0} END{print m}' "$D/samples.txt" 2>/dev/null || echo 0; }
printf 'lockphone: calls=%s ok=%s failed=%s secs=%.2f cps=%.1f offered_rate=%s limit=%s sipp_rc=%s\n' \
	"$CALLS" "$ok" "$failed" "$secs" "$lp_cps" "$RATE" "$LIMIT" "$sipp_rc"
printf 'lockphone: events call-ended=%s far-end-hung-up=%s AEAD_AES_256_GCM=%s; cpu %.0f%% of one core (machine: %.0f%% of %s cores busy); peak fds=%s threads=%s rss=%s kB udp sockets=%s\n' \
	"$ended" "$hung_up" "$srtp" "$lp_cpu" "$machine_busy" "$(nproc)" "$(peak 1)" "$(peak 2)" "$(peak 3)" "$(peak 4)"
[ -s "$D/uac-errors.log" ] && { log "SIPp errors (first lines):"; head -5 "$D/uac-errors.log" >&2; }
stop_pidfile "$PEERS_RUN/lockphone-answer.pid"
stop_pidfile "$PEERS_RUN/bench-uac-tls.pid"

sipp_cps=0
if [ "${SIPP_BENCH:-1}" != 0 ]; then
	set +e
	line=$(MODE=tls CALLS="$CALLS" RATE="$RATE" LIMIT="$LIMIT" MAX_SECS="$MAX_SECS" "$KIT/bench-sipp-tls.sh" 2>/dev/null | grep '^RESULT')
	set -e
	echo "sipp uas: ${line#RESULT }"
	sipp_cps=$(sed -n 's/.* cps=\([0-9.]*\).*/\1/p' <<<"$line")
fi
ratio=$(echo "if (${sipp_cps:-0} > 0) $lp_cps / $sipp_cps else 0" | bc -l)
printf 'RESULT lockphone_cps=%.1f sipp_cps=%.1f ratio=%.3f lockphone_failed=%s\n' "$lp_cps" "${sipp_cps:-0}" "$ratio" "$failed"
[ "$ok" -eq "$CALLS" ] && [ "$failed" -eq 0 ]
