#!/usr/bin/env python3
"""A plain, unmodified TCP echo server for the tests: one dual-stack
listener on [::]:PORT, a thread per connection. It knows nothing of saf.
Usage: echo_server.py PORT [--mptcp]"""
import socket
import sys
import threading


def serve(conn):
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
    except OSError:
        pass  # a client that leaves with RST is normal here
    finally:
        conn.close()


def main():
    port = int(sys.argv[1])
    proto = socket.IPPROTO_MPTCP if "--mptcp" in sys.argv[2:] else 0
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(512)
    print("listening", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
