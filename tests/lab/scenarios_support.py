"""scenarios_support.py - a report a support engineer can act on (issue 16): the host
context a real run records in the client namespace (interfaces, resolv.conf, the hosts
line of the target, masked proxy variables, the route of each address), the text's Host
block, and the Markdown of the saved report through a real Markdown renderer.

Every scenario's JSON report is also rendered again by `linkdoctor show` and compared with
the text the run printed (lab.py, _report_run): that round trip is not repeated here.
"""

import os
import subprocess
import sys
import tempfile

import scenarios as S
from scenarios import NAME, PORT, ZONE_A, expect, expect_eq, expect_in

L = S.L
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import markdown_check  # noqa: E402

TARGET = f"{NAME}:{PORT}"


@S.scenario("support.host_context")
def support_host_context(lab):
    # A forgotten hosts line for the target and a proxy with credentials in the
    # environment: both must be in the report, the password not.
    lab.start_service(PORT, [ZONE_A], name=NAME)
    lab.set_hosts({NAME: ZONE_A})
    lab.set_resolv_conf(L.RESOLVER_IP, options=("timeout:1", "attempts:3"))
    proxy = "http://alice:s3cret@proxy.lab.test:3128"
    run = lab.run(TARGET, env={"HTTPS_PROXY": proxy})
    run.expect_outcome(1, "warning")  # the hosts-file override is the finding
    host = run.report["host"]

    expect(host.get("kernel"), f"the kernel release: {host.get('kernel')!r}")
    expect(host.get("os", {}).get("id"), f"the distribution: {host.get('os')!r}")
    expect(host.get("time", "").endswith("Z"), f"the clock in UTC: {host.get('time')!r}")
    ifaces = {i["name"]: i for i in host.get("interfaces", [])}
    expect_eq(sorted(ifaces), sorted(["lo", lab.veth_c]), "the client namespace's interfaces")
    veth = ifaces[lab.veth_c]
    expect_eq(veth["state"], "up", "the veth's state")
    expect(isinstance(veth["mtu"], int) and veth["mtu"] >= 1280, f"the veth's MTU {veth['mtu']!r}")
    expect_in(f"{L.CLIENT_IP}/24", veth["addresses"], "the veth's address with its prefix")

    rc = host.get("resolv_conf") or {}
    expect_eq(rc.get("nameservers"), [f"{L.RESOLVER_IP}:53"], "resolv.conf nameservers")
    expect_eq(rc.get("options"), ["timeout:1", "attempts:3"], "resolv.conf options")
    expect_eq(rc.get("hosts_entries"), [{"line": 3, "text": f"{ZONE_A} {NAME}"}],
              "the hosts-file line of the target")
    proxies = host.get("proxy_env", {})
    expect_in("HTTPS_PROXY", proxies, "the proxy variable")
    expect("s3cret" not in proxies["HTTPS_PROXY"], f"the password is masked: {proxies!r}")
    expect_in("proxy.lab.test:3128", proxies["HTTPS_PROXY"], "the proxy itself")

    # The route the kernel picks for the address: through the VPC router, from the
    # instance's address, on the veth, with its MTU.
    a = run.target().expect_attempt(ZONE_A, route="gateway", route_gateway=L.ROUTER_IP,
                                    route_interface=lab.veth_c, route_source=L.CLIENT_IP)
    expect_eq(a.get("route_mtu"), veth["mtu"], "the route's MTU (the veth's: it sets none)")

    # The text ends with the same, short; the first screen stays about the diagnosis.
    text = run.text
    expect(text.index("[WARNING] dns.hosts_override") < text.index("\nHost: "),
           "the Host block comes after the diagnosis")
    expect_in(f"  Routes       {ZONE_A}: via {L.ROUTER_IP} dev {lab.veth_c} src {L.CLIENT_IP}",
              text, "the route in the Host block")
    expect_in(f"  /etc/hosts   line 3: {ZONE_A} {NAME}", text, "the hosts line in the Host block")

    # The saved report as Markdown, for the ticket: what a renderer makes of it is
    # Markdown's elements only.
    saved = os.path.join(lab.tmp, f"saved-{lab._saved}.json")
    p = subprocess.run([lab.binary, "show", saved, "--format", "markdown"],
                       capture_output=True, text=True, timeout=30)
    expect_eq(p.returncode, 1, "show's exit code is the report's verdict")
    expect(p.stdout.startswith(f"# WARNING: `{TARGET}`\n"), f"the heading: {p.stdout[:80]!r}")
    with tempfile.NamedTemporaryFile("w", suffix=".md", dir=lab.tmp, delete=False) as f:
        f.write(p.stdout)
    expect_eq(markdown_check.check(f.name), [], "the Markdown, rendered")


@S.scenario("support.analyze_records_no_host_context")
def support_analyze_records_no_host_context(lab):
    # A support engineer analyses a customer's pcap on their own machine: that machine's
    # interfaces, resolv.conf and proxy are not the customer's, so the report has none.
    L.need_tools("tcpdump")
    lab.start_service(PORT, [ZONE_A], name=NAME)
    lab.set_resolv_conf(L.RESOLVER_IP, options=("timeout:1",))
    pcap = os.path.join(lab.tmp, "customer.pcap")
    S._record(lab, pcap, lambda: lab.run(TARGET).expect_outcome(0, "ok"))
    run = lab.analyze(pcap, f"{ZONE_A}:{PORT}")
    run.expect_outcome(0, "ok")
    host = run.report["host"]
    for key in ("os", "kernel", "time", "interfaces", "resolv_conf", "proxy_env"):
        expect(key not in host, f"the analysing machine's host.{key} is in the report: {host!r}")
    expect_in("\nHost: not recorded (analysis of a capture file)\n", run.text,
              "the text's Host line")
    expect(lab.veth_c not in run.text, f"the analysing machine's interfaces:\n{run.text}")
