"""scenarios_cloud_more.py - the metadata service's edges the first cloud scenarios
(scenarios_cloud.py) left open: a metadata host given by name whose lookup never ends.

As there, every run passes --cloud PROVIDER with --imds-endpoint and --cloud-resolver
pointing into the lab (or --cloud-resolver none): nothing here asks a real metadata or
cloud resolver address, nor this machine's resolver (the client's resolv.conf names only
the lab's).
"""

import scenarios as S
import scenarios_cloud as C
from lab import RESOLVER_IP, ZONE_A, expect_eq

PORT = S.PORT
# A metadata host given by name, which the lab's resolver is never able to answer.
IMDS_NAME = "imds.audit.invalid"


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
    run.target().expect_fact("cloud.metadata_available", False)
    run.expect_wall(0.0, 1.4)
