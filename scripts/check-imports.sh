#!/usr/bin/env bash
# Enforces the import rules of shared/STYLE.md section 3 with `go list`:
#   swarm/      never imports gVisor's kernel or netstack, nor another athena folder
#   syscalls/, fs/, net/  never import each other or sentry/
#   net/        imports gVisor's tcpip only, never pkg/sentry
#   only sentry/ (and the runsc-athena composition root) touch
#               pkg/sentry/kernel, pkg/sentry/platform, pkg/sentry/seccheck
# A Go module has no Bazel visibility, so this script is the check.
set -euo pipefail
cd "$(dirname "$0")/.."
mod=$(go list -m)
fail=0

# deps PKGDIR: all transitive imports of the packages under PKGDIR (non-test).
deps() {
	[ -d "$1" ] || return 0
	local pkgs
	pkgs=$(go list "./$1/..." 2>/dev/null) || return 0
	[ -n "$pkgs" ] || return 0
	go list -deps $pkgs
}

# direct PKGDIR: the packages that PKGDIR's packages import themselves.
direct() {
	[ -d "$1" ] || return 0
	local pkgs
	pkgs=$(go list "./$1/..." 2>/dev/null) || return 0
	[ -n "$pkgs" ] || return 0
	go list -f '{{join .Imports "\n"}}' $pkgs
}

forbid() { # folder, regexp of forbidden import paths, reason[, lister]
	local bad
	bad=$(${4:-deps} "$1" | grep -E "$2" | sort -u || true)
	if [ -n "$bad" ]; then
		echo "check-imports: $1/ must not import ($3):" >&2
		echo "$bad" | sed 's/^/    /' >&2
		fail=1
	fi
}

forbid swarm "^gvisor\.dev/gvisor/pkg/(sentry|tcpip)(/|$)|^$mod/(sentry|syscalls|fs|net|runsc-athena)(/|$)" "swarm is the leaf: no gVisor kernel, no other athena folder"
forbid syscalls "^$mod/(fs|net|sentry|runsc-athena)(/|$)" "siblings do not import each other"
forbid fs "^$mod/(syscalls|net|sentry|runsc-athena)(/|$)" "siblings do not import each other"
forbid net "^$mod/(syscalls|fs|sentry|runsc-athena)(/|$)|^gvisor\.dev/gvisor/pkg/sentry(/|$)" "net uses gVisor's tcpip only"
for d in syscalls fs net swarm; do
	# Direct imports only: fs/ may use pkg/sentry/vfs, which others build on.
	forbid "$d" "^gvisor\.dev/gvisor/pkg/sentry/(kernel|platform|seccheck)$" "only sentry/ installs hooks" direct
done
exit $fail
