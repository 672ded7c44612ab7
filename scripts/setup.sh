#!/usr/bin/env bash
# Install what building and testing Lockphone needs on Debian (idempotent; needs root or sudo):
# the C toolchain pieces of the audio and codec crates, binutils for the hardening check, tmux
# for the terminal-UI and trust-prompt tests, and
# the interop peers of tests/peers (kamailio, baresip, SIPp, stunnel, tshark, …).
#   scripts/setup.sh            build dependencies + peers
#   scripts/setup.sh --build    build dependencies only
#   scripts/setup.sh --fips     also Go, which the FIPS build (scripts/test-fips.sh) needs
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

if ! command -v cargo >/dev/null 2>&1; then
	echo "setup: cargo is not installed. Install Rust >= 1.88 with rustup (https://rustup.rs), then run this again." >&2
	exit 1
fi

pkgs=(libasound2-dev cmake pkg-config gcc g++ binutils python3 openssl tmux)
peers=1
for arg in "$@"; do
	case "$arg" in
	--build) peers=0 ;;
	--fips) pkgs+=(golang-go) ;;
	*) echo "setup: unknown option $arg (use --build or --fips)" >&2; exit 2 ;;
	esac
done
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
	echo "setup: installing ${missing[*]}" >&2
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$peers" = 1 ]; then
	"$here/tests/peers/install.sh"
fi
