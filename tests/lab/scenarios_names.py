"""scenarios_names.py - what the names say, from real CNAME chains in the lab (core/names.h).

The lab's dnsmasq answers the providers' names itself - a Zilliz private link CNAMEd to the
seed's zonal endpoint name, Azure's public CNAME into privatelink.blob.core.windows.net - and
nothing leaves the lab's namespaces: dnsmasq forwards nowhere, and the client has no default
route. Each diagnosis the names make fires through the real binary from a real chain, and a
look-alike chain (vpce...vpce.example.com, privatelink.example.org) leaves it silent:

- dns.zonal_endpoint_name: the private link aliased to a zonal endpoint name;
- cloud.region_mismatch: the endpoint's region from its own DNS name (critical when nothing
  connects) or from Zilliz's naming (a warning), against the region the lab's metadata service
  (imds.py, as scenarios_cloud.py runs it) gives this instance;
- dns.no_record and dns.public_address: the fix names the exact private DNS zone and record,
  read from the chain (an NXDOMAIN/NODATA reply's chain is read off the wire) or the name.
"""

import scenarios as S
import scenarios_cloud as C
from lab import PUBLIC_IP, ZONE_A, ZONE_B, expect, expect_eq

PORT = S.PORT
# The seed's create-vpc-endpoint DnsEntries (seeds/zilliz-cloud-private-link.md).
REGIONAL = "vpce-0ce90d01341533a5c-ngbqfdnj.vpce-svc-0b62964bfd0edfb74.us-west-2.vpce.amazonaws.com"
ZONAL = "vpce-0ce90d01341533a5c-ngbqfdnj-us-west-2a.vpce-svc-0b62964bfd0edfb74.us-west-2.vpce.amazonaws.com"
# The same with a domain that is not AWS's: no endpoint name at all.
ZONAL_LOOKALIKE = ZONAL.replace("vpce.amazonaws.com", "vpce.example.com")
# A Zilliz private link on AWS in us-west-2, and one in the lab's metadata region (us-east-1).
ZILLIZ_WEST = "in01-abc.aws-us-west-2.vectordb.zillizcloud.com"
ZILLIZ_EAST = "in01-abc.aws-us-east-1.vectordb.zillizcloud.com"
# Azure: a storage account's public name, Azure's CNAME into the privatelink zone, and the
# public front end that answers where the privatelink zone is not linked.
STORAGE = "mystorage.blob.core.windows.net"
STORAGE_PL = "mystorage.privatelink.blob.core.windows.net"
STORAGE_FRONT = "blob.ams07prdstr02a.store.core.windows.net"
# Zilliz on Azure in the lab's metadata region (westeurope): the record CLUSTER-privatelink.
ZILLIZ_AZURE = "in01-0123456789abcde-privatelink.az-westeurope.vectordb.zillizcloud.com"
CORP = "files.corp.lab.test"    # a name of the user's own that CNAMEs into a provider's zone
LOOKALIKE = "other.lab.test"    # a name of the user's own that CNAMEs to a look-alike


def expect_in(needle, text, what):
    expect(needle in text, f"{what} should contain {needle!r}:\n{text}")


def dns_everywhere(lab, records, cnames, local=()):
    """The same records and CNAMEs on the VPC resolver and on the lab's "cloud resolver", so
    that the two agree (no dns.resolver_divergence)."""
    lab.start_dns(records, cnames=cnames, local=local)
    lab.start_dns(records, cnames=cnames, local=local, listen=C.CLOUD_RESOLVER_IP)


# --- dns.zonal_endpoint_name ---------------------------------------------------------------

@S.scenario("dns.zonal_endpoint_name")
def zonal_endpoint_name(lab):
    # The Zilliz private link aliased to the seed's zonal name, not the regional one the guide
    # says to copy: every client goes to us-west-2a's interface.
    lab.start_listener(ZONE_A, PORT)
    dns = lab.start_dns({ZONAL: [ZONE_A], REGIONAL: [ZONE_A], ZONAL_LOOKALIKE: [ZONE_A]},
                        cnames={ZILLIZ_WEST: ZONAL, S.NAME: ZONAL_LOOKALIKE})
    target = f"{ZILLIZ_WEST}:{PORT}"
    run = lab.run(target)
    run.expect_outcome(1, "warning")
    t = run.target()
    t.expect_only_diagnoses("dns.zonal_endpoint_name")
    t.expect_fact("dns.cname_chain", [ZONAL])
    t.expect_fact("dns.recognized_names", [ZILLIZ_WEST, ZONAL])
    t.expect_fact("dns.name_patterns", ["zilliz.aws", "aws.interface_endpoint.zonal"])
    t.expect_fact("dns.endpoint_name", ZONAL)
    t.expect_fact("dns.endpoint_name_kind", "zonal")
    t.expect_fact("dns.endpoint_zone", "us-west-2a")
    t.expect_fact("dns.endpoint_id", "vpce-0ce90d01341533a5c")
    t.expect_fact("dns.endpoint_regional_name", REGIONAL)
    t.expect_fact("dns.endpoint_vendor", "zilliz")
    d = t.diagnosis("dns.zonal_endpoint_name")
    expect_eq(d["severity"], "warning", "severity")
    expect_in(f"resolves through {ZONAL}, the zonal DNS name of "
              f"interface endpoint vpce-0ce90d01341533a5c in us-west-2a: it answers {ZONE_A}",
              d["summary"], "the summary")
    expect_in(f"regional DNS name {REGIONAL} instead of the zonal {ZONAL}", d["remediation"],
              "the fix")
    # The zonal name's look-alike under another domain is no endpoint name: fine.
    run = lab.run(S.TARGET)
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_fact("dns.cname_chain", [ZONAL_LOOKALIKE])
    t.expect_fact("dns.recognized_names", [])
    expect("dns.endpoint_name_kind" not in t.facts, f"a look-alike was read: {t.facts}")
    # Aliased to the regional name, as the guide says: fine.
    lab.stop(dns)
    lab.start_dns({REGIONAL: [ZONE_A]}, cnames={ZILLIZ_WEST: REGIONAL})
    run = lab.run(target)
    run.expect_outcome(0, "ok")
    run.target().expect_fact("dns.endpoint_name_kind", "regional")


# --- cloud.region_mismatch ------------------------------------------------------------------

@S.scenario("cloud.region_mismatch")
def region_mismatch(lab):
    # This instance is in us-east-1 (the lab's AWS metadata); the name leads to an interface
    # endpoint whose own DNS name says us-west-2, and the SYNs to it are dropped: critical,
    # and the security-group finding it explains is hidden.
    zilliz_east_us = ZILLIZ_AZURE.replace("westeurope", "eastus")
    lab.start_listener(ZONE_A, PORT)
    lab.start_listener(ZONE_B, PORT)
    regional_lookalike = REGIONAL.replace("vpce.amazonaws.com", "vpce.example.com")
    dns_everywhere(lab, {REGIONAL: [ZONE_B], ZILLIZ_WEST: [ZONE_A], ZILLIZ_EAST: [ZONE_A],
                         zilliz_east_us: [ZONE_A], regional_lookalike: [ZONE_A]},
                   {S.NAME: REGIONAL, LOOKALIKE: regional_lookalike})
    C.start_imds(lab, "aws")
    lab.block("endpoint", ZONE_B, PORT)
    run = C.cloud_run(lab, "aws", S.TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("cloud.region_mismatch")
    t.expect_suppressed("tcp.syn_dropped", "cloud.region_mismatch")
    t.expect_fact("cloud.region", "us-east-1")
    t.expect_fact("dns.endpoint_region", "us-west-2")
    t.expect_fact("dns.endpoint_region_source", "provider")
    d = t.diagnosis("cloud.region_mismatch")
    expect_eq((d["severity"], d["confidence"]), ("critical", "high"), "severity and confidence")
    expect_in("The endpoint is in us-west-2, this instance in us-east-1", d["title"], "the title")
    expect_in(f"The endpoint's own DNS name, {REGIONAL}, is in us-west-2; the metadata service "
              f"says this instance ({C.AWS_INSTANCE}) runs in us-east-1 (us-east-1a)",
              d["summary"], "the summary")
    expect_in(f"create one in this instance's VPC {C.AWS_VPC}", d["remediation"], "the fix")
    expect_in("describe-vpc-endpoint-services --region us-east-1 --service-region us-west-2",
              d["remediation"], "the fix")
    # Zilliz's naming alone, and connections work: a warning of medium confidence.
    run = C.cloud_run(lab, "aws", f"{ZILLIZ_WEST}:{PORT}")
    run.expect_outcome(1, "warning")
    t = run.target()
    t.expect_only_diagnoses("cloud.region_mismatch")
    d = t.diagnosis("cloud.region_mismatch")
    expect_eq((d["severity"], d["confidence"]), ("warning", "medium"), "severity and confidence")
    expect_in(f"{ZILLIZ_WEST} names the region us-west-2 (zilliz's naming)", d["summary"],
              "the summary")
    expect_in("Connections work, across regions.", d["summary"], "the summary")
    # The endpoint name's look-alike under another domain says no region: nothing to say.
    run = C.cloud_run(lab, "aws", f"{LOOKALIKE}:{PORT}")
    run.expect_outcome(0, "ok")
    run.target().expect_fact("dns.cname_chain", [regional_lookalike])
    expect("dns.endpoint_region" not in run.target().facts, "a look-alike's region was read")
    # The private link of this instance's own region: nothing to say.
    run = C.cloud_run(lab, "aws", f"{ZILLIZ_EAST}:{PORT}")
    run.expect_outcome(0, "ok")
    run.target().expect_fact("dns.endpoint_region", "us-east-1")
    # Without metadata (no cloud) the region of this instance is unknown: silent.
    run = lab.run(f"{ZILLIZ_WEST}:{PORT}")
    run.expect_outcome(0, "ok")
    # On Azure (the lab's VM is in westeurope), Zilliz's az-REGION naming.
    C.restart_imds(lab, "azure", "ok")
    run = C.cloud_run(lab, "azure", f"{zilliz_east_us}:{PORT}")
    run.expect_outcome(1, "warning")
    t = run.target()
    t.expect_only_diagnoses("cloud.region_mismatch")
    t.expect_fact("dns.endpoint_region", "eastus")
    d = t.diagnosis("cloud.region_mismatch")
    expect_eq(d["remediation_cloud"], "azure", "the fix's cloud")
    expect_in("global VNet peering", d["remediation"], "the Azure fix")
    expect_in("The Zilliz guide asks for the private endpoint in the region chosen for the "
              "private link.", d["remediation"], "the Azure fix")


# --- dns.no_record and dns.public_address name the zone -----------------------------------

@S.scenario("dns.no_record.names_the_zone")
def no_record_names_the_zone(lab):
    # The user's own name CNAMEs into Azure's privatelink zone, which (linked to this VNet)
    # has no record for the account: the resolver answers the CNAME and no address. The chain
    # of that reply - which c-ares's search drops - is read, and the fix names the zone and
    # the record.
    dns_everywhere(lab, {}, {CORP: STORAGE_PL, S.NAME: "mystorage.privatelink.example.org"},
                   local=("core.windows.net", "zillizcloud.com", "example.org"))
    C.start_imds(lab, "azure")
    run = C.cloud_run(lab, "azure", f"{CORP}:{PORT}")
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("dns.no_record")
    expect(t.fact("dns.rcode") in ("NXDOMAIN", "NODATA"), f"rcode {t.fact('dns.rcode')}")
    t.expect_fact("dns.cname_chain", [STORAGE_PL])
    t.expect_fact("dns.privatelink_zone", "privatelink.blob.core.windows.net")
    t.expect_fact("dns.privatelink_record", "mystorage")
    t.expect_fact("dns.privatelink_public_zone", "blob.core.windows.net")
    d = t.diagnosis("dns.no_record")
    expect_eq(d["remediation_cloud"], "azure", "the fix's cloud")
    expect_in("Create the private DNS zone privatelink.blob.core.windows.net (or use it, if it "
              "exists) and add the A record mystorage, pointing at the private endpoint's "
              "network interface address", d["remediation"], "the fix")
    expect_in("this VM, vm-milvus-1, is in resource group rg-prod, westeurope", d["remediation"],
              "the fix")
    expect_eq(d["evidence"].get("dns.privatelink_zone"), "privatelink.blob.core.windows.net",
              "the zone in the evidence")
    # A Zilliz private link on Azure with no record: the guide's zone and -privatelink record.
    run = C.cloud_run(lab, "azure", f"{ZILLIZ_AZURE}:{PORT}")
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("dns.no_record")
    t.expect_fact("dns.rcode", "NXDOMAIN")
    expect_in("Create the private DNS zone az-westeurope.vectordb.zillizcloud.com (or use it, if "
              "it exists) and add the A record in01-0123456789abcde-privatelink",
              t.diagnosis("dns.no_record")["remediation"], "the Zilliz fix")
    # privatelink outside Azure's zones: no zone named, the general wording.
    run = C.cloud_run(lab, "azure", S.TARGET)
    t = run.target()
    t.expect_only_diagnoses("dns.no_record")
    t.expect_fact("dns.cname_chain", ["mystorage.privatelink.example.org"])
    t.expect_fact("dns.recognized_names", [])
    fix = t.diagnosis("dns.no_record")["remediation"]
    expect_in(f"Create an A record for {S.NAME} in the private DNS zone that holds the private "
              "link's name", fix, "the general fix")
    expect("privatelink.example.org" not in fix, f"a look-alike named as the zone: {fix}")


@S.scenario("dns.public_address.names_the_zone")
def public_address_names_the_zone(lab):
    # Azure's public chain, as a VNet without the privatelink zone linked sees it: the
    # account's name, its CNAME into privatelink.blob.core.windows.net, that name's public
    # CNAME to the storage front end, a public address.
    lab.add_endpoint_address(PUBLIC_IP)
    dns_everywhere(lab, {STORAGE_FRONT: [PUBLIC_IP], "front.example.org": [PUBLIC_IP]},
                   {STORAGE: STORAGE_PL, STORAGE_PL: STORAGE_FRONT,
                    S.NAME: "mystorage.privatelink.example.org",
                    "mystorage.privatelink.example.org": "front.example.org"})
    C.start_imds(lab, "azure")
    run = C.cloud_run(lab, "azure", f"{STORAGE}:{PORT}")
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("dns.public_address")
    t.expect_fact("dns.cname_chain", [STORAGE_PL, STORAGE_FRONT])
    t.expect_fact("dns.recognized_names", [STORAGE, STORAGE_PL])
    t.expect_fact("dns.name_patterns", ["azure.service_public", "azure.privatelink"])
    t.expect_fact("dns.endpoint_name", STORAGE_PL)
    t.expect_fact("dns.endpoint_name_kind", "privatelink")
    d = t.diagnosis("dns.public_address")
    expect_in("Link the private DNS zone privatelink.blob.core.windows.net (its A record "
              "mystorage with the private endpoint's network interface address; create the "
              "zone and the record if they do not exist) to this VNet", d["remediation"],
              "the fix")
    expect_in("Azure's public DNS sends blob.core.windows.net names into "
              "privatelink.blob.core.windows.net with a CNAME", d["remediation"], "the fix")
    # The same chain through a look-alike zone: the general wording, no zone named.
    run = C.cloud_run(lab, "azure", S.TARGET)
    t = run.target()
    t.expect_only_diagnoses("dns.public_address")
    t.expect_fact("dns.recognized_names", [])
    fix = t.diagnosis("dns.public_address")["remediation"]
    expect_in(f"Link the private DNS zone that holds {S.NAME} to this VNet", fix, "the general fix")
    expect("privatelink.example.org" not in fix, f"a look-alike named as the zone: {fix}")
