"""scenarios_http.py - the HTTP and TLS verdicts of a peer that answers, but badly
(issue 13, items 6 and 15): each scenario runs a peer of tests/hostile/hostile.py in the
endpoint namespace and asserts the one diagnosis it must give and the facts and words
it gives it from. The hostile suite asserts that every misbehaviour gets some warning or
critical verdict; these say which, and why.
"""

import os
import sys

import scenarios as S
from scenarios import NAME, PORT, ZONE_A, expect, expect_eq, expect_in, expect_tcp_open

HOSTILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hostile", "hostile.py")


def start_hostile(lab, kind, move, tls_app=None):
    """hostile.py's KIND server making MOVE on ZONE_A:PORT (a TLS server for the app
    tls_app when kind is "tls", with the lab's good certificate)."""
    argv = [sys.executable, HOSTILE, kind, move, "--listen", f"{ZONE_A}:{PORT}"]
    if tls_app:
        argv += ["--tls", lab.certs.good().cert, lab.certs.good().key, "--app", tls_app]
    return lab.start_server(f"hostile {kind} {move}", argv, addresses=[ZONE_A])


def check(lab, scheme, exit_code, verdict, diagnosis):
    """Runs the check of NAME:PORT (resolving to ZONE_A) and returns its target, whose
    only diagnosis must be `diagnosis` on an open connection."""
    lab.start_dns({NAME: [ZONE_A]})
    extra = ["--cacert", lab.certs.ca] if scheme == "https" else []
    run = lab.run(f"{scheme}://{NAME}:{PORT}/", connect_timeout=1, extra=extra)
    run.expect_outcome(exit_code, verdict)
    t = run.target()
    t.expect_only_diagnoses(diagnosis)
    expect_tcp_open(t)
    return t


@S.scenario("http.not_http")
def http_not_http(lab):
    # A TLS-only port asked in plain HTTP answers the GET with a TLS alert record:
    # quoted, and recognised as TLS.
    start_hostile(lab, "http", "tls_record")
    t = check(lab, "http", 2, "critical", "http.not_http")
    t.expect_fact("http.result", "not_http")
    t.expect_fact("http.reply", "15 03 03 00 02 02 46")
    t.expect_fact("http.tls_reply", True)
    t.expect_fact("http.failed_addresses", [ZONE_A])
    t.expect_service_probe("http", ZONE_A, result="not_http", tls_reply=True)
    d = t.diagnosis("http.not_http")
    expect_eq(d.get("title"), f"Port {PORT} answers, but not with HTTP", "title")
    expect_in('with "15 03 03 00 02 02 46": that is not HTTP', d.get("summary", ""), "the summary")
    expect_in(f"this port speaks TLS: use https://{NAME}:{PORT}/", d.get("summary", ""),
              "the summary")


@S.scenario("http.not_http.garbage")
def http_not_http_garbage(lab):
    # Random bytes for ever: quoted in hex, and read no further than that (the run ends
    # long before --connect-timeout).
    start_hostile(lab, "http", "garbage_flood")
    t = check(lab, "http", 2, "critical", "http.not_http")
    reply = t.fact("http.reply")
    expect(len(reply.split(" ")) == 16 and all(len(b) == 2 for b in reply.split(" ")),
           f"http.reply should be 16 bytes in hex: {reply!r}")
    t.expect_fact("http.tls_reply", False)
    t.expect_service_probe("http", ZONE_A, result="not_http", ended_by="result")
    expect("TLS" not in t.diagnosis("http.not_http").get("summary", ""),
           "the summary of a reply that is not TLS says nothing of TLS")


@S.scenario("http.no_response.closed")
def http_no_response_closed(lab):
    # A TLS-only port that closes a plain GET without a word: no response, said as a
    # close (not a timeout), with the hint that the port may speak TLS.
    start_hostile(lab, "tls", "ok", tls_app="http")
    t = check(lab, "http", 2, "critical", "http.no_response")
    t.expect_fact("http.result", "closed")
    t.expect_fact("http.closed_addresses", [ZONE_A])
    t.expect_fact("http.no_response_addresses", [])
    d = t.diagnosis("http.no_response")
    expect_in("then closed it without a byte of reply to GET /", d.get("summary", ""),
              "the summary")
    expect_in(f"try https://{NAME}:{PORT}/", d.get("remediation", ""), "the remediation")


@S.scenario("http.incomplete_response")
def http_incomplete_response(lab):
    # "100 Continue" every 100 ms and never a final status: not ok with status 100.
    start_hostile(lab, "http", "continue_forever")
    t = check(lab, "http", 2, "critical", "http.incomplete_response")
    t.expect_fact("http.result", "incomplete")
    t.expect_fact("http.incomplete", "interim_only")
    t.expect_fact("http.responded_count", 0)
    t.expect_service_probe("http", ZONE_A, result="incomplete", status=100,
                           incomplete="interim_only")
    expect_in("sent only interim 1xx status lines (such as 100 Continue) and never a final status",
              t.diagnosis("http.incomplete_response").get("summary", ""), "the summary")


@S.scenario("http.incomplete_response.too_large")
def http_incomplete_response_too_large(lab):
    # 6 MB of headers: libcurl's "Too large response headers" used to reach only the
    # probe's evidence, under an ok verdict.
    start_hostile(lab, "http", "header_flood")
    t = check(lab, "http", 2, "critical", "http.incomplete_response")
    t.expect_fact("http.incomplete", "too_large")
    expect_in("sent headers larger than clients accept",
              t.diagnosis("http.incomplete_response").get("summary", ""), "the summary")


@S.scenario("http.broken_body")
def http_broken_body(lab):
    # 200 with Content-Length 100000 and 10 bytes of it: a warning, the status itself ok.
    start_hostile(lab, "http", "truncated_body")
    t = check(lab, "http", 1, "warning", "http.broken_body")
    t.expect_fact("http.result", "response")
    t.expect_fact("http.status_matches", True)
    expect_in("99990 bytes remaining", t.fact("http.body_error"), "http.body_error")
    expect_in("with 200, but the body broke off",
              t.diagnosis("http.broken_body").get("summary", ""), "the summary")


@S.scenario("tls.handshake_stalled.incomplete")
def tls_handshake_stalled_incomplete(lab):
    # The server's first flight dripped one byte every 500 ms (issue 13, item 15): the
    # reply began, so the report must not say it never came; the diagnosis and the
    # timeline word it from the same fact.
    start_hostile(lab, "tls", "drip", tls_app="http")
    t = check(lab, "https", 2, "critical", "tls.handshake_stalled")
    t.expect_fact("tls.result", "incomplete")
    got = t.fact("tls.reply_bytes")
    expect(isinstance(got, int) and got >= 1, f"tls.reply_bytes should count the bytes: {got!r}")
    t.expect_service_probe("tls", ZONE_A, result="incomplete", reply_bytes=got)
    summary = t.diagnosis("tls.handshake_stalled").get("summary", "")
    expect_in(f"only {got} bytes of a reply to the ClientHello came before the deadline", summary,
              "the summary")
    expect("got no reply" not in summary, f"the summary says the reply never came: {summary!r}")
