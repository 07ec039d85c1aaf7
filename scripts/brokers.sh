#!/usr/bin/env bash
# Real brokers on loopback for the interop suite: RabbitMQ (STOMP and
# Web-STOMP) and ActiveMQ Classic, from Debian's packages, with their data in
# a directory of their own.
#
#   scripts/brokers.sh up       install when missing, start, wait for STOMP
#   scripts/brokers.sh down     stop what `up` started
#   scripts/brokers.sh status   say which STOMP ports answer
#
# Ports (override with the environment): RABBITMQ_STOMP_PORT 61613,
# RABBITMQ_WS_PORT 15674, RABBITMQ_MGMT_PORT 15672 (the management HTTP API,
# which stompest stat reads), ACTIVEMQ_STOMP_PORT 61623. ActiveMQ runs its
# statistics plugin (ActiveMQ.Statistics.Destination.*, read by stompest
# stat over STOMP). A broker that already answers on its port is reused,
# not started twice.
set -euo pipefail

dir=${STOMPEST_BROKERS_DIR:-/tmp/stompest-brokers}
rabbit_stomp=${RABBITMQ_STOMP_PORT:-61613}
rabbit_ws=${RABBITMQ_WS_PORT:-15674}
rabbit_mgmt=${RABBITMQ_MGMT_PORT:-15672}
amq_stomp=${ACTIVEMQ_STOMP_PORT:-61623}
wait_s=${BROKERS_WAIT:-180}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

wait_port() { # name port pidfile
	local i
	for ((i = 0; i < wait_s * 4; i++)); do
		if answers "$2"; then
			echo "$1: answers on 127.0.0.1:$2"
			return 0
		fi
		sleep 0.25
	done
	echo "$1: nothing answers on 127.0.0.1:$2 after ${wait_s}s; its log:" >&2
	tail -n 40 "$dir/$1.log" >&2 || true
	return 1
}

install() {
	local missing=()
	command -v rabbitmq-server > /dev/null || missing+=(rabbitmq-server)
	[ -x /usr/bin/activemq ] || missing+=(activemq)
	# ActiveMQ turns map messages (the statistics plugin's answers) into
	# JSON for STOMP (transformation:jms-map-json) with XStream and
	# Jettison, which Debian's activemq does not pull in.
	[ -f /usr/share/java/xstream.jar ] || missing+=(libxstream-java)
	[ -f /usr/share/java/jettison.jar ] || missing+=(libjettison-java)
	[ ${#missing[@]} -eq 0 ] && return 0
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${missing[@]}" ||
		{ apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }
}

rabbit_up() {
	if answers "$rabbit_stomp"; then
		echo "rabbitmq: reusing the broker on 127.0.0.1:$rabbit_stomp"
		return 0
	fi
	local base=$dir/rabbitmq
	mkdir -p "$base/mnesia" "$base/log"
	echo '[rabbitmq_stomp,rabbitmq_web_stomp,rabbitmq_management].' > "$base/enabled_plugins"
	cat > "$base/rabbitmq.conf" <<-CONF
		listeners.tcp.1 = 127.0.0.1:${RABBITMQ_AMQP_PORT:-5682}
		stomp.listeners.tcp.1 = 127.0.0.1:$rabbit_stomp
		web_stomp.tcp.ip = 127.0.0.1
		web_stomp.tcp.port = $rabbit_ws
		management.tcp.ip = 127.0.0.1
		management.tcp.port = $rabbit_mgmt
		collect_statistics_interval = 500
		loopback_users = none
	CONF
	chown -R rabbitmq:rabbitmq "$base" 2> /dev/null || true
	(
		export RABBITMQ_BASE=$base RABBITMQ_MNESIA_BASE=$base/mnesia RABBITMQ_LOG_BASE=$base/log
		export RABBITMQ_CONFIG_FILE=$base/rabbitmq RABBITMQ_ENABLED_PLUGINS_FILE=$base/enabled_plugins
		export RABBITMQ_NODENAME=stompest@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
		export RABBITMQ_DIST_PORT=${RABBITMQ_DIST_PORT:-25682} ERL_EPMD_ADDRESS=127.0.0.1
		export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
		export RABBITMQ_PID_FILE=$base/pid
		setsid rabbitmq-server > "$dir/rabbitmq.log" 2>&1 < /dev/null &
		echo $! > "$dir/rabbitmq.started"
	)
	wait_port rabbitmq "$rabbit_stomp"
	wait_port rabbitmq "$rabbit_mgmt" # the management API comes up after STOMP
}

amq_up() {
	if answers "$amq_stomp"; then
		echo "activemq: reusing the broker on 127.0.0.1:$amq_stomp"
		return 0
	fi
	local base=$dir/activemq
	mkdir -p "$base/data"
	cp /etc/activemq/instances-available/main/log4j2.properties "$base/" 2> /dev/null || true
	cat > "$base/activemq.xml" <<-XML
		<beans xmlns="http://www.springframework.org/schema/beans"
		       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
		       xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans.xsd
		                           http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
		  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="stompest" useJmx="false"
		          dataDirectory="$base/data" schedulePeriodForDestinationPurge="0">
		    <persistenceAdapter><kahaDB directory="$base/data/kahadb"/></persistenceAdapter>
		    <plugins><statisticsBrokerPlugin/></plugins>
		    <transportConnectors>
		      <transportConnector name="openwire" uri="tcp://127.0.0.1:${ACTIVEMQ_OPENWIRE_PORT:-61626}"/>
		      <transportConnector name="stomp" uri="stomp://127.0.0.1:$amq_stomp"/>
		    </transportConnectors>
		  </broker>
		</beans>
	XML
	chown -R activemq:activemq "$base" 2> /dev/null || true
	# Debian's start script loads the jars of /var/lib/activemq/lib.
	mkdir -p /var/lib/activemq/lib
	for jar in xstream jettison xpp3; do
		ln -sf "/usr/share/java/$jar.jar" "/var/lib/activemq/lib/$jar.jar"
	done
	(
		export ACTIVEMQ_BASE=$base ACTIVEMQ_CONF=$base ACTIVEMQ_DATA=$base/data
		export ACTIVEMQ_OPTS="-Xms64m -Xmx256m -XX:TieredStopAtLevel=1"
		setsid /usr/bin/activemq console "xbean:file:$base/activemq.xml" > "$dir/activemq.log" 2>&1 < /dev/null &
		echo $! > "$dir/activemq.started"
	)
	wait_port activemq "$amq_stomp"
}

# listener prints the pid of the process listening on 127.0.0.1:PORT.
listener() {
	ss -ltnpH "sport = :$1" 2> /dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2
}

down() {
	local name port pid i
	for name in rabbitmq activemq; do
		[ -f "$dir/$name.started" ] || continue
		port=$rabbit_stomp
		[ $name = activemq ] && port=$amq_stomp
		# The Debian wrappers switch user (and session): stop the process
		# that listens, which is the broker itself.
		pid=$(listener "$port")
		if [ -n "$pid" ]; then
			kill -TERM "$pid" 2> /dev/null || true
			for ((i = 0; i < 120 && $(answers "$port" && echo 1 || echo 0); i++)); do
				sleep 0.25
			done
			answers "$port" && kill -KILL "$pid" 2> /dev/null || true
		fi
		pkill -TERM -s "$(cat "$dir/$name.started")" 2> /dev/null || true
		rm -f "$dir/$name.started"
		echo "$name: stopped"
	done
	pkill -u rabbitmq -x epmd 2> /dev/null || true
}

status() {
	local rc=0
	for pair in "rabbitmq:$rabbit_stomp" "rabbitmq-web-stomp:$rabbit_ws" "rabbitmq-management:$rabbit_mgmt" "activemq:$amq_stomp"; do
		if answers "${pair#*:}"; then echo "${pair%%:*}: up on 127.0.0.1:${pair#*:}"; else
			echo "${pair%%:*}: down (127.0.0.1:${pair#*:})"
			rc=1
		fi
	done
	return $rc
}

case ${1:-} in
up)
	mkdir -p "$dir"
	install
	rabbit_up &
	r=$!
	amq_up &
	a=$!
	wait $r && wait $a
	;;
down) down ;;
status) status ;;
*)
	echo "usage: $0 up|down|status" >&2
	exit 64
	;;
esac
