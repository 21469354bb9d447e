"""What the one-connection TCP relays of tests/interop share
(split_hello_relay.py, record_relay.py, early_data_replay.py)."""
import socket
import threading


def accept_one(listen_port, timeout):
    """Listens on 127.0.0.1:listen_port, says "relay listening" (the tests
    wait for it), and returns the first connection, with timeout set."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(1)
    srv.settimeout(timeout)
    print("relay listening", flush=True)
    client, _ = srv.accept()
    srv.close()
    client.settimeout(timeout)
    return client


def half_close(sock):
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def pump(src, dst, seen=None):
    """Copies src to dst until src ends (seen(data) is told each piece),
    then half-closes dst."""
    try:
        while True:
            d = src.recv(65536)
            if not d:
                break
            dst.sendall(d)
            if seen:
                seen(d)
    except OSError:
        pass
    half_close(dst)


def relay_both_ways(client, upstream, timeout, c2s=None, s2c=None):
    """Pumps both directions in two threads and waits for them (bounded)."""
    a = threading.Thread(target=pump, args=(client, upstream, c2s))
    b = threading.Thread(target=pump, args=(upstream, client, s2c))
    a.start()
    b.start()
    a.join(timeout)
    b.join(timeout)
