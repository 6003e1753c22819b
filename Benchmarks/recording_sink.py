#!/usr/bin/env python3
"""The benchmarks' own webhook sink on 127.0.0.1: answers every POST at once and counts.

HTTP/1.1 keep-alive, TCP_NODELAY and one write per answer (an answer written in two pieces waits
for the client's delayed ACK, ~40 ms a request). It counts requests, connections and the distinct
alerts seen firing (Alertmanager-format bodies, `{"alerts": [{"fingerprint"}]}`, and PagerDuty
events, `{"dedup_key"}`), and keeps the arrival time of every request.

A POST to a path starting with /hang is accepted and never answered (until the sink stops): a
receiver that hangs. GET /stats answers the summary so far; GET /arrivals?after=T lists, for
every request after monotonic time T, its arrival time (monotonic and wall clock), path and
`groupKey` (for Alertmanager-format bodies).

Usage: recording_sink.py [--port 0] [--expect N]
Prints {"listening": URL, "pid": PID} when ready, and {"summary": {...}} when N distinct alerts
were seen firing (0: never) or on SIGTERM. Times are time.monotonic() (CLOCK_MONOTONIC, shared
by every process on the machine, so a driver can compare them with its own).
"""
import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Counts:
    def __init__(self, expect):
        self.lock = threading.Lock()
        self.expect = expect
        self.requests = 0
        self.connections = 0
        self.firing = set()
        self.arrivals = []  # (monotonic time, wall-clock time, path, groupKey)
        self.reached = threading.Event()
        self.stopping = threading.Event()

    def add(self, path, body):
        keys, group = [], None
        try:
            payload = json.loads(body)
            group = payload.get("groupKey") if isinstance(payload, dict) else None
            if isinstance(payload, dict) and isinstance(payload.get("alerts"), list):
                keys = [a.get("fingerprint") for a in payload["alerts"]
                        if isinstance(a, dict) and (a.get("status") or payload.get("status")) == "firing"]
            elif isinstance(payload, dict) and payload.get("event_action") == "trigger":
                keys = [payload.get("dedup_key")]
        except ValueError:
            pass
        with self.lock:
            self.requests += 1
            self.arrivals.append((time.monotonic(), time.time(), path, group))
            self.firing.update(k for k in keys if k)
            return bool(self.expect) and len(self.firing) >= self.expect

    def summary(self):
        with self.lock:
            times = [t for t, _, _, _ in self.arrivals]
            span = times[-1] - times[0] if len(times) > 1 else None
            return {"requests": self.requests, "unique_firing": len(self.firing), "connections": self.connections,
                    "expect": self.expect, "complete": bool(self.expect) and len(self.firing) >= self.expect,
                    "first_mono": times[0] if times else None, "last_mono": times[-1] if times else None, "span_s": span}


def handler(counts):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def setup(self):
            super().setup()
            with counts.lock:
                counts.connections += 1

        def answer(self, code, body, kind="text/plain"):
            self.wfile.write(b"HTTP/1.1 %d OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
                             % (code, kind.encode(), len(body), body))

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            reached = counts.add(self.path, body)
            if self.path.startswith("/hang"):
                counts.stopping.wait()
                return
            self.answer(200, b"ok")
            if reached:
                counts.reached.set()

        def do_GET(self):
            url = urlparse(self.path)
            if url.path == "/stats":
                self.answer(200, json.dumps(counts.summary()).encode(), "application/json")
            elif url.path == "/arrivals":
                after = float(parse_qs(url.query).get("after", ["0"])[0])
                with counts.lock:
                    listed = [{"at": t, "epoch": e, "path": p, "group": g} for t, e, p, g in counts.arrivals if t > after]
                self.answer(200, json.dumps(listed).encode(), "application/json")
            else:
                self.answer(404, b"not found")

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        pass  # a client closing a keep-alive connection


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--expect", type=int, default=0)
    args = parser.parse_args()
    sys.setswitchinterval(0.05)  # fewer GIL hand-offs between handler threads
    counts = Counts(args.expect)
    server = Server(("127.0.0.1", args.port), handler(counts))
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    signal.signal(signal.SIGTERM, lambda *_: counts.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: counts.stopping.set())
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    print(json.dumps({"listening": "http://127.0.0.1:%d" % server.server_address[1], "pid": os.getpid()}), flush=True)
    while not counts.stopping.is_set() and not counts.reached.wait(0.05):
        pass
    counts.stopping.set()
    print(json.dumps({"summary": counts.summary()}), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
