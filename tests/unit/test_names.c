/* test_names.c - the name reader on every example name of the seeds and the
 * providers' documentation, on look-alikes that must not be read, on what it
 * records from a CNAME chain, and on name tables that must not load. */
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/names.h"
#include "unit.h"

static ld_names *table; /* the built-in table: rules/names.json and the profiles' names */

/* The seeds' names (seeds/zilliz-cloud-private-link.md, DESIGN.md). */
#define SEED_REGIONAL                                                                              \
    "vpce-0ce90d01341533a5c-ngbqfdnj.vpce-svc-0b62964bfd0edfb74.us-west-2.vpce.amazonaws.com"
#define SEED_ZONAL                                                                                 \
    "vpce-0ce90d01341533a5c-ngbqfdnj-us-west-2a.vpce-svc-0b62964bfd0edfb74.us-west-2.vpce."        \
    "amazonaws.com"
#define SEED_GCP "in01-xxxxxxxxxxxxxxx.gcp-us-west1.vectordb.zillizcloud.com"
#define SEED_ALIAS                                                                                 \
    "zilliz-prod-infra-privatelink.6a90fc24-16c3-40c1-a94c-648987ac7422.westus3.azure."            \
    "privatelinkservice"
#define DESIGN_AWS "in01-abc.aws-us-west-2.vectordb.zillizcloud.com"
/* The Azure guide's record: the cluster ID suffixed with -privatelink, in az-eastus.... */
#define SEED_AZURE "in01-0123456789abcde-privatelink.az-eastus.vectordb.zillizcloud.com"

/* Reads name, which must be recognised by pattern; returns the match. */
static ld_name_match read_ok(const char *name, const char *pattern) {
    ld_name_match m;
    memset(&m, 0, sizeof m);
    int ok = ld_names_read(table, name, &m);
    if (!ok || strcmp(m.pattern, pattern) != 0)
        fprintf(stderr, "\n  %s: read by %s, want %s\n", name, ok ? m.pattern : "nothing", pattern);
    CU_ASSERT_TRUE_FATAL(ok);
    CU_ASSERT_STRING_EQUAL(m.pattern, pattern);
    return m;
}

/* name must be read by no pattern. */
static void read_none(const char *name) {
    ld_name_match m;
    int ok = ld_names_read(table, name, &m);
    if (ok)
        fprintf(stderr, "\n  %s: read by %s, want nothing\n", name, m.pattern);
    CU_ASSERT_FALSE(ok);
}

static void builtin_table_loads(void) {
    CU_ASSERT_PTR_NOT_NULL_FATAL(table);
    /* Every Azure zone row twice (its privatelink and its public name), and more. */
    CU_ASSERT_TRUE(ld_names_count(table) > 80);
}

/* Reading compiles an expression on its first use; compiled all at once, the
 * built-in table must compile whole and read every seed name as the lazy
 * one does. */
static void every_builtin_expression_compiles_and_reads_the_same(void) {
    static const char *const names[] = {SEED_ALIAS,
                                        DESIGN_AWS,
                                        SEED_AZURE,
                                        "mydb.privatelink.database.windows.net",
                                        "mydb.database.windows.net",
                                        "svc.lab.test"};
    ld_err err = {{0}};
    ld_names *whole = ld_cli_names(&err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(whole);
    CU_ASSERT_EQUAL(ld_names_compile(whole, &err), LD_OK);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ld_name_match a, b;
        int ra = ld_names_read(whole, names[i], &a), rb = ld_names_read(table, names[i], &b);
        CU_ASSERT_EQUAL(ra, rb);
        if (ra && rb) {
            CU_ASSERT_STRING_EQUAL(a.pattern, b.pattern);
            CU_ASSERT_EQUAL(memcmp(a.field, b.field, sizeof a.field), 0);
        }
    }
    ld_names_free(whole);
}

static void seed_regional_endpoint_name(void) {
    ld_name_match m = read_ok(SEED_REGIONAL, "aws.interface_endpoint.regional");
    CU_ASSERT_STRING_EQUAL(m.cloud, "aws");
    CU_ASSERT_STRING_EQUAL(m.kind, "regional");
    CU_ASSERT_FALSE(m.vendor_naming);
    CU_ASSERT_STRING_EQUAL(m.vendor, "");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_ENDPOINT_ID], "vpce-0ce90d01341533a5c");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_SERVICE], "vpce-svc-0b62964bfd0edfb74");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGION], "us-west-2");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_ZONE], "");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGIONAL_NAME], "");
}

static void seed_zonal_endpoint_name_names_its_regional_one(void) {
    ld_name_match m = read_ok(SEED_ZONAL, "aws.interface_endpoint.zonal");
    CU_ASSERT_STRING_EQUAL(m.kind, "zonal");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_ENDPOINT_ID], "vpce-0ce90d01341533a5c");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_ZONE], "us-west-2a");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGION], "us-west-2");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_SERVICE], "vpce-svc-0b62964bfd0edfb74");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGIONAL_NAME], SEED_REGIONAL);
}

static void aws_service_and_china_endpoint_names(void) {
    /* An AWS service's endpoint (the service a label of its own, here two). */
    ld_name_match m =
        read_ok("vpce-0a1b2c3d4e5f6a7b8-29p5708s-us-east-1c.api.ecr.us-east-1.vpce.amazonaws.com",
                "aws.interface_endpoint.zonal");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_SERVICE], "api.ecr");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGIONAL_NAME],
                           "vpce-0a1b2c3d4e5f6a7b8-29p5708s.api.ecr.us-east-1.vpce.amazonaws.com");
    m = read_ok("vpce-0fe5b17a0707d6abc-29p5708s.ec2.us-east-1.vpce.amazonaws.com",
                "aws.interface_endpoint.regional");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_SERVICE], "ec2");
    m = read_ok("vpce-0ce90d01341533a5c-ngbqfdnj.vpce-svc-0b62964bfd0edfb74.cn-north-1.vpce."
                "amazonaws.com.cn",
                "aws.interface_endpoint.regional");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGION], "cn-north-1");
    /* A Local Zone's zonal name. */
    m = read_ok("vpce-0ce90d01341533a5c-ngbqfdnj-us-west-2-lax-1a.vpce-svc-0b62964bfd0edfb74.us-"
                "west-2.vpce.amazonaws.com",
                "aws.interface_endpoint.zonal");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_ZONE], "us-west-2-lax-1a");
}

static void seed_zilliz_names_carry_cloud_region_zone_and_record(void) {
    ld_name_match m = read_ok(SEED_GCP, "zilliz.gcp");
    CU_ASSERT_STRING_EQUAL(m.cloud, "gcp");
    CU_ASSERT_STRING_EQUAL(m.kind, "vendor");
    CU_ASSERT_TRUE(m.vendor_naming);
    CU_ASSERT_STRING_EQUAL(m.vendor, "zilliz");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGION], "us-west1");
    /* GCP: a Cloud DNS private zone whose DNS name is the private link, an A record at it. */
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_PRIVATELINK_ZONE], SEED_GCP);
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_RECORD], "@");

    m = read_ok(DESIGN_AWS, "zilliz.aws");
    CU_ASSERT_STRING_EQUAL(m.cloud, "aws");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGION], "us-west-2");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_PRIVATELINK_ZONE], DESIGN_AWS);
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_RECORD], "@");

    /* Azure: the zone az-eastus.vectordb.zillizcloud.com, the record CLUSTER-privatelink. */
    m = read_ok(SEED_AZURE, "zilliz.azure");
    CU_ASSERT_STRING_EQUAL(m.cloud, "azure");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGION], "eastus");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_PRIVATELINK_ZONE], "az-eastus.vectordb.zillizcloud.com");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_RECORD], "in01-0123456789abcde-privatelink");
    /* The zone's own name is no host of it. */
    read_none("az-eastus.vectordb.zillizcloud.com");
}

static void seed_azure_service_alias_carries_its_region(void) {
    ld_name_match m = read_ok(SEED_ALIAS, "azure.private_link_service_alias");
    CU_ASSERT_STRING_EQUAL(m.kind, "service_alias");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGION], "westus3");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_SERVICE], SEED_ALIAS);
    CU_ASSERT_FALSE(m.vendor_naming);
}

static void seed_console_and_docs_names_are_no_endpoints(void) {
    static const char *const names[] = {
        "us-east-1.console.aws.amazon.com",
        "console.aws.amazon.com",
        "docs.aws.amazon.com",
        "docs.amazonaws.cn",
        "cloud.emqx.com",
        "portal.azure.com",
        "console.cloud.google.com",
        "cloud.google.com",
        "zilliz.com",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        read_none(names[i]);
}

static void azure_privatelink_names_and_the_public_zone_they_shadow(void) {
    ld_name_match m = read_ok("mystorage.privatelink.blob.core.windows.net", "azure.privatelink");
    CU_ASSERT_STRING_EQUAL(m.kind, "privatelink");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_PRIVATELINK_ZONE], "privatelink.blob.core.windows.net");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_PUBLIC_ZONE], "blob.core.windows.net");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_RECORD], "mystorage");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_SERVICE], "Microsoft.Storage/storageAccounts (blob)");
    /* The public name: the zone its private endpoint's record goes into. */
    m = read_ok("mystorage.blob.core.windows.net", "azure.service_public");
    CU_ASSERT_STRING_EQUAL(m.kind, "service_public");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_PRIVATELINK_ZONE], "privatelink.blob.core.windows.net");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_RECORD], "mystorage");
    /* Key Vault: vault.azure.net names, privatelink.vaultcore.azure.net records. */
    m = read_ok("kv-prod.vault.azure.net", "azure.service_public");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_PRIVATELINK_ZONE], "privatelink.vaultcore.azure.net");
    m = read_ok("kv-prod.privatelink.vaultcore.azure.net", "azure.privatelink");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_PUBLIC_ZONE], "vault.azure.net");
    m = read_ok("sql-prod.privatelink.database.windows.net", "azure.privatelink");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_RECORD], "sql-prod");
    /* AKS: the zone carries the region. */
    m = read_ok(
        "aks-prod-1a2b3c4d.5e6f7a8b-1234-4cde-8f90-a1b2c3d4e5f6.privatelink.eastus.azmk8s.io",
        "azure.privatelink.aks");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_PRIVATELINK_ZONE], "privatelink.eastus.azmk8s.io");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGION], "eastus");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_RECORD],
                           "aks-prod-1a2b3c4d.5e6f7a8b-1234-4cde-8f90-a1b2c3d4e5f6");
}

static void gcp_psc_endpoint_names(void) {
    ld_name_match m = read_ok("storage-vialink1.p.googleapis.com", "gcp.psc.google_apis");
    CU_ASSERT_STRING_EQUAL(m.kind, "psc");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_SERVICE], "storage");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_ENDPOINT_ID], "vialink1");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_PRIVATELINK_ZONE], "p.googleapis.com");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_RECORD], "storage-vialink1");
    m = read_ok("bigtable-adsteam.p.googleapis.com", "gcp.psc.google_apis");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_ENDPOINT_ID], "adsteam");
    read_none("storage.googleapis.com");
    read_none("p.googleapis.com");
}

static void vendor_region_labels_elsewhere(void) {
    ld_name_match m = read_ok("db-1.aws-eu-central-1.example.net", "vendor.aws_region_label");
    CU_ASSERT_TRUE(m.vendor_naming);
    CU_ASSERT_STRING_EQUAL(m.vendor, "");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGION], "eu-central-1");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_PRIVATELINK_ZONE], "");
    m = read_ok("db-1.gcp-europe-west4.example.net", "vendor.gcp_region_label");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGION], "europe-west4");
    /* A Zilliz name on Azure without -privatelink: only its region is known. */
    m = read_ok("in01-0123456789abcde.az-eastus.vectordb.zillizcloud.com",
                "vendor.azure_region_label");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGION], "eastus");
}

static void look_alikes_are_not_read(void) {
    static const char *const names[] = {
        "vpce.example.com",
        "vpce-0ce90d01341533a5c.example.com",
        /* The provider's domain, but not at the end. */
        SEED_REGIONAL ".example.com",
        SEED_REGIONAL ".evil.org",
        /* A dot of the pattern is a dot, not any character. */
        "vpce-0ce90d01341533a5c-ngbqfdnj.vpce-svc-0b62964bfd0edfb74.us-west-2.vpce.amazonaws-com",
        "vpce-0ce90d01341533a5c-ngbqfdnj.vpce-svc-0b62964bfd0edfb74.us-west-2xvpce.amazonaws.com",
        "vpce-0ce90d01341533a5c-ngbqfdnj.vpce-svc-0b62964bfd0edfb74.us-west-2.vpce.example.com",
        /* No region where a region must be. */
        "vpce-0ce90d01341533a5c-ngbqfdnj.vpce-svc-0b62964bfd0edfb74.mars-west-2.vpce.amazonaws.com",
        "vpce-nothex-ngbqfdnj.vpce-svc-0b62964bfd0edfb74.us-west-2.vpce.amazonaws.com",
        /* privatelink outside Azure's zones, and Azure's zones without a record. */
        "privatelink.example.org",
        "mystorage.privatelink.example.org",
        "mystorage.privatelink.blob.core.windows.net.example.org",
        "privatelink.blob.core.windows.net",
        "blob.core.windows.net",
        "mystorage.blob.core.windows.net.attacker.net",
        "mystorage.privatelink.blob.core.windows.org",
        /* Region labels that are no region. */
        "db.aws-us-wst-2.example.com",
        "db.aws-mars-east-1.example.com",
        "db.az-mars.example.com",
        "db.gcp-moon1.example.com",
        "aws-us-west-2.example.com",
        "example.aws-us-west-2",
        "zilliz-prod-infra-privatelink.not-a-guid.westus3.azure.privatelinkservice",
        "storage-vialink1.p.googleapis.com.example.com",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        read_none(names[i]);
}

static void upper_case_and_the_trailing_dot_read_the_same(void) {
    /* DNS names compare without case and the root's dot is the same name: read the
     * same, and what is read is in lower case. */
    ld_name_match m =
        read_ok("VPCE-0CE90D01341533A5C-NGBQFDNJ-US-WEST-2A.VPCE-SVC-0B62964BFD0EDFB74."
                "US-WEST-2.VPCE.AMAZONAWS.COM",
                "aws.interface_endpoint.zonal");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_ZONE], "us-west-2a");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGIONAL_NAME], SEED_REGIONAL);
    m = read_ok(SEED_ZONAL ".", "aws.interface_endpoint.zonal");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_ENDPOINT_ID], "vpce-0ce90d01341533a5c");
    m = read_ok("In01-0123456789ABCDE-PrivateLink.AZ-EastUS.VectorDB.ZillizCloud.com.",
                "zilliz.azure");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_RECORD], "in01-0123456789abcde-privatelink");
    /* No more than one trailing dot, no empty label, nothing but host name characters. */
    read_none(SEED_ZONAL "..");
    read_none("." SEED_ZONAL);
    read_none(
        "vpce-0ce90d01341533a5c-ngbqfdnj..vpce-svc-0b62964bfd0edfb74.us-west-2.vpce.amazonaws.com");
    read_none("vpce-0ce90d01341533a5c-ngbqfdnj.vpce-svc-0b62964bfd0edfb74.us-west-2.vpce.amazonaws."
              "com\n");
    read_none("mystorage\x1b.privatelink.blob.core.windows.net");
    read_none("");
    read_none(".");
    /* Longer than a host name can be. */
    char longname[400];
    memset(longname, 'a', sizeof longname);
    strcpy(longname + sizeof longname - sizeof ".privatelink.blob.core.windows.net",
           ".privatelink.blob.core.windows.net");
    for (size_t i = 60; i < 300; i += 61)
        longname[i] = '.';
    read_none(longname);
}

/* The string fact id of bag b ("" when not recorded). */
static const char *str(const ld_bag *b, ld_fact_id id) {
    const ld_value *v = ld_bag_get(b, id);
    return v && v->type == LD_T_STR ? v->u.s : "";
}

/* Records the names of name and chain (NULL-terminated) into a fresh store. */
static ld_facts *record(const char *name, const char *const *chain) {
    ld_facts *f = ld_facts_create();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    ld_value v = {0};
    for (size_t i = 0; chain && chain[i]; i++)
        CU_ASSERT_EQUAL(ld_value_list_add(&v, chain[i]), LD_OK);
    CU_ASSERT_EQUAL(ld_names_record(table, name, chain ? &v : NULL, ld_facts_target(f)), LD_OK);
    ld_value_clear(&v);
    return f;
}

static void chain_through_a_zonal_name_records_endpoint_and_vendor_zone(void) {
    /* The Zilliz private link aliased to a zonal endpoint name. */
    static const char *const chain[] = {SEED_ZONAL, NULL};
    ld_facts *f = record(DESIGN_AWS, chain);
    const ld_bag *t = ld_facts_target_const(f);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_NAME), SEED_ZONAL);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_NAME_KIND), "zonal");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_CLOUD), "aws");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_REGION), "us-west-2");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_REGION_SOURCE), "provider");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_ZONE), "us-west-2a");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_ID), "vpce-0ce90d01341533a5c");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_REGIONAL_NAME), SEED_REGIONAL);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_VENDOR), "zilliz");
    /* The zone and record come from the vendor's naming: the endpoint names none. */
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_PRIVATELINK_ZONE), DESIGN_AWS);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_PRIVATELINK_RECORD), "@");
    const ld_value *names = ld_facts_get(f, LD_F_DNS_RECOGNIZED_NAMES);
    const ld_value *patterns = ld_facts_get(f, LD_F_DNS_NAME_PATTERNS);
    CU_ASSERT_EQUAL_FATAL(names->u.list.len, 2);
    CU_ASSERT_STRING_EQUAL(names->u.list.items[0], DESIGN_AWS);
    CU_ASSERT_STRING_EQUAL(names->u.list.items[1], SEED_ZONAL);
    CU_ASSERT_STRING_EQUAL(patterns->u.list.items[0], "zilliz.aws");
    CU_ASSERT_STRING_EQUAL(patterns->u.list.items[1], "aws.interface_endpoint.zonal");
    ld_facts_free(f);
}

static void vendor_naming_alone_says_where_the_region_comes_from(void) {
    ld_facts *f = record(SEED_AZURE, NULL);
    const ld_bag *t = ld_facts_target_const(f);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_NAME), SEED_AZURE);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_NAME_KIND), "vendor");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_REGION), "eastus");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_REGION_SOURCE), "vendor");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_PRIVATELINK_ZONE), "az-eastus.vectordb.zillizcloud.com");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_PRIVATELINK_RECORD), "in01-0123456789abcde-privatelink");
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_DNS_ENDPOINT_ZONE));
    ld_facts_free(f);
}

static void azure_chain_reads_the_privatelink_hop(void) {
    /* Azure's public CNAME into the privatelink zone, then the storage front end. */
    static const char *const chain[] = {"mystorage.privatelink.blob.core.windows.net",
                                        "blob.ams07prdstr02a.store.core.windows.net", NULL};
    ld_facts *f = record("mystorage.blob.core.windows.net", chain);
    const ld_bag *t = ld_facts_target_const(f);
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_NAME),
                           "mystorage.privatelink.blob.core.windows.net");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_ENDPOINT_NAME_KIND), "privatelink");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_PRIVATELINK_ZONE), "privatelink.blob.core.windows.net");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_PRIVATELINK_RECORD), "mystorage");
    CU_ASSERT_STRING_EQUAL(str(t, LD_F_DNS_PRIVATELINK_PUBLIC_ZONE), "blob.core.windows.net");
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_DNS_ENDPOINT_REGION));
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_DNS_ENDPOINT_VENDOR));
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_DNS_RECOGNIZED_NAMES)->u.list.len, 2);
    ld_facts_free(f);
}

static void nothing_recognised_records_empty_lists_only(void) {
    static const char *const chain[] = {"svc.other.lab.test", NULL};
    ld_facts *f = record("svc.lab.test", chain);
    const ld_bag *t = ld_facts_target_const(f);
    CU_ASSERT_EQUAL(ld_bag_len(t), 2);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_DNS_RECOGNIZED_NAMES)->u.list.len, 0);
    CU_ASSERT_EQUAL(ld_facts_get(f, LD_F_DNS_NAME_PATTERNS)->u.list.len, 0);
    ld_facts_free(f);
    /* Without a table nothing is read, nothing recorded. */
    f = ld_facts_create();
    CU_ASSERT_EQUAL(ld_names_record(NULL, SEED_ZONAL, NULL, ld_facts_target(f)), LD_OK);
    CU_ASSERT_EQUAL(ld_bag_len(ld_facts_target_const(f)), 0);
    ld_facts_free(f);
}

/* Loads text into a fresh table; returns the status (err.msg when it failed). */
static ld_status load(const char *text, ld_names **out, ld_err *err) {
    *out = ld_names_create();
    CU_ASSERT_PTR_NOT_NULL_FATAL(*out);
    return ld_names_load(*out, text, strlen(text), "test.json", err);
}

static void classes_with_groups_of_their_own_shift_the_captures(void) {
    /* A class holding two groups, one with a bracketed '(' that opens none. */
    static const char text[] =
        "{\"linkdoctor_names\": 1, \"classes\": {\"two\": \"(a|b)(c)?[(]?\", \"num\": \"[0-9]+\","
        " \"word\": [\"x.y\", \"z\"]},"
        " \"patterns\": [{\"id\": \"t\", \"cloud\": \"aws\", \"kind\": \"vendor\","
        " \"name\": \"{_x:two}-{region:num}.{zone:word}.example\","
        " \"fields\": {\"record\": \"{_x}/{region}/{name}\"}}]}";
    ld_names *n;
    ld_err err = {{0}};
    CU_ASSERT_EQUAL_FATAL(load(text, &n, &err), LD_OK);
    ld_name_match m;
    CU_ASSERT_TRUE_FATAL(ld_names_read(n, "ac-42.x.y.example", &m));
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_REGION], "42");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_ZONE], "x.y");
    CU_ASSERT_STRING_EQUAL(m.field[LD_NAME_RECORD], "ac/42/ac-42.x.y.example");
    /* A word class is literal: x.y is not xzy. */
    CU_ASSERT_FALSE(ld_names_read(n, "a-1.xzy.example", &m));
    CU_ASSERT_TRUE(ld_names_read(n, "b(-7.z.example", &m) == 0); /* '(' is no name character */
    ld_names_free(n);
}

static void bad_tables_are_refused_whole_with_the_pattern_named(void) {
    static const struct {
        const char *text; /* a names file */
        const char *says; /* what its error must name */
    } bad[] = {
        {"{", "malformed"},
        {"{\"linkdoctor_names\": 2, \"patterns\": []}", "expected"},
        {"{\"linkdoctor_names\": 1, \"patterns\": [], \"extra\": 1}", "unknown field \"extra\""},
        {"{\"linkdoctor_names\": 1, \"patterns\": [{\"id\": \"p\", \"cloud\": \"aws\", \"kind\": "
         "\"vendor\", \"name\": \"{region:nope}.x\"}]}",
         "pattern \"p\": name: no class \"nope\""},
        {"{\"linkdoctor_names\": 1, \"classes\": {\"l\": \"[a-z]+\"}, \"patterns\": [{\"id\": "
         "\"p\", \"cloud\": \"aws\", \"kind\": \"vendor\", \"name\": \"{region:l}.{region:l}\"}]}",
         "captured twice"},
        {"{\"linkdoctor_names\": 1, \"classes\": {\"l\": \"[a-z]+\"}, \"patterns\": [{\"id\": "
         "\"p\", \"cloud\": \"aws\", \"kind\": \"vendor\", \"name\": \"{regoin:l}.x\"}]}",
         "neither a field nor a _helper"},
        {"{\"linkdoctor_names\": 1, \"classes\": {\"l\": \"[a-z]+\"}, \"patterns\": [{\"id\": "
         "\"p\", \"cloud\": \"aws\", \"kind\": \"vendor\", \"name\": \"{region:l}.X\"}]}",
         "'X' cannot be part of a name"},
        {"{\"linkdoctor_names\": 1, \"classes\": {\"l\": \"[a-z]+\"}, \"patterns\": [{\"id\": "
         "\"p\", \"cloud\": \"aws\", \"kind\": \"vendor\", \"name\": \"{region:l}.x\", \"fields\": "
         "{\"zone\": \"{_y}\"}}]}",
         "field \"zone\": {_y} is not a capture"},
        {"{\"linkdoctor_names\": 1, \"classes\": {\"l\": \"[a-z]+\"}, \"patterns\": [{\"id\": "
         "\"p\", \"cloud\": \"aws\", \"kind\": \"lonely\", \"name\": \"{region:l}.x\"}]}",
         "\"kind\" must be"},
        {"{\"linkdoctor_names\": 1, \"classes\": {\"l\": \"[a-z]+\"}, \"patterns\": [{\"id\": "
         "\"p\", \"cloud\": \"ibm\", \"kind\": \"vendor\", \"name\": \"{region:l}.x\"}]}",
         "\"cloud\" must be"},
        {"{\"linkdoctor_names\": 1, \"classes\": {\"l\": \"[a-z]+\"}, \"patterns\": [{\"id\": "
         "\"p\", \"cloud\": \"aws\", \"kind\": \"vendor\", \"name\": \"{region:l}.x\"}, {\"id\": "
         "\"p\", \"cloud\": \"aws\", \"kind\": \"vendor\", \"name\": \"{region:l}.y\"}]}",
         "defined twice"},
        {"{\"linkdoctor_names\": 1, \"classes\": {\"l\": \"[a-z]+\"}, \"patterns\": [{\"id\": "
         "\"p\", \"cloud\": \"aws\", \"kind\": \"vendor\", \"name\": \"{region:l}.{zone}\", "
         "\"rows\": \"t\"}]}",
         "\"rows\" must name a table"},
        {"{\"linkdoctor_names\": 1, \"classes\": {\"l\": \"[a-z]+\"}, \"patterns\": [{\"id\": "
         "\"p\", \"cloud\": \"aws\", \"kind\": \"vendor\", \"name\": \"{region}.x\"}]}",
         "needs a class"},
        {"{\"linkdoctor_names\": 1, \"classes\": {\"l\": \"([a-z]+\"}, \"patterns\": []}",
         "does not compile"},
        {"{\"linkdoctor_names\": 1, \"classes\": {\"l\": [\"A\"]}, \"patterns\": []}",
         "lower-case names"},
        {"{\"linkdoctor_names\": 1, \"classes\": {\"l\": \"[a-z]+\"}, \"patterns\": [{\"id\": "
         "\"p\", \"cloud\": \"aws\", \"kind\": \"vendor\", \"name\": \"{region:l}.x\", \"colour\": "
         "1}]}",
         "unknown field \"colour\""},
        {"{\"linkdoctor_names\": 1, \"classes\": {\"l\": \"[a-z]+\"}, \"patterns\": [{\"id\": "
         "\"p\", \"cloud\": \"aws\", \"kind\": \"vendor\", \"name\": \"{region:l.x\"}]}",
         "position 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ld_names *n;
        ld_err err = {{0}};
        ld_status st = load(bad[i].text, &n, &err);
        CU_ASSERT_NOT_EQUAL(st, LD_OK);
        if (!strstr(err.msg, bad[i].says))
            fprintf(stderr, "\n  case %zu: '%s' lacks '%s'\n", i, err.msg, bad[i].says);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].says));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "test.json"));
        CU_ASSERT_EQUAL(ld_names_count(n), 0); /* all or nothing */
        ld_names_free(n);
    }
}

static void a_failed_load_leaves_the_table_as_it_was(void) {
    static const char good[] =
        "{\"linkdoctor_names\": 1, \"classes\": {\"l\": \"[a-z]+\"}, \"patterns\": ["
        "{\"id\": \"a\", \"cloud\": \"aws\", \"kind\": \"vendor\", \"name\": \"{region:l}.a\"}]}";
    static const char bad[] =
        "{\"linkdoctor_names\": 1, \"classes\": {\"m\": \"[0-9]+\"}, \"patterns\": ["
        "{\"id\": \"b\", \"cloud\": \"aws\", \"kind\": \"vendor\", \"name\": \"{region:m}.b\"},"
        "{\"id\": \"c\", \"cloud\": \"aws\", \"kind\": \"vendor\", \"name\": "
        "\"{region:none}.c\"}]}";
    static const char profiles[] =
        "{\"profiles\": [{\"name\": \"v\", \"names\": [{\"id\": \"v.p\", \"cloud\": \"gcp\","
        " \"kind\": \"vendor\", \"authority\": \"provider\", \"name\": \"{region:l}.v\"}]}]}";
    ld_names *n;
    ld_err err = {{0}};
    CU_ASSERT_EQUAL_FATAL(load(good, &n, &err), LD_OK);
    CU_ASSERT_NOT_EQUAL(ld_names_load(n, bad, strlen(bad), "bad.json", &err), LD_OK);
    CU_ASSERT_EQUAL(ld_names_count(n), 1);
    /* The class of the failed file went with it: a second load may define it. */
    static const char again[] =
        "{\"linkdoctor_names\": 1, \"classes\": {\"m\": \"[0-9]+\"}, \"patterns\": []}";
    CU_ASSERT_EQUAL(ld_names_load(n, again, strlen(again), "again.json", &err), LD_OK);
    /* A profile's names are a vendor's. */
    CU_ASSERT_NOT_EQUAL(ld_names_load_profiles(n, profiles, strlen(profiles), "p.json", &err),
                        LD_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "profile 'v'"));
    CU_ASSERT_EQUAL(ld_names_count(n), 1);
    ld_name_match m;
    CU_ASSERT_TRUE(ld_names_read(n, "abc.a", &m));
    ld_names_free(n);
    ld_names_free(NULL);
}

int main(void) {
    ld_err err = {{0}};
    table = ld_cli_names(&err);
    if (!table)
        fprintf(stderr, "built-in names: %s\n", err.msg);
    static const ld_test_case cases[] = {
        LD_TEST(builtin_table_loads),
        LD_TEST(every_builtin_expression_compiles_and_reads_the_same),
        LD_TEST(seed_regional_endpoint_name),
        LD_TEST(seed_zonal_endpoint_name_names_its_regional_one),
        LD_TEST(aws_service_and_china_endpoint_names),
        LD_TEST(seed_zilliz_names_carry_cloud_region_zone_and_record),
        LD_TEST(seed_azure_service_alias_carries_its_region),
        LD_TEST(seed_console_and_docs_names_are_no_endpoints),
        LD_TEST(azure_privatelink_names_and_the_public_zone_they_shadow),
        LD_TEST(gcp_psc_endpoint_names),
        LD_TEST(vendor_region_labels_elsewhere),
        LD_TEST(look_alikes_are_not_read),
        LD_TEST(upper_case_and_the_trailing_dot_read_the_same),
        LD_TEST(chain_through_a_zonal_name_records_endpoint_and_vendor_zone),
        LD_TEST(vendor_naming_alone_says_where_the_region_comes_from),
        LD_TEST(azure_chain_reads_the_privatelink_hop),
        LD_TEST(nothing_recognised_records_empty_lists_only),
        LD_TEST(classes_with_groups_of_their_own_shift_the_captures),
        LD_TEST(bad_tables_are_refused_whole_with_the_pattern_named),
        LD_TEST(a_failed_load_leaves_the_table_as_it_was),
        {0},
    };
    int rc = ld_unit_run("names", cases);
    ld_names_free(table);
    return rc;
}
