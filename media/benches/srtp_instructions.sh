#!/bin/sh
# Instructions per SRTP packet, ours against the raw primitive, counted by callgrind (stable
# on a loaded machine, unlike timings). The harness's own work (fill, copy) is subtracted.
# Build first: cargo bench -p lockphone-media --bench srtp --no-run
# Usage: media/benches/srtp_instructions.sh [target dir]
set -eu
target=${1:-target}
bin=$(ls -t "$target"/release/deps/srtp-* | grep -v '\.d$' | head -n1)
n1=2000
n2=12000
ir() { # suite subject op payload n
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" --count "$@" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
per() { # suite subject op payload: instructions per packet
    a=$(ir "$1" "$2" "$3" "$4" $n1)
    b=$(ir "$1" "$2" "$3" "$4" $n2)
    echo $(( (b - a) / (n2 - n1) ))
}
printf '%-24s %4s | %-17s | %-17s | %s\n' suite size 'ours prot/unprot' 'raw prot/unprot' 'raw/ours prot unprot'
for payload in 160 80; do
    hp=$(per AEAD_AES_128_GCM harness protect $payload)
    hb=$(per AEAD_AES_128_GCM harness both $payload)
    hu=$((hb - hp))
    for suite in AEAD_AES_128_GCM AEAD_AES_256_GCM AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_32 AES_256_CM_HMAC_SHA1_80 AES_256_CM_HMAC_SHA1_32; do
        op=$(( $(per $suite ours protect $payload) - hp )); ob=$(( $(per $suite ours both $payload) - hp ))
        rp=$(( $(per $suite raw protect $payload) - hp )); rb=$(( $(per $suite raw both $payload) - hp ))
        ou=$((ob - op - hu)); ru=$((rb - rp - hu))
        printf '%-24s %4s | %7s / %-7s | %7s / %-7s | %s %s\n' $suite $payload $op $ou $rp $ru \
            "$(echo "scale=2; $rp / $op" | bc)" "$(echo "scale=2; $ru / $ou" | bc)"
    done
done
