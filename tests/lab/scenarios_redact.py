"""scenarios_redact.py - --redact beyond the facts: the host context of a GCE instance
(its resolv.conf searches c.PROJECT.internal, a proxy variable names the project) leaves
no cloud identifier in any format, and a report saved without --redact can be redacted
afterwards by `linkdoctor show --redact`."""

import os
import subprocess

import scenarios as S
import scenarios_cloud as C
from scenarios import expect, expect_eq

L = S.L

# Every GCE VM's resolv.conf: the search list names the project.
GCE_SEARCH = [f"us-central1-a.c.{C.GCP_PROJECT}.internal", f"c.{C.GCP_PROJECT}.internal",
              "google.internal"]
PROXY = f"http://{C.GCP_PROJECT}-proxy.corp.example:3128"
SECRETS = (C.GCP_PROJECT, C.GCP_NUMBER, C.GCP_INSTANCE)


def gce_run(lab, *extra):
    """A dropped SYN on a GCE instance whose resolv.conf and proxy name the project."""
    C.dropped_service(lab)
    C.start_imds(lab, "gcp")
    lab.set_client_etc("resolv.conf", f"nameserver {L.RESOLVER_IP}\n"
                                      f"search {' '.join(GCE_SEARCH)}\n")
    return C.cloud_run(lab, "gcp", C.TARGET, extra=list(extra), env={"HTTPS_PROXY": PROXY})


def show(lab, saved, *args):
    """`linkdoctor show SAVED ARGS`: (exit code, stdout, stderr)."""
    p = subprocess.run([lab.binary, "show", saved, *args], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def expect_no_secret(text, what):
    for secret in SECRETS:
        expect(secret not in text, f"{secret} appears in {what}:\n{text}")


def expect_redacted_host(report, what):
    host = report["host"]
    expect_eq(host["hostname"], "<hostname-1>", f"{what}: the host's name")
    expect_eq(host["cloud"].get("account"), "<account-1>", f"{what}: host.cloud.account")
    expect_eq(host["resolv_conf"]["search"],
              ["us-central1-a.c.<account-1>.internal", "c.<account-1>.internal",
               "google.internal"], f"{what}: the search list, the project its placeholder")
    expect_eq(host["proxy_env"].get("HTTPS_PROXY"), "http://<account-1>-proxy.corp.example:3128",
              f"{what}: the proxy variable")


@S.scenario("redact.gce_host_context")
def gce_host_context(lab):
    import json
    run = gce_run(lab, "--redact")
    run.expect_outcome(2, "critical")
    # The project, its number and the instance are nowhere: not in the JSON, not in the
    # text the run printed, not in the Markdown or any other rendering of the saved report.
    expect_no_secret(run.stdout, "the JSON report")
    expect_no_secret(run.text, "the text report")
    expect_redacted_host(run.report, "the JSON report")
    expect(f"c.<account-1>.internal" in run.text, f"the Host block's search list:\n{run.text}")
    saved = os.path.join(lab.tmp, f"saved-{lab._saved}.json")
    for fmt in ("markdown", "nagios", "prometheus", "json"):
        code, out, err = show(lab, saved, "--format", fmt)
        expect_eq(code, 2, f"show --format {fmt}: exit code (stderr {err.strip()!r})")
        expect_no_secret(out, f"show --format {fmt}")
    expect_eq(json.loads(show(lab, saved, "--format", "json")[1])["options"].get("redact"), True,
              "a redacted report read back says it is")


@S.scenario("redact.show_redacts_a_saved_report")
def show_redacts_a_saved_report(lab):
    import json
    # Saved without --redact: the identifiers are in it (so the check below can fail).
    run = gce_run(lab)
    run.expect_outcome(2, "critical")
    expect(C.GCP_PROJECT in run.stdout, "the unredacted report names the project")
    saved = os.path.join(lab.tmp, f"saved-{lab._saved}.json")
    # `show --redact` hides in every format what `check --redact` would have.
    for fmt in ("text", "markdown", "nagios", "prometheus", "json"):
        code, out, err = show(lab, saved, "--format", fmt, "--redact")
        expect_eq(code, 2, f"show --format {fmt} --redact: exit code (stderr {err.strip()!r})")
        expect_no_secret(out, f"show --format {fmt} --redact")
    report = json.loads(show(lab, saved, "--format", "json", "--redact")[1])
    expect_redacted_host(report, "show --redact")
    expect_eq(report["options"].get("redact"), True, "options.redact")
    expect_eq(report["targets"][0]["facts"]["target.input"], C.TARGET, "the target stays")
