#!/usr/bin/env bash
# kafka.sh start|stop|status|clean: a single-node Apache Kafka (KRaft,
# combined broker and controller) on 127.0.0.1, for the real-broker tests
# and for local runs without Docker.
#
# Kafka's jars come from Maven Central through `mvn dependency:copy-dependencies`
# (Maven Central is the one place that serves them to every machine we run on;
# the release tarball is not fetched). The default is 4.1.1, the image
# docker-compose.yml uses; stay on 4.1 or newer. Kafka 4.0.0 removed JoinGroup
# v0-v1 (KIP-896) and 4.0.1/4.1.0 brought them back (KAFKA-19444). kafka-go
# v0.4.51 negotiates JoinGroup v1-v2, so its consumer groups use v2 and the
# consumer tests also pass on 4.0.0, but it supports nothing above v2, so a
# broker line that keeps v0-v1 leaves the most margin.
#
# Environment (all optional):
#   TAGSTREAM_LOCAL_DIR     state directory (default: <repo>/.cache/local)
#   KAFKA_VERSION           org.apache.kafka:kafka_2.13 version (default 4.1.1)
#   LOG4J_VERSION           log4j 2 version Kafka was built with (default 2.24.3)
#   KAFKA_PORT              client listener port (default 9092)
#   KAFKA_CONTROLLER_PORT   KRaft controller port (default 9093)
#   KAFKA_SECURE_PORT       SASL_SSL listener port (default 9094; 0: no such listener)
#   KAFKA_SCRAM_USER        SCRAM user of the SASL_SSL listener (default tagstream)
#   KAFKA_HEAP_OPTS         JVM heap flags (default -Xms256m -Xmx512m)
#   KAFKA_START_TIMEOUT     seconds to wait for the broker (default 90)
#
# Files under $TAGSTREAM_LOCAL_DIR/kafka: lib-<version>/ (jars, kept across
# runs), server.properties, log4j2.properties, data/ (KRaft metadata and
# logs), server.log (WARN and above, plus start-up lines), stdout.log, kafka.pid.
#
# The same broker also has a SASL_SSL listener on KAFKA_SECURE_PORT for the
# security tests: TLS with a throw-away CA (made by deploy/local/gencert in
# $TAGSTREAM_LOCAL_DIR/tls, shared with nats.sh; the key store is PEM) and
# SASL SCRAM-SHA-512 or SCRAM-SHA-256 for one user, added when the storage is
# formatted (kafka-storage format --add-scram). Its random password is kept
# in kafka/scram-password. start writes kafka/secure.env, KEY=value lines for
# the tests: TAGSTREAM_KAFKA_SECURE_BROKERS, TAGSTREAM_KAFKA_CA_FILE,
# TAGSTREAM_KAFKA_SCRAM_USER and TAGSTREAM_KAFKA_SCRAM_PASSWORD. The
# PLAINTEXT listener on KAFKA_PORT stays as it is.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=lib.sh
. "$root/deploy/local/lib.sh"
state=${TAGSTREAM_LOCAL_DIR:-$root/.cache/local}
KAFKA_VERSION=${KAFKA_VERSION:-4.1.1}
LOG4J_VERSION=${LOG4J_VERSION:-2.24.3}
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
KAFKA_SECURE_PORT=${KAFKA_SECURE_PORT:-9094}
KAFKA_SCRAM_USER=${KAFKA_SCRAM_USER:-tagstream}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}

dir=$state/kafka
lib=$dir/lib-$KAFKA_VERSION
data=$dir/data
pidfile=$dir/kafka.pid
tls=$state/tls
java=${JAVA_HOME:+$JAVA_HOME/bin/}java

log() { echo "kafka.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# fetch copies kafka_2.13 and its runtime dependencies, plus the log4j 2
# binding the release tarball ships, into $lib, once per Kafka version.
fetch() {
	[ -f "$lib/.complete" ] && return
	command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven)"
	log "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION from Maven Central"
	local work=$dir/fetch-$KAFKA_VERSION
	rm -rf "$work" "$lib"
	mkdir -p "$work"
	# Kafka's poms pin slf4j-api 1.7.36, so the binding is log4j-slf4j-impl
	# (SLF4J 1.x), as in the release tarball; log4j-slf4j2-impl would be
	# ignored by slf4j-api 1.7 and Kafka would log nothing.
	cat >"$work/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.tagstream</groupId>
  <artifactId>kafka-server-jars</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>3.8.1</version>
      </plugin>
    </plugins>
  </build>
</project>
POM
	if ! mvn -B -q -Dstyle.color=never -f "$work/pom.xml" dependency:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$work/lib" >"$work/mvn.log" 2>&1; then
		cat "$work/mvn.log" >&2
		die "mvn could not fetch kafka_2.13:$KAFKA_VERSION (is Maven Central reachable?)"
	fi
	[ -f "$work/lib/kafka_2.13-$KAFKA_VERSION.jar" ] || die "no kafka_2.13-$KAFKA_VERSION.jar after mvn"
	mv "$work/lib" "$lib"
	rm -rf "$work"
	touch "$lib/.complete"
}

# pid prints the broker's pid if it is running, and fails otherwise.
pid() { running_pid 'kafka\.Kafka'; }

# brokers sends a Metadata v4 request (all topics) to 127.0.0.1:$KAFKA_PORT
# and prints the number of live brokers in the answer; it fails if the port
# does not answer within 5 s. Request: size, api_key 3, api_version 4,
# correlation_id 1, client_id "ready", topics null (-1), allow_auto_topic_creation
# false. Response: size, correlation_id, throttle_time_ms, brokers count, ...
brokers() {
	local out b
	# shellcheck disable=SC2016 # $1 expands in the inner shell
	out=$(timeout 5 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "\x00\x00\x00\x14\x00\x03\x00\x04\x00\x00\x00\x01\x00\x05ready\xff\xff\xff\xff\x00" >&3
		head -c 16 <&3 | od -An -tu1
	' _ "$KAFKA_PORT" 2>/dev/null) || return 1
	read -ra b <<<"$out"
	[ "${#b[@]}" -eq 16 ] || return 1
	echo $(( (b[12] << 24) | (b[13] << 16) | (b[14] << 8) | b[15] ))
}

version() {
	local v
	v=$(grep -ho 'Kafka version: [^ ]*' "$dir/server.log" 2>/dev/null | tail -n1 | cut -d' ' -f3)
	echo "${v:-$KAFKA_VERSION}"
}

# secure reports whether the SASL_SSL listener is on.
secure() { [ "$KAFKA_SECURE_PORT" != 0 ]; }

configure() {
	mkdir -p "$data"
	local listeners="PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT"
	local protocols=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
	if secure; then
		listeners+=",SASL_SSL://127.0.0.1:$KAFKA_SECURE_PORT"
		protocols+=,SASL_SSL:SASL_SSL
	fi
	cat >"$dir/server.properties" <<PROPS
# Written by deploy/local/kafka.sh: one process is both KRaft controller and broker.
process.roles=broker,controller
node.id=1
listeners=$listeners
advertised.listeners=$listeners
listener.security.protocol.map=$protocols
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
log.dirs=$data
num.partitions=1
# Topics are created explicitly (produce --create-topic, the deployment), as
# on production clusters that turn auto-creation off; the consumer's wait for
# a missing topic is tested against it.
auto.create.topics.enable=false
offsets.topic.replication.factor=1
# Fewer than the default 50 partitions: the first consumer group starts faster.
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
	if secure; then
		cat >>"$dir/server.properties" <<PROPS
# SASL_SSL: TLS with the throw-away CA of $tls, SCRAM users from the metadata.
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$tls/server-keystore.pem
PROPS
	fi
	# WARN and above, plus the two INFO lines that tell the version and that
	# the server started.
	cat >"$dir/log4j2.properties" <<LOG
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $dir/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
logger.appinfo.name = org.apache.kafka.common.utils.AppInfoParser
logger.appinfo.level = INFO
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
LOG
}

java_check() {
	command -v "$java" >/dev/null || die "java not found: Kafka $KAFKA_VERSION needs Java 17 or newer"
	local v
	v=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
	[ "${v%%.*}" -ge 17 ] 2>/dev/null || die "java $v found: Kafka $KAFKA_VERSION needs Java 17 or newer"
}

start() {
	if p=$(pid); then
		log "already running (pid $p)"
		wait_ready "$p"
		return
	fi
	local port
	for port in "$KAFKA_PORT" $(secure && echo "$KAFKA_SECURE_PORT"); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			die "port $port is in use by another process (set KAFKA_PORT or KAFKA_SECURE_PORT)"
		fi
	done
	java_check
	fetch
	local scram=()
	if secure; then
		gencert tls "$tls"
		scram_password >/dev/null
		scram=(--add-scram "SCRAM-SHA-512=[name=$KAFKA_SCRAM_USER,password=$(scram_password)]"
			--add-scram "SCRAM-SHA-256=[name=$KAFKA_SCRAM_USER,password=$(scram_password)]")
	fi
	configure
	local cp="$lib/*"
	if [ ! -f "$data/meta.properties" ]; then
		local id
		id=$("$java" -cp "$cp" kafka.tools.StorageTool random-uuid)
		"$java" -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$cp" \
			kafka.tools.StorageTool format --standalone -t "$id" -c "$dir/server.properties" "${scram[@]}" >"$dir/format.log" 2>&1 ||
			{ cat "$dir/format.log" >&2; die "storage format failed"; }
		log "formatted $data (cluster id $id)"
		if secure; then
			scram_marker >"$data/scram-user"
		fi
	fi
	: >"$dir/server.log"
	# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several flags
	nohup "$java" $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
		-Dlog4j2.configurationFile="$dir/log4j2.properties" \
		-cp "$cp" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 </dev/null &
	local p=$!
	echo "$p" >"$pidfile"
	wait_ready "$p"
}

# scram_password prints the SCRAM user's password, made once at random.
scram_password() {
	if [ ! -s "$dir/scram-password" ]; then
		mkdir -p "$dir"
		(umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/scram-password")
	fi
	cat "$dir/scram-password"
}

# scram_marker prints what data/scram-user holds once the metadata has the
# SCRAM user with the current password: the user and a hash of the password.
scram_marker() { echo "$KAFKA_SCRAM_USER $(scram_password | sha256sum | cut -d' ' -f1)"; }

# ensure_scram adds the SCRAM user through the PLAINTEXT listener when the
# storage was formatted without it (by an older kafka.sh) or with another
# password.
ensure_scram() {
	[ "$(cat "$data/scram-user" 2>/dev/null)" = "$(scram_marker)" ] && return
	log "adding SCRAM user $KAFKA_SCRAM_USER to the existing metadata"
	local pw mech
	pw=$(scram_password)
	# One mechanism per request: Kafka refuses two changes to one user's
	# credentials in the same request.
	for mech in SCRAM-SHA-512 SCRAM-SHA-256; do
		"$java" -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$lib/*" kafka.admin.ConfigCommand \
			--bootstrap-server "127.0.0.1:$KAFKA_PORT" --alter --entity-type users --entity-name "$KAFKA_SCRAM_USER" \
			--add-config "$mech=[password=$pw]" >"$dir/scram.log" 2>&1 ||
			{ tail -n 5 "$dir/scram.log" >&2; die "could not add SCRAM user $KAFKA_SCRAM_USER ($mech; log $dir/scram.log)"; }
	done
	scram_marker >"$data/scram-user"
}

# write_env writes secure.env: where the tests find the SASL_SSL listener,
# the CA and the SCRAM credentials.
write_env() {
	(
		umask 077
		printf '%s=%q\n' \
			TAGSTREAM_KAFKA_SECURE_BROKERS "127.0.0.1:$KAFKA_SECURE_PORT" \
			TAGSTREAM_KAFKA_CA_FILE "$tls/ca.pem" \
			TAGSTREAM_KAFKA_SCRAM_USER "$KAFKA_SCRAM_USER" \
			TAGSTREAM_KAFKA_SCRAM_PASSWORD "$(scram_password)" >"$dir/secure.env"
	)
}

wait_ready() {
	local p=$1 deadline=$((SECONDS + KAFKA_START_TIMEOUT)) n
	until n=$(brokers) && [ "$n" -ge 1 ] && { ! secure || (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_SECURE_PORT") 2>/dev/null; }; do
		if ! kill -0 "$p" 2>/dev/null; then
			log "broker exited during start-up; last lines of its logs:"
			tail -n 30 "$dir/stdout.log" "$dir/server.log" >&2 || true
			rm -f "$pidfile"
			exit 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			log "broker did not answer on 127.0.0.1:$KAFKA_PORT$(secure && echo " and 127.0.0.1:$KAFKA_SECURE_PORT") within ${KAFKA_START_TIMEOUT}s (a broker started without the SASL_SSL listener needs a restart); last lines of its logs:"
			tail -n 30 "$dir/stdout.log" "$dir/server.log" >&2 || true
			exit 1
		fi
		sleep 0.5
	done
	echo "kafka.sh: Apache Kafka $(version) (KRaft, broker+controller) ready on 127.0.0.1:$KAFKA_PORT (pid $p, $n broker, logs in $dir)"
	if secure; then
		ensure_scram
		write_env
		echo "kafka.sh: SASL_SSL (SCRAM-SHA-512, SCRAM-SHA-256; user $KAFKA_SCRAM_USER) on 127.0.0.1:$KAFKA_SECURE_PORT; CA $tls/ca.pem; user, password and CA as KEY=value lines in $dir/secure.env"
	fi
}

stop() { stop_process broker 60 0.2; }

status() {
	local p n
	if ! p=$(pid); then
		echo "kafka.sh: not running"
		return 3
	fi
	if n=$(brokers); then
		echo "kafka.sh: Apache Kafka $(version) running (pid $p) on 127.0.0.1:$KAFKA_PORT, $n broker(s) in metadata$(secure && echo ", SASL_SSL on 127.0.0.1:$KAFKA_SECURE_PORT ($dir/secure.env)")"
	else
		echo "kafka.sh: running (pid $p) but 127.0.0.1:$KAFKA_PORT does not answer"
		return 1
	fi
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
clean) # stop and remove topics and KRaft metadata; the jars stay
	stop
	rm -rf "$data" "$dir/server.log" "$dir/stdout.log" "$dir/format.log"
	log "removed $data"
	;;
*)
	echo "usage: $0 start|stop|status|clean" >&2
	exit 2
	;;
esac
