#!/usr/bin/env bash
# Every measurement docs/PERFORMANCE.md reports today, in the order of its
# sections, in one run: the Go benchmarks (frame parsing against go-stomp,
# writing, the client, the embedded broker, --filter), `stompest bench
# --embedded`, the binary end to end against go-stomp and stomp.py
# (e2e.sh), start-up (startup.sh), and, when scripts/brokers.sh has started
# RabbitMQ and ActiveMQ, the brokers side by side (brokers.sh) and settling
# (settle.sh). The before-and-after tables of the document compare commits
# or settings and are not rerun here, nor are the fuzzing runs. About
# fifteen minutes with the real brokers up, five without.
#
#   bench/all.sh 2>&1 | tee bench.txt
#   N=200000 RUNS=3 STARTUP_RUNS=50 bench/all.sh     # a quicker look
set -euo pipefail
cd "$(dirname "$0")"
. ./lib.sh

section() { printf '\n== %s\n\n' "$*"; }

section "machine"
date -u +%Y-%m-%dT%H:%MZ
go version
nproc
grep -m1 'model name' /proc/cpuinfo 2> /dev/null || true

section "frame parsing: stompest vs go-stomp"
go test -run '^$' -bench . -benchmem -count "${COUNT:-6}" ./...

section "frame writing, the client, the embedded broker, --filter"
(cd .. &&
	go test -run '^$' -bench Writer -benchmem ./internal/protocol/ &&
	go test -run '^$' -bench 'SendPipeline|Consume' -benchmem ./internal/client/ &&
	go test -run '^$' -bench Broker -benchmem -benchtime 1000000x ./internal/broker/ &&
	go test -run '^$' -bench . -benchmem ./internal/cli/filter/)

section "stompest bench --embedded: throughput, then latency at a fixed rate"
(cd .. && go build -o "$work/stompest" ./cmd/stompest)
for run in 1 2 3; do
	"$work/stompest" bench /queue/all-$run --embedded --count 200000 --size 100
done
for run in 1 2 3; do
	"$work/stompest" bench /queue/all-rate-$run --embedded --rate 20000/s --duration 5s --warmup 1s --size 100
done

section "the binary end to end: e2e.sh"
N=${N:-1000000} RUNS=${RUNS:-5} ./e2e.sh

section "start-up: startup.sh"
RUNS=${STARTUP_RUNS:-200} ./startup.sh

if answers 61613 || answers 61623; then
	section "the embedded broker against RabbitMQ and ActiveMQ: brokers.sh"
	./brokers.sh
	section "settling: settle.sh"
	N=${SETTLE_N:-10000} BATCH1=${BATCH1:-0} ./settle.sh
else
	section "RabbitMQ and ActiveMQ do not answer: scripts/brokers.sh up, then run again for brokers.sh and settle.sh"
fi
