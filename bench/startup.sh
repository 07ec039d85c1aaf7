#!/usr/bin/env bash
# Start-up: whole processes, start to exit, side by side in one run.
# stompest and a hello-world Go program are built the same way (the
# release build's flags: CGO_ENABLED=0, -trimpath, -ldflags "-s -w"), and
# timed taking turns: `stompest version`, a one-shot `send` with a receipt
# to `stompest broker`, and the same send with stomp.py (Debian's
# python3-stomp) when it is installed. Prints medians, percentiles, CPU
# time, minor page faults and the ratio to hello-world, then the sizes.
#
#   bench/startup.sh            # RUNS=200
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${RUNS:-200}
. ./lib.sh

export CGO_ENABLED=0
(cd .. && go build -trimpath -ldflags "-s -w" -o "$work/stompest" ./cmd/stompest)
go build -trimpath -ldflags "-s -w" -o "$work/hello" ./hello
go build -o "$work/startup" ./startup

"$work/stompest" broker --listen 127.0.0.1:61803 --heartbeat 0,0 2> /dev/null &
wait_port 61803

jobs=("hello-world=$work/hello"
	"stompest version=$work/stompest version"
	"stompest send (receipt)=$work/stompest -s tcp://127.0.0.1:61803 send /queue/one hi")
if /usr/bin/python3 -c 'import stomp' 2> /dev/null; then
	jobs+=("stomp.py send (receipt)=/usr/bin/python3 pystomp_send.py 61803")
fi
echo "$(date -u +%Y-%m-%dT%H:%MZ), $RUNS runs of each, taking turns"
"$work/startup" -runs "$RUNS" "${jobs[@]}"
ls -l "$work/hello" "$work/stompest" | awk '{ printf "%-12s %10d bytes\n", $NF, $5 }' | sed "s|$work/||"
