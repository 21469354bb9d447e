#!/usr/bin/env python3
"""The raw peer of early_data_replay.sh: it records a client's 0-RTT first
flight and sends those exact bytes again, as an attacker on the path can.

  capture LISTEN_PORT TARGET_PORT OUT   relay one connection on 127.0.0.1;
      the client's bytes up to its first pause (400 ms without a byte: it
      then waits for the server's flight) are its first flight — ClientHello,
      ChangeCipherSpec, the early-data records — saved to OUT before they are
      forwarded; then both ways as is. Prints the flight's record types.
  replay TARGET_PORT FILE               a fresh TCP connection that sends FILE
      and reads for 2 s (it has no keys: it cannot finish the handshake).
      Prints the types of the records it got back ("nothing" if none).
Each mode handles one connection and gives up after 30 s."""
import socket, sys, time

from relay_lib import accept_one, relay_both_ways


def record_types(data):
    """The content types of the TLS records in data, and whether it ends on a
    record boundary."""
    types, off = [], 0
    while off + 5 <= len(data):
        types.append(data[off])
        off += 5 + int.from_bytes(data[off + 3:off + 5], "big")
    return types, off == len(data)


def first_flight(conn):
    data = b""
    conn.settimeout(10)
    data += conn.recv(65536)  # the ClientHello starts the flight
    conn.settimeout(0.4)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            d = conn.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        data += d
    conn.settimeout(30)
    return data


def capture(listen_port, target_port, out):
    client = accept_one(listen_port, 30)
    flight = first_flight(client)
    with open(out, "wb") as f:
        f.write(flight)
    types, whole = record_types(flight)
    print("captured %d bytes: records %s%s" % (len(flight), ",".join(map(str, types)),
                                               "" if whole else " (cut mid-record)"), flush=True)
    up = socket.create_connection(("127.0.0.1", target_port), timeout=30)
    up.sendall(flight)
    relay_both_ways(client, up, 30)


def replay(target_port, path):
    with open(path, "rb") as f:
        flight = f.read()
    s = socket.create_connection(("127.0.0.1", target_port), timeout=30)
    s.sendall(flight)
    got = b""
    s.settimeout(0.2)
    deadline = time.time() + 2
    while time.time() < deadline:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not d:
            break
        got += d
    s.close()
    types, _ = record_types(got)
    print("got records %s" % (",".join(map(str, types)) or "nothing"), flush=True)


if sys.argv[1] == "capture":
    capture(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
elif sys.argv[1] == "replay":
    replay(int(sys.argv[2]), sys.argv[3])
else:
    sys.exit("usage: early_data_replay.py capture LISTEN TARGET OUT | replay TARGET FILE")
