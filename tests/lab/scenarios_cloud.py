"""scenarios_cloud.py - cloud awareness in the lab: the instance metadata of AWS, GCP and
Azure in the fixes, AZ IDs, a metadata service that hangs, refuses or answers garbage, the
cloud's own resolver as the cause of a public or missing answer, and --redact.

The metadata service is the lab's own (imds.py, one per provider, on METADATA_IP in the
endpoint namespace) and the cloud's resolver a second dnsmasq (CLOUD_RESOLVER_IP): every
run here passes --cloud PROVIDER with --imds-endpoint and --cloud-resolver pointing at
them. Nothing here ever asks a real metadata or cloud resolver address - the client
namespace has no default route, and 169.254.169.25x is not in the lab.
"""

import json
import os
import signal
import subprocess
import sys
import time

import scenarios as S
from lab import (CLIENT_IP, PUBLIC_IP, RESOLVER_IP, TIME_SLACK, ZONE_A, expect, expect_eq)

NAME, PORT, TARGET = S.NAME, S.PORT, S.TARGET
METADATA_IP = "10.0.5.254"          # the lab's metadata service (imds.py), port 80
CLOUD_RESOLVER_IP = "10.0.5.253"    # the lab's "cloud resolver" (a second dnsmasq)
IMDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "imds.py")
ENDPOINT = f"http://{METADATA_IP}"
# What imds.py serves (see there).
AWS_INSTANCE, AWS_ACCOUNT = "i-0abc1234def567890", "123456789012"
AWS_VPC, AWS_SUBNET = "vpc-0a1b2c3d4e5f60718", "subnet-0fedcba9876543210"
AWS_SGS = ["sg-0123456789abcdef0", "sg-0fedcba9876543210"]
GCP_PROJECT, GCP_NUMBER, GCP_INSTANCE = "prod-project-123", "412345678901", "4520117834512349876"
AZURE_SUBSCRIPTION = "8d10da13-8125-4ba9-a717-bf7490507b3d"
AZURE_VM_ID = "02aab8a4-74ef-476e-8182-f6d2ba4166a6"
# A proxy nobody runs: the metadata requests must not go there (nor anywhere but the lab).
PROXY_ENV = {"http_proxy": "http://10.0.9.53:3128", "HTTP_PROXY": "http://10.0.9.53:3128",
             "https_proxy": "http://10.0.9.53:3128", "ALL_PROXY": "http://10.0.9.53:3128"}


def start_imds(lab, provider, mode="ok", az_id=None):
    """The lab's metadata service for provider in mode; returns the path of its request
    log (one JSON line per request)."""
    log = os.path.join(lab.tmp, f"imds-{provider}-{mode}-{time.monotonic_ns()}.log")
    argv = [sys.executable, IMDS, METADATA_IP, "80", provider, mode, "--log", log]
    if az_id:
        argv += ["--az-id", az_id]
    lab.start_server(f"metadata service ({provider}, {mode}) on {METADATA_IP}:80", argv,
                     addresses=[METADATA_IP])
    return log


def restart_imds(lab, provider, mode):
    """Stops the lab's metadata service, if one runs, and starts provider's in mode."""
    for proc in [p for p in lab.procs if p.what.startswith("metadata service")]:
        lab.stop(proc)
    return start_imds(lab, provider, mode)


def requests(log):
    """The requests the metadata service saw, in order."""
    if not os.path.exists(log):
        return []
    with open(log) as f:
        return [json.loads(line) for line in f if line.strip()]


def cloud_run(lab, provider, *targets, extra=(), env=None, **kw):
    """lab.run on `provider`, its metadata service and resolver the lab's."""
    return lab.run(*targets, extra=["--cloud", provider, "--imds-endpoint", ENDPOINT,
                                    "--cloud-resolver", CLOUD_RESOLVER_IP, *extra],
                   env=env, **kw)


def expect_in(needle, text, what):
    expect(needle in text, f"{what} should contain {needle!r}:\n{text}")


def expect_host_cloud(run, **fields):
    cloud = run.report["host"]["cloud"]
    for key, value in fields.items():
        expect_eq(cloud.get(key), value, f"host.cloud.{key}")
    return cloud


def dropped_service(lab, cloud_resolver=True):
    """The service at ZONE_A, its SYNs dropped by the endpoint's security group; the cloud's
    resolver (when asked for) agrees with the VPC resolver."""
    lab.start_service(PORT, [ZONE_A], NAME)
    if cloud_resolver:
        lab.start_dns({NAME: [ZONE_A]}, listen=CLOUD_RESOLVER_IP)
    lab.block("endpoint", ZONE_A, PORT)


# --- real IDs in the fix of a dropped SYN, per cloud -------------------------------------

def dropped_fix(lab, provider, *phrases, env=None):
    """A dropped SYN on provider, its metadata service answering: the one finding is
    tcp.syn_dropped, whose fix is that cloud's and says each of phrases. Returns the run,
    the target and the metadata service's request log."""
    dropped_service(lab)
    log = start_imds(lab, provider)
    run = cloud_run(lab, provider, TARGET, env=env)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.syn_dropped")
    d = t.diagnosis("tcp.syn_dropped")
    expect_eq(d["remediation_cloud"], provider, "the fix's cloud")
    for phrase in phrases:
        expect_in(phrase, d["remediation"], "the fix")
    return run, t, log


@S.scenario("cloud.aws.syn_dropped_names_real_ids")
def aws_real_ids(lab):
    # A proxy in the environment changes nothing: metadata is asked directly.
    run, t, log = dropped_fix(
        lab, "aws",
        f"This instance ({AWS_INSTANCE}, {AWS_SUBNET}, {AWS_VPC}) has {', '.join(AWS_SGS)}: "
        "check their outbound rules",
        f"an inbound rule for TCP {PORT} from {CLIENT_IP}", env=PROXY_ENV)
    expect_host_cloud(run, provider="aws", source="option", metadata_available=True,
                      imds_version="v2", account=AWS_ACCOUNT, region="us-east-1",
                      zone="us-east-1a", az_id="use1-az4", instance_id=AWS_INSTANCE,
                      vpc=AWS_VPC, subnet=AWS_SUBNET, security_group_ids=AWS_SGS,
                      vpc_cidrs=["10.0.0.0/16", "100.64.0.0/16"], subnet_cidrs=["10.0.1.0/24"],
                      private_ips=[CLIENT_IP], metadata_endpoint=ENDPOINT)
    t.expect_fact("cloud.security_group_ids", AWS_SGS)
    # The cloud's resolver was asked and agrees.
    t.expect_fact("dns.cloud_resolver", f"{CLOUD_RESOLVER_IP}:53")
    t.expect_fact("dns.cloud_resolver_addresses", [ZONE_A])
    t.expect_fact("dns.cloud_resolver_private_missing_count", 0)
    expect_eq(t.dns_probe(CLOUD_RESOLVER_IP).get("source"), "cloud", "the cloud resolver's source")
    # IMDSv2: the token first, with its TTL; then every GET carries it; no proxy.
    seen = requests(log)
    expect(seen and seen[0]["method"] == "PUT" and seen[0]["path"] == "/latest/api/token",
           f"the token request comes first: {seen[:1]}")
    expect_eq(seen[0]["ttl"], "21600", "the token's TTL header")
    gets = [r for r in seen if r["method"] == "GET"]
    expect(len(gets) >= 9, f"the GETs of the instance and its interface: {gets}")
    expect(all(r["token"] for r in gets), f"every GET carries the token: {gets}")
    expect(all(r["host"] == METADATA_IP and not r["forwarded"] for r in seen),
           f"asked directly, not through a proxy: {seen}")
    # The token is never recorded.
    expect("AQAEAFake" not in run.stdout, "the session token appears in the report")


@S.scenario("cloud.gcp.syn_dropped_names_real_ids")
def gcp_real_ids(lab):
    run, t, log = dropped_fix(
        lab, "gcp",
        f"the VPC network prod-vpc needs an egress allow rule from this VM ({CLIENT_IP}) "
        f"to {ZONE_A} on TCP {PORT} for its network tags web, milvus-client")
    expect_host_cloud(run, provider="gcp", metadata_available=True, account=GCP_PROJECT,
                      project_number=GCP_NUMBER, zone="us-central1-a", region="us-central1",
                      instance_id=GCP_INSTANCE, instance_name="milvus-client-1", vpc="prod-vpc",
                      network_tags=["web", "milvus-client"], private_ips=[CLIENT_IP],
                      subnet_cidrs=["10.0.1.0/24"],
                      service_account=f"{GCP_NUMBER}-compute@developer.gserviceaccount.com")
    seen = requests(log)
    expect(len(seen) == 8 and all(r["flavor"] == "Google" for r in seen),
           f"eight GETs, each with Metadata-Flavor: Google: {seen}")


@S.scenario("cloud.azure.syn_dropped_names_real_ids")
def azure_real_ids(lab):
    run, t, log = dropped_fix(
        lab, "azure",
        "(VM vm-milvus-1 in resource group rg-prod, westeurope, subnet 10.0.1.0/24: "
        "`az vm show -g rg-prod -n vm-milvus-1")
    expect_host_cloud(run, provider="azure", metadata_available=True,
                      account=AZURE_SUBSCRIPTION, resource_group="rg-prod", region="westeurope",
                      zone="2", instance_id=AZURE_VM_ID, instance_name="vm-milvus-1",
                      private_ips=[CLIENT_IP], subnet_cidrs=["10.0.1.0/24"])
    seen = requests(log)
    expect(len(seen) == 1 and seen[0]["metadata"] == "true" and
           seen[0]["path"] == "/metadata/instance?api-version=2021-02-01",
           f"one GET of the instance document with Metadata: true: {seen}")


@S.scenario("cloud.dmi_confirmed_by_metadata")
def dmi_confirmed(lab):
    # --cloud auto: DMI says Amazon EC2, the metadata service confirms it. The DMI files
    # are world-readable, as /sys/class/dmi/id's are: linkdoctor reads them as nobody.
    dmi = os.path.join(lab.tmp, "dmi-aws")
    os.mkdir(dmi)
    for name in ("sys_vendor", "bios_vendor", "bios_version", "product_name", "chassis_asset_tag"):
        with open(os.path.join(dmi, name), "w") as f:
            f.write("Amazon EC2\n" if name in ("sys_vendor", "bios_vendor") else "\n")
    for path in (lab.tmp, dmi):
        os.chmod(path, 0o755)
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.start_dns({NAME: [ZONE_A]}, listen=CLOUD_RESOLVER_IP)
    start_imds(lab, "aws")
    run = lab.run(TARGET, env={"LINKDOCTOR_DMI_DIR": dmi},
                  extra=["--cloud", "auto", "--imds-endpoint", ENDPOINT,
                         "--cloud-resolver", CLOUD_RESOLVER_IP])
    run.expect_outcome(0, "ok")
    expect_host_cloud(run, provider="aws", source="metadata", account=AWS_ACCOUNT)
    run.target().expect_fact("cloud.provider_source", "metadata")


# --- AZ IDs ---------------------------------------------------------------------------

@S.scenario("cloud.az_mismatch")
def az_mismatch(lab):
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.start_dns({NAME: [ZONE_A]}, listen=CLOUD_RESOLVER_IP)
    log = start_imds(lab, "aws", az_id="use1-az4")
    run = cloud_run(lab, "aws", TARGET, extra=["--expect-az-id", "use1-az1,use1-az2"])
    run.expect_outcome(1, "warning")
    t = run.target()
    t.expect_only_diagnoses("cloud.az_mismatch")
    t.expect_fact("target.expected_az_ids", ["use1-az1", "use1-az2"])
    d = t.diagnosis("cloud.az_mismatch")
    expect_eq(d["severity"], "warning", "severity")
    expect_in("AZ ID use1-az4, not in the service's use1-az1, use1-az2", d["title"], "the title")
    expect_eq(d["evidence"].get("cloud.az_id"), "use1-az4", "the evidence's AZ ID")
    expect_in("describe-availability-zones --region us-east-1", d["remediation"], "the fix")
    expect_in(f"Name=vpc-id,Values={AWS_VPC}", d["remediation"], "the fix")
    # Per target: a targets-file line that expects this instance's AZ ID is fine; the
    # command line's default applies to the other.
    targets = os.path.join(lab.tmp, "targets")
    with open(targets, "w") as f:
        f.write(f"{TARGET} --expect-az-id use1-az4\n{ZONE_A}:{PORT}\n")
    run = cloud_run(lab, "aws", extra=["--targets", targets, "--expect-az-id", "use1-az1"])
    run.expect_outcome(1, "warning")
    run.target(0).expect_only_diagnoses("ok")
    run.target(1).expect_only_diagnoses("cloud.az_mismatch")
    # The metadata was asked once per run, not per target.
    puts = [r for r in requests(log) if r["method"] == "PUT"]
    expect_eq(len(puts), 2, "token requests (one per run)")


# --- a metadata service that hangs, refuses or answers garbage --------------------------

@S.scenario("cloud.metadata_unavailable.hanging", timed=True)
def metadata_hanging(lab):
    # The IMDSv2 token PUT never gets an answer (a container behind the hop limit of 1):
    # the metadata's own deadline (~1 s) ends it, the verdict is what it would be without
    # any metadata, and --timeout bounds the run whatever the service does.
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.start_dns({NAME: [ZONE_A]}, listen=CLOUD_RESOLVER_IP)
    start_imds(lab, "aws", "hang_token")
    run = cloud_run(lab, "aws", TARGET)
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok", "cloud.metadata_unavailable")
    t.expect_fact("cloud.metadata_available", False)
    t.expect_fact("cloud.metadata_failure", "token_timeout")
    d = t.diagnosis("cloud.metadata_unavailable")
    expect_eq(d["severity"], "info", "severity")
    expect_in("--http-put-response-hop-limit 2", d["remediation"], "the fix")
    expect_in("default hop limit of 1", d["summary"], "the summary")
    run.expect_wall(0.9, 1.4)
    # Without any cloud, the same verdict.
    plain = lab.run(TARGET)
    expect_eq(plain.target().diagnosis_ids, ["ok"], "the verdict without the cloud")
    # --timeout shorter than the metadata's deadline: the run ends by it.
    run = cloud_run(lab, "aws", TARGET, timeout=0.5)
    run.expect_outcome(0, "ok")
    run.target().expect_fact("cloud.metadata_failure", "cut")
    run.expect_wall(0.4, 0.6)
    # A service that hangs on every request, with a dropped SYN: the drop is still found.
    lab.block("endpoint", ZONE_A, PORT)
    restart_imds(lab, "gcp", "hang")
    run = cloud_run(lab, "gcp", TARGET, timeout=3)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.syn_dropped", "cloud.metadata_unavailable")
    t.expect_fact("cloud.metadata_failure", "timeout")
    run.expect_wall(1.0, 3.1)
    # With no metadata, the fix reads as it always did.
    expect_in("egress allow rule from this VM", t.diagnosis("tcp.syn_dropped")["remediation"],
              "the generic GCP fix")


@S.scenario("cloud.metadata_unavailable.refused")
def metadata_refused(lab):
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.start_dns({NAME: [ZONE_A]}, listen=CLOUD_RESOLVER_IP)
    cases = [
        # provider, mode, failure, status, a phrase of the error
        ("aws", "forbidden", "http_status", 403, "PUT /latest/api/token: HTTP 403; then GET"),
        ("aws", "token_403", "token_refused", 403, "then GET /latest/dynamic/instance-identity/document: HTTP 401"),
        ("gcp", "not_found", "http_status", 404, "GET /computeMetadata/v1/"),
        ("azure", "forbidden", "http_status", 403, "GET /metadata/instance?api-version=2021-02-01: HTTP 403"),
    ]
    for provider, mode, failure, status, phrase in cases:
        restart_imds(lab, provider, mode)
        run = cloud_run(lab, provider, TARGET)
        run.expect_outcome(0, "ok")
        t = run.target()
        t.expect_only_diagnoses("ok", "cloud.metadata_unavailable")
        t.expect_fact("cloud.metadata_failure", failure)
        t.expect_fact("cloud.metadata_status", status)
        expect_in(phrase, t.fact("cloud.metadata_error"), f"{provider} {mode}: the error")
        expect("cloud.account" not in t.facts, f"{provider} {mode}: no account without metadata")
        if (provider, mode) == ("aws", "forbidden"):
            expect_in("--http-endpoint enabled", t.diagnosis("cloud.metadata_unavailable")["remediation"],
                      "the fix for a turned-off service")


@S.scenario("cloud.metadata.imdsv1_fallback")
def imdsv1_fallback(lab):
    # The token PUT refused with 405 and requests without a token answered: IMDSv1, said.
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.start_dns({NAME: [ZONE_A]}, listen=CLOUD_RESOLVER_IP)
    log = start_imds(lab, "aws", "token_405")
    run = cloud_run(lab, "aws", TARGET)
    run.expect_outcome(0, "ok")
    run.target().expect_only_diagnoses("ok")
    expect_host_cloud(run, metadata_available=True, imds_version="v1", instance_id=AWS_INSTANCE)
    gets = [r for r in requests(log) if r["method"] == "GET"]
    expect(gets and not any(r["token"] for r in gets), f"GETs without a token: {gets}")


@S.scenario("cloud.metadata_unavailable.garbage")
def metadata_garbage(lab):
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.start_dns({NAME: [ZONE_A]}, listen=CLOUD_RESOLVER_IP)
    for provider, mode in (("azure", "garbage"), ("gcp", "no_flavor"), ("aws", "garbage")):
        restart_imds(lab, provider, mode)
        run = cloud_run(lab, provider, TARGET)
        run.expect_outcome(0, "ok")
        t = run.target()
        t.expect_only_diagnoses("ok", "cloud.metadata_unavailable")
        t.expect_fact("cloud.metadata_failure", "not_metadata")
        expect(not any(k in t.facts for k in ("cloud.account", "cloud.instance_id", "cloud.vpc")),
               f"{provider} {mode}: garbage recorded as facts: {t.facts}")
        if mode == "no_flavor":
            expect_in("no Metadata-Flavor: Google header", t.fact("cloud.metadata_error"), "the error")


@S.scenario("cloud.metadata.once_per_plan")
def metadata_once_per_plan(lab):
    # --watch: rounds on one plan ask the metadata service once.
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.start_dns({NAME: [ZONE_A]}, listen=CLOUD_RESOLVER_IP)
    log = start_imds(lab, "aws")
    argv = [lab.binary, "check", TARGET, "--format", "json", "--watch", "0.3", "--cloud", "aws",
            "--imds-endpoint", ENDPOINT, "--cloud-resolver", CLOUD_RESOLVER_IP]
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["LINKDOCTOR_DMI_DIR"] = lab.dmi_dir
    p = subprocess.Popen(lab.exec_argv(lab.client, *argv), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    try:
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=5)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    rounds = [json.loads(line) for line in out.splitlines() if line.strip()]
    expect(len(rounds) >= 3, f"rounds: {len(rounds)} (stderr {err!r})")
    for r in rounds:
        expect_eq(r["host"]["cloud"].get("instance_id"), AWS_INSTANCE, "each round's instance")
    expect_eq(len([r for r in requests(log) if r["method"] == "PUT"]), 1,
              "token requests over all rounds")


# --- the cloud's own resolver --------------------------------------------------------------

@S.scenario("dns.resolver_divergence.cloud_resolver")
def cloud_resolver_divergence(lab):
    # A custom DNS server (the system's resolver) does not forward the private zone: it
    # answers the service's public address, or nothing. The cloud's resolver has the
    # private answer. The report names the custom server as the cause, critical, instead of
    # leaving dns.public_address / dns.no_record.
    public_name = "svc.public.lab.test"
    lab.add_endpoint_address(PUBLIC_IP)
    lab.start_listener(ZONE_A, PORT)
    custom = lab.start_dns({public_name: [PUBLIC_IP]}, cnames={NAME: public_name})
    lab.start_dns({NAME: [ZONE_A]}, listen=CLOUD_RESOLVER_IP)
    start_imds(lab, "aws")
    run = cloud_run(lab, "aws", TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("dns.resolver_divergence")
    t.expect_suppressed("dns.public_address", "dns.resolver_divergence")
    d = t.diagnosis("dns.resolver_divergence")
    expect_eq(d["severity"], "critical", "severity")
    resolver, cloud = f"{RESOLVER_IP}:53", f"{CLOUD_RESOLVER_IP}:53"
    ev = d["evidence"]
    expect_eq((ev.get("dns.answer_resolver"), ev.get("dns.addresses")), (resolver, [PUBLIC_IP]),
              "the system's resolver and answer in the evidence")
    expect_eq((ev.get("dns.cloud_resolver"), ev.get("dns.cloud_resolver_addresses")), (cloud, [ZONE_A]),
              "the cloud's resolver and answer in the evidence")
    expect_in(f"The cloud's resolver gives {NAME} the private address {ZONE_A}; this host's "
              f"resolver {resolver} does not", d["title"], "the title")
    expect_in("forward the private link's domain to the Route 53 Resolver: from inside the VPC "
              f"{AWS_VPC}", d["remediation"], "the fix")
    t.expect_fact("dns.divergent_resolvers", [cloud])
    # The custom server knows nothing of the name: NXDOMAIN, and no_record is explained.
    lab.stop(custom)
    lab.start_dns({})
    run = cloud_run(lab, "aws", TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("dns.resolver_divergence")
    t.expect_suppressed("dns.no_record", "dns.resolver_divergence")
    t.expect_fact("dns.rcode", "NXDOMAIN")
    t.expect_fact("dns.cloud_resolver_private_missing", [ZONE_A])
    # --cloud-resolver none: the cloud's resolver is not asked, and the symptom stays.
    run = lab.run(TARGET, extra=["--cloud", "aws", "--imds-endpoint", ENDPOINT,
                                 "--cloud-resolver", "none"])
    t = run.target()
    t.expect_only_diagnoses("dns.no_record")
    expect("dns.cloud_resolver" not in t.facts, "the cloud's resolver was asked")
    expect_eq(t.dns_probes("cloud"), [], "cloud resolver probes")


@S.scenario("cloud.resolver_silent_costs_nothing", timed=True)
def cloud_resolver_silent(lab):
    # A cloud resolver that never answers (nothing listens there): the check is not held
    # up - the connect follows the system's answer - and nothing diverges.
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.add_endpoint_address(CLOUD_RESOLVER_IP)
    lab.firewall("endpoint", f"ip daddr {CLOUD_RESOLVER_IP} udp dport 53 drop")
    start_imds(lab, "azure")
    run = cloud_run(lab, "azure", TARGET)
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    t.expect_fact("dns.cloud_resolver_rcode", "TIMEOUT")
    t.expect_fact("dns.divergence_count", 0)
    a = t.tcp_attempt(ZONE_A)
    expect(a.get("started_ms", 1e9) < 300, f"the connect waited for the cloud's resolver: {a}")
    run.expect_wall(0.0, 1.3)


# --- --redact --------------------------------------------------------------------------------

@S.scenario("cloud.redact")
def redact(lab):
    dropped_service(lab)
    start_imds(lab, "aws")
    run = cloud_run(lab, "aws", TARGET, extra=["--redact"])
    run.expect_outcome(2, "critical")
    raw = run.stdout
    for secret in (AWS_ACCOUNT, AWS_INSTANCE):
        expect(secret not in raw, f"{secret} appears in the redacted report")
    host = run.report["host"]
    expect_eq(host["hostname"], "<hostname-1>", "the host's name")
    cloud = host["cloud"]
    expect_eq((cloud.get("account"), cloud.get("instance_id")), ("<account-1>", "<instance-1>"),
              "host.cloud's identifiers")
    expect_eq(run.report["options"].get("redact"), True, "options.redact")
    t = run.target()
    # The same value, the same placeholder: in facts, host.cloud and the fix.
    t.expect_fact("cloud.instance_id", "<instance-1>")
    t.expect_fact("cloud.account", "<account-1>")
    fix = t.diagnosis("tcp.syn_dropped")["remediation"]
    expect_in(f"This instance (<instance-1>, {AWS_SUBNET}, {AWS_VPC}) has {', '.join(AWS_SGS)}",
              fix, "the redacted fix")
    # What support needs stays: the target, its addresses and port, the security groups.
    t.expect_fact("target.input", TARGET)
    t.expect_fact("tcp.timeout_addresses", [ZONE_A])
    t.expect_fact("cloud.security_group_ids", AWS_SGS)
    # Every format redacts the same way.
    _, code, out, err, _ = lab.run_raw(["check", TARGET, "--format", "text", "--redact",
                                        "--cloud", "aws", "--imds-endpoint", ENDPOINT,
                                        "--cloud-resolver", CLOUD_RESOLVER_IP])
    expect_eq(code, 2, f"exit code of the text run (stderr {err.strip()})")
    expect(AWS_INSTANCE not in out and "<instance-1>" in out, f"the text report:\n{out}")


@S.scenario("cloud.serve_asks_metadata_once")
def serve_asks_metadata_once(lab):
    # linkdoctor serve on AWS: every probe's fix names the instance's real security groups,
    # and the metadata service is asked once for the server, not once per probe.
    import scenarios_serve as SV
    dropped_service(lab)
    log = start_imds(lab, "aws")
    s = SV.Serve(lab, "--cloud", "aws", "--imds-endpoint", ENDPOINT, "--cloud-resolver",
                 CLOUD_RESOLVER_IP)
    try:
        for round_ in range(2):
            (r,) = s.get(SV.probe_url(TARGET, format="json"))
            expect_eq(r["status"], 200, f"probe {round_}: status")
            report = json.loads(r["body"])
            S.L.validate_report(report, lab.source_dir)
            t = report["targets"][0]
            expect_eq([d["id"] for d in t["diagnoses"]], ["tcp.syn_dropped"],
                      f"probe {round_}: diagnoses")
            expect_in(", ".join(AWS_SGS), t["diagnoses"][0]["remediation"],
                      f"probe {round_}: the fix")
            expect_eq(report["host"]["cloud"].get("instance_id"), AWS_INSTANCE,
                      f"probe {round_}: host.cloud.instance_id")
        tokens = [q for q in requests(log) if q["method"] == "PUT"]
        expect_eq(len(tokens), 1, f"token requests for two probes: {requests(log)}")
        code, _ = s.stop()
        expect_eq(code, 0, "exit code after SIGTERM")
    finally:
        s.close()
