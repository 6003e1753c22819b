#!/usr/bin/env python3
"""A loopback TCP proxy for the tests: a network path between a worker and its database that a
test can cut. Stopping this process (SIGSTOP) is a partition: connections stay open and nothing
flows, as when a link or a firewall drops packets; SIGCONT heals it.

Usage: tcp-proxy.py TARGET_PORT   prints {"port": N} once listening on 127.0.0.1:N
"""
import json
import os
import socket
import sys
import threading
import time


def pump(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def orphaned(parent):
    """Ends the proxy when the test process that started it is gone."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main():
    target = int(sys.argv[1])
    threading.Thread(target=orphaned, args=(os.getppid(),), daemon=True).start()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(json.dumps({"port": listener.getsockname()[1]}), flush=True)
    while True:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", target))
        except OSError:
            client.close()
            continue
        for end in (client, upstream):
            end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()


main()
