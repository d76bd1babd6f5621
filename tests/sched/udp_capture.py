#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Captures and replays a node agent's datagrams to the scheduler, the way
an attacker on the path would: byte for byte, from the agent's own address
and port, without knowing the format or the key.

  udp_capture.py capture SRC_IP DST_PORT SECONDS OUT
      every IPv4 UDP datagram SRC_IP sends to DST_PORT, one JSON line each
      ({"t": monotonic seconds, "sport": N, "type": byte 5, "hex": ...});
      run in the agent's network namespace (an AF_PACKET socket sees the
      namespace's outgoing packets)
  udp_capture.py replay IN TYPE DST_IP DST_PORT COUNT INTERVAL_S
      sends the captured datagrams of TYPE (1 report, 3 echo) again, from
      the source address and port they had (the agent must be gone), COUNT
      datagrams in all (cycling), INTERVAL_S apart
"""
import json
import socket
import struct
import sys
import time


def capture(src_ip, dport, seconds, out):
    # ETH_P_ALL: only "all protocols" taps see outgoing packets.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))
    s.settimeout(0.1)
    end = time.monotonic() + seconds
    with open(out, "w") as f:
        while time.monotonic() < end:
            try:
                pkt, addr = s.recvfrom(65535)
            except socket.timeout:
                continue
            if addr[1] != 0x0800 or addr[2] != socket.PACKET_OUTGOING or len(pkt) < 28 or pkt[9] != 17:
                continue
            ihl = (pkt[0] & 15) * 4
            if socket.inet_ntoa(pkt[12:16]) != src_ip:
                continue
            sport, dp = struct.unpack("!HH", pkt[ihl:ihl + 4])
            payload = pkt[ihl + 8:]
            if dp != dport or len(payload) < 6:
                continue
            f.write(json.dumps({"t": time.monotonic(), "sport": sport,
                                "src": src_ip, "type": payload[5],
                                "hex": payload.hex()}) + "\n")
            f.flush()


def replay(path, typ, dst, dport, count, interval):
    msgs = [json.loads(l) for l in open(path) if l.strip()]
    msgs = [m for m in msgs if m["type"] == typ]
    if not msgs:
        sys.exit("replay: no captured datagram of type %d in %s" % (typ, path))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((msgs[0]["src"], msgs[0]["sport"]))
    for i in range(count):
        s.sendto(bytes.fromhex(msgs[i % len(msgs)]["hex"]), (dst, dport))
        time.sleep(interval)
    print("replayed %d datagrams of type %d (%d captured)" % (count, typ, len(msgs)))


if __name__ == "__main__":
    if sys.argv[1] == "capture":
        capture(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "replay":
        replay(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]),
               int(sys.argv[6]), float(sys.argv[7]))
    else:
        sys.exit(__doc__)
