#!/usr/bin/python3
"""imds.py - a small instance metadata service for the lab: AWS, GCP or Azure.

    imds.py ADDRESS PORT PROVIDER MODE [--log FILE] [--az-id ID]

Serves what the provider's metadata service serves on an instance (the paths linkdoctor
asks, nothing more), with the request headers the provider insists on:

    aws    PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds gives a token;
           GETs need X-aws-ec2-metadata-token (401 without, as with IMDSv2 required)
    gcp    GETs under /computeMetadata/v1/ need Metadata-Flavor: Google (403 without);
           replies carry Metadata-Flavor: Google
    azure  GET /metadata/instance?api-version=... needs Metadata: true (400 without)

MODE says how it misbehaves:

    ok          answers as the provider does
    hang        accepts connections, reads the request, never answers
    hang_token  (aws) the token PUT never gets an answer; the rest would work: what a
                container behind the default hop limit of 1 sees
    token_403   (aws) the PUT is refused with 403, and GETs without a token get 401
    token_405   (aws) the PUT is refused with 405, and GETs without a token work (IMDSv1)
    forbidden   every request: 403
    not_found   every request: 404
    garbage     every request: 200 with bytes that are no metadata
    no_flavor   (gcp) answers, without the Metadata-Flavor header

Prints "ready" once it listens (lab.start_server waits for it). With --log, every
request is appended to FILE as one JSON line: method, path and the headers that matter
(whether a token was sent, never the token), so that a scenario can assert what
linkdoctor asked and how. Standard library only; it serves until it is stopped.
"""

import argparse
import http.server
import json
import socketserver
import sys
import threading
import time

TOKEN = "AQAEAFakeLabTokenForLinkdoctor0123456789abcdefghij=="
MAC = "0e:49:61:0f:c3:11"

AWS = {
    "document": {
        "accountId": "123456789012", "architecture": "x86_64", "availabilityZone": "us-east-1a",
        "imageId": "ami-0abcdef1234567890", "instanceId": "i-0abc1234def567890",
        "instanceType": "m5.large", "privateIp": "10.0.1.10", "region": "us-east-1",
        "version": "2017-09-30",
    },
    "placement/availability-zone-id": "use1-az4",
    "local-ipv4": "10.0.1.10",
    "mac": MAC,
    f"network/interfaces/macs/{MAC}/vpc-id": "vpc-0a1b2c3d4e5f60718",
    f"network/interfaces/macs/{MAC}/vpc-ipv4-cidr-blocks": "10.0.0.0/16\n100.64.0.0/16",
    f"network/interfaces/macs/{MAC}/subnet-id": "subnet-0fedcba9876543210",
    f"network/interfaces/macs/{MAC}/subnet-ipv4-cidr-block": "10.0.1.0/24",
    f"network/interfaces/macs/{MAC}/security-group-ids": "sg-0123456789abcdef0\nsg-0fedcba9876543210",
}

GCP = {
    "project/project-id": "prod-project-123",
    "project/numeric-project-id": "412345678901",
    "instance/zone": "projects/412345678901/zones/us-central1-a",
    "instance/id": "4520117834512349876",
    "instance/name": "milvus-client-1",
    "instance/network-interfaces/0/": json.dumps({
        "accessConfigs": [], "dnsServers": ["169.254.169.254"], "forwardedIps": [],
        "gateway": "10.0.1.1", "ip": "10.0.1.10", "ipAliases": [], "mac": "42:01:0a:00:01:0a",
        "mtu": 1460, "network": "projects/412345678901/networks/prod-vpc",
        "subnetmask": "255.255.255.0", "targetInstanceIps": []}),
    "instance/tags": json.dumps(["web", "milvus-client"]),
    "instance/service-accounts/default/email": "412345678901-compute@developer.gserviceaccount.com",
}

AZURE = {
    "compute": {
        "azEnvironment": "AzurePublicCloud", "location": "westeurope", "name": "vm-milvus-1",
        "osType": "Linux", "resourceGroupName": "rg-prod",
        "subscriptionId": "8d10da13-8125-4ba9-a717-bf7490507b3d",
        "vmId": "02aab8a4-74ef-476e-8182-f6d2ba4166a6", "vmSize": "Standard_D2s_v3", "zone": "2",
    },
    "network": {"interface": [{
        "ipv4": {"ipAddress": [{"privateIpAddress": "10.0.1.10", "publicIpAddress": ""}],
                 "subnet": [{"address": "10.0.1.0", "prefix": "24"}]},
        "ipv6": {"ipAddress": []}, "macAddress": "000D3AF806EC"}]},
}

GARBAGE = b"\x16\x03\x01\x00\x05garbage <html>not metadata</html>\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lab-imds/1"
    disable_nagle_algorithm = True  # headers and body go out at once, as a real service

    def log_message(self, fmt, *args):  # quiet: the log file says what came
        pass

    def _log(self):
        if not self.server.log:
            return
        entry = {"method": self.command, "path": self.path,
                 "token": "X-aws-ec2-metadata-token" in self.headers,
                 "ttl": self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"),
                 "flavor": self.headers.get("Metadata-Flavor"),
                 "metadata": self.headers.get("Metadata"),
                 "forwarded": self.headers.get("X-Forwarded-For"),
                 "host": self.headers.get("Host")}
        with self.server.log_lock, open(self.server.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def _send(self, status, body=b"", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _hang(self):
        # Read, never answer: the client's deadline must end it. Daemon threads let the
        # server stop whatever they are doing.
        while True:
            time.sleep(3600)

    def do_PUT(self):
        self._log()
        self._handle("PUT")

    def do_GET(self):
        self._log()
        self._handle("GET")

    def _handle(self, method):
        mode, provider = self.server.mode, self.server.provider
        if mode == "hang" or (mode == "hang_token" and method == "PUT"):
            self._hang()
        if mode == "forbidden":
            return self._send(403, "Forbidden\n")
        if mode == "not_found":
            return self._send(404, "Not Found\n")
        if mode == "garbage":
            return self._send(200, GARBAGE, [("Metadata-Flavor", "Google")])
        return {"aws": self._aws, "gcp": self._gcp, "azure": self._azure}[provider](method)

    def _aws(self, method):
        mode = self.server.mode
        if method == "PUT":
            if self.path != "/latest/api/token":
                return self._send(405, "")
            if mode == "token_403":
                return self._send(403, "")
            if mode == "token_405":
                return self._send(405, "")
            if "X-aws-ec2-metadata-token-ttl-seconds" not in self.headers:
                return self._send(400, "")
            return self._send(200, TOKEN, [("X-aws-ec2-metadata-token-ttl-seconds", "21600")])
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN and mode != "token_405":
            return self._send(401, "")
        if self.path == "/latest/dynamic/instance-identity/document":
            return self._send(200, json.dumps(self.server.data["document"], indent=2),
                              [("Content-Type", "text/plain")])
        prefix = "/latest/meta-data/"
        key = self.path[len(prefix):] if self.path.startswith(prefix) else None
        if key in self.server.data:
            return self._send(200, self.server.data[key], [("Content-Type", "text/plain")])
        return self._send(404, "")

    def _gcp(self, method):
        flavor = [] if self.server.mode == "no_flavor" else [("Metadata-Flavor", "Google")]
        if self.headers.get("Metadata-Flavor") != "Google":
            return self._send(403, "Missing Metadata-Flavor:Google header.\n", flavor)
        prefix = "/computeMetadata/v1/"
        path = self.path.split("?")[0]
        key = path[len(prefix):] if path.startswith(prefix) else None
        if method == "GET" and key in self.server.data:
            kind = "application/json" if key.endswith("/") or key == "instance/tags" else "text/plain"
            return self._send(200, self.server.data[key], flavor + [("Content-Type", kind)])
        return self._send(404, "", flavor)

    def _azure(self, method):
        if self.headers.get("Metadata") != "true":
            return self._send(400, json.dumps({"error": "Bad request. Required metadata header "
                                                        "not specified"}))
        if method == "GET" and self.path.startswith("/metadata/instance?api-version="):
            return self._send(200, json.dumps(self.server.data),
                              [("Content-Type", "application/json; charset=utf-8")])
        return self._send(404, "")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64     # the default 5 drops a client's parallel SYNs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("address")
    ap.add_argument("port", type=int)
    ap.add_argument("provider", choices=["aws", "gcp", "azure"])
    ap.add_argument("mode", choices=["ok", "hang", "hang_token", "token_403", "token_405",
                                     "forbidden", "not_found", "garbage", "no_flavor"])
    ap.add_argument("--log")
    ap.add_argument("--az-id", help="aws: the AZ ID to serve")
    args = ap.parse_args()
    data = json.loads(json.dumps({"aws": AWS, "gcp": GCP, "azure": AZURE}[args.provider]))
    if args.az_id:
        data["placement/availability-zone-id"] = args.az_id
    server = Server((args.address, args.port), Handler)
    server.provider, server.mode, server.data = args.provider, args.mode, data
    server.log, server.log_lock = args.log, threading.Lock()
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
