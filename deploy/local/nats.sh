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
#   NATS_SECURE_PORT      client port of the secure server (default 4223; 0: none)
#   NATS_SECURE_MONITOR_PORT  its monitoring port (default 8223)
#
# Files under $TAGSTREAM_LOCAL_DIR: bin/nats-server-<version>,
# nats/jetstream/ (JetStream store), nats/nats-server.log, nats/nats.pid.
#
# A second nats-server with JetStream, for the security tests, listens on
# NATS_SECURE_PORT with TLS only (the throw-away CA of $TAGSTREAM_LOCAL_DIR/tls,
# made by deploy/local/gencert and shared with kafka.sh) and accepts two nkey
# users, whose seeds gencert writes to nats-secure/:
#   trainer.nk  may publish anything: results, dead letters, the model bucket
#   serving.nk  may publish results and dead letters and read the model
#               buckets, but not write them: publishing to $O.> (object
#               store chunks and metadata) and deleting, purging or updating
#               streams is denied
# Its files are under $TAGSTREAM_LOCAL_DIR/nats-secure: nats-server.conf,
# jetstream/, nats-server.log, nats.pid, and secure.env (KEY=value lines for
# the tests: TAGSTREAM_NATS_SECURE_URL, TAGSTREAM_NATS_CA_FILE,
# TAGSTREAM_NATS_NKEY_SEED (trainer), TAGSTREAM_NATS_NKEY_SEED_SERVING).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib.sh
. "$root/deploy/local/lib.sh"
state=${TAGSTREAM_LOCAL_DIR:-$root/.cache/local}
NATS_PORT=${NATS_PORT:-4222}
NATS_MONITOR_PORT=${NATS_MONITOR_PORT:-8222}
NATS_START_TIMEOUT=${NATS_START_TIMEOUT:-30}
NATS_SECURE_PORT=${NATS_SECURE_PORT:-4223}
NATS_SECURE_MONITOR_PORT=${NATS_SECURE_MONITOR_PORT:-8223}
if [ -z "${NATS_VERSION:-}" ]; then
	NATS_VERSION=$(cd "$root" && go list -m -f '{{.Version}}' github.com/nats-io/nats-server/v2)
fi

dir=$state/nats
bin=$state/bin/nats-server-$NATS_VERSION
pidfile=$dir/nats.pid
sdir=$state/nats-secure
tls=$state/tls

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

# secure reports whether the secure server is wanted.
secure() { [ "$NATS_SECURE_PORT" != 0 ]; }

# healthz prints the body of GET /healthz?js-enabled-only=true on the
# monitoring port (or the one given) and fails unless it answers 200
# within 5 s.
healthz() {
	local out port=${1:-$NATS_MONITOR_PORT}
	# shellcheck disable=SC2016 # $1 expands in the inner shell
	out=$(timeout 5 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET /healthz?js-enabled-only=true HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3
		cat <&3
	' _ "$port" 2>/dev/null) || return 1
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
	else
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
	fi
	if secure; then
		start_secure
	fi
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

# The secure server: the same functions with its own pid file (running_pid
# and stop_process read $pidfile) and monitoring port.
spid() {
	local pidfile=$sdir/nats.pid
	running_pid "nats-server.*$sdir/nats-server.conf"
}

start_secure() {
	local p pidfile=$sdir/nats.pid
	if p=$(spid); then
		log "secure server already running (pid $p)"
		wait_secure "$p"
		return
	fi
	if (exec 3<>"/dev/tcp/127.0.0.1/$NATS_SECURE_PORT") 2>/dev/null; then
		die "port $NATS_SECURE_PORT is in use by another process (set NATS_SECURE_PORT)"
	fi
	build
	mkdir -p "$sdir"
	gencert tls "$tls"
	local trainer serving
	trainer=$(gencert nkey "$sdir/trainer.nk")
	serving=$(gencert nkey "$sdir/serving.nk")
	# Quoted strings are literal in the server configuration ($ is not a
	# variable there).
	cat >"$sdir/nats-server.conf" <<CONF
# Written by deploy/local/nats.sh: TLS and nkey users, for the security tests.
listen: "127.0.0.1:$NATS_SECURE_PORT"
http: "127.0.0.1:$NATS_SECURE_MONITOR_PORT"
server_name: "tagstream_secure"
jetstream { store_dir: "$sdir" }
tls {
  cert_file: "$tls/server.pem"
  key_file: "$tls/server-key.pem"
  timeout: 2
}
authorization {
  users: [
    # trainer: everything, including writing model buckets.
    { nkey: "$trainer" }
    # serving: results, dead letters, reading model buckets.
    { nkey: "$serving", permissions: { publish: { deny: [
        "\$O.>",
        "\$JS.API.STREAM.DELETE.>",
        "\$JS.API.STREAM.PURGE.>",
        "\$JS.API.STREAM.UPDATE.>",
        "\$JS.API.STREAM.MSG.DELETE.>"
    ] } } }
  ]
}
CONF
	nohup "$bin" -c "$sdir/nats-server.conf" -l "$sdir/nats-server.log" >"$sdir/stdout.log" 2>&1 </dev/null &
	p=$!
	echo "$p" >"$pidfile"
	wait_secure "$p"
}

wait_secure() {
	local p=$1 deadline=$((SECONDS + NATS_START_TIMEOUT)) pidfile=$sdir/nats.pid
	until healthz "$NATS_SECURE_MONITOR_PORT" >/dev/null; do
		if ! kill -0 "$p" 2>/dev/null; then
			log "secure nats-server exited during start-up; last lines of its log:"
			tail -n 30 "$sdir/stdout.log" "$sdir/nats-server.log" >&2 || true
			rm -f "$pidfile"
			exit 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			log "secure nats-server not healthy on 127.0.0.1:$NATS_SECURE_MONITOR_PORT within ${NATS_START_TIMEOUT}s; last lines of its log:"
			tail -n 30 "$sdir/stdout.log" "$sdir/nats-server.log" >&2 || true
			exit 1
		fi
		sleep 0.2
	done
	(
		umask 077
		printf '%s=%q\n' \
			TAGSTREAM_NATS_SECURE_URL "tls://127.0.0.1:$NATS_SECURE_PORT" \
			TAGSTREAM_NATS_CA_FILE "$tls/ca.pem" \
			TAGSTREAM_NATS_NKEY_SEED "$sdir/trainer.nk" \
			TAGSTREAM_NATS_NKEY_SEED_SERVING "$sdir/serving.nk" >"$sdir/secure.env"
	)
	echo "nats.sh: secure nats-server (TLS, nkey users trainer and serving, JetStream) ready on tls://127.0.0.1:$NATS_SECURE_PORT (pid $p, monitor :$NATS_SECURE_MONITOR_PORT); CA $tls/ca.pem; seeds $sdir/trainer.nk and $sdir/serving.nk; as KEY=value lines in $sdir/secure.env"
}

stop() {
	stop_process nats-server 30 0.1
	local pidfile=$sdir/nats.pid
	if [ -f "$pidfile" ]; then
		stop_process "secure nats-server" 30 0.1 spid
	fi
}

status() {
	local p h rc=0
	if ! p=$(pid); then
		echo "nats.sh: not running"
		rc=3
	elif h=$(healthz); then
		echo "nats.sh: nats-server $(version) running (pid $p) on nats://127.0.0.1:$NATS_PORT, healthz $h"
	else
		echo "nats.sh: running (pid $p) but /healthz on :$NATS_MONITOR_PORT does not answer 200"
		rc=1
	fi
	if secure; then
		if ! p=$(spid); then
			echo "nats.sh: secure server not running"
			[ "$rc" -ne 0 ] || rc=3
		elif h=$(healthz "$NATS_SECURE_MONITOR_PORT"); then
			echo "nats.sh: secure nats-server running (pid $p) on tls://127.0.0.1:$NATS_SECURE_PORT, healthz $h ($sdir/secure.env)"
		else
			echo "nats.sh: secure server running (pid $p) but /healthz on :$NATS_SECURE_MONITOR_PORT does not answer 200"
			rc=1
		fi
	fi
	return "$rc"
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
clean) # stop and remove the JetStream stores; the binary stays
	stop
	rm -rf "$dir" "$sdir"
	log "removed $dir $sdir"
	;;
*)
	echo "usage: $0 start|stop|status|clean" >&2
	exit 2
	;;
esac
