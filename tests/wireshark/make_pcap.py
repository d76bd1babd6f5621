#!/usr/bin/env python3
"""Writes a raw-IP pcap with every form of the SA option (and malformed
ones) in SYN and SYN-ACK segments, for the dissector test."""
import ipaddress
import struct
import sys


def tcp(opts, flags):
    opts += b"\x01" * (-len(opts) % 4)  # NOP padding
    doff = (20 + len(opts)) // 4
    return struct.pack(">HHIIBBHHH", 40000, 7000, 1, 0, doff << 4, flags, 65535, 0, 0) + opts


def ip4(payload):
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, 6, 0,
                       ipaddress.ip_address("10.10.0.2").packed,
                       ipaddress.ip_address("10.99.0.1").packed) + payload


def ip6(payload):
    return struct.pack(">IHBB16s16s", 6 << 28, len(payload), 6, 64,
                       ipaddress.ip_address("fd00:10::2").packed,
                       ipaddress.ip_address("fd00:99::1").packed) + payload


SYN, SYNACK = 0x02, 0x12
exid = b"\x53\x46"
v4 = ipaddress.ip_address("10.30.2.2").packed
v6 = ipaddress.ip_address("fd00:30:2::2").packed
packets = [
    ip4(tcp(b"\x02\x04\x05\xb4" + b"\xfd\x04" + exid, SYN)),               # 1 SAF
    ip4(tcp(b"\xfd\x08" + exid + v4, SYNACK)),                             # 2 v4
    ip4(tcp(b"\xfd\x0a" + exid + v4 + struct.pack(">H", 7002), SYNACK)),   # 3 v4+port
    ip6(tcp(b"\xfd\x14" + exid + v6, SYNACK)),                             # 4 v6
    ip6(tcp(b"\xfd\x16" + exid + v6 + struct.pack(">H", 443), SYNACK)),    # 5 v6+port
    ip4(tcp(b"\xfd\x0c" + exid + bytes(8), SYNACK)),                       # 6 malformed
    ip4(tcp(b"\xfd\x08\x12\x34" + v4, SYNACK)),                            # 7 other ExID
]
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
    for i, p in enumerate(packets):
        f.write(struct.pack("<IIII", 1795000000 + i, 0, len(p), len(p)) + p)
