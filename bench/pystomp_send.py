"""Send one message with a receipt using stomp.py (Debian's python3-stomp),
for the start-to-exit comparison in bench/e2e.sh: python3 pystomp_send.py PORT"""
import sys
import threading

import stomp


class Receipts(stomp.ConnectionListener):
    def __init__(self):
        self.got = threading.Event()

    def on_receipt(self, frame):
        self.got.set()


conn = stomp.Connection([("127.0.0.1", int(sys.argv[1]))], heartbeats=(0, 0))
listener = Receipts()
conn.set_listener("receipts", listener)
conn.connect(wait=True)
conn.send(destination="/queue/one", body="hi", headers={"receipt": "r-1"})
if not listener.got.wait(10):
    sys.exit("no receipt")
conn.disconnect()
