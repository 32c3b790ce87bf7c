"""scenarios_cloud_more.py - the metadata service's edges the first cloud scenarios
(scenarios_cloud.py) left open: a metadata host given by name whose lookup never ends,
serve asking again after a failure, and a metadata service whose SYNs are dropped.

As there, every run passes --cloud PROVIDER with --imds-endpoint and --cloud-resolver
pointing into the lab (or --cloud-resolver none): nothing here asks a real metadata or
cloud resolver address, nor this machine's resolver (the client's resolv.conf names only
the lab's).
"""

import json
import os
import time

import scenarios as S
import scenarios_cloud as C
from lab import RESOLVER_IP, ZONE_A, expect, expect_eq

PORT = S.PORT
# A metadata host given by name, which the lab's resolver is never able to answer.
IMDS_NAME = "imds.audit.invalid"
BACKOFF = 3  # s: serve's metadata back-off in the lab (LINKDOCTOR_METADATA_BACKOFF)


@S.scenario("cloud.metadata_unavailable.name_lookup_hangs", timed=True)
def metadata_name_lookup_hangs(lab):
    # --imds-endpoint names a host, and the resolver (the lab's VPC resolver, its queries
    # dropped) never answers: libcurl's resolver thread is still in getaddrinfo() when
    # --timeout ends the run. It must not hold the process: the run ends by --timeout.
    lab.start_listener(ZONE_A, PORT)
    lab.add_endpoint_address(RESOLVER_IP)
    lab.firewall("endpoint", f"ip daddr {RESOLVER_IP} udp dport 53 drop")
    lab.firewall("endpoint", f"ip daddr {RESOLVER_IP} tcp dport 53 drop")
    lab.set_client_etc("nsswitch.conf", "hosts: files dns\n")
    target = f"{ZONE_A}:{PORT}"
    run = lab.run(target, timeout=0.5, extra=["--cloud", "aws", "--imds-endpoint",
                                              f"http://{IMDS_NAME}", "--cloud-resolver", "none"])
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok", "cloud.metadata_unavailable")
    t.expect_fact("cloud.metadata_available", False)
    t.expect_fact("cloud.metadata_failure", "cut")
    run.expect_wall(0.4, 0.6)
    # The metadata's own deadline (about 1 s) inside a longer --timeout ends the same way:
    # the run does not wait for the lookup either.
    run = lab.run(target, timeout=3, extra=["--cloud", "aws", "--imds-endpoint",
                                            f"http://{IMDS_NAME}", "--cloud-resolver", "none"])
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_fact("cloud.metadata_available", False)
    # Named for what happened: the name never resolved - not the hop limit.
    t.expect_fact("cloud.metadata_failure", "unreachable")
    C.expect_in(f"the name {IMDS_NAME} did not resolve within", t.fact("cloud.metadata_error"),
                "the error")
    run.expect_wall(0.0, 1.4)


@S.scenario("cloud.metadata_unavailable.connect_dropped", timed=True)
def metadata_connect_dropped(lab):
    # A firewall drops the SYNs to the metadata service: no connection is ever made, so the
    # token request's silence is not the hop limit's doing (that drops only the reply on a
    # connection made) - connect_timeout, and a fix that looks for the rule that drops it.
    lab.start_service(PORT, [ZONE_A], S.NAME)
    lab.start_dns({S.NAME: [ZONE_A]}, listen=C.CLOUD_RESOLVER_IP)
    log = C.start_imds(lab, "aws")
    lab.block("endpoint", C.METADATA_IP, 80)
    run = C.cloud_run(lab, "aws", S.TARGET)
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok", "cloud.metadata_unavailable")
    t.expect_fact("cloud.metadata_failure", "connect_timeout")
    C.expect_in("PUT /latest/api/token: no connection within", t.fact("cloud.metadata_error"),
                "the error")
    d = t.diagnosis("cloud.metadata_unavailable")
    C.expect_in("firewall rule that drops traffic to the metadata address", d["summary"],
                "the summary")
    expect("hop limit of 1" not in d["summary"], f"the summary blames the hop limit: {d['summary']}")
    C.expect_in("drops traffic to 169.254.169.254", d["remediation"], "the fix")
    expect("hop-limit" not in d["remediation"], f"the fix blames the hop limit: {d['remediation']}")
    expect_eq(C.requests(log), [], "requests that reached the metadata service")
    run.expect_wall(0.9, 1.4)


@S.scenario("cloud.serve_asks_metadata_again_after_failure", timed=True)
def serve_asks_metadata_again(lab):
    # serve started while the metadata service refuses (IMDS turned off: 403): the failure
    # is reused until its back-off has passed (LINKDOCTOR_METADATA_BACKOFF, for tests: BACKOFF;
    # 60 s by default), then asked again - the service, switched on meanwhile, answers, and
    # that answer is kept for the rest of the process.
    import scenarios_serve as SV
    C.dropped_service(lab)
    C.start_imds(lab, "aws", "forbidden")
    os.environ["LINKDOCTOR_METADATA_BACKOFF"] = str(BACKOFF)
    try:
        s = SV.Serve(lab, "--cloud", "aws", "--imds-endpoint", C.ENDPOINT, "--cloud-resolver",
                     C.CLOUD_RESOLVER_IP)
    finally:
        del os.environ["LINKDOCTOR_METADATA_BACKOFF"]
    try:
        def probe(what):
            (r,) = s.get(SV.probe_url(S.TARGET, format="json"))
            expect_eq(r["status"], 200, f"{what}: status")
            report = json.loads(r["body"])
            S.L.validate_report(report, lab.source_dir)
            return report, report["targets"][0]

        # The server's back-off starts when its lookup ends: after t0, before t1.
        t0 = time.monotonic()
        _, t = probe("the first probe")
        t1 = time.monotonic()
        expect_eq(t["facts"].get("cloud.metadata_failure"), "http_status",
                  "the first probe's metadata failure")
        # The service is switched on; a probe within the back-off reuses the failure.
        log = C.restart_imds(lab, "aws", "ok")
        expect(time.monotonic() < t0 + BACKOFF - 0.5, "the metadata service took too long to start")
        _, t = probe("a probe within the back-off")
        expect_eq(t["facts"].get("cloud.metadata_failure"), "http_status",
                  "the metadata failure within the back-off")
        expect_eq(C.requests(log), [], "requests to the metadata service within the back-off")
        time.sleep(max(0.0, t1 + BACKOFF + 0.1 - time.monotonic()))
        for round_ in range(2):
            report, t = probe(f"probe {round_} after the back-off")
            expect_eq(report["host"]["cloud"].get("instance_id"), C.AWS_INSTANCE,
                      f"probe {round_} after the back-off: host.cloud.instance_id")
            expect("cloud.metadata_failure" not in t["facts"],
                   f"probe {round_} after the back-off: a metadata failure")
        tokens = [q for q in C.requests(log) if q["method"] == "PUT"]
        expect_eq(len(tokens), 1, f"token requests once the service answered: {C.requests(log)}")
        code, _ = s.stop()
        expect_eq(code, 0, "exit code after SIGTERM")
    finally:
        s.close()
