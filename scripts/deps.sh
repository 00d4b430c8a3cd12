#!/usr/bin/env bash
# Installs the Debian packages athena needs, and only those missing.
# Usage: scripts/deps.sh [extra-package ...]
# Records what it installed in /var/lib/athena/apt-installed.txt so an
# operator can see (and remove) exactly that; `make uninstall` leaves packages
# alone because other software may have come to depend on them.
set -euo pipefail

need=(docker.io containerd runc busybox-static iptables ca-certificates "$@")
missing=()
for p in "${need[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages ${missing[*]}; run as root (or sudo) to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
mkdir -p /var/lib/athena
printf '%s\n' "${missing[@]}" >>/var/lib/athena/apt-installed.txt
