# Shared by the bench/*.sh scripts (sourced, not run): a scratch directory
# removed at exit with the background jobs, and waiting for a port.

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# answers PORT: whether something listens on 127.0.0.1:PORT.
answers() { (echo > "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

# wait_port PORT: waits up to 5 s for 127.0.0.1:PORT, or fails.
wait_port() {
	local _
	for _ in $(seq 100); do
		answers "$1" && return 0
		sleep 0.05
	done
	echo "nothing answers on 127.0.0.1:$1" >&2
	return 1
}
