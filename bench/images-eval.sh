#!/usr/bin/env bash
# Builds athena-test/eval, the image the security evaluation (make eval,
# bench/eval) runs its scenarios in, with debootstrap and `docker import`
# (there is no registry here).
#
#   athena-test/eval   Debian bookworm, minbase + python3 (the web app),
#                      redis-server and redis-tools (redis under
#                      redis-benchmark), gcc, make and libc6-dev (the build
#                      workload), procps and netcat-openbsd (for looking
#                      around in a container by hand)
#
# The application and the C project are not in the image: the harness
# bind-mounts bench/eval/app and bench/eval/src read-only, so changing them
# needs no rebuild. As bench/images-debian.sh does, the mirror comes from the
# machine's apt configuration (DEBIAN_MIRROR overrides it), and the image is
# rebuilt only when this script changed (label dev.athena.inputs holds its
# hash): debootstrap takes a few minutes.
set -euo pipefail

IMAGE=athena-test/eval:latest
SUITE=bookworm
PACKAGES=python3,redis-server,redis-tools,gcc,make,libc6-dev,procps,netcat-openbsd

want=$(sha256sum "$0" | cut -c1-16)
have=$(docker image inspect -f '{{index .Config.Labels "dev.athena.inputs"}}' "$IMAGE" 2>/dev/null || true)
if [ "$have" = "$want" ]; then
	echo "images-eval: $IMAGE up to date"
	exit 0
fi

# mirror prints the first main-archive URI (not -security, not a third-party
# repository) from apt's one-line and deb822 sources (as images-debian.sh).
mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v suite="$SUITE" '
			$1 == "deb" {
				i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i+1) == suite && $i !~ /security/) { print $i; exit }
			}' "$f"
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
	echo "images-eval: no Debian $SUITE mirror found in /etc/apt; set DEBIAN_MIRROR" >&2
	exit 1
fi
command -v debootstrap >/dev/null || { echo "images-eval: debootstrap missing (scripts/deps.sh debootstrap)" >&2; exit 1; }

root=$(mktemp -d /var/tmp/athena-eval-image.XXXXXX)
trap 'rm -rf "$root" "$root.log"' EXIT
echo "images-eval: debootstrap $SUITE from $MIRROR (a few minutes)"
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1; then
	tail -n 30 "$root.log" >&2
	exit 1
fi
# Dead weight in every container: apt's caches and lists, documentation,
# manual pages and translations (the workloads read none of them).
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
	"$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
	"$root"/usr/share/locale/*
# Where the harness mounts the app and the C project.
mkdir -p "$root/eval"

tar -C "$root" --numeric-owner -cf - . |
	docker import \
		--change 'CMD ["/bin/bash"]' \
		--change "LABEL dev.athena.inputs=$want" \
		- "$IMAGE" >/dev/null
echo "images-eval: imported $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
