#!/usr/bin/env bash
# Builds the test images with `docker import` (there is no registry here).
#
#   athena-test/busybox   Debian's static busybox, every applet linked in /bin
#
# Re-imports only when the inputs changed (the image carries a label with
# their hash), so repeated runs are quick.
set -euo pipefail

BUSYBOX=${BUSYBOX:-/bin/busybox}
IMAGE=athena-test/busybox:latest

if [ ! -x "$BUSYBOX" ]; then
	echo "images: $BUSYBOX missing; install busybox-static" >&2
	exit 1
fi

script_hash=$(sha256sum "$0" | cut -c1-16)
bb_hash=$(sha256sum "$BUSYBOX" | cut -c1-16)
want="$script_hash-$bb_hash"
have=$(docker image inspect -f '{{index .Config.Labels "dev.athena.inputs"}}' "$IMAGE" 2>/dev/null || true)
if [ "$have" = "$want" ]; then
	echo "images: $IMAGE up to date"
	exit 0
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,sys,dev,root,home/athena,var/tmp,data}
chmod 1777 "$root/tmp" "$root/var/tmp"
cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list-full); do
	[ "$applet" = bin/busybox ] && continue
	ln -sf /bin/busybox "$root/$applet"
done
cat >"$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
athena:x:1000:1000:athena test user:/home/athena:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >"$root/etc/group" <<'G'
root:x:0:
athena:x:1000:
nogroup:x:65534:
G
chown 1000:1000 "$root/home/athena"
# No /etc/nsswitch.conf: static glibc busybox would try to dlopen NSS
# modules for it and crash (wget, nslookup).

tar -C "$root" --numeric-owner -cf - . |
	docker import \
		--change 'CMD ["/bin/sh"]' \
		--change "LABEL dev.athena.inputs=$want" \
		- "$IMAGE" >/dev/null
echo "images: imported $IMAGE"
