"""scenarios_dns_more.py - the DNS check when the same server is asked twice.

`--dns-server` naming a nameserver that /etc/resolv.conf lists already (README's own EC2
example: `--dns-server 10.0.0.2`, the VPC resolver) is two asks of one server: the
system's and the option's. Each keeps its own evidence; before issue 13 item 2 the second
overwrote the first, and the check ended UNKNOWN ("no rule matched") with no TCP check.
"""

import scenarios as S
from lab import RESOLVER_IP, ZONE_A, expect, expect_eq

NAME, PORT, TARGET = S.NAME, S.PORT, S.TARGET
RESOLVER = f"{RESOLVER_IP}:53"


@S.scenario("dns.same_server_twice")
def dns_same_server_twice(lab):
    lab.start_service(PORT, [ZONE_A], NAME)
    run = lab.run(TARGET, dns_servers=[RESOLVER_IP])
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    # Both asks of the one server are reported, each with its own source and answer.
    rows = [d for d in t.dns_probes() if d.get("server", "").startswith(RESOLVER)]
    expect_eq(sorted(d.get("source") for d in rows), ["option", "system"],
              f"the resolver rows of {RESOLVER} (have {t.dns_probes()})")
    for d in rows:
        expect_eq(d.get("rcode"), "NOERROR", f"the {d.get('source')} row's rcode")
        expect_eq(d.get("addresses"), [ZONE_A], f"the {d.get('source')} row's answer")
    t.expect_fact("dns.resolver_count", 2)
    t.expect_fact("dns.system_resolver_count", 1)
    t.expect_fact("dns.custom_resolver_count", 1)
    t.expect_fact("dns.system_responding_count", 1)
    t.expect_fact("dns.responding_count", 2)
    t.expect_fact("dns.answer_resolver", RESOLVER)
    t.expect_fact("dns.addresses", [ZONE_A])
    # And the check went on to connect.
    t.expect_attempt(ZONE_A, state="open", expected=True)
    # The text report's timeline lists both asks of the server, each with its source.
    _, code, out, err, _ = lab.run_raw(["check", TARGET, "--format", "text", "--cloud", "none",
                                        "--dns-server", RESOLVER_IP])
    expect_eq(code, 0, f"exit code of the text run (stderr: {err.strip()})")
    timeline = [line.split() for line in out.splitlines() if line.strip().startswith("DNS ")]
    sources = sorted(words[2] for words in timeline if words[1] == RESOLVER)
    expect_eq(sources, ["option", "system"], f"the timeline's rows of {RESOLVER}:\n{out}")
