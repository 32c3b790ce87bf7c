"""listener.py ADDRESS PORT [--silent] - the lab's TCP service: accepts connections and
closes them; with --silent it keeps each accepted connection open and never reads or
writes on it (a peer that accepts and never answers: a stalled TLS handshake, an MQTT
broker that sends no CONNACK).

Prints "ready" once the socket listens, so the lab waits for exactly that instead of
polling. The SYN-ACK comes from the kernel; accepting only keeps the backlog free.
"""
import socket
import sys

address, port = sys.argv[1], int(sys.argv[2])
silent = "--silent" in sys.argv[3:]
family = socket.AF_INET6 if ":" in address else socket.AF_INET
held = []   # --silent: the accepted connections, kept open until the lab stops us
with socket.socket(family, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(128)
    print("ready", flush=True)
    while True:
        conn, _ = s.accept()
        if silent:
            held.append(conn)
        else:
            conn.close()
