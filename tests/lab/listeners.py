"""listeners.py ADDRESS FIRST-LAST[/STEP]... - many TCP services in one process: a
listening socket on ADDRESS for every port of each range (every STEP-th port), each
accepting connections and closing them at once, like tests/lab/listener.py for one port.

One process with 500 sockets costs a few MB where 500 listener processes would cost GBs
and seconds to start. Prints "ready" once every socket listens (the lab waits for that
line: Lab.start_server). Accepting keeps each backlog free over hundreds of scans.
"""
import selectors
import socket
import sys


def ports(spec):
    """FIRST-LAST[/STEP] -> the ports it names."""
    span, _, step = spec.partition("/")
    first, _, last = span.partition("-")
    return range(int(first), int(last or first) + 1, int(step or 1))


def main():
    address = sys.argv[1]
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sel = selectors.DefaultSelector()
    for spec in sys.argv[2:]:
        for port in ports(spec):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address, port))
            s.listen(128)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            try:
                conn, _ = key.fileobj.accept()
            except BlockingIOError:   # the client gave up before we came to it
                continue
            conn.close()


if __name__ == "__main__":
    main()
