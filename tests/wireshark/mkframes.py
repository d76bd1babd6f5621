#!/usr/bin/env python3
"""Write text2pcap input (hex dump, one IPv4 or IPv6 packet per frame) for
TCP segments carrying the saf option in every form of SPEC section 2 and
malformed variants. Usage: mkframes.py v4|v6 > frames.txt; each line of
the spec list below is one frame. Run text2pcap -e 0x800 (or 0x86dd)."""
import struct, sys

SYN, ACK = 0x02, 0x10

def opt(kind, length, exid, body):
    return bytes([kind, length]) + struct.pack("!H", exid) + body

def v4(a): return bytes(int(x) for x in a.split("."))

def v6(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed

def pad(o):
    o += b"\x01" * ((4 - len(o) % 4) % 4)  # NOPs
    return o

def tcp(sport, dport, flags, options):
    options = pad(options)
    off = (20 + len(options)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, 1000, 0 if flags == SYN else 2000,
                       off << 4, flags, 65535, 0, 0) + options

def ip4(src, dst, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000, 64, 6, 0,
                    v4(src), v4(dst))
    s = sum(struct.unpack("!10H", h))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    h = h[:10] + struct.pack("!H", ~s & 0xffff) + h[12:]
    return h + payload

def ip6(src, dst, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), 6, 64, v6(src), v6(dst)) + payload

K, X = 253, 0x5346
MSS = bytes([2, 4, 0x05, 0xb4])
FRAMES4 = [
    # (src, sport, dst, dport, flags, options)
    ("10.0.0.1", 40000, "192.0.2.80", 443, SYN, MSS + opt(K, 4, X, b"")),                 # 1 SAF
    ("192.0.2.80", 443, "10.0.0.1", 40000, SYN | ACK, MSS + opt(K, 10, X, v4("198.51.100.7") + struct.pack("!H", 8443))),  # 2 v4+port
    ("192.0.2.80", 443, "10.0.0.1", 40000, SYN | ACK, MSS + opt(K, 8, X, v4("198.51.100.7"))),  # 3 v4 (implied port 443)
    ("192.0.2.80", 443, "10.0.0.1", 40000, SYN | ACK, opt(K, 22, X, v6("2001:db8::7") + struct.pack("!H", 8443))),  # 4 v6+port
    ("192.0.2.80", 443, "10.0.0.1", 40000, SYN | ACK, opt(K, 20, X, v6("2001:db8::7"))),  # 5 v6
    ("192.0.2.80", 443, "10.0.0.1", 40000, SYN | ACK, opt(K, 9, X, v4("198.51.100.7") + b"\x00")),  # 6 bad length 9
    ("192.0.2.80", 443, "10.0.0.1", 40000, ACK, opt(K, 10, X, v4("198.51.100.7") + struct.pack("!H", 8443))),  # 7 advert not in SYN-ACK
    ("192.0.2.80", 443, "10.0.0.1", 40000, SYN | ACK, opt(K, 10, X, v4("224.0.0.1") + struct.pack("!H", 8443))),  # 8 multicast advert
    ("10.0.0.1", 40000, "192.0.2.80", 443, SYN, opt(K, 6, 0xF989, b"\xaa\xbb")),          # 9 other ExID (TFO exp): not ours
    ("10.0.0.1", 40000, "192.0.2.80", 443, ACK, opt(K, 4, X, b"")),                       # 10 SAF outside SYN
    ("10.0.0.1", 40000, "192.0.2.80", 443, SYN, opt(K, 5, X, b"\x00")),                   # 11 bad length 5
]

def hexdump(b):
    out = []
    for i in range(0, len(b), 16):
        out.append("%06x " % i + " ".join("%02x" % c for c in b[i:i + 16]))
    return "\n".join(out) + "\n"

if len(sys.argv) == 1:
  for src, sp, dst, dp, fl, o in FRAMES4:
    sys.stdout.write(hexdump(ip4(src, dst, tcp(sp, dp, fl, o))))


def token(atype=0, addr=None, port=8443, sid=32, nonce=16, sig=32, trailing=b""):
    addr = addr if addr is not None else (v4("198.51.100.7") if atype == 0 else v6("2001:db8::7"))
    t = bytes([atype]) + addr + struct.pack("!H", port)
    t += bytes([sid]) + b"\x11" * sid + struct.pack("!Q", 1800000000)
    t += bytes([nonce]) + b"\x22" * nonce + bytes([sig]) + b"\x33" * sig
    return t + trailing


def client_hello(exts):
    e = b"\x00\x2b\x00\x03\x02\x03\x04"  # supported_versions: TLS 1.3
    for typ, body in exts:
        e += struct.pack("!HH", typ, len(body)) + body
    ch = b"\x03\x03" + b"\x5a" * 32 + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
    ch += struct.pack("!H", len(e)) + e
    hs = b"\x01" + struct.pack("!I", len(ch))[1:] + ch
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def encrypted_extensions(exts):
    """EncryptedExtensions in a cleartext record: encrypted on the wire,
    but the dissector reads it the same way once decrypted."""
    e = b""
    for typ, body in exts:
        e += struct.pack("!HH", typ, len(body)) + body
    ee = struct.pack("!H", len(e)) + e
    hs = b"\x08" + struct.pack("!I", len(ee))[1:] + ee
    return b"\x16\x03\x03" + struct.pack("!H", len(hs)) + hs


def credential(atype=0, port=8443, trailing=b""):
    """The reattach extension's credential (include/saf/reattach.h)."""
    addr = v4("198.51.100.7") if atype == 0 else v6("2001:db8::7")
    return bytes(range(16)) + bytes([atype]) + addr + struct.pack("!H", port) + trailing


TLS_FRAMES = [
    client_hello([(0xFE4D, b""), (0xFE50, token())]),                        # 1 valid v4 token
    client_hello([(0xFE50, token(atype=1, port=443))]),                      # 2 valid v6 token
    client_hello([(0xFE50, token(sig=31))]),                                 # 3 signature too short
    client_hello([(0xFE50, token(trailing=b"\x00"))]),                       # 4 trailing byte
    client_hello([(0xFE50, token(atype=2, addr=b"\x01\x02\x03\x04"))]),      # 5 unknown type
    client_hello([(0xFE50, token()[:40])]),                                  # 6 truncated
    client_hello([(0xFE4D, b"\x00")]),                                       # 7 non-empty support
    b"\x15\x03\x03\x00\x02\x01\xf0",                                         # 8 alert 0xF0
    client_hello([(0xFE52, b"\x01"), (0xFE53, b"\x00")]),                     # 9 reattach offer
    client_hello([(0xFE53, b"\x01")]),                                       # 10 reattach mode
    client_hello([(0xFE53, b"\x02")]),                                       # 11 unknown mode
    client_hello([(0xFE53, b"\x00\x00")]),                                   # 12 two bytes
    encrypted_extensions([(0xFE53, credential())]),                          # 13 v4 credential
    encrypted_extensions([(0xFE53, credential(atype=1, port=443))]),         # 14 v6 credential
    encrypted_extensions([(0xFE53, credential(port=0))]),                    # 15 port 0
    encrypted_extensions([(0xFE53, credential(trailing=b"\x00"))]),          # 16 trailing byte
]

if len(sys.argv) > 1 and sys.argv[1] == "tls":
    for i, payload in enumerate(TLS_FRAMES):
        # separate connections (source ports) so each is dissected afresh
        sys.stdout.write(hexdump(ip4("10.0.0.1", "192.0.2.80", tcp(41000 + i, 443, ACK | 0x08, b"") + payload)))
