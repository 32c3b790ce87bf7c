#!/usr/bin/python3
"""http_load.py URL... [--concurrency N] [--header NAME:VALUE] - GETs every URL (in order,
N at a time) and prints one JSON object per line: {"url", "status", "seconds", "body"}.
The lab runs it inside a namespace (Lab.run_in_client) to talk to a server listening
there; standard library only."""
import argparse
import concurrent.futures
import json
import sys
import time
import urllib.error
import urllib.request


def get(url, headers, timeout):
    start = time.monotonic()
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    except OSError as e:
        status, body = 0, str(e).encode()
    return {"url": url, "status": status, "seconds": time.monotonic() - start,
            "body": body.decode("utf-8", "replace")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("urls", nargs="+")
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=20)
    args = ap.parse_args()
    headers = dict(h.split(":", 1) for h in args.header)
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        for result in pool.map(lambda u: get(u, headers, args.timeout), args.urls):
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
