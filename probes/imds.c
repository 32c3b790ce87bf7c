/* imds.c - the metadata services' requests and the parsers of their replies.
 *
 * A parser checks everything before it records anything: a reply either
 * has the documented shape and becomes facts, or is refused whole with the
 * reason. Words (IDs, names, addresses) are checked character by character
 * against what their provider allows; JSON is parsed by cJSON within the
 * probe's body limit and only the documented fields are read.
 */
#include "imds.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"

#define WORD_MAX 256 /* longest single value taken from a reply */

static const ld_imds_def defs[LD_IMDS__COUNT] = {
    [LD_IMDS_AWS_TOKEN] = {LD_CLOUD_AWS, "/latest/api/token", 0, 1},
    [LD_IMDS_AWS_DOCUMENT] = {LD_CLOUD_AWS, "/latest/dynamic/instance-identity/document", 1, 1},
    [LD_IMDS_AWS_AZ_ID] = {LD_CLOUD_AWS, "/latest/meta-data/placement/availability-zone-id", 1, 0},
    [LD_IMDS_AWS_LOCAL_IPV4] = {LD_CLOUD_AWS, "/latest/meta-data/local-ipv4", 1, 0},
    [LD_IMDS_AWS_MAC] = {LD_CLOUD_AWS, "/latest/meta-data/mac", 1, 0},
    [LD_IMDS_AWS_VPC_ID] = {LD_CLOUD_AWS, "/latest/meta-data/network/interfaces/macs/%s/vpc-id", 2,
                            0},
    [LD_IMDS_AWS_VPC_CIDRS] = {LD_CLOUD_AWS,
                               "/latest/meta-data/network/interfaces/macs/%s/vpc-ipv4-cidr-blocks",
                               2, 0},
    [LD_IMDS_AWS_SUBNET_ID] = {LD_CLOUD_AWS,
                               "/latest/meta-data/network/interfaces/macs/%s/subnet-id", 2, 0},
    [LD_IMDS_AWS_SUBNET_CIDR] = {LD_CLOUD_AWS,
                                 "/latest/meta-data/network/interfaces/macs/%s/"
                                 "subnet-ipv4-cidr-block",
                                 2, 0},
    [LD_IMDS_AWS_SECURITY_GROUPS] = {LD_CLOUD_AWS,
                                     "/latest/meta-data/network/interfaces/macs/%s/"
                                     "security-group-ids",
                                     2, 0},
    [LD_IMDS_GCP_PROJECT_ID] = {LD_CLOUD_GCP, "/computeMetadata/v1/project/project-id", 1, 1},
    [LD_IMDS_GCP_PROJECT_NUMBER] = {LD_CLOUD_GCP, "/computeMetadata/v1/project/numeric-project-id",
                                    1, 0},
    [LD_IMDS_GCP_ZONE] = {LD_CLOUD_GCP, "/computeMetadata/v1/instance/zone", 1, 1},
    [LD_IMDS_GCP_INSTANCE_ID] = {LD_CLOUD_GCP, "/computeMetadata/v1/instance/id", 1, 0},
    [LD_IMDS_GCP_INSTANCE_NAME] = {LD_CLOUD_GCP, "/computeMetadata/v1/instance/name", 1, 0},
    [LD_IMDS_GCP_NIC] = {LD_CLOUD_GCP,
                         "/computeMetadata/v1/instance/network-interfaces/0/?recursive=true", 1, 0},
    [LD_IMDS_GCP_TAGS] = {LD_CLOUD_GCP, "/computeMetadata/v1/instance/tags", 1, 0},
    [LD_IMDS_GCP_SERVICE_ACCOUNT] = {LD_CLOUD_GCP,
                                     "/computeMetadata/v1/instance/service-accounts/default/email",
                                     1, 0},
    [LD_IMDS_AZURE_INSTANCE] = {LD_CLOUD_AZURE, "/metadata/instance?api-version=2021-02-01", 1, 1},
};

const ld_imds_def *ld_imds_def_get(ld_imds_item item) {
    return &defs[item];
}

const char *ld_imds_default_endpoint(ld_cloud c) {
    switch (c) {
    case LD_CLOUD_AWS:
    case LD_CLOUD_AZURE:
        return "http://169.254.169.254";
    case LD_CLOUD_GCP:
        return "http://metadata.google.internal";
    default:
        return NULL;
    }
}

/* --- words --------------------------------------------------------------------- */

/* The characters a kind of word may hold. */
typedef enum word_kind {
    W_HEX,     /* 0-9 a-f */
    W_DIGITS,  /* 0-9 */
    W_NAME,    /* a-z 0-9 - (regions, zones, GCP names) */
    W_PROJECT, /* a-z 0-9 - . : (a GCP project ID, domain-scoped ones too) */
    W_EMAIL,   /* A-Z a-z 0-9 . _ + - @ */
    W_AZURE,   /* A-Z a-z 0-9 . _ - ( ): Azure names and resource groups */
    W_TOKEN,   /* printable ASCII without space: a session token */
} word_kind;

static int char_ok(word_kind k, unsigned char c) {
    switch (k) {
    case W_HEX:
        return isdigit(c) || (c >= 'a' && c <= 'f');
    case W_DIGITS:
        return isdigit(c);
    case W_NAME:
        return isdigit(c) || islower(c) || c == '-';
    case W_PROJECT:
        return isdigit(c) || islower(c) || c == '-' || c == '.' || c == ':';
    case W_EMAIL:
        return isalnum(c) || c == '.' || c == '_' || c == '+' || c == '-' || c == '@';
    case W_AZURE:
        return isalnum(c) || c == '.' || c == '_' || c == '-' || c == '(' || c == ')';
    case W_TOKEN:
        return c > 0x20 && c < 0x7f;
    }
    return 0;
}

/* 1 when s[0..n) is 1 to max characters of kind k. */
static int word_ok(const char *s, size_t n, word_kind k, size_t max) {
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!char_ok(k, (unsigned char)s[i]))
            return 0;
    return 1;
}

/* 1 when s is prefix followed by 8 to 17 hex digits: an AWS resource ID
 * (i-0abc..., vpc-..., subnet-..., sg-...). */
static int aws_id_ok(const char *s, const char *prefix) {
    size_t p = strlen(prefix), n = strlen(s);
    return n > p && strncmp(s, prefix, p) == 0 && n - p >= 8 && n - p <= 17 &&
           word_ok(s + p, n - p, W_HEX, 17);
}

/* 1 when s is a dotted IPv4 address. */
static int ipv4_ok(const char *s) {
    ld_addr a;
    return strchr(s, '.') && ld_addr_parse(s, &a, NULL) == LD_OK && a.family == AF_INET;
}

/* 1 when s is an IPv4 CIDR block "a.b.c.d/n". */
static int cidr_ok(const char *s) {
    const char *slash = strchr(s, '/');
    char addr[16];
    if (!slash || (size_t)(slash - s) >= sizeof addr)
        return 0;
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    size_t plen = strlen(slash + 1);
    if (!ipv4_ok(addr) || !word_ok(slash + 1, plen, W_DIGITS, 2))
        return 0;
    return atoi(slash + 1) <= 32;
}

/* 1 when s is six pairs of hex digits joined by colons. */
static int mac_ok(const char *s) {
    if (strlen(s) != 17)
        return 0;
    for (int i = 0; i < 17; i++)
        if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* 1 when s is an Azure GUID: 8-4-4-4-12 hex digits. */
static int guid_ok(const char *s) {
    static const int groups[] = {8, 4, 4, 4, 12};
    for (int g = 0; g < 5; g++) {
        for (int i = 0; i < groups[g]; i++, s++)
            if (!isxdigit((unsigned char)*s))
                return 0;
        if (*s != (g < 4 ? '-' : '\0'))
            return 0;
        s++;
    }
    return 1;
}

/* Copies the body, without surrounding white space, into out as one
 * line of at most outlen - 1 bytes; 0 when it is empty, too long, or holds a
 * NUL, a control character or a line break inside. */
static int take_line(const char *body, size_t len, char *out, size_t outlen) {
    while (len > 0 && isspace((unsigned char)body[0])) {
        body++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)body[len - 1]))
        len--;
    if (len == 0 || len >= outlen)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)body[i] < 0x20 || body[i] == 0x7f)
            return 0;
    memcpy(out, body, len);
    out[len] = '\0';
    return 1;
}

/* The text after the last '/' of s (s itself without one). */
static const char *last_segment(const char *s) {
    const char *slash = strrchr(s, '/');
    return slash ? slash + 1 : s;
}

/* --- lists ------------------------------------------------------------------- */

#define LIST_ITEMS_MAX 64 /* items taken from one list reply */

/* The lines of a reply, each checked by ok; 0 when a line fails it, there
 * are none, or more than LIST_ITEMS_MAX. */
typedef struct lines {
    char item[LIST_ITEMS_MAX][WORD_MAX]; /* the lines */
    size_t n;                            /* how many */
} lines;

static int split_lines(const char *body, size_t len, int (*ok)(const char *, const void *),
                       const void *arg, lines *out) {
    out->n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && body[i] != '\n')
            continue;
        size_t n = i - start;
        const char *line = body + start;
        start = i + 1;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n == 0 && i == len)
            break; /* a final line feed */
        if (out->n == LIST_ITEMS_MAX || !take_line(line, n, out->item[out->n], WORD_MAX) ||
            !ok(out->item[out->n], arg))
            return 0;
        out->n++;
    }
    return out->n > 0;
}

static int line_is_aws_id(const char *s, const void *prefix) {
    return aws_id_ok(s, prefix);
}

static int line_is_cidr(const char *s, const void *unused) {
    (void)unused;
    return cidr_ok(s);
}

static void record_lines(ld_bag *bag, ld_fact_id id, const lines *l) {
    ld_bag_set_empty_list(bag, id);
    for (size_t i = 0; i < l->n; i++)
        ld_bag_list_add(bag, id, l->item[i]);
}

/* --- JSON ---------------------------------------------------------------------- */

/* The string field of obj, or NULL when absent or not a string. */
static const char *jstr(const cJSON *obj, const char *field) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* --- providers -------------------------------------------------------------------- */

/* The identity document: account, region, zone, instance. */
static ld_status parse_aws_document(const char *body, size_t len, ld_bag *bag, ld_err *err) {
    cJSON *doc = cJSON_ParseWithLength(body, len);
    ld_status st = LD_OK;
    if (!cJSON_IsObject(doc)) {
        st = ld_err_set(err, LD_EINVAL, "the identity document is not a JSON object");
        goto out;
    }
    const char *account = jstr(doc, "accountId"), *region = jstr(doc, "region"),
               *zone = jstr(doc, "availabilityZone"), *instance = jstr(doc, "instanceId");
    if (!account || strlen(account) != 12 || !word_ok(account, 12, W_DIGITS, 12))
        st = ld_err_set(err, LD_EINVAL, "identity document: accountId is not 12 digits");
    else if (!region || !word_ok(region, strlen(region), W_NAME, 32))
        st = ld_err_set(err, LD_EINVAL, "identity document: region is not a region name");
    else if (!zone || !word_ok(zone, strlen(zone), W_NAME, 32))
        st = ld_err_set(err, LD_EINVAL, "identity document: availabilityZone is not a zone name");
    else if (!instance || !aws_id_ok(instance, "i-"))
        st = ld_err_set(err, LD_EINVAL, "identity document: instanceId is not an instance ID");
    if (st != LD_OK)
        goto out;
    ld_bag_set_str(bag, LD_F_CLOUD_ACCOUNT, account);
    ld_bag_set_str(bag, LD_F_CLOUD_REGION, region);
    ld_bag_set_str(bag, LD_F_CLOUD_ZONE, zone);
    ld_bag_set_str(bag, LD_F_CLOUD_INSTANCE_ID, instance);
out:
    cJSON_Delete(doc);
    return st;
}

/* instance/zone: "projects/NUMBER/zones/ZONE"; the region is the zone
 * without its last part (us-central1-a: us-central1). */
static ld_status parse_gcp_zone(const char *w, ld_bag *bag, ld_err *err) {
    const char *zone = last_segment(w);
    const char *dash = strrchr(zone, '-');
    if (strncmp(w, "projects/", 9) != 0 || !strstr(w, "/zones/") ||
        !word_ok(zone, strlen(zone), W_NAME, 63) || !dash || dash == zone)
        return ld_err_set(err, LD_EINVAL, "instance/zone is not projects/NUMBER/zones/ZONE");
    char region[64];
    snprintf(region, sizeof region, "%.*s", (int)(dash - zone), zone);
    ld_bag_set_str(bag, LD_F_CLOUD_ZONE, zone);
    ld_bag_set_str(bag, LD_F_CLOUD_REGION, region);
    return LD_OK;
}

/* instance/tags: a JSON list of tag names. */
static ld_status parse_gcp_tags(const char *body, size_t len, ld_bag *bag, ld_err *err) {
    cJSON *tags = cJSON_ParseWithLength(body, len);
    ld_status st = LD_OK;
    const cJSON *t;
    if (!cJSON_IsArray(tags) || cJSON_GetArraySize(tags) > LIST_ITEMS_MAX) {
        st = ld_err_set(err, LD_EINVAL, "instance/tags is not a JSON list of at most %d tags",
                        LIST_ITEMS_MAX);
        goto out;
    }
    cJSON_ArrayForEach(t, tags) {
        if (!cJSON_IsString(t) || !word_ok(t->valuestring, strlen(t->valuestring), W_NAME, 63)) {
            st = ld_err_set(err, LD_EINVAL, "instance/tags: an entry is not a tag name");
            goto out;
        }
    }
    ld_bag_set_empty_list(bag, LD_F_CLOUD_NETWORK_TAGS);
    cJSON_ArrayForEach(t, tags) ld_bag_list_add(bag, LD_F_CLOUD_NETWORK_TAGS, t->valuestring);
out:
    cJSON_Delete(tags);
    return st;
}

/* The IPv4 prefix of address ip with netmask mask ("10.128.0.0/20"); 0
 * when mask is no contiguous netmask. */
static int prefix_of(const char *ip, const char *mask, char *out, size_t outlen) {
    ld_addr a, m;
    if (!ipv4_ok(ip) || !ipv4_ok(mask) || ld_addr_parse(ip, &a, NULL) != LD_OK ||
        ld_addr_parse(mask, &m, NULL) != LD_OK)
        return 0;
    uint32_t bits = ntohl(m.v4.s_addr);
    int plen = 0;
    while (plen < 32 && (bits & (0x80000000u >> plen)))
        plen++;
    if (plen < 32 && (bits << plen) != 0)
        return 0;
    a.v4.s_addr &= m.v4.s_addr;
    char net[LD_ADDR_STRLEN];
    ld_addr_format(&a, net);
    snprintf(out, outlen, "%s/%d", net, plen);
    return 1;
}

/* nic0, recursively: {"network": "projects/NUMBER/networks/NAME", "ip":
 * ADDRESS, "subnetmask": MASK, ...}: the network's name, the address, and
 * the subnet's prefix made of the two. */
static ld_status parse_gcp_nic(const char *body, size_t len, ld_bag *bag, ld_err *err) {
    cJSON *nic = cJSON_ParseWithLength(body, len);
    ld_status st = LD_OK;
    const char *network = jstr(nic, "network"), *ip = jstr(nic, "ip"),
               *mask = jstr(nic, "subnetmask");
    const char *name = network ? last_segment(network) : NULL;
    char cidr[WORD_MAX];
    if (!cJSON_IsObject(nic))
        st = ld_err_set(err, LD_EINVAL, "network-interfaces/0 is not a JSON object");
    else if (!network || strncmp(network, "projects/", 9) != 0 || !strstr(network, "/networks/") ||
             !word_ok(name, strlen(name), W_NAME, 63))
        st = ld_err_set(err, LD_EINVAL,
                        "network-interfaces/0: network is not "
                        "projects/NUMBER/networks/NAME");
    else if (!ip || !ipv4_ok(ip))
        st = ld_err_set(err, LD_EINVAL, "network-interfaces/0: ip is not an IPv4 address");
    if (st != LD_OK)
        goto out;
    ld_bag_set_str(bag, LD_F_CLOUD_VPC, name);
    ld_bag_set_empty_list(bag, LD_F_CLOUD_PRIVATE_IPS);
    ld_bag_list_add(bag, LD_F_CLOUD_PRIVATE_IPS, ip);
    if (mask && prefix_of(ip, mask, cidr, sizeof cidr)) {
        ld_bag_set_empty_list(bag, LD_F_CLOUD_SUBNET_CIDRS);
        ld_bag_list_add(bag, LD_F_CLOUD_SUBNET_CIDRS, cidr);
    }
out:
    cJSON_Delete(nic);
    return st;
}

/* The Azure instance document: compute (subscription, resource group,
 * location, zone, VM ID and name) and network (each interface's private
 * addresses and subnet prefixes). */
static ld_status parse_azure(const char *body, size_t len, ld_bag *bag, ld_err *err) {
    cJSON *doc = cJSON_ParseWithLength(body, len);
    ld_status st = LD_OK;
    const cJSON *compute = cJSON_GetObjectItemCaseSensitive(doc, "compute");
    const cJSON *network = cJSON_GetObjectItemCaseSensitive(doc, "network");
    const char *sub = jstr(compute, "subscriptionId"), *rg = jstr(compute, "resourceGroupName"),
               *loc = jstr(compute, "location"), *zone = jstr(compute, "zone"),
               *vm = jstr(compute, "vmId"), *name = jstr(compute, "name");
    lines ips = {.n = 0}, prefixes = {.n = 0};
    if (!cJSON_IsObject(doc) || !cJSON_IsObject(compute)) {
        st = ld_err_set(err, LD_EINVAL, "the instance document has no compute object");
        goto out;
    }
    if (!sub || !guid_ok(sub))
        st = ld_err_set(err, LD_EINVAL, "compute.subscriptionId is not a GUID");
    else if (!vm || !guid_ok(vm))
        st = ld_err_set(err, LD_EINVAL, "compute.vmId is not a GUID");
    else if (!loc || !word_ok(loc, strlen(loc), W_NAME, 40))
        st = ld_err_set(err, LD_EINVAL, "compute.location is not a region name");
    else if (!rg || !word_ok(rg, strlen(rg), W_AZURE, 90))
        st = ld_err_set(err, LD_EINVAL, "compute.resourceGroupName is not a resource group name");
    else if (!name || !word_ok(name, strlen(name), W_AZURE, 64))
        st = ld_err_set(err, LD_EINVAL, "compute.name is not a VM name");
    else if (zone && zone[0] && !word_ok(zone, strlen(zone), W_DIGITS, 2))
        st = ld_err_set(err, LD_EINVAL, "compute.zone is not a zone number");
    if (st != LD_OK)
        goto out;
    /* Interfaces: what is missing or odd in one is left out, not fatal: the
     * compute part already says this is Azure's service. */
    const cJSON *ifaces = cJSON_GetObjectItemCaseSensitive(network, "interface"), *iface;
    if (!cJSON_IsArray(ifaces))
        ifaces = NULL;
    cJSON_ArrayForEach(iface, ifaces) {
        const cJSON *v4 = cJSON_GetObjectItemCaseSensitive(iface, "ipv4"), *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(v4, "ipAddress")) {
            const char *ip = jstr(e, "privateIpAddress");
            if (ip && ipv4_ok(ip) && ips.n < LIST_ITEMS_MAX)
                snprintf(ips.item[ips.n++], WORD_MAX, "%s", ip);
        }
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(v4, "subnet")) {
            const char *addr = jstr(e, "address"), *prefix = jstr(e, "prefix");
            char cidr[WORD_MAX];
            if (addr && prefix && strlen(addr) < 16 && strlen(prefix) < 3 &&
                snprintf(cidr, sizeof cidr, "%s/%s", addr, prefix) > 0 && cidr_ok(cidr) &&
                prefixes.n < LIST_ITEMS_MAX)
                snprintf(prefixes.item[prefixes.n++], WORD_MAX, "%s", cidr);
        }
    }
    ld_bag_set_str(bag, LD_F_CLOUD_ACCOUNT, sub);
    ld_bag_set_str(bag, LD_F_CLOUD_RESOURCE_GROUP, rg);
    ld_bag_set_str(bag, LD_F_CLOUD_REGION, loc);
    if (zone && zone[0])
        ld_bag_set_str(bag, LD_F_CLOUD_ZONE, zone);
    ld_bag_set_str(bag, LD_F_CLOUD_INSTANCE_ID, vm);
    ld_bag_set_str(bag, LD_F_CLOUD_INSTANCE_NAME, name);
    record_lines(bag, LD_F_CLOUD_PRIVATE_IPS, &ips);
    record_lines(bag, LD_F_CLOUD_SUBNET_CIDRS, &prefixes);
out:
    cJSON_Delete(doc);
    return st;
}

/* Records a single-word reply w as fact id, when ok. */
static ld_status one_word(ld_bag *bag, ld_fact_id id, const char *w, int ok, const char *what,
                          ld_err *err) {
    if (!ok)
        return ld_err_set(err, LD_EINVAL, "not %s", what);
    if (ld_fact_def_get(id)->type == LD_T_LIST) {
        if (!ld_bag_get(bag, id))
            ld_bag_set_empty_list(bag, id);
        if (!ld_value_list_has(ld_bag_get(bag, id), w))
            ld_bag_list_add(bag, id, w);
        return LD_OK;
    }
    ld_bag_set_str(bag, id, w);
    return LD_OK;
}

ld_status ld_imds_parse(ld_imds_item item, const char *body, size_t len, ld_bag *bag, char *word,
                        size_t wordlen, ld_err *err) {
    char w[WORD_MAX];
    lines *l = NULL;
    ld_status st = LD_OK;
    if ((unsigned)item >= LD_IMDS__COUNT)
        return ld_err_set(err, LD_EINVAL, "no such metadata item");
    if (memchr(body, '\0', len))
        return ld_err_set(err, LD_EINVAL, "the reply holds a NUL byte: not text");
    switch (item) {
    case LD_IMDS_AWS_DOCUMENT:
        return parse_aws_document(body, len, bag, err);
    case LD_IMDS_GCP_TAGS:
        return parse_gcp_tags(body, len, bag, err);
    case LD_IMDS_GCP_NIC:
        return parse_gcp_nic(body, len, bag, err);
    case LD_IMDS_AZURE_INSTANCE:
        return parse_azure(body, len, bag, err);
    case LD_IMDS_AWS_VPC_CIDRS:
    case LD_IMDS_AWS_SECURITY_GROUPS: {
        int sgs = item == LD_IMDS_AWS_SECURITY_GROUPS;
        if (!(l = malloc(sizeof *l)))
            return ld_err_set(err, LD_ENOMEM, "out of memory");
        if (!split_lines(body, len, sgs ? line_is_aws_id : line_is_cidr, sgs ? "sg-" : NULL, l))
            st = ld_err_set(err, LD_EINVAL, "not a list of %s, one a line",
                            sgs ? "security group IDs (sg-...)" : "CIDR blocks");
        else
            record_lines(bag, sgs ? LD_F_CLOUD_SECURITY_GROUP_IDS : LD_F_CLOUD_VPC_CIDRS, l);
        free(l);
        return st;
    }
    default:
        break;
    }
    /* The rest are one word each. */
    if (item == LD_IMDS_AWS_TOKEN) {
        if (!take_line(body, len, word, wordlen))
            return ld_err_set(err, LD_EINVAL,
                              "the token is empty, longer than %zu bytes or not "
                              "one line",
                              wordlen - 1);
        if (!word_ok(word, strlen(word), W_TOKEN, wordlen)) {
            word[0] = '\0';
            return ld_err_set(err, LD_EINVAL, "the token holds spaces or non-ASCII bytes");
        }
        return LD_OK;
    }
    if (!take_line(body, len, w, sizeof w))
        return ld_err_set(err, LD_EINVAL, "not one line of at most %d characters", WORD_MAX - 1);
    size_t n = strlen(w);
    switch (item) {
    case LD_IMDS_AWS_MAC:
        if (!mac_ok(w) || wordlen < LD_IMDS_MAC_MAX)
            return ld_err_set(err, LD_EINVAL, "not a MAC address");
        snprintf(word, wordlen, "%s", w);
        return LD_OK;
    case LD_IMDS_AWS_AZ_ID:
        return one_word(bag, LD_F_CLOUD_AZ_ID, w, ld_az_id_check(w, NULL) == LD_OK, "an AZ ID",
                        err);
    case LD_IMDS_AWS_LOCAL_IPV4:
        return one_word(bag, LD_F_CLOUD_PRIVATE_IPS, w, ipv4_ok(w), "an IPv4 address", err);
    case LD_IMDS_AWS_VPC_ID:
        return one_word(bag, LD_F_CLOUD_VPC, w, aws_id_ok(w, "vpc-"), "a VPC ID", err);
    case LD_IMDS_AWS_SUBNET_ID:
        return one_word(bag, LD_F_CLOUD_SUBNET, w, aws_id_ok(w, "subnet-"), "a subnet ID", err);
    case LD_IMDS_AWS_SUBNET_CIDR:
        return one_word(bag, LD_F_CLOUD_SUBNET_CIDRS, w, cidr_ok(w), "a CIDR block", err);
    case LD_IMDS_GCP_PROJECT_ID:
        return one_word(bag, LD_F_CLOUD_ACCOUNT, w, word_ok(w, n, W_PROJECT, 100), "a project ID",
                        err);
    case LD_IMDS_GCP_PROJECT_NUMBER:
        return one_word(bag, LD_F_CLOUD_PROJECT_NUMBER, w, word_ok(w, n, W_DIGITS, 20),
                        "a project number", err);
    case LD_IMDS_GCP_ZONE:
        return parse_gcp_zone(w, bag, err);
    case LD_IMDS_GCP_INSTANCE_ID:
        return one_word(bag, LD_F_CLOUD_INSTANCE_ID, w, word_ok(w, n, W_DIGITS, 20),
                        "an instance ID", err);
    case LD_IMDS_GCP_INSTANCE_NAME:
        return one_word(bag, LD_F_CLOUD_INSTANCE_NAME, w, word_ok(w, n, W_NAME, 63),
                        "an instance name", err);
    case LD_IMDS_GCP_SERVICE_ACCOUNT: {
        const char *at = strchr(w, '@');
        return one_word(bag, LD_F_CLOUD_SERVICE_ACCOUNT, w,
                        word_ok(w, n, W_EMAIL, 254) && at && at != w && !strchr(at + 1, '@') &&
                            at[1],
                        "a service account's e-mail address", err);
    }
    default:
        return ld_err_set(err, LD_EINVAL, "no parser for this item");
    }
}
