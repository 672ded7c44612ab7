#!/usr/bin/env bash
# Start kamailio (Debian kamailio 5.6 + kamailio-tls-modules) as a TLS-only registrar/proxy on
# 127.0.0.1 (default port 5061), in the background, bounded by --duration.
# Prints "kamailio PID PORT" and writes $PEERS_RUN/kamailio.pid.
#
#   start-kamailio.sh [--port 5061] [--auth digest|cert|bearer|jwt|none|digest,cert,...]
#                     [--users "alice:alicepw bob:bobpw carol:carolpw"]
#                     [--tokens "tok-alice:alice tok-bob:bob"] [--duration 300] [--debug 2]
#                     [--as http://127.0.0.1:3000] [--bearer-challenge 401|407]
#                     [--digest-algorithm MD5|SHA-256] [--qop auth|none] [--min-expires 60]
#                     [--issuer URL] [--audience sip:registrar.example.test] [--scope sip]
#                     [--ca FILE]
#
# --ca FILE     : CA list that client certificates must chain to (default $PEERS_PKI/ca.crt),
#                 e.g. the issuing CA of a CAPF test server for LSC client certificates
# --auth digest : REGISTER challenged with 401/WWW-Authenticate, INVITE etc. with 407 (users map)
# --auth cert   : TLS client certificate must verify against the test CA and CN == From user
#                 (the server asks for a client cert; requests without one get 403)
# --auth bearer : "Authorization: Bearer <token>" (or Proxy-Authorization), token -> user map;
#                 challenges carry "WWW-Authenticate: Bearer realm=..." (RFC 8898 style)
# --auth jwt    : RFC 8898 with JWT access tokens from the OAuth 2.0 AS at --as (start-oauth-server.sh):
#                 kamailio/bearer_jwt.py (app_python3) checks the signature against the AS JWKS,
#                 exp, iss (--issuer, default the --as URL), aud (--audience), scope (--scope) and
#                 sub == From user. Challenge: Bearer realm="<domain>", scope="sip",
#                 authz_server="<--as>" [, error="invalid_token", error_description="..."].
#                 --bearer-challenge 401 (default): REGISTER -> 401 WWW-Authenticate, token in
#                 Authorization; other requests -> 407 Proxy-Authenticate / Proxy-Authorization.
#                 --bearer-challenge 407: every request -> 407 Proxy-Authenticate, token in
#                 Proxy-Authorization (Cisco CUCM style). Token in the other header: ignored.
#                 sub != From user -> 403; AS unreachable -> 503.
# several modes separated by commas: a request passes if any of them succeeds.
# Calls to registered users reuse the callee's registration TLS connection (fix_nated_register),
# so a softphone that does not listen for TLS can still receive calls.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_cmd kamailio timeout ss

PORT=5061 AUTH=digest USERS="alice:alicepw bob:bobpw carol:carolpw" TOKENS="tok-alice:alice tok-bob:bob tok-carol:carol"
DURATION=300 DEBUG=2
JWT_AS=http://127.0.0.1:3000 JWT_ISS="" JWT_AUD=sip:registrar.example.test JWT_SCOPE=sip CHALLENGE=401
DIGEST_ALG=MD5 DIGEST_FLAGS=1 MIN_EXPIRES=60 CLIENT_CA=""
while [ $# -gt 0 ]; do
	case "$1" in
	--port) PORT=$2; shift ;;
	--auth) AUTH=$2; shift ;;
	--users) USERS=$2; shift ;;
	--tokens) TOKENS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--debug) DEBUG=$2; shift ;;
	--as) JWT_AS=${2%/}; shift ;;
	--issuer) JWT_ISS=$2; shift ;;
	--audience) JWT_AUD=$2; shift ;;
	--scope) JWT_SCOPE=$2; shift ;;
	--bearer-challenge) CHALLENGE=$2; shift ;;
	--digest-algorithm) DIGEST_ALG=$2; shift ;;
	--min-expires) MIN_EXPIRES=$2; shift ;;
	--ca) CLIENT_CA=$2; shift ;;
	--qop) case $2 in auth) DIGEST_FLAGS=1 ;; none) DIGEST_FLAGS=0 ;; *) die "--qop must be auth or none" ;; esac; shift ;;
	*) die "unknown option $1" ;;
	esac
	shift
done

peers_run_dir
ensure_pki
D="$PEERS_RUN/kamailio"
mkdir -p "$D"
port_free tcp "$PORT" || die "TCP port $PORT already in use"

DEFS=() VERIFY=no JWT=no
IFS=, read -r -a modes <<<"$AUTH"
for m in "${modes[@]}"; do
	case "$m" in
	digest) DEFS+=(-A WITH_DIGEST) ;;
	cert) DEFS+=(-A WITH_CERT); VERIFY=yes ;;
	bearer) DEFS+=(-A WITH_BEARER) ;;
	jwt) DEFS+=(-A WITH_JWT); JWT=yes ;;
	none) ;;
	*) die "unknown auth mode $m" ;;
	esac
done
case "$CHALLENGE" in
401) ;;
407)
	[ $JWT = yes ] || die "--bearer-challenge applies to --auth jwt"
	[[ ",$AUTH," != *,digest,* ]] || die "--bearer-challenge 407 cannot be combined with digest"
	DEFS+=(-A WITH_JWT_407) ;;
*) die "--bearer-challenge must be 401 or 407" ;;
esac
: "${JWT_ISS:=$JWT_AS}"
JWT_PY=""
if [ $JWT = yes ]; then
	compgen -G "/usr/lib/*/kamailio/modules/app_python3.so" >/dev/null ||
		die "--auth jwt needs kamailio-python3-modules and python3-jwt (./install.sh)"
	for v in "$JWT_AS" "$JWT_ISS"; do
		[[ "$v" =~ ^https?://[A-Za-z0-9.:/_~%+-]+$ ]] || die "not an http(s) URL: $v"
	done
	for v in "$JWT_AUD" "$JWT_SCOPE"; do
		[[ "$v" =~ ^[A-Za-z0-9.:/_~%+@-]+$ ]] || die "unsupported characters in '$v'"
	done
	# the handler runs from the run folder (no bytecode files in the kit)
	cp "$KIT_DIR/kamailio/bearer_jwt.py" "$D/bearer_jwt.py"
	JWT_PY=$D/bearer_jwt.py
fi

users_cfg=""
for up in $USERS; do users_cfg+="	\$sht(users=>${up%%:*}) = \"${up#*:}\";"$'\n'; done
for tu in $TOKENS; do users_cfg+="	\$sht(tokens=>${tu%%:*}) = \"${tu#*:}\";"$'\n'; done

: "${CLIENT_CA:=$PEERS_PKI/ca.crt}"
[ -r "$CLIENT_CA" ] || die "--ca: cannot read $CLIENT_CA"
sed -e "s#@PKI@#$PEERS_PKI#g" -e "s#@VERIFY@#$VERIFY#g" -e "s#@CA@#$CLIENT_CA#g" "$KIT_DIR/kamailio/tls.cfg.in" >"$D/tls.cfg"
awk -v users="$users_cfg" -v port="$PORT" -v tlscfg="$D/tls.cfg" -v debug="$DEBUG" \
	-v jpy="$JWT_PY" -v jas="$JWT_AS" -v jiss="$JWT_ISS" -v jaud="$JWT_AUD" -v jscope="$JWT_SCOPE" -v jca="$PEERS_PKI/ca.crt" -v dalg="$DIGEST_ALG" -v dflags="$DIGEST_FLAGS" -v minexp="$MIN_EXPIRES" '
	{ gsub(/@PORT@/, port); gsub(/@TLSCFG@/, tlscfg); gsub(/@DEBUG@/, debug) }
	{ gsub(/@JWT_PY@/, jpy); gsub(/@JWT_AS@/, jas); gsub(/@JWT_ISS@/, jiss); gsub(/@JWT_AUD@/, jaud) }
	{ gsub(/@JWT_SCOPE@/, jscope); gsub(/@JWT_CA@/, jca); gsub(/@DIGEST_ALG@/, dalg); gsub(/@DIGEST_FLAGS@/, dflags); gsub(/@MIN_EXPIRES@/, minexp) }
	/^@USERS@$/ { printf "%s", users; next }
	{ print }' "$KIT_DIR/kamailio/kamailio.cfg.in" >"$D/kamailio.cfg"

KARGS=(-f "$D/kamailio.cfg" -DD -E -m 64 -M 8 -Y "$D" "${DEFS[@]+"${DEFS[@]}"}")
# jwt: the embedded Python (app_python3) must use Debian's python3 and its python3-jwt
KENV=()
[ $JWT = no ] || KENV=(env -u PYTHONHOME -u PYTHONPATH PYTHONDONTWRITEBYTECODE=1)
"${KENV[@]+"${KENV[@]}"}" kamailio -c "${KARGS[@]}" >"$D/check.log" 2>&1 || { tail -20 "$D/check.log" >&2; die "kamailio config check failed"; }
PID=$(start_bounded kamailio "$DURATION" "$D/kamailio.log" "${KENV[@]+"${KENV[@]}"}" kamailio "${KARGS[@]}")
if ! wait_listen tcp "$PORT" 15; then
	stop_pidfile "$PEERS_RUN/kamailio.pid"
	tail -20 "$D/kamailio.log" >&2
	die "kamailio did not start (see $D/kamailio.log)"
fi
[ $JWT = no ] || log "kamailio: jwt: AS $JWT_AS iss=$JWT_ISS aud=$JWT_AUD scope=$JWT_SCOPE challenge=$CHALLENGE"
log "kamailio: TLS 127.0.0.1:$PORT auth=$AUTH pid=$PID log=$D/kamailio.log"
echo "kamailio $PID $PORT"
