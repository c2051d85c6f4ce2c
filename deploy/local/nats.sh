#!/usr/bin/env bash
# nats.sh start|stop|status|clean: a real nats-server with JetStream on
# 127.0.0.1, for the real-broker tests and for local runs without Docker.
#
# The binary is built from source with `go install`, at the nats-server
# version go.mod requires (the one the in-process tests embed), and kept.
#
# Environment (all optional):
#   TAGSTREAM_LOCAL_DIR   state directory (default: <repo>/.cache/local)
#   NATS_VERSION          nats-server version (default: go.mod's, e.g. v2.15.3)
#   NATS_PORT             client port (default 4222)
#   NATS_MONITOR_PORT     HTTP monitoring port, /healthz (default 8222)
#   NATS_START_TIMEOUT    seconds to wait for the server (default 30)
#
# Files under $TAGSTREAM_LOCAL_DIR: bin/nats-server-<version>,
# nats/jetstream/ (JetStream store), nats/nats-server.log, nats/nats.pid.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib.sh
. "$root/deploy/local/lib.sh"
state=${TAGSTREAM_LOCAL_DIR:-$root/.cache/local}
NATS_PORT=${NATS_PORT:-4222}
NATS_MONITOR_PORT=${NATS_MONITOR_PORT:-8222}
NATS_START_TIMEOUT=${NATS_START_TIMEOUT:-30}
if [ -z "${NATS_VERSION:-}" ]; then
	NATS_VERSION=$(cd "$root" && go list -m -f '{{.Version}}' github.com/nats-io/nats-server/v2)
fi

dir=$state/nats
bin=$state/bin/nats-server-$NATS_VERSION
pidfile=$dir/nats.pid

log() { echo "nats.sh: $*" >&2; }
die() { log "$*"; exit 1; }

build() {
	[ -x "$bin" ] && return
	command -v go >/dev/null || die "go not found"
	log "building github.com/nats-io/nats-server/v2@$NATS_VERSION"
	local gobin=$state/bin/build-$NATS_VERSION
	rm -rf "$gobin"
	mkdir -p "$gobin"
	GOBIN=$gobin GOFLAGS='' go install "github.com/nats-io/nats-server/v2@$NATS_VERSION"
	mv "$gobin/nats-server" "$bin"
	rmdir "$gobin"
}

pid() { running_pid 'nats-server'; }

# healthz prints the body of GET /healthz?js-enabled-only=true on the
# monitoring port and fails unless it answers 200 within 5 s.
healthz() {
	local out
	# shellcheck disable=SC2016 # $1 expands in the inner shell
	out=$(timeout 5 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET /healthz?js-enabled-only=true HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3
		cat <&3
	' _ "$NATS_MONITOR_PORT" 2>/dev/null) || return 1
	case $out in
	"HTTP/1."?" 200"*) echo "${out##*$'\r\n\r\n'}" ;;
	*) return 1 ;;
	esac
}

version() { "$bin" --version | sed 's/^nats-server: //'; }

start() {
	local p
	if p=$(pid); then
		log "already running (pid $p)"
		wait_ready "$p"
		return
	fi
	if (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null; then
		die "port $NATS_PORT is in use by another process (set NATS_PORT)"
	fi
	build
	mkdir -p "$dir"
	nohup "$bin" -js -sd "$dir" -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MONITOR_PORT" \
		-l "$dir/nats-server.log" >"$dir/stdout.log" 2>&1 </dev/null &
	p=$!
	echo "$p" >"$pidfile"
	wait_ready "$p"
}

wait_ready() {
	local p=$1 deadline=$((SECONDS + NATS_START_TIMEOUT))
	until healthz >/dev/null; do
		if ! kill -0 "$p" 2>/dev/null; then
			log "nats-server exited during start-up; last lines of its log:"
			tail -n 30 "$dir/stdout.log" "$dir/nats-server.log" >&2 || true
			rm -f "$pidfile"
			exit 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			log "nats-server not healthy on 127.0.0.1:$NATS_MONITOR_PORT within ${NATS_START_TIMEOUT}s; last lines of its log:"
			tail -n 30 "$dir/stdout.log" "$dir/nats-server.log" >&2 || true
			exit 1
		fi
		sleep 0.2
	done
	echo "nats.sh: nats-server $(version) (JetStream) ready on nats://127.0.0.1:$NATS_PORT (pid $p, monitor :$NATS_MONITOR_PORT, log $dir/nats-server.log)"
}

stop() { stop_process nats-server 30 0.1; }

status() {
	local p h
	if ! p=$(pid); then
		echo "nats.sh: not running"
		return 3
	fi
	if h=$(healthz); then
		echo "nats.sh: nats-server $(version) running (pid $p) on nats://127.0.0.1:$NATS_PORT, healthz $h"
	else
		echo "nats.sh: running (pid $p) but /healthz on :$NATS_MONITOR_PORT does not answer 200"
		return 1
	fi
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
clean) # stop and remove the JetStream store; the binary stays
	stop
	rm -rf "$dir"
	log "removed $dir"
	;;
*)
	echo "usage: $0 start|stop|status|clean" >&2
	exit 2
	;;
esac
