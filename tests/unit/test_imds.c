/* test_imds.c - the metadata services' parsers on recorded replies (tests/data/imds)
 * and on malformed ones: what parses becomes cloud.* facts, what does not is refused
 * whole with the reason, and nothing of a refused reply is recorded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/imds.h"
#include "unit.h"

/* Parses body for item into a fresh fact store; returns the status, the store in
 * *out (the caller frees it) and the word (token or MAC) in word. */
static ld_status parse(ld_imds_item item, const char *body, ld_facts **out, char *word,
                       size_t wordlen, ld_err *err) {
    *out = ld_facts_create();
    CU_ASSERT_PTR_NOT_NULL_FATAL(*out);
    return ld_imds_parse(item, body, strlen(body), ld_facts_target(*out), word, wordlen, err);
}

/* The recorded file under tests/data/imds parsed for item; LD_OK expected. */
static ld_facts *parse_file(ld_imds_item item, const char *file) {
    char rel[128];
    snprintf(rel, sizeof rel, "imds/%s", file);
    char *body = ld_unit_read_data(rel, NULL);
    ld_facts *f = NULL;
    ld_err err = {{0}};
    char word[LD_IMDS_TOKEN_MAX];
    ld_status st = parse(item, body, &f, word, sizeof word, &err);
    if (st != LD_OK)
        fprintf(stderr, "\n  %s: %s\n", file, err.msg);
    CU_ASSERT_EQUAL(st, LD_OK);
    free(body);
    return f;
}

static void expect_str(const ld_facts *f, ld_fact_id id, const char *want) {
    const ld_value *v = ld_facts_get(f, id);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL_FATAL(v->type, LD_T_STR);
    if (strcmp(v->u.s, want) != 0)
        fprintf(stderr, "\n  %s: got '%s', want '%s'\n", ld_fact_def_get(id)->name, v->u.s, want);
    CU_ASSERT_STRING_EQUAL(v->u.s, want);
}

/* The list fact id holds exactly the n strings of want, in order. */
static void expect_list(const ld_facts *f, ld_fact_id id, const char *const *want, size_t n) {
    const ld_value *v = ld_facts_get(f, id);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL_FATAL(v->type, LD_T_LIST);
    CU_ASSERT_EQUAL_FATAL(v->u.list.len, n);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_STRING_EQUAL(v->u.list.items[i], want[i]);
}

/* body for item is refused with a reason holding why, and records nothing. */
static void expect_refused(ld_imds_item item, const char *body, const char *why) {
    ld_facts *f = NULL;
    ld_err err = {{0}};
    char word[LD_IMDS_TOKEN_MAX] = "";
    CU_ASSERT_EQUAL(parse(item, body, &f, word, sizeof word, &err), LD_EINVAL);
    if (!strstr(err.msg, why))
        fprintf(stderr, "\n  refused for '%s', want '%s'\n", err.msg, why);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, why));
    CU_ASSERT_EQUAL(ld_bag_len(ld_facts_target_const(f)), 0);
    CU_ASSERT_STRING_EQUAL(word, "");
    ld_facts_free(f);
}

static void aws_identity_document_gives_account_region_zone_and_instance(void) {
    ld_facts *f = parse_file(LD_IMDS_AWS_DOCUMENT, "aws-identity-document.json");
    expect_str(f, LD_F_CLOUD_ACCOUNT, "123456789012");
    expect_str(f, LD_F_CLOUD_REGION, "us-east-1");
    expect_str(f, LD_F_CLOUD_ZONE, "us-east-1a");
    expect_str(f, LD_F_CLOUD_INSTANCE_ID, "i-0abc1234def567890");
    CU_ASSERT_EQUAL(ld_bag_len(ld_facts_target_const(f)), 4); /* nothing else of it */
    ld_facts_free(f);
}

static void aws_lists_are_one_item_a_line(void) {
    ld_facts *f = parse_file(LD_IMDS_AWS_SECURITY_GROUPS, "aws-security-group-ids.txt");
    static const char *const sgs[] = {"sg-0123456789abcdef0", "sg-0fedcba9876543210"};
    expect_list(f, LD_F_CLOUD_SECURITY_GROUP_IDS, sgs, 2);
    ld_facts_free(f);
    f = parse_file(LD_IMDS_AWS_VPC_CIDRS, "aws-vpc-ipv4-cidr-blocks.txt");
    static const char *const cidrs[] = {"10.0.0.0/16", "100.64.0.0/16"};
    expect_list(f, LD_F_CLOUD_VPC_CIDRS, cidrs, 2);
    ld_facts_free(f);
    /* A final line feed, CRLF: the same. */
    ld_err err;
    char w[32];
    CU_ASSERT_EQUAL(
        parse(LD_IMDS_AWS_SECURITY_GROUPS, "sg-0123456789abcdef0\r\n", &f, w, sizeof w, &err),
        LD_OK);
    expect_list(f, LD_F_CLOUD_SECURITY_GROUP_IDS, sgs, 1);
    ld_facts_free(f);
}

static void aws_words_are_checked_against_their_shape(void) {
    ld_facts *f;
    ld_err err;
    char w[LD_IMDS_TOKEN_MAX];
    CU_ASSERT_EQUAL(parse(LD_IMDS_AWS_AZ_ID, "use1-az4", &f, w, sizeof w, &err), LD_OK);
    expect_str(f, LD_F_CLOUD_AZ_ID, "use1-az4");
    ld_facts_free(f);
    CU_ASSERT_EQUAL(parse(LD_IMDS_AWS_VPC_ID, "vpc-0a1b2c3d4e5f60718\n", &f, w, sizeof w, &err),
                    LD_OK);
    expect_str(f, LD_F_CLOUD_VPC, "vpc-0a1b2c3d4e5f60718");
    ld_facts_free(f);
    CU_ASSERT_EQUAL(parse(LD_IMDS_AWS_SUBNET_CIDR, "10.0.1.0/24", &f, w, sizeof w, &err), LD_OK);
    static const char *const cidr[] = {"10.0.1.0/24"};
    expect_list(f, LD_F_CLOUD_SUBNET_CIDRS, cidr, 1);
    ld_facts_free(f);
    expect_refused(LD_IMDS_AWS_AZ_ID, "us-east-1a zone", "not an AZ ID");
    expect_refused(LD_IMDS_AWS_VPC_ID, "vpc-xyz", "not a VPC ID");
    expect_refused(LD_IMDS_AWS_VPC_ID, "subnet-0fedcba9876543210", "not a VPC ID");
    expect_refused(LD_IMDS_AWS_SUBNET_ID, "subnet-0fedcba98765432101234", "not a subnet ID");
    expect_refused(LD_IMDS_AWS_SUBNET_CIDR, "10.0.1.0/33", "not a CIDR block");
    expect_refused(LD_IMDS_AWS_LOCAL_IPV4, "fd00::1", "not an IPv4 address");
    expect_refused(LD_IMDS_AWS_SECURITY_GROUPS, "sg-0123456789abcdef0\nsg-evil;rm",
                   "security group");
    expect_refused(LD_IMDS_AWS_SECURITY_GROUPS, "", "security group");
    expect_refused(LD_IMDS_AWS_VPC_CIDRS, "10.0.0.0/16\n\n10.1.0.0/16", "CIDR blocks");
    expect_refused(LD_IMDS_AWS_DOCUMENT, "<html>Forbidden</html>", "not a JSON object");
}

static void aws_identity_document_with_a_bad_field_is_refused_whole(void) {
    char *body = ld_unit_read_data("imds/aws-identity-document-bad-account.json", NULL);
    expect_refused(LD_IMDS_AWS_DOCUMENT, body, "accountId is not 12 digits");
    free(body);
    expect_refused(LD_IMDS_AWS_DOCUMENT,
                   "{\"accountId\": \"123456789012\", \"availabilityZone\": \"us-east-1a\", "
                   "\"region\": \"us-east-1\", \"instanceId\": \"i-../../x\"}",
                   "instanceId");
    expect_refused(LD_IMDS_AWS_DOCUMENT, "{\"accountId\": \"123456789012\", \"region\": ", "JSON");
}

static void aws_token_and_mac_go_to_the_word_not_the_facts(void) {
    ld_facts *f;
    ld_err err;
    char w[LD_IMDS_TOKEN_MAX];
    CU_ASSERT_EQUAL(parse(LD_IMDS_AWS_TOKEN, "AQAEAFake==\n", &f, w, sizeof w, &err), LD_OK);
    CU_ASSERT_STRING_EQUAL(w, "AQAEAFake==");
    CU_ASSERT_EQUAL(ld_bag_len(ld_facts_target_const(f)), 0);
    ld_facts_free(f);
    CU_ASSERT_EQUAL(parse(LD_IMDS_AWS_MAC, "0e:49:61:0f:c3:11", &f, w, sizeof w, &err), LD_OK);
    CU_ASSERT_STRING_EQUAL(w, "0e:49:61:0f:c3:11");
    ld_facts_free(f);
    /* A MAC goes into later paths: nothing but hex and colons. */
    expect_refused(LD_IMDS_AWS_MAC, "0e:49:61:0f:c3:11/../../x", "not a MAC");
    expect_refused(LD_IMDS_AWS_MAC, "0e:49:61:0f:c3:1g", "not a MAC");
    expect_refused(LD_IMDS_AWS_TOKEN, "two words", "spaces");
    expect_refused(LD_IMDS_AWS_TOKEN, "", "empty");
    /* A token longer than the room for it. */
    char big[LD_IMDS_TOKEN_MAX + 8];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    expect_refused(LD_IMDS_AWS_TOKEN, big, "longer than");
}

static void gcp_nic_zone_and_tags(void) {
    ld_facts *f = parse_file(LD_IMDS_GCP_NIC, "gcp-network-interface-0.json");
    expect_str(f, LD_F_CLOUD_VPC, "prod-vpc");
    static const char *const ip[] = {"10.128.0.70"}, *const net[] = {"10.128.0.0/20"};
    expect_list(f, LD_F_CLOUD_PRIVATE_IPS, ip, 1);
    expect_list(f, LD_F_CLOUD_SUBNET_CIDRS, net, 1);
    ld_facts_free(f);
    f = parse_file(LD_IMDS_GCP_TAGS, "gcp-tags.json");
    static const char *const tags[] = {"web", "milvus-client"};
    expect_list(f, LD_F_CLOUD_NETWORK_TAGS, tags, 2);
    ld_facts_free(f);
    ld_err err;
    char w[32];
    CU_ASSERT_EQUAL(parse(LD_IMDS_GCP_ZONE, "projects/412345678901/zones/europe-west4-b", &f, w,
                          sizeof w, &err),
                    LD_OK);
    expect_str(f, LD_F_CLOUD_ZONE, "europe-west4-b");
    expect_str(f, LD_F_CLOUD_REGION, "europe-west4");
    ld_facts_free(f);
    CU_ASSERT_EQUAL(parse(LD_IMDS_GCP_TAGS, "[]", &f, w, sizeof w, &err), LD_OK);
    expect_list(f, LD_F_CLOUD_NETWORK_TAGS, NULL, 0);
    ld_facts_free(f);
    CU_ASSERT_EQUAL(
        parse(LD_IMDS_GCP_PROJECT_ID, "example.com:prod-project", &f, w, sizeof w, &err), LD_OK);
    expect_str(f, LD_F_CLOUD_ACCOUNT, "example.com:prod-project");
    ld_facts_free(f);
    expect_refused(LD_IMDS_GCP_ZONE, "us-central1-a", "projects/NUMBER/zones/ZONE");
    expect_refused(LD_IMDS_GCP_TAGS, "[\"web\", 7]", "not a tag name");
    expect_refused(LD_IMDS_GCP_TAGS, "{\"web\": 1}", "JSON list");
    expect_refused(LD_IMDS_GCP_NIC, "{\"network\": \"prod-vpc\", \"ip\": \"10.0.0.2\"}",
                   "projects/NUMBER/networks/NAME");
    expect_refused(LD_IMDS_GCP_NIC,
                   "{\"network\": \"projects/1/networks/prod-vpc\", \"ip\": \"x\"}", "ip");
    expect_refused(LD_IMDS_GCP_INSTANCE_ID, "12ab", "not an instance ID");
    expect_refused(LD_IMDS_GCP_SERVICE_ACCOUNT, "a@b@c", "e-mail");
    expect_refused(LD_IMDS_GCP_PROJECT_NUMBER, "<html>", "project number");
}

static void gcp_odd_netmask_leaves_the_prefix_out(void) {
    ld_facts *f;
    ld_err err;
    char w[32];
    CU_ASSERT_EQUAL(parse(LD_IMDS_GCP_NIC,
                          "{\"network\": \"projects/1/networks/n\", \"ip\": \"10.0.0.2\", "
                          "\"subnetmask\": \"255.0.255.0\"}",
                          &f, w, sizeof w, &err),
                    LD_OK);
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_CLOUD_SUBNET_CIDRS));
    expect_str(f, LD_F_CLOUD_VPC, "n");
    ld_facts_free(f);
}

static void azure_document_gives_subscription_group_vm_and_every_interface(void) {
    ld_facts *f = parse_file(LD_IMDS_AZURE_INSTANCE, "azure-instance.json");
    expect_str(f, LD_F_CLOUD_ACCOUNT, "8d10da13-8125-4ba9-a717-bf7490507b3d");
    expect_str(f, LD_F_CLOUD_RESOURCE_GROUP, "rg-prod");
    expect_str(f, LD_F_CLOUD_REGION, "westeurope");
    expect_str(f, LD_F_CLOUD_ZONE, "2");
    expect_str(f, LD_F_CLOUD_INSTANCE_ID, "02aab8a4-74ef-476e-8182-f6d2ba4166a6");
    expect_str(f, LD_F_CLOUD_INSTANCE_NAME, "vm-milvus-1");
    static const char *const ips[] = {"10.1.0.4", "10.1.0.5", "10.1.1.4"};
    static const char *const nets[] = {"10.1.0.0/24", "10.1.1.0/26"};
    expect_list(f, LD_F_CLOUD_PRIVATE_IPS, ips, 3);
    expect_list(f, LD_F_CLOUD_SUBNET_CIDRS, nets, 2);
    ld_facts_free(f);
    /* No zone, and odd interface entries: the compute part stands, the odd entries go. */
    f = parse_file(LD_IMDS_AZURE_INSTANCE, "azure-instance-no-zone.json");
    CU_ASSERT_PTR_NULL(ld_facts_get(f, LD_F_CLOUD_ZONE));
    expect_list(f, LD_F_CLOUD_PRIVATE_IPS, NULL, 0);
    expect_list(f, LD_F_CLOUD_SUBNET_CIDRS, NULL, 0);
    ld_facts_free(f);
    expect_refused(LD_IMDS_AZURE_INSTANCE, "{\"network\": {}}", "no compute object");
    expect_refused(LD_IMDS_AZURE_INSTANCE,
                   "{\"compute\": {\"subscriptionId\": \"8d10da13\", \"vmId\": \"x\"}}",
                   "subscriptionId is not a GUID");
    expect_refused(LD_IMDS_AZURE_INSTANCE, "{\"error\": \"Bad request\"}", "no compute object");
}

static void replies_with_nul_bytes_or_lines_are_refused(void) {
    ld_facts *f = ld_facts_create();
    ld_err err;
    char w[32];
    CU_ASSERT_EQUAL(
        ld_imds_parse(LD_IMDS_AWS_AZ_ID, "use1\0-az1", 9, ld_facts_target(f), w, sizeof w, &err),
        LD_EINVAL);
    CU_ASSERT_EQUAL(ld_bag_len(ld_facts_target_const(f)), 0);
    ld_facts_free(f);
    expect_refused(LD_IMDS_GCP_INSTANCE_NAME, "name\nother", "one line");
    expect_refused(LD_IMDS_GCP_INSTANCE_NAME, "Name", "not an instance name");
}

static void every_item_belongs_to_one_provider_and_stage(void) {
    int essential[LD_CLOUD__COUNT] = {0};
    for (int i = 0; i < LD_IMDS__COUNT; i++) {
        const ld_imds_def *d = ld_imds_def_get((ld_imds_item)i);
        CU_ASSERT(d->cloud > LD_CLOUD_GENERIC && d->cloud < LD_CLOUD__COUNT);
        CU_ASSERT(d->path && d->path[0] == '/');
        CU_ASSERT(d->stage >= 0 && d->stage <= 2);
        /* Only AWS has stages other than 1; only per-MAC paths need the MAC. */
        CU_ASSERT(d->cloud == LD_CLOUD_AWS || d->stage == 1);
        CU_ASSERT_EQUAL(strstr(d->path, "%s") != NULL, d->stage == 2);
        essential[d->cloud] += d->essential;
    }
    for (int c = LD_CLOUD_AWS; c < LD_CLOUD__COUNT; c++)
        CU_ASSERT(essential[c] > 0);
    CU_ASSERT_STRING_EQUAL(ld_imds_default_endpoint(LD_CLOUD_AWS), "http://169.254.169.254");
    CU_ASSERT_STRING_EQUAL(ld_imds_default_endpoint(LD_CLOUD_GCP),
                           "http://metadata.google.internal");
    CU_ASSERT_PTR_NULL(ld_imds_default_endpoint(LD_CLOUD_GENERIC));
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(aws_identity_document_gives_account_region_zone_and_instance),
        LD_TEST(aws_lists_are_one_item_a_line),
        LD_TEST(aws_words_are_checked_against_their_shape),
        LD_TEST(aws_identity_document_with_a_bad_field_is_refused_whole),
        LD_TEST(aws_token_and_mac_go_to_the_word_not_the_facts),
        LD_TEST(gcp_nic_zone_and_tags),
        LD_TEST(gcp_odd_netmask_leaves_the_prefix_out),
        LD_TEST(azure_document_gives_subscription_group_vm_and_every_interface),
        LD_TEST(replies_with_nul_bytes_or_lines_are_refused),
        LD_TEST(every_item_belongs_to_one_provider_and_stage),
        {0},
    };
    return ld_unit_run("imds", cases);
}
