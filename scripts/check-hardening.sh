#!/usr/bin/env bash
# Check that a binary is hardened: position-independent (ASLR), full RELRO (GNU_RELRO +
# BIND_NOW), a non-executable stack, and the stack protector in the C code linked into it.
#   scripts/check-hardening.sh target/release/lockphone
set -euo pipefail
bin=${1:?usage: check-hardening.sh BINARY}
fail=0
ok() { printf '  ok    %s\n' "$1"; }
bad() { printf '  FAIL  %s\n' "$1"; fail=1; }

# Read everything first: `readelf | grep -q` under pipefail fails when grep exits early.
header=$(readelf -h "$bin")
segments=$(readelf -lW "$bin")
dynamic=$(readelf -dW "$bin")
symbols=$(readelf -sW --dyn-syms "$bin")

echo "hardening of $bin:"
grep -q 'Type:[[:space:]]*DYN' <<<"$header" && ok "PIE (position-independent executable)" || bad "not PIE"
grep -q 'GNU_RELRO' <<<"$segments" && ok "RELRO segment" || bad "no GNU_RELRO segment"
grep -Eq '\(BIND_NOW\)|FLAGS.*BIND_NOW|FLAGS_1.*NOW' <<<"$dynamic" && ok "BIND_NOW (full RELRO)" || bad "no BIND_NOW: partial RELRO only"
stack=$(awk '$1 == "GNU_STACK" { print $7 }' <<<"$segments")
[ "$stack" = "RW" ] && ok "non-executable stack" || bad "stack flags '$stack' (want RW)"
if grep -q '__stack_chk_fail' <<<"$symbols"; then
	ok "stack protector (__stack_chk_fail referenced by the linked C code)"
else
	bad "no __stack_chk_fail: C code built without -fstack-protector"
fi
[ $fail = 0 ] && echo "hardening: PASS" || { echo "hardening: FAIL"; exit 1; }
