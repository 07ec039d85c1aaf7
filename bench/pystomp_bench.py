"""stompest's benchmark jobs with stomp.py (Debian's python3-stomp), for the
side-by-side table against the real brokers in bench/e2e.sh: send N messages
of SIZE bytes with a receipt on the last, or receive N messages with
ack:auto.

    python3 pystomp_bench.py PORT DEST send N [SIZE]
    python3 pystomp_bench.py PORT DEST receive N
"""
import sys
import threading
import time

import stomp


class Listener(stomp.ConnectionListener):
    def __init__(self, want):
        self.want = want
        self.count = 0
        self.done = threading.Event()
        self.error = None

    def on_receipt(self, frame):
        self.done.set()

    def on_message(self, frame):
        self.count += 1
        if self.count == self.want:
            self.done.set()

    def on_error(self, frame):
        self.error = frame.headers.get("message", frame.body)
        self.done.set()

    def on_disconnected(self):
        self.done.set()


def main():
    port, dest, mode, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    size = int(sys.argv[5]) if len(sys.argv) > 5 else 100
    start = time.monotonic()
    conn = stomp.Connection([("127.0.0.1", port)], heartbeats=(0, 0), vhost="/")
    listener = Listener(n)
    conn.set_listener("bench", listener)
    conn.connect("guest", "guest", wait=True)
    if mode == "send":
        body = "x" * size
        for i in range(1, n):
            conn.send(destination=dest, body=body)
        conn.send(destination=dest, body=body, headers={"receipt": "last"})
    elif mode == "receive":
        conn.subscribe(destination=dest, id="1", ack="auto")
    else:
        sys.exit(f"mode {mode!r}: want send or receive")
    listener.done.wait(600)
    if listener.error:
        sys.exit(f"broker error: {listener.error}")
    if mode == "receive" and listener.count < n:
        sys.exit(f"received {listener.count} of {n}")
    if not listener.done.is_set():
        sys.exit("timed out")
    conn.disconnect()
    d = time.monotonic() - start
    print(f"stomp.py {mode} {n} messages: {d:.3f} s, {n / d:.0f} msg/s")


main()
