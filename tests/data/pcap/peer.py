"""peer.py - the two ends of record.sh's connections (standard library only).

    peer.py serve ADDR PORT [PORT...]   accept on each port, read to EOF, close
    peer.py connect ADDR PORT SECONDS   connect, send a line, half-close, read to
                                        EOF, close; give up after SECONDS

serve closes each connection only after the client's FIN, so that a good
connection ends with a FIN from both sides (Zeek's SF). connect prints what
happened ("open", "refused", "timeout", "unreachable: ...") so that record.sh
can check each scenario did what its name says before keeping the capture.
"""
import errno
import selectors
import socket
import sys


def serve(addr, ports):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sel = selectors.DefaultSelector()
    for port in ports:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(8)
        sel.register(s, selectors.EVENT_READ, "listen")
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            if key.data == "listen":
                conn, _ = key.fileobj.accept()
                sel.register(conn, selectors.EVENT_READ, "conn")
            else:
                try:
                    data = key.fileobj.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()


def connect(addr, port, seconds):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(seconds)
    try:
        s.connect((addr, port))
    except socket.timeout:
        s.close()
        return "timeout"
    except ConnectionRefusedError:
        s.close()
        return "refused"
    except OSError as e:
        s.close()
        return "unreachable: " + errno.errorcode.get(e.errno, str(e.errno))
    s.sendall(b"linkdoctor\n")
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    s.close()
    return "open"


def main(argv):
    if len(argv) >= 3 and argv[0] == "serve":
        serve(argv[1], [int(p) for p in argv[2:]])
    elif len(argv) == 4 and argv[0] == "connect":
        print(connect(argv[1], int(argv[2]), float(argv[3])), flush=True)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
