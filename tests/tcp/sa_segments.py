#!/usr/bin/env python3
"""Counts, in a pcap (Ethernet or Linux cooked capture), the TCP segments
sent from SRC_ADDR:SRC_PORT by kind, and how many of each carry the TCP
option OPTION_HEX (whole option: kind, length, body) byte for byte.

Usage: sa_segments.py PCAP SRC_ADDR SRC_PORT OPTION_HEX
Prints: synack=N synack_opt=N ack=N ack_opt=N data=N data_opt=N fin=N fin_opt=N
(ack: pure ACKs, no payload, FIN, SYN or RST; data: payload > 0; fin: FIN
set, with or without payload: one segment may count as data and fin.)"""
import ipaddress
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        head = f.read(24)
        magic, = struct.unpack("<I", head[:4])
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        linktype, = struct.unpack(endian + "I", head[20:24])
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            _, _, incl, _ = struct.unpack(endian + "IIII", rec)
            yield linktype, f.read(incl)


def ip_payload(linktype, frame):
    """(source address, TCP bytes) of an IPv4/IPv6 TCP frame, else None."""
    if linktype == 1:  # Ethernet
        off, etype = 14, struct.unpack("!H", frame[12:14])[0]
    elif linktype == 113:  # Linux cooked (any)
        off, etype = 16, struct.unpack("!H", frame[14:16])[0]
    else:
        sys.exit(f"sa_segments: link type {linktype} not handled")
    ip = frame[off:]
    if etype == 0x0800 and ip[9] == 6:
        return ipaddress.ip_address(ip[12:16]), ip[(ip[0] & 15) * 4:]
    if etype == 0x86DD and ip[6] == 6:  # no extension headers here
        return ipaddress.ip_address(ip[8:24]), ip[40:]
    return None


def options(tcp):
    hlen = (tcp[12] >> 4) * 4
    raw, i, out = tcp[20:hlen], 0, []
    while i < len(raw):
        kind = raw[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(raw) or raw[i + 1] < 2:
            break
        out.append(raw[i:i + raw[i + 1]])
        i += raw[i + 1]
    return out, len(tcp) - hlen


def main():
    path, src, port, want = sys.argv[1], ipaddress.ip_address(sys.argv[2]), int(sys.argv[3]), bytes.fromhex(sys.argv[4])
    n = dict.fromkeys(["synack", "synack_opt", "ack", "ack_opt", "data", "data_opt", "fin", "fin_opt"], 0)
    for linktype, frame in packets(path):
        got = ip_payload(linktype, frame)
        if not got or got[0] != src or struct.unpack("!H", got[1][:2])[0] != port:
            continue
        tcp = got[1]
        flags = tcp[13]
        opts, payload = options(tcp)
        has = want in opts
        kinds = []
        if flags & 0x12 == 0x12:
            kinds.append("synack")
        elif flags & 0x06 == 0:  # neither SYN nor RST
            if payload > 0:
                kinds.append("data")
            if flags & 0x01:
                kinds.append("fin")
            if payload == 0 and not flags & 0x01:
                kinds.append("ack")
        for k in kinds:
            n[k] += 1
            n[k + "_opt"] += has
    print(" ".join(f"{k}={v}" for k, v in n.items()))


if __name__ == "__main__":
    main()
