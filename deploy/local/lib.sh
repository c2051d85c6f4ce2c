# shellcheck shell=bash disable=SC2154 # $pidfile and $root come from the caller
# Helpers shared by kafka.sh and nats.sh (sourced, not run). The caller
# defines $root, $pidfile, log() and die().

# running_pid PATTERN prints the pid recorded in $pidfile if that process is
# alive and its command line matches PATTERN (a reused pid is not ours), and
# fails otherwise.
running_pid() {
	[ -f "$pidfile" ] || return 1
	local p
	p=$(cat "$pidfile")
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "$1" || return 1
	echo "$p"
}

# stop_process NAME GRACE POLL [PIDFN] stops the process that PIDFN (default
# pid) reports with TERM, waits up to GRACE seconds (checking every POLL
# seconds), then KILLs it.
stop_process() {
	local p
	if ! p=$("${4:-pid}"); then
		rm -f "$pidfile"
		log "not running"
		return
	fi
	kill -TERM "$p"
	local deadline=$((SECONDS + $2))
	while kill -0 "$p" 2>/dev/null; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			log "$1 (pid $p) still running after $2s: killing it"
			kill -KILL "$p" 2>/dev/null || true
			break
		fi
		sleep "$3"
	done
	rm -f "$pidfile"
	log "stopped (pid $p)"
}

# gencert runs deploy/local/gencert: the throw-away CA, server certificate
# and nkeys of the secure listeners (existing files are kept).
gencert() {
	command -v go >/dev/null || die "go not found: it builds deploy/local/gencert for the secure listeners"
	(cd "$root" && go run ./deploy/local/gencert "$@")
}
