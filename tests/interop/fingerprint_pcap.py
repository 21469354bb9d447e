#!/usr/bin/env python3
"""Writes capture files that certa fingerprint must read, each holding one
ClientHello from ../shared/testdata/ja4/vectors.tsv in a client stream that
is hard to reassemble: the message cut into three TLS records, the records
into four TCP segments sent out of order (2, 1, 1 again, 4, 3), beside a
server direction that starts with a ServerHello and a late-joined stream
with no SYN. One file per link layer (Ethernet with a VLAN tag, BSD
loopback/null, raw IP, Linux cooked SLL and SLL2), IPv4 and IPv6 (with a
hop-by-hop extension header). Prints "FILE JA4 JA3 JA3_FULL" per file.
Usage: fingerprint_pcap.py OUTDIR VECTORS.TSV ROW_NAME"""
import struct, sys

outdir, vectors, row_name = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [l.rstrip("\n").split("\t") for l in open(vectors)]
head = rows[0]
row = dict(zip(head, next(r for r in rows[1:] if r[0] == row_name)))
msg = bytes.fromhex(row["client_hello_hex"])

# Three records, cut at a third and two thirds of the message.
cuts = [0, len(msg) // 3, 2 * len(msg) // 3, len(msg)]
stream = b"".join(b"\x16\x03\x01" + struct.pack("!H", b - a) + msg[a:b]
                  for a, b in zip(cuts, cuts[1:]))
quarter = len(stream) // 4
pieces = [(i * quarter, stream[i * quarter:(i + 1) * quarter if i < 3 else len(stream)])
          for i in range(4)]
order = [1, 0, 0, 3, 2]  # out of order, with a retransmission

SYN, ACK, PSH = 0x02, 0x10, 0x08
CLIENT_ISN, SERVER_ISN = 0xFFFFFF00, 5000  # the client's sequence numbers wrap


def tcp(sport, dport, seq, flags, payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, 0, 5 << 4, flags,
                       65535, 0, 0) + payload


def ipv4(src, dst, payload):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, 6, 0,
                       bytes(src), bytes(dst)) + payload


def ipv6(src, dst, payload):
    hop_by_hop = bytes([6, 0]) + b"\x01\x04\x00\x00\x00\x00"  # next: TCP, 8 bytes, PadN
    body = hop_by_hop + payload
    return struct.pack("!IHBB16s16s", 6 << 28, len(body), 0, 64, bytes(src), bytes(dst)) + body


def packets(ip, client, server):
    out = [ip(client, server, tcp(40001, 443, CLIENT_ISN, SYN)),
           ip(server, client, tcp(443, 40001, SERVER_ISN, SYN | ACK))]
    for i in order:
        off, data = pieces[i]
        out.append(ip(client, server, tcp(40001, 443, CLIENT_ISN + 1 + off, ACK | PSH, data)))
    # The server's answer: a handshake record, but a ServerHello.
    out.append(ip(server, client, tcp(443, 40001, SERVER_ISN + 1, ACK | PSH,
                                      b"\x16\x03\x03\x00\x04\x02\x00\x00\x00")))
    # A stream the capture joined late: application data, no SYN.
    out.append(ip(client, server, tcp(40002, 443, 777, ACK | PSH, b"\x17\x03\x03\x00\x02hi")))
    return out


V4 = ([127, 0, 0, 1], [127, 0, 0, 2])
V6 = ([0] * 15 + [1], [0xfd] + [0] * 14 + [2])


def write(name, linktype, frames):
    path = f"{outdir}/{name}"
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for k, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, k, len(fr), len(fr)) + fr)
    print(path, row["ja4"], row["ja3"], row["ja3_full"])


def ether(p, v6=False):
    vlan = b"\x81\x00\x00\x07"
    return b"\x02" * 6 + b"\x04" * 6 + vlan + (b"\x86\xdd" if v6 else b"\x08\x00") + p


write("ethernet-vlan-v4.pcap", 1, [ether(p) for p in packets(ipv4, *V4)])
write("null-v6.pcap", 0, [struct.pack("<I", 10) + p for p in packets(ipv6, *V6)])
write("raw-v4.pcap", 101, packets(ipv4, *V4))
write("sll-v6.pcap", 113,
      [struct.pack("!HHH8sH", 0, 772, 0, b"", 0x86DD) + p for p in packets(ipv6, *V6)])
write("sll2-v4.pcap", 276,
      [struct.pack("!HHIHBB8s", 0x0800, 0, 1, 772, 0, 0, b"") + p for p in packets(ipv4, *V4)])
