#!/usr/bin/env python3
"""A plain, unmodified TCP echo server for the tests: one dual-stack
listener on [::]:PORT, a thread per connection. It knows nothing of saf.
With --after-eof it answers only once the client has finished sending, so
its ACKs of the client's data are pure ACKs (no reply to ride on).
Usage: echo_server.py PORT [--mptcp] [--after-eof]"""
import socket
import sys
import threading


def serve(conn, after_eof):
    try:
        held = b""
        while True:
            data = conn.recv(65536)
            if not data:
                break
            if after_eof:
                held += data
            else:
                conn.sendall(data)
        if held:
            conn.sendall(held)
    except OSError:
        pass  # a client that leaves with RST is normal here
    finally:
        conn.close()


def main():
    port = int(sys.argv[1])
    proto = socket.IPPROTO_MPTCP if "--mptcp" in sys.argv[2:] else 0
    after_eof = "--after-eof" in sys.argv[2:]
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(512)
    print("listening", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, after_eof), daemon=True).start()


if __name__ == "__main__":
    main()
