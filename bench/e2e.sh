#!/usr/bin/env bash
# End-to-end measurements of the stompest binary, side by side with the
# go-stomp client doing the same jobs: against a raw peer that is never the
# bottleneck (bench/peer), and through the embedded broker; bench/sink, which
# only counts the frames it reads, gives the ceiling of consuming from the
# peer. Runs alternate between the tools; each line of the summary is the
# median of RUNS runs, then the ratios the goals in docs/PERFORMANCE.md are
# stated in.
#
#   bench/e2e.sh            # N=1000000 RUNS=3
#   N=200000 RUNS=5 bench/e2e.sh
set -euo pipefail
cd "$(dirname "$0")"
N=${N:-1000000}
RUNS=${RUNS:-3}
. ./lib.sh

(cd .. && go build -o "$work/stompest" ./cmd/stompest)
go build -o "$work/peer" ./peer
go build -o "$work/gostomp" ./gostomp
go build -o "$work/sink" ./sink
head -c 100 /dev/zero | tr '\0' x > "$work/body"
awk -v n="$N" 'BEGIN { s = sprintf("%100s", ""); gsub(/ /, "x", s); for (i = 0; i < n; i++) print s }' > "$work/lines"

# seconds CMD...: the wall-clock seconds of CMD, its output discarded.
seconds() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" > /dev/null
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A results
record() { results[$1]+="$2 "; }

"$work/peer" -listen 127.0.0.1:61800 -messages "$N" 2> /dev/null &
"$work/stompest" broker --listen 127.0.0.1:61801 --heartbeat 0,0 2> /dev/null &
for port in 61800 61801; do
	wait_port $port
done
peer=tcp://127.0.0.1:61800
broker=tcp://127.0.0.1:61801

# stomp.py (Debian's python3-stomp) for the start-to-exit comparison and
# against the real brokers, when it is installed.
pystomp=
/usr/bin/python3 -c 'import stomp' 2> /dev/null && pystomp=yes

for run in $(seq "$RUNS"); do
	record "peer: stompest send --lines" "$(seconds "$work/stompest" -s $peer send /queue/b --lines --persistent=false < "$work/lines")"
	record "peer: go-stomp send" "$(seconds "$work/gostomp" -server 127.0.0.1:61800 -mode send -n "$N")"
	record "peer: stompest subscribe --ack auto" "$(seconds "$work/stompest" -q -s $peer subscribe /queue/b --ack auto --count "$N")"
	record "peer: go-stomp receive (auto)" "$(seconds "$work/gostomp" -server 127.0.0.1:61800 -mode receive -n "$N")"
	record "peer: sink, counting NULs (the ceiling)" "$(seconds "$work/sink" -server 127.0.0.1:61800 -n "$N")"
	record "peer: stompest subscribe client-individual" "$(seconds "$work/stompest" -q -s $peer subscribe /queue/b --count "$N")"
	record "broker: stompest send --lines" "$(seconds "$work/stompest" -s $broker send /queue/s --lines --persistent=false < "$work/lines")"
	record "broker: stompest subscribe --ack auto" "$(seconds "$work/stompest" -q -s $broker subscribe /queue/s --ack auto --count "$N")"
	record "broker: go-stomp send" "$(seconds "$work/gostomp" -server 127.0.0.1:61801 -dest /queue/g -mode send -n "$N")"
	record "broker: go-stomp receive (auto)" "$(seconds "$work/gostomp" -server 127.0.0.1:61801 -dest /queue/g -mode receive -n "$N")"
	record "start to exit: stompest send with receipt" "$(seconds "$work/stompest" -s $broker send /queue/one hi)"
	if [ -n "$pystomp" ]; then
		record "start to exit: stomp.py send with receipt" "$(seconds /usr/bin/python3 pystomp_send.py 61801)"
	fi
done

# The real brokers, when scripts/brokers.sh has started them: N_REAL
# messages each way (they persist and route, so fewer).
N_REAL=${N_REAL:-100000}
head -n "$N_REAL" "$work/lines" > "$work/lines-real"
real_jobs=()
for pair in rabbitmq:61613 activemq:61623; do
	name=${pair%%:*} port=${pair#*:}
	answers "$port" || continue
	for run in $(seq "$RUNS"); do
		q=/queue/e2e-$name-$run-$$
		record "$name: stompest send --lines" "$(seconds "$work/stompest" -s tcp://127.0.0.1:$port -u guest --password-file <(echo guest) send $q --lines --persistent=false < "$work/lines-real")"
		record "$name: stompest subscribe --ack auto" "$(seconds "$work/stompest" -q -s tcp://127.0.0.1:$port -u guest --password-file <(echo guest) subscribe $q --ack auto --count "$N_REAL")"
		record "$name: go-stomp send" "$(seconds "$work/gostomp" -server 127.0.0.1:$port -dest $q-g -mode send -n "$N_REAL")"
		record "$name: go-stomp receive (auto)" "$(seconds "$work/gostomp" -server 127.0.0.1:$port -dest $q-g -mode receive -n "$N_REAL")"
		if [ -n "$pystomp" ]; then
			record "$name: stomp.py send" "$(seconds /usr/bin/python3 pystomp_bench.py "$port" "$q-p" send "$N_REAL")"
			record "$name: stomp.py receive (auto)" "$(seconds /usr/bin/python3 pystomp_bench.py "$port" "$q-p" receive "$N_REAL")"
		fi
	done
	real_jobs+=("$name: stompest send --lines" "$name: go-stomp send" "$name: stomp.py send"
		"$name: stompest subscribe --ack auto" "$name: go-stomp receive (auto)" "$name: stomp.py receive (auto)")
done

declare -A med
date -u +%Y-%m-%dT%H:%MZ
printf '%-45s %10s %12s\n' "job ($N messages of 100 B, median of $RUNS)" seconds msg/s
for job in "peer: stompest send --lines" "peer: go-stomp send" \
	"peer: stompest subscribe --ack auto" "peer: go-stomp receive (auto)" \
	"peer: sink, counting NULs (the ceiling)" "peer: stompest subscribe client-individual" \
	"broker: stompest send --lines" "broker: go-stomp send" \
	"broker: stompest subscribe --ack auto" "broker: go-stomp receive (auto)" \
	"start to exit: stompest send with receipt" "start to exit: stomp.py send with receipt" "${real_jobs[@]}"; do
	[ -n "${results[$job]:-}" ] || continue
	m=$(echo "${results[$job]}" | tr ' ' '\n' | grep . | median)
	med[$job]=$m
	rate=$(echo "$N / $m" | bc)
	[[ $job == rabbitmq* || $job == activemq* ]] && rate=$(echo "$N_REAL / $m" | bc)
	[[ $job == start* ]] && rate=-
	printf '%-45s %10.3f %12s\n' "$job" "$m" "$rate"
done

# total JOB...: the sum of the JOBs' medians; fails when one did not run.
total() {
	local sum=0 job
	for job in "$@"; do
		[ -n "${med[$job]:-}" ] || return 1
		sum=$(echo "$sum + ${med[$job]}" | bc -l)
	done
	echo "$sum"
}

# ratio NAME SLOW-JOB... -- FAST-JOB...: how many times the FAST jobs' time
# goes into the SLOW jobs' (each side a sum), left out when a job did not run.
ratio() {
	local name=$1 slow=() fast s f
	shift
	while [ "$1" != -- ]; do
		slow+=("$1")
		shift
	done
	shift
	s=$(total "${slow[@]}") && f=$(total "$@") || return 0
	printf '%-45s %10.3f s against %.3f s: %5.1fx\n' "$name" "$f" "$s" "$(echo "$s / $f" | bc -l)"
}
echo
ratio "produce to the peer" "peer: go-stomp send" -- "peer: stompest send --lines"
ratio "consume from the peer, ack auto" "peer: go-stomp receive (auto)" -- "peer: stompest subscribe --ack auto"
ratio "consume from the peer: the ceiling" "peer: stompest subscribe --ack auto" -- "peer: sink, counting NULs (the ceiling)"
ratio "produce through the broker" "broker: go-stomp send" -- "broker: stompest send --lines"
ratio "consume through the broker, ack auto" "broker: go-stomp receive (auto)" -- "broker: stompest subscribe --ack auto"
ratio "send then subscribe through the broker" "broker: go-stomp send" "broker: go-stomp receive (auto)" -- \
	"broker: stompest send --lines" "broker: stompest subscribe --ack auto"
ratio "start to exit, send with receipt, vs stomp.py" "start to exit: stomp.py send with receipt" -- \
	"start to exit: stompest send with receipt"
