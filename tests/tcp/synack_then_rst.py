#!/usr/bin/env python3
"""A node that answers a SYN with a SYN-ACK carrying a saf advert and resets
the connection right after it, as the client sees it when R1 moves S between
the client's SYN and its ACK (the ACK reaches a node that never saw the SYN,
which answers with RST). Both segments leave back to back, so the RST is
normally processed before the client's process looks at its socket.

Usage: synack_then_rst.py LISTEN_ADDR PORT ADVERT_ADDR ADVERT_PORT COUNT
Answers COUNT SYNs to LISTEN_ADDR:PORT, then exits. Raw IPv4 sockets; the
kernel's own RSTs for that port must be dropped by the caller (they are
unmarked; ours carry SO_MARK 0x5af)."""
import random
import socket
import struct
import sys

MARK = 0x5AF
SA_KIND, SA_EXID = 253, 0x5346


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def segment(src, dst, sport, dport, seq, ack, flags, options=b""):
    off = (20 + len(options)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 65535, 0, 0) + options
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.randint(0, 65535), 0x4000, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def main():
    listen, port, advert = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    advert_port, count = int(sys.argv[4]), int(sys.argv[5])
    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    tx.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, MARK)
    # MSS 1460, two NOPs, then the advert with a port: kind 253, length
    # 10, ExID, IPv4 address, port (16 bytes of options in all).
    opts = (struct.pack("!BBH", 2, 4, 1460) + b"\x01\x01" + struct.pack("!BBH", SA_KIND, 10, SA_EXID)
            + socket.inet_aton(advert) + struct.pack("!H", advert_port))
    print("ready", flush=True)
    answered = 0
    while answered < count:
        pkt, _ = rx.recvfrom(65535)
        ihl = (pkt[0] & 0x0F) * 4
        src, dst = socket.inet_ntoa(pkt[12:16]), socket.inet_ntoa(pkt[16:20])
        sport, dport, seq = struct.unpack("!HHI", pkt[ihl:ihl + 8])
        flags = pkt[ihl + 13]
        if dst != listen or dport != port or flags & 0x3F != 0x02:  # a pure SYN only
            continue
        isn = random.getrandbits(32)
        synack = segment(dst, src, dport, sport, isn, (seq + 1) & 0xFFFFFFFF, 0x12, opts)
        rst = segment(dst, src, dport, sport, (isn + 1) & 0xFFFFFFFF, 0, 0x04)
        tx.sendto(synack, (src, 0))
        tx.sendto(rst, (src, 0))
        answered += 1


if __name__ == "__main__":
    main()
