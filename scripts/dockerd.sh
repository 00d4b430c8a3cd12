#!/usr/bin/env bash
# Starts, reloads or stops the Docker daemon for athena's install and tests.
#
#   scripts/dockerd.sh ensure   start dockerd if none answers (systemd if it runs, else by hand)
#   scripts/dockerd.sh reload   make a running dockerd re-read daemon.json (SIGHUP), else start one
#   scripts/dockerd.sh stop     stop dockerd only if this script started it by hand
#
# A dockerd started by hand is recorded in $PIDFILE; `stop` touches nothing
# else, so a daemon the machine already ran is never stopped.
set -euo pipefail

PIDFILE=/run/athena/dockerd.pid
LOG=/var/log/athena-dockerd.log

answers() { timeout 10 docker info >/dev/null 2>&1; }

wait_ready() {
	for _ in $(seq 1 120); do
		answers && return 0
		sleep 0.5
	done
	echo "dockerd: did not answer within 60s; see $LOG" >&2
	tail -n 20 "$LOG" >&2 2>/dev/null || true
	return 1
}

have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

start() {
	if answers; then return 0; fi
	if have_systemd; then
		systemctl start docker
		wait_ready
		return
	fi
	if pgrep -x dockerd >/dev/null; then
		# Starting up, or wedged: wait for it rather than start a second one.
		wait_ready
		return
	fi
	mkdir -p "$(dirname "$PIDFILE")"
	echo "dockerd: starting (log: $LOG)"
	setsid dockerd >>"$LOG" 2>&1 </dev/null &
	echo $! >"$PIDFILE"
	wait_ready
}

case "${1:-}" in
ensure)
	start
	;;
reload)
	if pid=$(pgrep -xo dockerd); then
		kill -HUP "$pid"
		# SIGHUP is handled asynchronously; give it a moment, then check.
		sleep 1
		wait_ready
	else
		start
	fi
	;;
stop)
	[ -f "$PIDFILE" ] || exit 0
	pid=$(cat "$PIDFILE")
	if kill -0 "$pid" 2>/dev/null && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = dockerd ]; then
		echo "dockerd: stopping pid $pid (started by athena)"
		kill -TERM "$pid"
		for _ in $(seq 1 60); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "dockerd: still running after 30s; sending SIGKILL" >&2
			kill -KILL "$pid" || true
		fi
	fi
	rm -f "$PIDFILE"
	;;
*)
	echo "usage: $0 ensure|reload|stop" >&2
	exit 2
	;;
esac
