#!/usr/bin/env bash
# Builds athena-test/debian, the image the benchmarks run in, with debootstrap
# and `docker import` (there is no registry here).
#
#   athena-test/debian   Debian bookworm, minbase + the benchmark tools, and
#                        python3 for the learn/enforce integration tests
#
# The Debian mirror is read from the machine's own apt configuration (so the
# repository names no host and the image comes from wherever apt already
# fetches); DEBIAN_MIRROR overrides it. Re-imports only when this script
# changed (the image carries a label with its hash): debootstrap takes minutes.
set -euo pipefail

IMAGE=athena-test/debian:latest
SUITE=bookworm
PACKAGES=fio,iperf3,redis-server,redis-tools,wrk,procps,ca-certificates,python3

want=$(sha256sum "$0" | cut -c1-16)
have=$(docker image inspect -f '{{index .Config.Labels "dev.athena.inputs"}}' "$IMAGE" 2>/dev/null || true)
if [ "$have" = "$want" ]; then
	echo "images-debian: $IMAGE up to date"
	exit 0
fi

# mirror prints the first main-archive URI (not -security, not a third-party
# repository) from apt's one-line and deb822 sources.
mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# One-line format: "deb [opts] URI SUITE COMPONENTS".
		awk -v suite="$SUITE" '
			$1 == "deb" {
				i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i+1) == suite && $i !~ /security/) { print $i; exit }
			}' "$f"
		# deb822 format: a stanza with "URIs:" and "Suites:" naming the suite.
		awk -v suite="$SUITE" '
			/^[[:space:]]*$/ { if (uri != "" && ok) { print uri; exit } uri = ""; ok = 0; next }
			/^#/ { next }
			$1 == "URIs:" { uri = $2 }
			$1 == "Suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
			END { if (uri != "" && ok) print uri }' "$f" | grep -v security || true
	done | head -n1
}

MIRROR=${DEBIAN_MIRROR:-$(mirror)}
if [ -z "$MIRROR" ]; then
	echo "images-debian: no Debian $SUITE mirror found in /etc/apt; set DEBIAN_MIRROR" >&2
	exit 1
fi
command -v debootstrap >/dev/null || { echo "images-debian: debootstrap missing (scripts/deps.sh debootstrap)" >&2; exit 1; }

root=$(mktemp -d /var/tmp/athena-debian.XXXXXX)
trap 'rm -rf "$root" "$root.log"' EXIT
echo "images-debian: debootstrap $SUITE from $MIRROR (a few minutes)"
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1; then
	tail -n 30 "$root.log" >&2
	exit 1
fi
# Services must not start inside the image build, and apt's caches are dead
# weight in every container.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
mkdir -p "$root/bench"

tar -C "$root" --numeric-owner -cf - . |
	docker import \
		--change 'CMD ["/bin/bash"]' \
		--change "LABEL dev.athena.inputs=$want" \
		- "$IMAGE" >/dev/null
echo "images-debian: imported $IMAGE"
