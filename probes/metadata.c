/* metadata.c - the instance metadata service, asked with libcurl's multi
 * interface in the loop.
 *
 * The requests of a provider come in stages (imds.h): AWS's token first,
 * then what needs only the token, then what needs the primary MAC; GCP and
 * Azure have one stage. A stage's requests run at once, on as many
 * connections as curl opens; when every one of them ended, the stage is
 * judged: an essential request that failed ends the probe with its failure,
 * the rest of the replies are parsed into facts (a reply that fails its
 * parser is left out), and the next stage starts.
 *
 * A failure is named by what it shows about the service: no answer on a
 * connection made (timeout; for AWS's token request token_timeout, which is
 * what the default hop limit of 1 does to a container's request: the PUT
 * arrives, its reply is dropped), no connection before the deadline
 * (connect_timeout: the SYNs went unanswered, as a firewall rule dropping
 * the metadata address makes them - the hop limit has nothing to do with
 * it), no connection at all (unreachable: refused, no route, a name that
 * does not resolve or did not before the deadline), an HTTP error status
 * (http_status), or a reply that is not
 * the provider's metadata (not_metadata: GCP's without its Metadata-Flavor
 * header, a body the parser refuses, one larger than MD_BODY_MAX).
 *
 * The GCP default base URL names metadata.google.internal, pinned to
 * 169.254.169.254 with CURLOPT_RESOLVE: the name is Google's documented one
 * (and what the server expects in Host), and no DNS lookup - which a
 * resolver that does not know the name would fail - stands between the
 * probe and the answer.
 */
#include "metadata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/target.h"
#include "probes/curlmulti.h"
#include "probes/imds.h"

#define MD_BODY_MAX    (64 * 1024) /* longest reply body read (Azure's document: a few KB) */
#define MD_URL_MAX     2048        /* longest base URL kept (--imds-endpoint) */
#define MD_PATH_MAX    128         /* longest path asked (the longest with a MAC: ~80) */
#define MD_TOKEN_TTL   "21600" /* seconds the AWS session token lives (the documented maximum) */
#define MD_GCP_PIN     "metadata.google.internal:80:169.254.169.254"
#define MD_CONNECTIONS 4 /* connections to the service at once */

/* Why the service gave nothing usable; the names are cloud.metadata_failure's. */
typedef enum md_failure {
    F_NONE = 0,        /* it answered */
    F_TOKEN_TIMEOUT,   /* AWS: the token request got no answer */
    F_TOKEN_REFUSED,   /* AWS: the token request was refused, and one without it unauthorized */
    F_TIMEOUT,         /* a request got no answer */
    F_CONNECT_TIMEOUT, /* no connection before the deadline: SYNs unanswered */
    F_UNREACHABLE,     /* no connection: refused, no route, no such host */
    F_HTTP_STATUS,     /* an HTTP error status */
    F_NOT_METADATA,    /* a reply that is not the provider's metadata */
    F_CUT,             /* --timeout ended the run first */
} md_failure;

static const char *const failure_names[] = {
    [F_NONE] = NULL,
    [F_TOKEN_TIMEOUT] = "token_timeout",
    [F_TOKEN_REFUSED] = "token_refused",
    [F_TIMEOUT] = "timeout",
    [F_CONNECT_TIMEOUT] = "connect_timeout",
    [F_UNREACHABLE] = "unreachable",
    [F_HTTP_STATUS] = "http_status",
    [F_NOT_METADATA] = "not_metadata",
    [F_CUT] = "cut",
};

struct md_state;

/* One request. */
typedef struct md_req {
    struct md_state *s;           /* owner */
    ld_imds_item item;            /* what it asks */
    CURL *easy;                   /* the transfer, NULL when not made */
    int added;                    /* easy is in the multi */
    int done;                     /* curl finished it */
    CURLcode code;                /* how */
    long status;                  /* the HTTP status, 0 before one came */
    int flavor;                   /* a Metadata-Flavor: Google header came */
    int too_large;                /* the body passed MD_BODY_MAX: reading stopped */
    int parsed;                   /* its reply went through the parser */
    ld_buf body;                  /* the body, up to MD_BODY_MAX */
    char path[MD_PATH_MAX];       /* the path asked (the MAC filled in) */
    char errbuf[CURL_ERROR_SIZE]; /* curl's detailed error */
} md_req;

/* Private state of the probe. */
typedef struct md_state {
    ld_curl_multi cm;               /* the multi handle in the loop */
    md_req req[LD_IMDS__COUNT];     /* by item; only the provider's are made */
    int stage;                      /* the stage in flight */
    int v1;                         /* AWS: the token was refused, requests go without */
    int essential_ok;               /* every essential reply came and parsed */
    int concluded;                  /* facts recorded, curl no longer driven */
    struct curl_slist *get_headers; /* the provider's header (and AWS's token) */
    struct curl_slist *put_headers; /* AWS: the token TTL */
    struct curl_slist *resolve;     /* GCP's default name pinned to its address */
    char token[LD_IMDS_TOKEN_MAX];  /* AWS's session token (never recorded) */
    char mac[LD_IMDS_MAC_MAX];      /* AWS's primary MAC, for stage 2's paths */
    char base[MD_URL_MAX];          /* the base URL, without a trailing '/' */
    char host[MD_URL_MAX];          /* its host, "" when it could not be read */
    int host_is_address;            /* that host is an IP address: nothing to resolve */
    ld_time t_start;                /* when the first request went out */
} md_state;

/* --- curl callbacks ------------------------------------------------------------ */

/* CURLOPT_HEADERFUNCTION: notes GCP's "Metadata-Flavor: Google". */
static size_t on_header(char *line, size_t size, size_t n, void *userp) {
    md_req *r = userp;
    size_t len = size * n;
    static const char name[] = "Metadata-Flavor:";
    if (len > sizeof name && strncasecmp(line, name, sizeof name - 1) == 0) {
        const char *v = line + sizeof name - 1;
        size_t vlen = len - (sizeof name - 1);
        while (vlen > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            vlen--;
        }
        while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
            vlen--;
        r->flavor = vlen == 6 && memcmp(v, "Google", 6) == 0;
    }
    return len;
}

/* CURLOPT_WRITEFUNCTION: keeps the body up to MD_BODY_MAX, then stops. */
static size_t on_body(char *data, size_t size, size_t n, void *userp) {
    md_req *r = userp;
    size_t len = size * n;
    if (ld_buf_append(&r->body, data, len) != LD_OK) {
        r->too_large = 1;
        return 0; /* curl fails the transfer: a flood is not read to its end */
    }
    return len;
}

/* --- requests ------------------------------------------------------------------ */

static const ld_metadata_config *config(const ld_probe *p) {
    return p->config;
}

/* 1 when r got a 200 reply of the provider's (not yet parsed). */
static int req_ok(const md_req *r, ld_cloud cloud) {
    return r->done && r->code == CURLE_OK && r->status == 200 && !r->too_large &&
           (cloud != LD_CLOUD_GCP || r->flavor);
}

/* Makes and starts the request for item; failures to even make it are
 * recorded on the request as a curl error. */
static void add_request(ld_probe *p, ld_imds_item item) {
    md_state *s = p->priv;
    const ld_imds_def *d = ld_imds_def_get(item);
    md_req *r = &s->req[item];
    CURLcode rc = CURLE_OK;
    char url[MD_URL_MAX + MD_PATH_MAX];
    r->s = s;
    r->item = item;
    ld_buf_init(&r->body, MD_BODY_MAX);
    /* "%s" in a path stands for the MAC (checked by its parser: hex and colons). */
    const char *mark = strstr(d->path, "%s");
    if (mark)
        snprintf(r->path, sizeof r->path, "%.*s%s%s", (int)(mark - d->path), d->path, s->mac,
                 mark + 2);
    else
        snprintf(r->path, sizeof r->path, "%s", d->path);
    snprintf(url, sizeof url, "%s%s", s->base, r->path);
    if (!(r->easy = curl_easy_init())) {
        r->done = 1;
        r->code = CURLE_OUT_OF_MEMORY;
        return;
    }
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if ((rc = curl_easy_setopt(r->easy, opt, val)) != CURLE_OK)                                \
            goto failed;                                                                           \
    } while (0)
    /* Never through a proxy: the metadata service is link-local to this host. */
    if ((rc = ld_curl_easy_defaults(r->easy, p, r->errbuf, on_header, on_body, r)) != CURLE_OK)
        goto failed;
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PRIVATE, r);
    if (s->resolve)
        SET(CURLOPT_RESOLVE, s->resolve);
    if (item == LD_IMDS_AWS_TOKEN) {
        SET(CURLOPT_CUSTOMREQUEST, "PUT");
        SET(CURLOPT_HTTPHEADER, s->put_headers);
    } else if (s->get_headers) {
        SET(CURLOPT_HTTPHEADER, s->get_headers);
    }
#undef SET
    if (curl_multi_add_handle(s->cm.multi, r->easy) != CURLM_OK) {
        rc = CURLE_OUT_OF_MEMORY;
        goto failed;
    }
    r->added = 1;
    return;
failed:
    r->done = 1;
    r->code = rc;
}

/* Starts every request of stage; returns how many. */
static int start_stage(ld_probe *p, int stage) {
    md_state *s = p->priv;
    int n = 0;
    s->stage = stage;
    for (int i = 0; i < LD_IMDS__COUNT; i++) {
        const ld_imds_def *d = ld_imds_def_get((ld_imds_item)i);
        if (d->cloud == config(p)->cloud && d->stage == stage) {
            add_request(p, (ld_imds_item)i);
            n++;
        }
    }
    return n;
}

/* --- concluding -------------------------------------------------------------------- */

/* Stops driving curl, records how the lookup went and ends the probe.
 * failure F_NONE: the service answered (what it said is recorded already). */
static void conclude(ld_probe *p, md_failure failure, const char *error, long status,
                     ld_probe_end end) {
    md_state *s = p->priv;
    if (s->concluded)
        return;
    s->concluded = 1;
    ld_curl_multi_stop(&s->cm);
    ld_bag *t = ld_facts_target(p->facts);
    char shown[MD_URL_MAX];
    ld_target_mask(s->base, 0, shown, sizeof shown);
    ld_bag_set_str(t, LD_F_CLOUD_METADATA_ENDPOINT, shown);
    ld_bag_set_num(t, LD_F_CLOUD_METADATA_MS, (double)(ld_time_now() - s->t_start) / (double)LD_MS);
    ld_bag_set_bool(t, LD_F_CLOUD_METADATA_AVAILABLE, failure == F_NONE);
    if (failure == F_NONE) {
        if (config(p)->cloud == LD_CLOUD_AWS)
            ld_bag_set_str(t, LD_F_CLOUD_IMDS_VERSION, s->v1 ? "v1" : "v2");
    } else {
        ld_bag_set_str(t, LD_F_CLOUD_METADATA_FAILURE, failure_names[failure]);
        ld_bag_set_str(t, LD_F_CLOUD_METADATA_ERROR, error);
        if (status > 0)
            ld_bag_set_int(t, LD_F_CLOUD_METADATA_STATUS, status);
    }
    ld_probe_finish(p, end);
}

/* The failure of a request that ended without a usable reply, and its
 * description ("GET /path: HTTP 404") into buf; *status gets its HTTP
 * status (0 for none). */
static md_failure judge(const ld_probe *p, const md_req *r, char *buf, size_t len, long *status) {
    const char *method = r->item == LD_IMDS_AWS_TOKEN ? "PUT" : "GET";
    ld_cloud cloud = config(p)->cloud;
    *status = 0;
    if (!r->done || r->code == CURLE_OPERATION_TIMEDOUT) {
        double ms = (double)(ld_time_now() - r->s->t_start) / (double)LD_MS;
        /* Where it stopped: curl sets these times (microseconds since the
         * transfer started, > 0) when the lookup and the connect end. */
        curl_off_t looked_up = 0, connected = 0;
        if (r->easy) {
            curl_easy_getinfo(r->easy, CURLINFO_NAMELOOKUP_TIME_T, &looked_up);
            curl_easy_getinfo(r->easy, CURLINFO_CONNECT_TIME_T, &connected);
        }
        if (!connected && !looked_up && !r->s->host_is_address) {
            snprintf(buf, len, "%s %s: the name %.200s did not resolve within %.0f ms", method,
                     r->path, r->s->host, ms);
            return F_UNREACHABLE;
        }
        if (!connected) {
            snprintf(buf, len, "%s %s: no connection within %.0f ms (no reply to the SYNs)", method,
                     r->path, ms);
            return F_CONNECT_TIMEOUT;
        }
        snprintf(buf, len, "%s %s: no answer within %.0f ms", method, r->path, ms);
        return r->item == LD_IMDS_AWS_TOKEN ? F_TOKEN_TIMEOUT : F_TIMEOUT;
    }
    if (r->code == CURLE_COULDNT_CONNECT || r->code == CURLE_COULDNT_RESOLVE_HOST) {
        snprintf(buf, len, "%s %s: %s", method, r->path,
                 r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->code));
        return F_UNREACHABLE;
    }
    if (r->too_large) {
        snprintf(buf, len, "%s %s: the reply is larger than %d KB", method, r->path,
                 MD_BODY_MAX / 1024);
        return F_NOT_METADATA;
    }
    if (r->code != CURLE_OK) {
        snprintf(buf, len, "%s %s: %s", method, r->path,
                 r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->code));
        return F_NOT_METADATA;
    }
    if (r->status != 200) {
        *status = r->status;
        snprintf(buf, len, "%s %s: HTTP %ld", method, r->path, r->status);
        return F_HTTP_STATUS;
    }
    if (cloud == LD_CLOUD_GCP && !r->flavor) {
        snprintf(buf, len, "%s %s: the reply has no Metadata-Flavor: Google header", method,
                 r->path);
        return F_NOT_METADATA;
    }
    snprintf(buf, len, "%s %s: no usable reply", method, r->path);
    return F_NOT_METADATA;
}

/* Parses r's reply into facts (once); 0 with a description into buf when
 * the parser refuses it. */
static int parse(ld_probe *p, md_req *r, char *buf, size_t len) {
    md_state *s = p->priv;
    ld_err err = {{0}};
    char *word = r->item == LD_IMDS_AWS_TOKEN ? s->token : s->mac;
    size_t wlen = r->item == LD_IMDS_AWS_TOKEN ? sizeof s->token : sizeof s->mac;
    if (r->parsed)
        return 1;
    r->parsed = 1;
    if (ld_imds_parse(r->item, ld_buf_str(&r->body), r->body.len, ld_facts_target(p->facts), word,
                      wlen, &err) == LD_OK)
        return 1;
    snprintf(buf, len, "%s %s: %.300s", r->item == LD_IMDS_AWS_TOKEN ? "PUT" : "GET", r->path,
             err.msg);
    return 0;
}

/* The first essential request of the stage in flight without a usable
 * reply, or NULL. Done ones come first: what a request that ended said
 * explains more than another one's silence. */
static md_req *essential_failed(ld_probe *p) {
    md_state *s = p->priv;
    md_req *pending = NULL;
    for (int i = 0; i < LD_IMDS__COUNT; i++) {
        md_req *r = &s->req[i];
        const ld_imds_def *d = ld_imds_def_get((ld_imds_item)i);
        if (d->cloud != config(p)->cloud || d->stage != s->stage || !d->essential ||
            req_ok(r, d->cloud))
            continue;
        if (r->done)
            return r;
        if (!pending)
            pending = r;
    }
    return pending;
}

/* Ends on r's failure. After the token was refused, the request without it
 * says which refusal it was: 401 (unauthorized: IMDSv2 is required, the
 * token's refusal is the fault) or the same status as the token's (the
 * service refuses everything: turned off). */
static void fail_with(ld_probe *p, const md_req *r, ld_probe_end end) {
    md_state *s = p->priv;
    char why[LD_ERR_MAX];
    long status;
    md_failure f = judge(p, r, why, sizeof why, &status);
    if (s->v1 && f == F_HTTP_STATUS) {
        const md_req *tok = &s->req[LD_IMDS_AWS_TOKEN];
        char more[LD_ERR_MAX];
        snprintf(more, sizeof more, "PUT %s: HTTP %ld; then %.300s", tok->path, tok->status, why);
        if (status == 401)
            conclude(p, F_TOKEN_REFUSED, more, tok->status, end);
        else
            conclude(p, f, more, status, end);
        return;
    }
    conclude(p, f, why, status, end);
}

/* Parses the usable replies of the stage in flight, the essential ones
 * first; when the parser refuses an essential one, concludes on it (end) and
 * returns 0. Requests still pending are left out. */
static int record_stage(ld_probe *p, ld_probe_end end) {
    md_state *s = p->priv;
    ld_cloud cloud = config(p)->cloud;
    char why[LD_ERR_MAX];
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < LD_IMDS__COUNT; i++) {
            md_req *r = &s->req[i];
            const ld_imds_def *d = ld_imds_def_get((ld_imds_item)i);
            if (d->cloud != cloud || d->stage != s->stage || d->essential != !pass ||
                !req_ok(r, cloud))
                continue;
            if (!parse(p, r, why, sizeof why) && d->essential) {
                conclude(p, F_NOT_METADATA, why, 0, end);
                return 0;
            }
        }
        if (pass == 0 && s->stage == 1)
            s->essential_ok = 1;
    }
    return 1;
}

/* Every request of the stage in flight ended: judges it, records what came,
 * and starts the next stage or concludes. */
static void stage_done(ld_probe *p) {
    md_state *s = p->priv;
    ld_cloud cloud = config(p)->cloud;
    char why[LD_ERR_MAX];
    if (s->stage == 0) {
        md_req *tok = &s->req[LD_IMDS_AWS_TOKEN];
        if (req_ok(tok, cloud) && parse(p, tok, why, sizeof why)) {
            char header[LD_IMDS_TOKEN_MAX + 64];
            snprintf(header, sizeof header, "X-aws-ec2-metadata-token: %s", s->token);
            if (!(s->get_headers = curl_slist_append(NULL, header))) {
                conclude(p, F_NOT_METADATA, "out of memory", 0, LD_END_ERROR);
                return;
            }
        } else if (tok->done && tok->code == CURLE_OK &&
                   (tok->status == 403 || tok->status == 405)) {
            s->v1 = 1; /* refused: try without (see metadata.h) */
        } else if (req_ok(tok, cloud)) {
            conclude(p, F_NOT_METADATA, why, 0, LD_END_RESULT);
            return;
        } else {
            fail_with(p, tok, LD_END_RESULT);
            return;
        }
        start_stage(p, 1);
        return;
    }
    md_req *bad = s->essential_ok ? NULL : essential_failed(p);
    if (bad) {
        fail_with(p, bad, LD_END_RESULT);
        return;
    }
    if (!record_stage(p, LD_END_RESULT))
        return;
    if (s->stage == 1 && cloud == LD_CLOUD_AWS && s->mac[0] && start_stage(p, 2) > 0)
        return;
    conclude(p, F_NONE, NULL, 0, LD_END_RESULT);
}

/* 1 when every request of the stage in flight ended. */
static int stage_over(ld_probe *p) {
    md_state *s = p->priv;
    for (int i = 0; i < LD_IMDS__COUNT; i++) {
        const ld_imds_def *d = ld_imds_def_get((ld_imds_item)i);
        if (d->cloud == config(p)->cloud && d->stage == s->stage && !s->req[i].done)
            return 0;
    }
    return 1;
}

/* After curl_multi_socket_action(): collects finished requests; judges the
 * stage once all of its requests ended. */
static void after_action(ld_probe *p, CURLMcode mc) {
    md_state *s = p->priv;
    CURLMsg *m;
    int left = 0;
    while (!s->concluded && (m = curl_multi_info_read(s->cm.multi, &left)) != NULL) {
        char *priv = NULL;
        if (m->msg != CURLMSG_DONE ||
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv) != CURLE_OK || !priv)
            continue;
        md_req *r = (md_req *)priv;
        r->done = 1;
        r->code = m->data.result;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    }
    if (!s->concluded && mc != CURLM_OK) {
        conclude(p, F_NOT_METADATA, curl_multi_strerror(mc), 0, LD_END_ERROR);
        return;
    }
    /* A stage may end on requests that could not even be made (no loop
     * event follows those), so this is also called right after a start. */
    while (!s->concluded && stage_over(p)) {
        int stage = s->stage;
        stage_done(p);
        if (s->stage == stage)
            break;
    }
}

/* --- the probe interface --------------------------------------------------------- */

/* Reads the base URL's host, and whether it is an address (IPv6 in
 * brackets): a host name has a lookup before the connect, which judge()
 * tells apart from the connect when neither ended. */
static void read_host(md_state *s) {
    CURLU *u = curl_url();
    char *host = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, s->base, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
        size_t n = strlen(host);
        int bracketed = n > 2 && host[0] == '[' && host[n - 1] == ']';
        snprintf(s->host, sizeof s->host, "%.*s", (int)(bracketed ? n - 2 : n),
                 host + (bracketed ? 1 : 0));
        ld_addr a;
        s->host_is_address = ld_addr_parse(s->host, &a, NULL) == LD_OK;
    }
    curl_free(host);
    curl_url_cleanup(u);
}

static ld_status md_start(ld_probe *p, ld_err *err) {
    const ld_metadata_config *cfg = config(p);
    md_state *s = calloc(1, sizeof *s);
    if (!s)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    p->priv = s;
    s->t_start = ld_time_now();
    const char *base = cfg->endpoint ? cfg->endpoint : ld_imds_default_endpoint(cfg->cloud);
    snprintf(s->base, sizeof s->base, "%s", base ? base : "");
    size_t n = strlen(s->base);
    while (n > 0 && s->base[n - 1] == '/')
        s->base[--n] = '\0';
    read_host(s);
    ld_err why = {{0}};
    if (!base) {
        conclude(p, F_UNREACHABLE, "no metadata service: the cloud is not known", 0, LD_END_ERROR);
        return LD_OK;
    }
    if (ld_curl_multi_init(&s->cm, p, after_action, &why) != LD_OK) {
        conclude(p, F_NOT_METADATA, why.msg, 0, LD_END_ERROR);
        return LD_OK;
    }
    /* A stage's requests share a few kept-alive connections: gentle on a
     * service that limits packets per second (AWS: per network interface). */
    curl_multi_setopt(s->cm.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)MD_CONNECTIONS);
    const char *header = cfg->cloud == LD_CLOUD_GCP     ? "Metadata-Flavor: Google"
                         : cfg->cloud == LD_CLOUD_AZURE ? "Metadata: true"
                                                        : NULL;
    if ((header && !(s->get_headers = curl_slist_append(NULL, header))) ||
        (cfg->cloud == LD_CLOUD_AWS &&
         !(s->put_headers =
               curl_slist_append(NULL, "X-aws-ec2-metadata-token-ttl-seconds: " MD_TOKEN_TTL))) ||
        (cfg->cloud == LD_CLOUD_GCP && !cfg->endpoint &&
         !(s->resolve = curl_slist_append(NULL, MD_GCP_PIN)))) {
        conclude(p, F_NOT_METADATA, "out of memory", 0, LD_END_ERROR);
        return LD_OK;
    }
    start_stage(p, cfg->cloud == LD_CLOUD_AWS ? 0 : 1);
    after_action(p, CURLM_OK);
    return LD_OK;
}

static void md_on_io(ld_probe *p, ld_io *io, unsigned events) {
    md_state *s = p->priv;
    if (!s->concluded)
        ld_curl_multi_on_io(&s->cm, io, events);
}

/* Deadline or run's end: what the essential replies gave stands; without
 * them, the request that kept the probe waiting names the failure. */
static void md_end_early(ld_probe *p, ld_probe_end end) {
    md_state *s = p->priv;
    if (!s || s->concluded)
        return;
    md_req *bad = s->stage == 0     ? &s->req[LD_IMDS_AWS_TOKEN]
                  : s->essential_ok ? NULL
                                    : essential_failed(p);
    if (bad && end == LD_END_RUN_DEADLINE)
        conclude(p, F_CUT, "--timeout ended the run before the metadata service answered", 0, end);
    else if (bad)
        fail_with(p, bad, end);
    else if (record_stage(p, end))
        conclude(p, F_NONE, NULL, 0, end);
}

static void md_on_deadline(ld_probe *p) {
    md_end_early(p, LD_END_TIMEOUT);
}

static void md_cancel(ld_probe *p) {
    md_end_early(p, LD_END_RUN_DEADLINE);
}

static void md_clear(ld_probe *p) {
    md_state *s = p->priv;
    if (!s)
        return;
    ld_curl_multi_stop(&s->cm);
    for (int i = 0; i < LD_IMDS__COUNT; i++) {
        md_req *r = &s->req[i];
        if (r->added)
            curl_multi_remove_handle(s->cm.multi, r->easy);
        if (r->easy)
            curl_easy_cleanup(r->easy);
        ld_buf_clear(&r->body);
    }
    ld_curl_multi_cleanup(&s->cm);
    /* The token is a credential for this host's metadata: gone with the probe. */
    for (struct curl_slist *h = s->get_headers; h; h = h->next)
        memset(h->data, 0, strlen(h->data));
    memset(s->token, 0, sizeof s->token);
    curl_slist_free_all(s->get_headers);
    curl_slist_free_all(s->put_headers);
    curl_slist_free_all(s->resolve);
    free(s);
    p->priv = NULL;
}

const ld_probe_ops ld_probe_metadata = {
    .name = "metadata",
    .start = md_start,
    .on_io = md_on_io,
    .on_deadline = md_on_deadline,
    .cancel = md_cancel,
    .clear = md_clear,
    .summarize = NULL,
};
