#!/usr/bin/env bash
# Moving and settling a whole queue: move --all (--batch 1, one transaction
# per message, and the default --batch 100) and ack --all of N messages,
# against the embedded broker and, where they answer, the project's RabbitMQ
# and ActiveMQ (scripts/brokers.sh up). One line per broker and command:
# seconds (--idle 300ms included, as in every --all) and messages per second.
#
#   bench/settle.sh                 # N=10000
#   N=5000 BATCH1=0 bench/settle.sh # without --batch 1 (minutes on ActiveMQ)
set -euo pipefail
cd "$(dirname "$0")"
N=${N:-10000}
BATCH1=${BATCH1:-1}
. ./lib.sh

(cd .. && go build -o "$work/stompest" ./cmd/stompest)
seq 1 "$N" > "$work/lines"
"$work/stompest" broker --listen 127.0.0.1:61802 2> /dev/null &
wait_port 61802

export STOMPEST_USER=${STOMPEST_USER:-guest} STOMPEST_PASSWORD=${STOMPEST_PASSWORD:-guest}

# timed NAME CMD...: runs CMD and prints NAME, its seconds and N/seconds.
timed() {
	local name=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	"$@" > /dev/null 2>&1
	t1=$(date +%s.%N)
	awk -v n="$N" -v a="$t0" -v b="$t1" -v name="$name" 'BEGIN { s = b - a; printf "%-44s %8.2f s %10.0f msg/s\n", name, s, n / s }'
}

run() { # broker-name server
	local broker=$1 server=$2 q=/queue/bench-settle-$RANDOM
	local s=("$work/stompest" -s "$server")
	"${s[@]}" send "$q.a" --lines < "$work/lines"
	if [ "$BATCH1" = 1 ]; then
		timed "$broker: move --all --batch 1" "${s[@]}" move "$q.a" "$q.b" --all --batch 1 --idle 300ms
	else
		"${s[@]}" move "$q.a" "$q.b" --all --idle 300ms > /dev/null 2>&1
	fi
	timed "$broker: move --all (--batch 100)" "${s[@]}" move "$q.b" "$q.c" --all --idle 300ms
	timed "$broker: ack --all" "${s[@]}" ack "$q.c" --all --idle 300ms
}

echo "N=$N messages, $(date -u +%Y-%m-%dT%H:%MZ)"
run "stompest broker" tcp://127.0.0.1:61802
answers 61613 && run "RabbitMQ" tcp://127.0.0.1:61613
answers 61623 && run "ActiveMQ" tcp://127.0.0.1:61623
