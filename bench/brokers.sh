#!/usr/bin/env bash
# The embedded broker against the brokers a user would otherwise start for
# local work and CI: `stompest bench` drives `stompest broker` (its own
# process), RabbitMQ and ActiveMQ (scripts/brokers.sh up; each skipped when
# it does not answer) with one workload: 1 producer, 1 consumer, N messages
# of 100 bytes, persistent:false, client-individual acks. RUNS runs per
# broker, taking turns; prints each run's consumer throughput and p99, then
# the medians.
#
#   scripts/brokers.sh up && bench/brokers.sh     # N=200000 RUNS=3
set -euo pipefail
cd "$(dirname "$0")"
N=${N:-200000}
RUNS=${RUNS:-3}
. ./lib.sh

(cd .. && go build -o "$work/stompest" ./cmd/stompest)
"$work/stompest" broker --listen 127.0.0.1:61805 2> /dev/null &
wait_port 61805
export STOMPEST_USER=${STOMPEST_USER:-guest} STOMPEST_PASSWORD=${STOMPEST_PASSWORD:-guest}

brokers=("stompest-broker:61805")
for pair in rabbitmq:61613 activemq:61623; do
	answers "${pair#*:}" && brokers+=("$pair")
done

declare -A tput
echo "$(date -u +%Y-%m-%dT%H:%MZ), $N messages of 100 bytes, 1 producer, 1 consumer, client-individual"
for run in $(seq "$RUNS"); do
	for pair in "${brokers[@]}"; do
		name=${pair%%:*} port=${pair#*:}
		out=$("$work/stompest" -s "tcp://127.0.0.1:$port" bench "/queue/bench-brokers-$run-$$" \
			--count "$N" --size 100 --ack client-individual -o json)
		line=$(echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); c=r["consumers"]; print("%.0f %.1fms" % (c["msgs_per_sec"], r["latency"]["p99_ms"]))')
		echo "run $run  $name: ${line% *} msg/s, p99 ${line#* }"
		tput[$name]+="${line% *} "
	done
done
echo "medians:"
for pair in "${brokers[@]}"; do
	name=${pair%%:*}
	echo "${tput[$name]}" | tr ' ' '\n' | grep . | sort -n | awk -v n="$name" '{ a[NR] = $1 } END { printf "  %-16s %10.0f msg/s\n", n, a[int((NR + 1) / 2)] }'
done
