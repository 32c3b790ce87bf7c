/* dns.c - per-resolver DNS lookups with c-ares, driven by the core loop.
 *
 * c-ares tells us which sockets it wants watched through its socket-state
 * callback; readiness goes back through ares_process_fd(), and its retry
 * timers through ares_timeout() and a loop timer. Query callbacks run inside
 * ares_process_fd(); the probe only finishes (deferred) from there and tears
 * channels down in clear(), never inside a c-ares callback.
 *
 * c-ares reports every transport failure of a query - an ICMP error on UDP,
 * but also a TCP retry after a truncated reply that was refused or closed -
 * as ARES_ECONNREFUSED, and a reply it cannot parse reaches the callback as
 * a success. So each channel does its socket I/O through our own socket
 * functions (ares_set_socket_functions), which see the TC bit of each UDP
 * reply and how a TCP retry ended: "the server refused" is said only when it
 * did, and "it answered, with a broken message" is told from silence.
 *
 * What an application experiences is glibc's resolver walking the
 * nameservers of resolv.conf in order (resolv.conf(5)): a silent one costs
 * `options timeout:` seconds per lookup before the next is asked, one that
 * refuses costs what it took. Each resolver is asked separately here, so that
 * cost is computed from what each one did, not guessed.
 */
#include "dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define DNS_MAX_SOCKS    8         /* sockets one single-server channel may hold */
#define DNS_MAX_ADDRS    64        /* addresses kept per query answer */
#define DNS_LINE_MAX     1024      /* bytes of a resolv.conf or hosts line looked at */
#define DNS_FILE_MAX     (1 << 20) /* bytes of a resolv.conf or hosts file read */
#define DNS_HEADER_FLAGS 2         /* offset of the flags in a DNS header */
#define DNS_FLAG_TC      0x02      /* truncated: in the first flags byte */
#define DNS_HEADER_LEN   12        /* bytes of a DNS header */
#define DNS_IDS_MAX      16        /* query IDs remembered per resolver (A, AAAA, retries) */
#define DNS_CHAIN_MAX    16        /* CNAMEs of one reply read off the wire */
#define DNS_TYPE_CNAME   5         /* the CNAME record type */

enum { Q_A = 0, Q_AAAA = 1, NQUERIES = 2 };

/* What one query - or a resolver's two, combined - came to; the names are
 * the values of dns.rcode. When A and AAAA differ, the combination is the
 * one listed first: an address beats everything, a broken reply beats a
 * clean "no such name". */
typedef enum dns_rcode {
    RC_NOERROR = 0, /* addresses */
    RC_MALFORMED,   /* a reply that is not a valid DNS message */
    RC_TCP_FAILED,  /* a truncated UDP reply whose retry over TCP failed */
    RC_NXDOMAIN,    /* no such name */
    RC_NODATA,      /* the name has no record of this type */
    RC_SERVFAIL,    /* the server failed to resolve it */
    RC_REFUSED,     /* the server refused to answer */
    RC_FORMERR,     /* the server found our query malformed */
    RC_NOTIMP,      /* the server does not implement the query */
    RC_UNREACHABLE, /* the server refused the packets: an ICMP error */
    RC_TIMEOUT,     /* nothing came back */
    RC_ERROR,       /* another local failure */
    RC__COUNT
} dns_rcode;

static const char *const rcode_names[RC__COUNT] = {
    [RC_NOERROR] = "NOERROR",         [RC_MALFORMED] = "MALFORMED", [RC_TCP_FAILED] = "TCP_FAILED",
    [RC_NXDOMAIN] = "NXDOMAIN",       [RC_NODATA] = "NODATA",       [RC_SERVFAIL] = "SERVFAIL",
    [RC_REFUSED] = "REFUSED",         [RC_FORMERR] = "FORMERR",     [RC_NOTIMP] = "NOTIMP",
    [RC_UNREACHABLE] = "UNREACHABLE", [RC_TIMEOUT] = "TIMEOUT",     [RC_ERROR] = "ERROR",
};

/* How the TCP retry after a truncated reply failed; the names are the values
 * of dns.resolver.tcp_failure. */
typedef enum dns_tcp_failure {
    TCPF_NONE = 0, /* no TCP retry, or it worked */
    TCPF_REFUSED,  /* the connection was refused (RST to the SYN) */
    TCPF_RESET,    /* the connection was reset */
    TCPF_CLOSED,   /* the server closed it before a whole reply */
    TCPF_NO_REPLY, /* no reply before the deadline */
    TCPF_ERROR,    /* another socket error */
} dns_tcp_failure;

static const char *const tcp_failure_names[] = {
    [TCPF_NONE] = NULL,       [TCPF_REFUSED] = "refused",   [TCPF_RESET] = "reset",
    [TCPF_CLOSED] = "closed", [TCPF_NO_REPLY] = "no_reply", [TCPF_ERROR] = "error",
};

/* The outcome of one query (A or AAAA). */
typedef struct dns_answer {
    struct dns_res *owner;        /* resolver this query belongs to */
    int family;                   /* AF_INET (A) or AF_INET6 (AAAA) */
    int done;                     /* the callback ran */
    dns_rcode rcode;              /* what it came to */
    ld_addr addrs[DNS_MAX_ADDRS]; /* the addresses in the answer */
    size_t naddrs;                /* how many */
    ld_value cnames;              /* CNAME chain, list */
    ld_value wire_cnames;         /* the chain of the last reply to the name as given,
                                     read off the wire: c-ares hands a failed search
                                     (NXDOMAIN, NODATA) no reply to read it from */
    int64_t ttl_min;              /* smallest TTL, -1 when none */
    ld_time at;                   /* when it completed */
} dns_answer;

/* A query ID sent over UDP, and what came back for it. */
typedef struct dns_id {
    uint16_t id;            /* the ID */
    unsigned char datagram; /* a datagram with this ID arrived */
    unsigned char answered; /* c-ares turned one into an answer */
} dns_id;

/* One resolver's lookup. */
typedef struct dns_res {
    ld_probe *probe;                 /* owner */
    const ld_resolver *cfg;          /* which server */
    ares_channel ch;                 /* its own channel, NULL until created */
    ld_io ios[DNS_MAX_SOCKS];        /* watched c-ares sockets */
    ld_timer timer;                  /* c-ares retransmit timer */
    dns_answer q[NQUERIES];          /* A and AAAA */
    int recorded;                    /* its facts were written */
    int truncated;                   /* a UDP reply had TC set: c-ares retries over TCP */
    dns_id ids[DNS_IDS_MAX];         /* the IDs of the UDP queries sent */
    size_t nids;                     /* how many */
    unsigned junk;                   /* UDP datagrams that cannot be a reply to them: too
                                        short for a header, or another ID (c-ares drops
                                        them silently, as it must) */
    int tcp_fd;                      /* the TCP socket c-ares opened, -1 when none */
    dns_tcp_failure tcp_failure;     /* how the TCP retry failed, first failure seen */
    char server[LD_ADDR_STRLEN + 8]; /* "addr:port" */
    char key[LD_ADDR_STRLEN + 32];   /* its subject key: the server, unique in the target */
} dns_res;

/* Private state of the probe. */
typedef struct dns_state {
    dns_res *res;                 /* one per resolver */
    size_t nres;                  /* how many */
    ld_addr hosts[DNS_MAX_ADDRS]; /* what /etc/hosts gives the name */
    size_t nhosts;                /* how many (0: the hosts file does not decide) */
    const dns_res *answer;        /* the resolver whose answer the system uses, once summarized */
} dns_state;

/* --- system configuration ----------------------------------------------------- */

static const char *const option_names[] = {
    "timeout", "attempts", "rotate", "single-request", "single-request-reopen", "use-vc",
};

const char *ld_dns_option_name(unsigned bit) {
    for (size_t i = 0; i < sizeof option_names / sizeof option_names[0]; i++)
        if (bit == 1u << i)
            return option_names[i];
    return NULL;
}

void ld_dns_option_word(const ld_dns_system *sys, unsigned bit, char *buf, size_t len) {
    const char *name = (sys->options & bit) ? ld_dns_option_name(bit) : NULL;
    if (!name)
        snprintf(buf, len, "%s", "");
    else if (bit == LD_DNS_OPT_TIMEOUT || bit == LD_DNS_OPT_ATTEMPTS)
        snprintf(buf, len, "%s:%d", name,
                 bit == LD_DNS_OPT_TIMEOUT ? sys->timeout_s : sys->attempts);
    else
        snprintf(buf, len, "%s", name);
}

/* glibc's atoi-and-clamp of "timeout:N" / "attempts:N" (res_setoptions). */
static int option_number(const char *digits, int max) {
    long n = strtol(digits, NULL, 10);
    return n < 0 ? 0 : n > max ? max : (int)n;
}

/* Applies one options line's words (after "options") as glibc does; a later
 * word or line wins. */
static void parse_options(ld_dns_system *sys, char *words) {
    for (char *save = NULL, *w = strtok_r(words, " \t\r\n", &save); w;
         w = strtok_r(NULL, " \t\r\n", &save)) {
        if (strncmp(w, "timeout:", 8) == 0) {
            sys->timeout_s = option_number(w + 8, LD_DNS_GLIBC_MAX_TIMEOUT_S);
            sys->options |= LD_DNS_OPT_TIMEOUT;
        } else if (strncmp(w, "attempts:", 9) == 0) {
            sys->attempts = option_number(w + 9, LD_DNS_GLIBC_MAX_ATTEMPTS);
            sys->options |= LD_DNS_OPT_ATTEMPTS;
        } else {
            for (unsigned bit = LD_DNS_OPT_ROTATE; bit <= LD_DNS_OPT_USE_VC; bit <<= 1)
                if (strcmp(w, ld_dns_option_name(bit)) == 0)
                    sys->options |= bit;
        }
    }
}

/* Calls fn(line, number, arg) for each line of the file at path - its first
 * DNS_LINE_MAX - 1 bytes, numbered from 1 - until fn returns non-zero, and
 * returns that; 0 when the file ends (or DNS_FILE_MAX bytes were read) or
 * cannot be read. */
static int for_each_line(const char *path, int (*fn)(char *line, int number, void *arg),
                         void *arg) {
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[DNS_LINE_MAX];
    size_t total = 0;
    int number = 0, whole = 1, found = 0;
    while (!found && total < DNS_FILE_MAX && fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        total += len;
        int starts = whole; /* this piece begins a line */
        whole = len > 0 && line[len - 1] == '\n';
        if (starts) /* the rest of an overlong line is no line of its own */
            found = fn(line, ++number, arg);
    }
    fclose(f);
    return found;
}

/* for_each_line: applies an options line to the ld_dns_system arg. */
static int options_line(char *line, int number, void *arg) {
    (void)number;
    if (strncmp(line, "options", 7) == 0 && (line[7] == ' ' || line[7] == '\t'))
        parse_options(arg, line + 7);
    return 0;
}

/* Reads the options lines of a resolv.conf. c-ares reads the file too, but
 * keeps its own defaults where the file is silent (4 tries, not glibc's 2
 * attempts) and ignores what it does not implement, so what glibc makes of
 * the file is read here, once. A missing file leaves glibc's defaults. */
static void read_options(ld_dns_system *sys, const char *path) {
    sys->timeout_s = LD_DNS_GLIBC_TIMEOUT_S;
    sys->attempts = LD_DNS_GLIBC_ATTEMPTS;
    for_each_line(path, options_line, sys);
}

ld_status ld_dns_system_load(ld_dns_system *out, const char *path, ld_err *err) {
    memset(out, 0, sizeof *out);
    out->ndots = 1;
    if (!path)
        path = LD_DNS_RESOLV_CONF;
    read_options(out, path);
    ares_channel ch;
    struct ares_options init;
    memset(&init, 0, sizeof init);
    init.resolvconf_path = (char *)path;
    int rc = ares_init_options(&ch, &init, ARES_OPT_RESOLVCONF);
    if (rc != ARES_SUCCESS)
        return ld_err_set(err, LD_ESYS, "reading the resolver configuration: %s",
                          ares_strerror(rc));
    ld_status st = LD_OK;
    struct ares_addr_port_node *servers = NULL;
    rc = ares_get_servers_ports(ch, &servers);
    if (rc != ARES_SUCCESS) {
        st = ld_err_set(err, LD_ESYS, "reading the resolver list: %s", ares_strerror(rc));
        goto out;
    }
    for (struct ares_addr_port_node *s = servers; s && out->nresolvers < LD_DNS_MAX_RESOLVERS;
         s = s->next) {
        ld_resolver *r = &out->resolvers[out->nresolvers];
        memset(r, 0, sizeof *r);
        r->addr.family = s->family;
        if (s->family == AF_INET)
            memcpy(&r->addr.v4, &s->addr.addr4, sizeof r->addr.v4);
        else if (s->family == AF_INET6)
            memcpy(&r->addr.v6, &s->addr.addr6, sizeof r->addr.v6);
        else
            continue;
        r->port = s->udp_port ? (uint16_t)s->udp_port : 53;
        r->source = LD_RESOLVER_SYSTEM;
        out->nresolvers++;
    }
    struct ares_options opts;
    int mask = 0;
    if (ares_save_options(ch, &opts, &mask) == ARES_SUCCESS) {
        if (mask & ARES_OPT_NDOTS)
            out->ndots = opts.ndots;
        for (int i = 0;
             (mask & ARES_OPT_DOMAINS) && i < opts.ndomains && out->ndomains < LD_DNS_MAX_DOMAINS;
             i++) {
            out->domains[out->ndomains] = strdup(opts.domains[i]);
            if (!out->domains[out->ndomains]) {
                st = ld_err_set(err, LD_ENOMEM, "out of memory");
                break;
            }
            out->ndomains++;
        }
        ares_destroy_options(&opts);
    }
out:
    ares_free_data(servers);
    ares_destroy(ch);
    if (st != LD_OK)
        ld_dns_system_clear(out);
    return st;
}

void ld_dns_system_clear(ld_dns_system *sys) {
    for (size_t i = 0; i < sys->ndomains; i++)
        free(sys->domains[i]);
    sys->ndomains = 0;
}

/* --- the hosts file ------------------------------------------------------------- */

/* What ld_dns_hosts_line looks for. */
typedef struct hosts_query {
    const char *name;    /* the host name */
    const ld_addr *addr; /* the address it must map to, NULL for any */
} hosts_query;

/* 1 when a hosts-file line (changed: its comment is cut off) maps name, to
 * addr unless addr is NULL. */
static int line_maps(char *line, const char *name, const ld_addr *addr) {
    line[strcspn(line, "#")] = '\0';
    char *save = NULL;
    char *word = strtok_r(line, " \t\r\n", &save);
    ld_addr a;
    if (!word || ld_addr_parse(word, &a, NULL) != LD_OK || (addr && !ld_addr_equal(&a, addr)))
        return 0;
    while ((word = strtok_r(NULL, " \t\r\n", &save)))
        if (strcasecmp(word, name) == 0)
            return 1;
    return 0;
}

/* for_each_line: the line's number when it maps the name (to the address). */
static int hosts_line_maps(char *line, int number, void *arg) {
    const hosts_query *q = arg;
    return line_maps(line, q->name, q->addr) ? number : 0;
}

int ld_dns_hosts_line(const char *path, const char *name, const ld_addr *addr) {
    hosts_query q = {.name = name, .addr = addr};
    return for_each_line(path, hosts_line_maps, &q);
}

/* What ld_dns_hosts_entries looks for, and whom it tells. */
typedef struct hosts_entries {
    const char *const *names;                            /* the host names */
    size_t n;                                            /* how many */
    size_t max;                                          /* most lines to report */
    size_t found;                                        /* lines reported so far */
    void (*cb)(void *arg, int number, const char *text); /* told of each */
    void *arg;                                           /* passed to cb */
} hosts_entries;

/* for_each_line: reports a line naming any of the names; non-zero once max are. */
static int hosts_entry(char *line, int number, void *arg) {
    hosts_entries *e = arg;
    char text[DNS_LINE_MAX];
    snprintf(text, sizeof text, "%.*s", (int)strcspn(line, "\r\n"), line);
    for (size_t i = 0; i < e->n; i++) {
        char work[DNS_LINE_MAX];
        memcpy(work, text, strlen(text) + 1);
        if (line_maps(work, e->names[i], NULL)) {
            e->cb(e->arg, number, text);
            return ++e->found >= e->max;
        }
    }
    return 0;
}

size_t ld_dns_hosts_entries(const char *path, const char *const *names, size_t n, size_t max,
                            void (*found)(void *arg, int number, const char *text), void *arg) {
    hosts_entries e = {.names = names, .n = n, .max = max, .cb = found, .arg = arg};
    if (n > 0 && max > 0)
        for_each_line(path, hosts_entry, &e);
    return e.found;
}

/* --- c-ares plumbing ----------------------------------------------------------- */

static void res_update_timer(dns_res *r);

static void res_timer_cb(ld_timer *t) {
    dns_res *r = t->data;
    ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    res_update_timer(r);
}

/* Re-arms the loop timer for c-ares's next retransmit or query timeout. */
static void res_update_timer(dns_res *r) {
    struct timeval tv;
    if (!r->ch || !ares_timeout(r->ch, NULL, &tv)) {
        ld_timer_stop(&r->timer);
        return;
    }
    ld_time when = ld_time_now() + (ld_time)tv.tv_sec * LD_SEC + (ld_time)tv.tv_usec * 1000;
    ld_timer_start(r->probe->loop, &r->timer, when, res_timer_cb, r);
}

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable) {
    dns_res *r = data;
    ld_io *slot = NULL, *free_slot = NULL;
    for (int i = 0; i < DNS_MAX_SOCKS; i++) {
        if (r->ios[i].active && r->ios[i].fd == fd)
            slot = &r->ios[i];
        else if (!r->ios[i].active && !free_slot)
            free_slot = &r->ios[i];
    }
    if (!readable && !writable) {
        if (slot)
            ld_io_stop(slot);
        return;
    }
    unsigned ev = (readable ? LD_READ : 0) | (writable ? LD_WRITE : 0);
    if (slot) {
        ld_io_set(slot, ev, NULL);
    } else if (free_slot) {
        ld_probe_watch(r->probe, free_slot, fd, ev, NULL);
    }
    /* Without a free slot the socket goes unwatched and the query ends at
     * the probe deadline, reported as a timeout: bounded, never a hang. */
}

/* --- socket functions: c-ares's I/O, watched --------------------------------------- */

/* Notes the first failure of the TCP retry from a socket call's result. */
static void note_tcp_result(dns_res *r, ares_socket_t fd, ssize_t n, int err) {
    if (fd != r->tcp_fd || r->tcp_failure != TCPF_NONE || n > 0)
        return;
    if (n == 0)
        r->tcp_failure = TCPF_CLOSED;
    else if (err == ECONNREFUSED)
        r->tcp_failure = TCPF_REFUSED;
    else if (err == ECONNRESET || err == EPIPE)
        r->tcp_failure = TCPF_RESET;
    else if (err != EAGAIN && err != EWOULDBLOCK && err != EINPROGRESS && err != EINTR)
        r->tcp_failure = TCPF_ERROR;
}

/* With socket functions c-ares sets no socket option itself: ours are
 * non-blocking and close on exec, as c-ares would make them. */
static ares_socket_t sf_socket(int family, int type, int protocol, void *data) {
    dns_res *r = data;
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd >= 0 && type == SOCK_STREAM)
        r->tcp_fd = fd;
    return fd < 0 ? ARES_SOCKET_BAD : fd;
}

static int sf_close(ares_socket_t fd, void *data) {
    dns_res *r = data;
    if (fd == r->tcp_fd)
        r->tcp_fd = -1;
    return close(fd);
}

static int sf_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t len, void *data) {
    int rc = connect(fd, sa, len);
    int err = errno;
    if (rc < 0)
        note_tcp_result(data, fd, rc, err);
    errno = err;
    return rc;
}

/* The remembered query whose ID starts message m (2 bytes at least), or NULL. */
static dns_id *find_id(dns_res *r, const void *m) {
    const unsigned char *u = m;
    uint16_t id = (uint16_t)(u[0] << 8 | u[1]);
    for (size_t i = 0; i < r->nids; i++)
        if (r->ids[i].id == id)
            return &r->ids[i];
    return NULL;
}

/* 1 when something that cannot be an answer arrived: a datagram c-ares could
 * not use (too short, another ID), or one with a query's ID that never became
 * its answer (its question or records do not parse). */
static int unusable_reply(const dns_res *r) {
    if (r->junk)
        return 1;
    for (size_t i = 0; i < r->nids; i++)
        if (r->ids[i].datagram && !r->ids[i].answered)
            return 1;
    return 0;
}

/* 1 when DNS names a and b are the same: case aside, and a root's trailing
 * dot aside. */
static int same_name(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    la -= la > 0 && a[la - 1] == '.';
    lb -= lb > 0 && b[lb - 1] == '.';
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* Reads the CNAME chain of a reply m (len bytes): the targets followed from
 * the question's name, in order, into out (cleared first); *qtype is the
 * question's type. 0 when m is no such reply - a message that does not
 * parse, or (want not NULL) a question for another name than want: out is
 * left alone. c-ares's hostent lists the owners of the CNAMEs, not the
 * chain as followed, and a reply that says NXDOMAIN or NODATA after a
 * CNAME - the zone the chain leads into lacks the record - its search hands
 * on without the message; so the chain is read here, from the message. */
static int read_wire_cnames(const unsigned char *m, size_t len, const char *want, int *qtype,
                            ld_value *out) {
    char *owners[DNS_CHAIN_MAX], *targets[DNS_CHAIN_MAX], *qname = NULL, *s = NULL;
    size_t npairs = 0, off = DNS_HEADER_LEN;
    long enclen;
    int ok = 0;
    if (len < DNS_HEADER_LEN || len > INT32_MAX || (m[4] << 8 | m[5]) != 1)
        return 0;
    unsigned ancount = (unsigned)(m[6] << 8 | m[7]);
    if (ares_expand_name(m + off, m, (int)len, &qname, &enclen) != ARES_SUCCESS)
        return 0;
    off += (size_t)enclen;
    if ((want && !same_name(qname, want)) || off + 4 > len)
        goto out;
    *qtype = m[off] << 8 | m[off + 1];
    off += 4;
    for (unsigned i = 0; i < ancount && npairs < DNS_CHAIN_MAX; i++) {
        if (ares_expand_name(m + off, m, (int)len, &s, &enclen) != ARES_SUCCESS)
            goto out;
        off += (size_t)enclen;
        if (off + 10 > len) {
            ares_free_string(s);
            goto out;
        }
        int type = m[off] << 8 | m[off + 1];
        size_t rdlen = (size_t)(m[off + 8] << 8 | m[off + 9]);
        char *target = NULL;
        if (type == DNS_TYPE_CNAME && off + 10 + rdlen <= len &&
            ares_expand_name(m + off + 10, m, (int)len, &target, &enclen) == ARES_SUCCESS) {
            owners[npairs] = s;
            targets[npairs++] = target;
        } else {
            ares_free_string(s);
        }
        off += 10 + rdlen;
        if (off > len)
            goto out;
    }
    ok = 1;
    ld_value_clear(out);
    /* Follows the chain from the question's name, as a resolver would. */
    const char *cur = qname;
    for (size_t step = 0; step < npairs; step++) {
        size_t k = 0;
        while (k < npairs && !same_name(owners[k], cur))
            k++;
        if (k == npairs || ld_value_list_add(out, targets[k]) != LD_OK)
            break;
        cur = targets[k];
    }
out:
    for (size_t i = 0; i < npairs; i++) {
        ares_free_string(owners[i]);
        ares_free_string(targets[i]);
    }
    ares_free_string(qname);
    return ok;
}

/* c-ares passes `from` for UDP reads only: there the TC bit is seen. */
static ares_ssize_t sf_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
                                struct sockaddr *from, ares_socklen_t *fromlen, void *data) {
    dns_res *r = data;
    ssize_t n = recvfrom(fd, buf, len, flags, from, fromlen);
    int err = errno;
    if (from && fd != r->tcp_fd && n >= 0) {
        /* Only a reply to one of our queries can say "truncated". */
        dns_id *id = n >= DNS_HEADER_LEN ? find_id(r, buf) : NULL;
        if (id)
            id->datagram = 1;
        else
            r->junk++;
        if (id && (((const unsigned char *)buf)[DNS_HEADER_FLAGS] & DNS_FLAG_TC))
            r->truncated = 1;
        /* The reply to the name as given, whatever c-ares makes of it. */
        ld_value chain = {0};
        int qtype = 0;
        const ld_dns_config *cfg = r->probe->config;
        if (id && read_wire_cnames(buf, (size_t)n, cfg->name, &qtype, &chain) &&
            (qtype == ns_t_a || qtype == ns_t_aaaa)) {
            ld_value *keep = &r->q[qtype == ns_t_a ? Q_A : Q_AAAA].wire_cnames;
            ld_value_clear(keep);
            *keep = chain;
        } else {
            ld_value_clear(&chain);
        }
    }
    note_tcp_result(r, fd, n, err);
    errno = err;
    return n;
}

static ares_ssize_t sf_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *data) {
    dns_res *r = data;
    /* A UDP query starts with its ID (over TCP, a length comes first). */
    if (fd != r->tcp_fd && n > 0 && iov[0].iov_len >= 2 && r->nids < DNS_IDS_MAX &&
        !find_id(r, iov[0].iov_base)) {
        const unsigned char *u = iov[0].iov_base;
        r->ids[r->nids++] = (dns_id){.id = (uint16_t)(u[0] << 8 | u[1])};
    }
    ssize_t sent = writev(fd, iov, n);
    int err = errno;
    if (sent < 0)
        note_tcp_result(data, fd, sent, err);
    errno = err;
    return sent;
}

static const struct ares_socket_functions socket_functions = {
    .asocket = sf_socket,
    .aclose = sf_close,
    .aconnect = sf_connect,
    .arecvfrom = sf_recvfrom,
    .asendv = sf_sendv,
};

/* --- answers ---------------------------------------------------------------- */

/* What a failed query of r came to: a server that sent a truncated reply did
 * answer, only its TCP retry failed; one that sent only datagrams that cannot
 * be a reply (too short, another ID) did answer, with a broken message. */
static dns_rcode failure_rcode(const dns_res *r, dns_rcode without_tc) {
    if (r->truncated)
        return RC_TCP_FAILED;
    return without_tc == RC_TIMEOUT && unusable_reply(r) ? RC_MALFORMED : without_tc;
}

static dns_rcode status_rcode(const dns_res *r, int status) {
    switch (status) {
    case ARES_SUCCESS:
        return RC_NOERROR;
    case ARES_ENODATA:
        return RC_NODATA;
    case ARES_ENOTFOUND:
        return RC_NXDOMAIN;
    case ARES_ESERVFAIL:
        return RC_SERVFAIL;
    case ARES_EREFUSED:
        return RC_REFUSED;
    case ARES_EFORMERR:
        return RC_FORMERR;
    case ARES_ENOTIMP:
        return RC_NOTIMP;
    case ARES_EBADRESP:
        return RC_MALFORMED;
    case ARES_ETIMEOUT:
        return failure_rcode(r, RC_TIMEOUT);
    case ARES_ECONNREFUSED:
        return failure_rcode(r, RC_UNREACHABLE);
    default:
        return RC_ERROR;
    }
}

/* 1 when a DNS message came back. */
static int rcode_is_response(dns_rcode rc) {
    return rc != RC_TIMEOUT && rc != RC_UNREACHABLE && rc != RC_ERROR;
}

/* 1 for the answers that end a glibc lookup: the others make it ask the
 * next nameserver. */
static int rcode_is_definitive(dns_rcode rc) {
    return rc == RC_NOERROR || rc == RC_NODATA || rc == RC_NXDOMAIN;
}

/* Fills a from an A or AAAA reply. */
static void parse_reply(dns_answer *a, int family, const unsigned char *abuf, int alen) {
    struct hostent *host = NULL;
    int n = DNS_MAX_ADDRS;
    int rc;
    if (family == AF_INET) {
        struct ares_addrttl ttls[DNS_MAX_ADDRS];
        rc = ares_parse_a_reply(abuf, alen, &host, ttls, &n);
        for (int i = 0; rc == ARES_SUCCESS && i < n && a->naddrs < DNS_MAX_ADDRS; i++) {
            ld_addr *ad = &a->addrs[a->naddrs++];
            memset(ad, 0, sizeof *ad);
            ad->family = AF_INET;
            ad->v4 = ttls[i].ipaddr;
            if (a->ttl_min < 0 || ttls[i].ttl < a->ttl_min)
                a->ttl_min = ttls[i].ttl;
        }
    } else {
        struct ares_addr6ttl ttls[DNS_MAX_ADDRS];
        rc = ares_parse_aaaa_reply(abuf, alen, &host, ttls, &n);
        for (int i = 0; rc == ARES_SUCCESS && i < n && a->naddrs < DNS_MAX_ADDRS; i++) {
            ld_addr *ad = &a->addrs[a->naddrs++];
            memset(ad, 0, sizeof *ad);
            ad->family = AF_INET6;
            memcpy(&ad->v6, &ttls[i].ip6addr, sizeof ad->v6);
            if (a->ttl_min < 0 || ttls[i].ttl < a->ttl_min)
                a->ttl_min = ttls[i].ttl;
        }
    }
    int qtype;
    read_wire_cnames(abuf, (size_t)alen, NULL, &qtype, &a->cnames);
    if (host)
        ares_free_hostent(host);
    if (rc == ARES_ENODATA || (rc == ARES_SUCCESS && a->naddrs == 0))
        a->rcode = RC_NODATA;
    else if (rc == ARES_EBADRESP || rc == ARES_EBADNAME)
        a->rcode = RC_MALFORMED; /* a count past the records, a looping name, a cut message */
    else if (rc != ARES_SUCCESS)
        a->rcode = RC_ERROR;
}

/* The combined result of a resolver's A and AAAA queries. */
static dns_rcode combine_rcode(const dns_answer q[NQUERIES]) {
    dns_rcode best = RC__COUNT;
    for (int i = 0; i < NQUERIES; i++)
        if (q[i].done && q[i].rcode < best)
            best = q[i].rcode;
    return best == RC__COUNT ? RC_TIMEOUT : best; /* neither answered before the deadline */
}

/* The combined rcode of a resolver's two queries. */
static dns_rcode res_rcode(const dns_res *r) {
    return combine_rcode(r->q);
}

/* 1 when a DNS message came back from r. */
static int res_responded(const dns_res *r) {
    return rcode_is_response(res_rcode(r));
}

/* When r's last query ended, since the probe started. */
static ld_time res_elapsed(const dns_res *r) {
    ld_time last = r->q[Q_A].at > r->q[Q_AAAA].at ? r->q[Q_A].at : r->q[Q_AAAA].at;
    return last - r->probe->started;
}

/* How the TCP retry of r failed; TCPF_NONE when there was none or it worked. */
static dns_tcp_failure res_tcp_failure(const dns_res *r) {
    if (res_rcode(r) != RC_TCP_FAILED)
        return TCPF_NONE;
    /* No socket error: the retry was never answered. */
    return r->tcp_failure != TCPF_NONE ? r->tcp_failure : TCPF_NO_REPLY;
}

/* What a glibc lookup that asks r, the nameserver at index of nscount it
 * uses, waits before r answers or the lookup moves on: what r took, or for a
 * silent r what res_send.c's send_dg allows the index - options timeout for
 * the first, (timeout << index) / nscount for the others, at least 1 s. */
static double res_wait_ms(const dns_res *r, const ld_dns_system *sys, size_t index,
                          size_t nscount) {
    if (res_rcode(r) != RC_TIMEOUT)
        return (double)res_elapsed(r) / (double)LD_MS;
    int seconds = sys->timeout_s << index;
    if (index > 0)
        seconds /= (int)nscount;
    return (seconds > 0 ? seconds : 1) * 1000.0;
}

/* Writes a resolver's dns.resolver.* facts once. Queries that did not finish
 * count as timed out. */
static void record_resolver(ld_probe *p, dns_res *r, ld_probe_end end) {
    if (r->recorded)
        return;
    r->recorded = 1;
    for (int i = 0; i < NQUERIES; i++) {
        if (!r->q[i].done) {
            r->q[i].done = 1;
            r->q[i].rcode = failure_rcode(r, RC_TIMEOUT);
            r->q[i].at = ld_time_now();
        }
    }
    ld_bag *b = ld_facts_subject(p->facts, "dns", r->key);
    if (!b)
        return;
    dns_rcode rc = res_rcode(r);
    ld_bag_set_str(b, LD_F_DNS_R_SERVER, r->server);
    ld_bag_set_str(b, LD_F_DNS_R_SOURCE, ld_resolver_source_name(r->cfg->source));
    ld_bag_set_str(b, LD_F_DNS_R_RCODE, rcode_names[rc]);
    ld_bag_set_str(b, LD_F_DNS_R_A_RCODE, rcode_names[r->q[Q_A].rcode]);
    ld_bag_set_str(b, LD_F_DNS_R_AAAA_RCODE, rcode_names[r->q[Q_AAAA].rcode]);
    ld_bag_set_empty_list(b, LD_F_DNS_R_ADDRESSES);
    ld_bag_set_empty_list(b, LD_F_DNS_R_SCOPES);
    int64_t ttl = -1;
    for (int i = 0; i < NQUERIES; i++) {
        for (size_t k = 0; k < r->q[i].naddrs; k++) {
            char text[LD_ADDR_STRLEN];
            ld_addr_format(&r->q[i].addrs[k], text);
            ld_bag_list_add(b, LD_F_DNS_R_ADDRESSES, text);
            ld_bag_list_add(b, LD_F_DNS_R_SCOPES,
                            ld_addr_scope_name(ld_addr_scope_of(&r->q[i].addrs[k])));
        }
        if (r->q[i].ttl_min >= 0 && (ttl < 0 || r->q[i].ttl_min < ttl))
            ttl = r->q[i].ttl_min;
    }
    const ld_value *chain =
        r->q[Q_A].cnames.type == LD_T_LIST ? &r->q[Q_A].cnames : &r->q[Q_AAAA].cnames;
    if (chain->type == LD_T_LIST)
        ld_bag_set_value(b, LD_F_DNS_R_CNAME_CHAIN, chain);
    if (ttl >= 0)
        ld_bag_set_int(b, LD_F_DNS_R_TTL_MIN, ttl);
    if (rcode_is_response(rc))
        ld_bag_set_num(b, LD_F_DNS_R_LATENCY_MS, (double)res_elapsed(r) / (double)LD_MS);
    if (r->truncated)
        ld_bag_set_bool(b, LD_F_DNS_R_TRUNCATED, 1);
    if (res_tcp_failure(r) != TCPF_NONE)
        ld_bag_set_str(b, LD_F_DNS_R_TCP_FAILURE, tcp_failure_names[res_tcp_failure(r)]);
    /* No response is a timeout however it ended: c-ares's own retry budget
     * and the probe deadline both end at --connect-timeout. */
    if (end == LD_END_RESULT && rc == RC_TIMEOUT)
        end = LD_END_TIMEOUT;
    ld_bag_set_str(b, LD_F_DNS_R_ENDED_BY, ld_probe_end_name(end));
}

static void maybe_finish(ld_probe *p);

static void query_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
    dns_answer *a = arg;
    (void)timeouts;
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED || a->done)
        return; /* torn down, or already counted as timed out */
    a->done = 1;
    a->at = ld_time_now();
    dns_id *id = abuf && alen >= 2 ? find_id(a->owner, abuf) : NULL;
    if (id)
        id->answered = 1;
    a->rcode = status_rcode(a->owner, status);
    if (status == ARES_SUCCESS && abuf)
        parse_reply(a, a->family, abuf, alen);
    /* A failed search comes without its reply: the chain the wire showed. */
    if (a->cnames.type != LD_T_LIST && a->wire_cnames.type == LD_T_LIST &&
        a->wire_cnames.u.list.len > 0)
        ld_value_copy(&a->cnames, &a->wire_cnames);
    dns_res *r = a->owner;
    if (r->q[Q_A].done && r->q[Q_AAAA].done) {
        record_resolver(r->probe, r, LD_END_RESULT);
        maybe_finish(r->probe);
    }
}

/* The resolver whose answer the system uses: the first system resolver with a
 * definitive answer (NOERROR, NODATA, NXDOMAIN), else the first that answered
 * at all, else the first system resolver. NULL when there is none. */
static const dns_res *pick_answer(const dns_state *s) {
    const dns_res *first = NULL, *responded = NULL;
    for (size_t i = 0; i < s->nres; i++) {
        const dns_res *r = &s->res[i];
        if (r->cfg->source != LD_RESOLVER_SYSTEM)
            continue;
        dns_rcode rc = res_rcode(r);
        if (!first)
            first = r;
        if (!responded && rcode_is_response(rc))
            responded = r;
        if (rcode_is_definitive(rc))
            return r;
    }
    return responded ? responded : first;
}

/* 1 when r's answer holds address a. */
static int res_has(const dns_res *r, const ld_addr *a) {
    for (int q = 0; q < NQUERIES; q++)
        for (size_t k = 0; k < r->q[q].naddrs; k++)
            if (ld_addr_equal(&r->q[q].addrs[k], a))
                return 1;
    return 0;
}

/* 1 when two resolvers gave the same rcode and the same set of addresses. */
static int same_answer(const dns_res *a, const dns_res *b) {
    if (res_rcode(a) != res_rcode(b))
        return 0;
    for (int q = 0; q < NQUERIES; q++) {
        for (size_t k = 0; k < a->q[q].naddrs; k++)
            if (!res_has(b, &a->q[q].addrs[k]))
                return 0;
        for (size_t k = 0; k < b->q[q].naddrs; k++)
            if (!res_has(a, &b->q[q].addrs[k]))
                return 0;
    }
    return 1;
}

/* Looks name up in the hosts file (no network) and records what it says. */
static void record_hosts(ld_probe *p, ares_channel ch, const char *name) {
    dns_state *s = p->priv;
    ld_bag *t = ld_facts_target(p->facts);
    ld_bag_set_empty_list(t, LD_F_DNS_HOSTS_ADDRESSES);
    static const int families[] = {AF_INET, AF_INET6};
    for (size_t f = 0; ch && f < 2; f++) {
        struct hostent *h = NULL;
        if (ares_gethostbyname_file(ch, name, families[f], &h) != ARES_SUCCESS || !h)
            continue;
        for (char **a = h->h_addr_list; a && *a && s->nhosts < DNS_MAX_ADDRS; a++) {
            ld_addr *ad = &s->hosts[s->nhosts];
            memset(ad, 0, sizeof *ad);
            ad->family = h->h_addrtype;
            if (ad->family == AF_INET)
                memcpy(&ad->v4, *a, sizeof ad->v4);
            else if (ad->family == AF_INET6)
                memcpy(&ad->v6, *a, sizeof ad->v6);
            else
                continue;
            char text[LD_ADDR_STRLEN];
            ld_addr_format(ad, text);
            ld_bag_list_add(t, LD_F_DNS_HOSTS_ADDRESSES, text);
            s->nhosts++;
        }
        ares_free_hostent(h);
    }
    ld_bag_set_bool(t, LD_F_DNS_HOSTS_OVERRIDE, s->nhosts > 0);
    if (s->nhosts == 0)
        return;
    /* Where to fix it: the line a person has to edit. */
    ld_bag_set_str(t, LD_F_DNS_HOSTS_FILE, LD_DNS_HOSTS_FILE);
    int line = ld_dns_hosts_line(LD_DNS_HOSTS_FILE, name, &s->hosts[0]);
    if (line > 0)
        ld_bag_set_int(t, LD_F_DNS_HOSTS_LINE, line);
}

/* 1 when a is among the --endpoint-ip addresses. */
static int is_endpoint(const ld_dns_config *cfg, const ld_addr *a) {
    for (size_t k = 0; k < cfg->nendpoint_ips; k++)
        if (ld_addr_equal(a, &cfg->endpoint_ips[k]))
            return 1;
    return 0;
}

/* Records the hosts-file addresses DNS's answer does not have: an entry
 * that pins what DNS has since moved. */
static void record_hosts_vs_dns(ld_probe *p) {
    const dns_state *s = p->priv;
    ld_bag *t = ld_facts_target(p->facts);
    int64_t n = 0;
    ld_bag_set_empty_list(t, LD_F_DNS_HOSTS_NOT_IN_DNS);
    int dns_has_addresses = s->answer && (s->answer->q[Q_A].naddrs || s->answer->q[Q_AAAA].naddrs);
    for (size_t i = 0; dns_has_addresses && i < s->nhosts; i++) {
        if (res_has(s->answer, &s->hosts[i]))
            continue;
        char text[LD_ADDR_STRLEN];
        ld_addr_format(&s->hosts[i], text);
        ld_bag_list_add(t, LD_F_DNS_HOSTS_NOT_IN_DNS, text);
        n++;
    }
    ld_bag_set_int(t, LD_F_DNS_HOSTS_NOT_IN_DNS_COUNT, n);
}

/* Records the resolv.conf options glibc applies and what a glibc lookup of
 * the name spends on the nameservers before the first one that answers:
 * glibc asks the first MAXNS of them in order (from a rotating start with
 * `rotate`), waits for a silent one as res_wait_ms() says and moves on at
 * once from one that refuses or answers with an error (res_send.c).
 * `attempts` matters only when no server answers in the first round, which
 * dns.resolver_unreachable reports. */
static void record_resolution_delay(ld_probe *p) {
    const ld_dns_config *cfg = p->config;
    const ld_dns_system *sys = cfg->system;
    const dns_state *s = p->priv;
    ld_bag *t = ld_facts_target(p->facts);
    ld_bag_set_int(t, LD_F_DNS_RESOLVER_TIMEOUT_S, sys->timeout_s);
    ld_bag_set_int(t, LD_F_DNS_RESOLVER_ATTEMPTS, sys->attempts);
    ld_bag_set_bool(t, LD_F_DNS_RESOLVER_ROTATE, (sys->options & LD_DNS_OPT_ROTATE) != 0);
    ld_bag_set_empty_list(t, LD_F_DNS_RESOLVER_OPTIONS);
    for (unsigned bit = LD_DNS_OPT_TIMEOUT; bit <= LD_DNS_OPT_USE_VC; bit <<= 1) {
        char word[32];
        ld_dns_option_word(sys, bit, word, sizeof word);
        if (word[0])
            ld_bag_list_add(t, LD_F_DNS_RESOLVER_OPTIONS, word);
    }

    /* The system nameservers glibc uses, in resolv.conf order, and what a
     * lookup waits on each. */
    const dns_res *sysres[LD_DNS_GLIBC_MAXNS];
    double wait[LD_DNS_GLIBC_MAXNS];
    size_t n = 0;
    for (size_t i = 0; i < s->nres && n < LD_DNS_GLIBC_MAXNS; i++)
        if (s->res[i].cfg->source == LD_RESOLVER_SYSTEM)
            sysres[n++] = &s->res[i];
    for (size_t i = 0; i < n; i++) {
        wait[i] = res_wait_ms(sysres[i], sys, i, n);
        ld_bag *b = ld_facts_subject(p->facts, "dns", sysres[i]->key);
        if (b)
            ld_bag_set_num(b, LD_F_DNS_R_WAIT_MS, wait[i]);
    }
    size_t starts = (sys->options & LD_DNS_OPT_ROTATE) ? n : (n > 0);
    double worst = -1;
    unsigned char slow[LD_DNS_GLIBC_MAXNS] = {0};
    for (size_t start = 0; start < starts; start++) {
        double waited = 0;
        size_t k = 0;
        for (; k < n; k++) {
            size_t i = (start + k) % n;
            dns_rcode rc = res_rcode(sysres[i]);
            if (rcode_is_definitive(rc))
                break;
            waited += wait[i];
            if (!rcode_is_response(rc) || rc == RC_TCP_FAILED)
                slow[i] = 1;
        }
        if (k < n && waited > worst)
            worst = waited;
    }
    ld_bag_set_empty_list(t, LD_F_DNS_SLOW_RESOLVERS);
    int64_t nslow = 0;
    for (size_t i = 0; worst >= 0 && i < n; i++) {
        if (!slow[i])
            continue;
        ld_bag_list_add(t, LD_F_DNS_SLOW_RESOLVERS, sysres[i]->server);
        nslow++;
    }
    ld_bag_set_int(t, LD_F_DNS_SLOW_RESOLVER_COUNT, nslow);
    if (worst >= 0)
        ld_bag_set_num(t, LD_F_DNS_SLOW_RESOLUTION_MS, worst);
}

/* Derives the dns.* target facts from the per-resolver results. */
static void record_summary(ld_probe *p) {
    const ld_dns_config *cfg = p->config;
    dns_state *s = p->priv;
    ld_bag *t = ld_facts_target(p->facts);
    int64_t nsys = 0, ncustom = 0, responding = 0, sys_responding = 0, divergent = 0;
    ld_bag_set_empty_list(t, LD_F_DNS_SILENT_RESOLVERS);
    ld_bag_set_empty_list(t, LD_F_DNS_DIVERGENT_RESOLVERS);
    const dns_res *answer = s->answer = pick_answer(s);
    int answer_responded = answer && res_responded(answer);
    for (size_t i = 0; i < s->nres; i++) {
        const dns_res *r = &s->res[i];
        int sys = r->cfg->source == LD_RESOLVER_SYSTEM;
        int resp = res_responded(r);
        nsys += sys;
        ncustom += r->cfg->source == LD_RESOLVER_OPTION;
        responding += resp;
        sys_responding += sys && resp;
        if (!resp)
            ld_bag_list_add(t, LD_F_DNS_SILENT_RESOLVERS, r->server);
        /* Responders that disagree with the system's answer, and --dns-server
         * resolvers that stay silent while the system's answers (the cloud's
         * resolver was not asked for: its silence says nothing of this host's). */
        if (answer_responded && r != answer &&
            (resp ? !same_answer(r, answer) : r->cfg->source == LD_RESOLVER_OPTION)) {
            ld_bag_list_add(t, LD_F_DNS_DIVERGENT_RESOLVERS, r->server);
            divergent++;
        }
    }
    ld_bag_set_int(t, LD_F_DNS_RESOLVER_COUNT, (int64_t)s->nres);
    ld_bag_set_int(t, LD_F_DNS_SYSTEM_RESOLVER_COUNT, nsys);
    ld_bag_set_int(t, LD_F_DNS_CUSTOM_RESOLVER_COUNT, ncustom);
    ld_bag_set_int(t, LD_F_DNS_RESPONDING_COUNT, responding);
    ld_bag_set_int(t, LD_F_DNS_SYSTEM_RESPONDING_COUNT, sys_responding);
    ld_bag_set_int(t, LD_F_DNS_DIVERGENCE_COUNT, divergent);

    /* The answer the system uses, and what its addresses are. */
    int64_t scope_count[LD_AS_RESERVED + 1] = {0};
    int64_t match = 0, mismatch = 0, naddr = 0;
    ld_bag_set_empty_list(t, LD_F_DNS_ADDRESSES);
    ld_bag_set_empty_list(t, LD_F_DNS_PUBLIC_ADDRESSES);
    ld_bag_set_empty_list(t, LD_F_DNS_MISMATCHED_ADDRESSES);
    ld_bag_set_empty_list(t, LD_F_DNS_ENDPOINT_MISSING);
    ld_bag_set_empty_list(t, LD_F_DNS_CNAME_CHAIN);
    if (answer) {
        const ld_bag *b = ld_facts_subject(p->facts, "dns", answer->key);
        const ld_value *v;
        ld_bag_set_str(t, LD_F_DNS_RCODE, rcode_names[res_rcode(answer)]);
        if (answer_responded)
            ld_bag_set_str(t, LD_F_DNS_ANSWER_RESOLVER, answer->server);
        if (res_tcp_failure(answer) != TCPF_NONE)
            ld_bag_set_str(t, LD_F_DNS_TCP_FAILURE, tcp_failure_names[res_tcp_failure(answer)]);
        if (b && (v = ld_bag_get(b, LD_F_DNS_R_CNAME_CHAIN)))
            ld_bag_set_value(t, LD_F_DNS_CNAME_CHAIN, v);
        if (b && (v = ld_bag_get(b, LD_F_DNS_R_TTL_MIN)))
            ld_bag_set_int(t, LD_F_DNS_TTL_MIN, v->u.i);
        if (b && (v = ld_bag_get(b, LD_F_DNS_R_LATENCY_MS)))
            ld_bag_set_num(t, LD_F_DNS_LATENCY_MS, v->u.n);
        for (int q = 0; q < NQUERIES; q++) {
            for (size_t k = 0; k < answer->q[q].naddrs; k++) {
                const ld_addr *a = &answer->q[q].addrs[k];
                char text[LD_ADDR_STRLEN];
                ld_addr_format(a, text);
                naddr++;
                ld_bag_list_add(t, LD_F_DNS_ADDRESSES, text);
                ld_addr_scope sc = ld_addr_scope_of(a);
                scope_count[sc]++;
                if (sc == LD_AS_PUBLIC)
                    ld_bag_list_add(t, LD_F_DNS_PUBLIC_ADDRESSES, text);
                if (is_endpoint(cfg, a)) {
                    match++;
                } else if (cfg->nendpoint_ips) {
                    mismatch++;
                    ld_bag_list_add(t, LD_F_DNS_MISMATCHED_ADDRESSES, text);
                }
            }
        }
    }
    for (size_t k = 0; k < cfg->nendpoint_ips; k++) {
        if (answer && res_has(answer, &cfg->endpoint_ips[k]))
            continue;
        char text[LD_ADDR_STRLEN];
        ld_addr_format(&cfg->endpoint_ips[k], text);
        ld_bag_list_add(t, LD_F_DNS_ENDPOINT_MISSING, text);
    }
    ld_bag_set_int(t, LD_F_DNS_ADDRESS_COUNT, naddr);
    ld_bag_set_int(t, LD_F_DNS_PRIVATE_COUNT, scope_count[LD_AS_PRIVATE] + scope_count[LD_AS_ULA]);
    ld_bag_set_int(t, LD_F_DNS_PUBLIC_COUNT, scope_count[LD_AS_PUBLIC]);
    ld_bag_set_int(t, LD_F_DNS_CGNAT_COUNT, scope_count[LD_AS_CGNAT]);
    ld_bag_set_int(t, LD_F_DNS_LOOPBACK_COUNT, scope_count[LD_AS_LOOPBACK]);
    ld_bag_set_int(t, LD_F_DNS_LINK_LOCAL_COUNT, scope_count[LD_AS_LINK_LOCAL]);
    ld_bag_set_int(t, LD_F_DNS_OTHER_SCOPE_COUNT,
                   scope_count[LD_AS_UNSPECIFIED] + scope_count[LD_AS_MULTICAST] +
                       scope_count[LD_AS_DOCUMENTATION] + scope_count[LD_AS_RESERVED]);
    ld_bag_set_int(t, LD_F_DNS_ENDPOINT_MATCH_COUNT, match);
    ld_bag_set_int(t, LD_F_DNS_ENDPOINT_MISMATCH_COUNT, mismatch);
    record_hosts_vs_dns(p);
    record_resolution_delay(p);
    /* What the name and its chain say: the endpoint, its region, the zone. */
    ld_names_record(cfg->names, cfg->name, ld_facts_get(p->facts, LD_F_DNS_CNAME_CHAIN), t);
}

size_t ld_dns_answer(const ld_probe *p, ld_addr *out, size_t max) {
    const dns_state *s = p->priv;
    size_t n = 0;
    if (!s || !p->finished)
        return 0;
    for (int q = 0; s->answer && q < NQUERIES; q++)
        for (size_t k = 0; k < s->answer->q[q].naddrs && n < max; k++)
            out[n++] = s->answer->q[q].addrs[k];
    return n;
}

size_t ld_dns_addresses(const ld_probe *p, ld_addr *out, size_t max, unsigned *origin) {
    const dns_state *s = p->priv;
    size_t n = 0;
    *origin = LD_ORIGIN_DNS;
    if (!s || !p->finished)
        return 0;
    if (!s->nhosts)
        return ld_dns_answer(p, out, max);
    *origin = LD_ORIGIN_HOSTS;
    for (size_t i = 0; i < s->nhosts && n < max; i++)
        out[n++] = s->hosts[i];
    return n;
}

/* --- lifecycle ------------------------------------------------------------------ */

/* Finishes the probe once every resolver has its facts. */
static void maybe_finish(ld_probe *p) {
    dns_state *s = p->priv;
    for (size_t i = 0; i < s->nres; i++)
        if (!s->res[i].recorded)
            return;
    if (p->finished)
        return;
    if (!((const ld_dns_config *)p->config)->compare_only)
        record_summary(p);
    ld_probe_finish(p, LD_END_RESULT);
}

/* Ends every resolver that has not answered, then the probe. */
static void conclude_all(ld_probe *p, ld_probe_end end) {
    dns_state *s = p->priv;
    for (size_t i = 0; s && i < s->nres; i++)
        record_resolver(p, &s->res[i], end);
    if (!p->finished) {
        if (s && !((const ld_dns_config *)p->config)->compare_only)
            record_summary(p);
        ld_probe_finish(p, end);
    }
}

/* Creates resolver r's channel: one server, our retry policy, and the
 * system's search list, all given as options so that c-ares parses no
 * configuration per target. */
static ld_status res_init(ld_probe *p, dns_res *r, ld_err *err) {
    const ld_dns_config *cfg = p->config;
    struct ares_options o;
    memset(&o, 0, sizeof o);
    int timeout_ms = (int)(cfg->query_timeout / LD_MS);
    /* Two tries, the second after a third of the budget: c-ares doubles the
     * wait per try, so both fit in --connect-timeout. */
    o.flags = ARES_FLAG_NOCHECKRESP;
    /* use-vc: glibc asks the system's nameservers over TCP, so must we. */
    if (r->cfg->source == LD_RESOLVER_SYSTEM && (cfg->system->options & LD_DNS_OPT_USE_VC))
        o.flags |= ARES_FLAG_USEVC;
    o.timeout = timeout_ms / 3 > 50 ? timeout_ms / 3 : 50;
    o.tries = 2;
    o.ndots = cfg->system->ndots;
    o.domains = (char **)cfg->system->domains;
    o.ndomains = (int)cfg->system->ndomains;
    o.nservers = 0;
    o.lookups = (char *)"b";
    o.sock_state_cb = sock_state_cb;
    o.sock_state_cb_data = r;
    /* c-ares 1.18 parses resolv.conf unless ARES_OPT_SERVERS is non-empty,
     * which cannot carry ports or IPv6; an empty file costs nothing and the
     * server is set right after. */
    o.resolvconf_path = (char *)"/dev/null";
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
               ARES_OPT_DOMAINS | ARES_OPT_SERVERS | ARES_OPT_LOOKUPS | ARES_OPT_SOCK_STATE_CB |
               ARES_OPT_NOROTATE | ARES_OPT_RESOLVCONF;
    int rc = ares_init_options(&r->ch, &o, mask);
    if (rc != ARES_SUCCESS) {
        r->ch = NULL;
        return ld_err_set(err, rc == ARES_ENOMEM ? LD_ENOMEM : LD_ESYS, "c-ares: %s",
                          ares_strerror(rc));
    }
    ares_set_socket_functions(r->ch, &socket_functions, r);
    struct ares_addr_port_node server;
    memset(&server, 0, sizeof server);
    server.family = r->cfg->addr.family;
    if (server.family == AF_INET)
        memcpy(&server.addr.addr4, &r->cfg->addr.v4, sizeof server.addr.addr4);
    else
        memcpy(&server.addr.addr6, &r->cfg->addr.v6, sizeof server.addr.addr6);
    server.udp_port = r->cfg->port;
    server.tcp_port = r->cfg->port;
    rc = ares_set_servers_ports(r->ch, &server);
    if (rc != ARES_SUCCESS)
        return ld_err_set(err, LD_ESYS, "c-ares: %s", ares_strerror(rc));
    return LD_OK;
}

static ld_status dns_start(ld_probe *p, ld_err *err) {
    const ld_dns_config *cfg = p->config;
    dns_state *s = calloc(1, sizeof *s);
    if (!s)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    p->priv = s;
    s->res = calloc(cfg->nresolvers ? cfg->nresolvers : 1, sizeof *s->res);
    if (!s->res)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    s->nres = cfg->nresolvers;

    ld_bag *t = ld_facts_target(p->facts);
    if (!cfg->compare_only) {
        ld_bag_set_bool(t, LD_F_DNS_ATTEMPTED, 1);
        ld_bag_set_str(t, LD_F_DNS_NAME, cfg->name);
    }

    for (size_t i = 0; i < s->nres; i++) {
        dns_res *r = &s->res[i];
        r->probe = p;
        r->cfg = &cfg->resolvers[i];
        r->tcp_fd = -1;
        ld_resolver_format(r->cfg, r->server, sizeof r->server);
        /* The same server may be asked twice (a --dns-server that is also in
         * resolv.conf): each ask keeps its own evidence. */
        snprintf(r->key, sizeof r->key, "%s", r->server);
        for (size_t k = 0; k < i; k++)
            if (strcmp(s->res[k].key, r->key) == 0)
                snprintf(r->key, sizeof r->key, "%s (%s %zu)", r->server,
                         ld_resolver_source_name(r->cfg->source), i + 1);
        for (int k = 0; k < DNS_MAX_SOCKS; k++)
            r->ios[k].fd = -1;
        r->timer.heap_idx = SIZE_MAX;
        for (int q = 0; q < NQUERIES; q++) {
            r->q[q].owner = r;
            r->q[q].family = q == Q_A ? AF_INET : AF_INET6;
            r->q[q].ttl_min = -1;
        }
        ld_status st = res_init(p, r, err);
        if (st != LD_OK)
            return st;
    }
    if (!cfg->compare_only)
        record_hosts(p, s->nres ? s->res[0].ch : NULL, cfg->name);
    for (size_t i = 0; i < s->nres; i++) {
        dns_res *r = &s->res[i];
        /* ares_search applies the search list and ndots like the system. */
        ares_search(r->ch, cfg->name, ns_c_in, ns_t_a, query_cb, &r->q[Q_A]);
        ares_search(r->ch, cfg->name, ns_c_in, ns_t_aaaa, query_cb, &r->q[Q_AAAA]);
        res_update_timer(r);
    }
    if (s->nres == 0)
        conclude_all(p, LD_END_RESULT);
    return LD_OK;
}

static void dns_on_io(ld_probe *p, ld_io *io, unsigned events) {
    dns_state *s = p->priv;
    for (size_t i = 0; i < s->nres; i++) {
        dns_res *r = &s->res[i];
        if (io < r->ios || io >= r->ios + DNS_MAX_SOCKS)
            continue;
        int fd = io->fd;
        ares_process_fd(r->ch, (events & LD_READ) ? fd : ARES_SOCKET_BAD,
                        (events & LD_WRITE) ? fd : ARES_SOCKET_BAD);
        res_update_timer(r);
        return;
    }
}

static void dns_on_deadline(ld_probe *p) {
    conclude_all(p, LD_END_TIMEOUT);
}

static void dns_cancel(ld_probe *p) {
    conclude_all(p, LD_END_RUN_DEADLINE);
}

static void dns_clear(ld_probe *p) {
    dns_state *s = p->priv;
    if (!s)
        return;
    for (size_t i = 0; i < s->nres; i++) {
        dns_res *r = &s->res[i];
        ld_timer_stop(&r->timer);
        if (r->ch)
            ares_destroy(r->ch); /* closes sockets through sock_state_cb */
        for (int k = 0; k < DNS_MAX_SOCKS; k++)
            ld_io_stop(&r->ios[k]);
        for (int q = 0; q < NQUERIES; q++) {
            ld_value_clear(&r->q[q].cnames);
            ld_value_clear(&r->q[q].wire_cnames);
        }
    }
    free(s->res);
    free(s);
    p->priv = NULL;
}

/* --- summary ----------------------------------------------------------------- */

/* The string fact id of bag b, NULL when absent. */
static const char *bag_str(const ld_bag *b, ld_fact_id id) {
    const ld_value *v = ld_bag_get(b, id);
    return v && v->type == LD_T_STR ? v->u.s : NULL;
}

/* 1 when the list values a and b hold the same strings (as sets). */
static int same_set(const ld_value *a, const ld_value *b) {
    for (int pass = 0; pass < 2; pass++) {
        const ld_value *x = pass ? b : a, *y = pass ? a : b;
        for (size_t i = 0; x && x->type == LD_T_LIST && i < x->u.list.len; i++)
            if (!y || !ld_value_list_has(y, x->u.list.items[i]))
                return 0;
    }
    return 1;
}

/* The cloud's own resolver (asked by a probe of its own, compare_only)
 * against the system's answer: what it answers, the private addresses it
 * has that the system's answer lacks - the private zone is in effect for
 * this network, yet the resolver the system uses does not serve it (a
 * custom DNS server that does not forward it) - and, when it answered
 * otherwise than the system's resolver, one more divergent resolver. From
 * the evidence alone, once every probe of the target ended. */
static ld_status dns_summarize(ld_facts *facts, const ld_target_spec *spec) {
    (void)spec;
    ld_bag *t = ld_facts_target(facts);
    const ld_bag *cloud = NULL;
    for (size_t i = 0; i < ld_facts_subject_count(facts) && !cloud; i++) {
        const ld_bag *b = ld_facts_subject_at(facts, i);
        const char *src = bag_str(b, LD_F_DNS_R_SOURCE);
        if (strcmp(ld_bag_kind(b), "dns") == 0 && src &&
            strcmp(src, ld_resolver_source_name(LD_RESOLVER_CLOUD)) == 0)
            cloud = b;
    }
    if (!cloud)
        return LD_OK;
    const char *server = bag_str(cloud, LD_F_DNS_R_SERVER),
               *rcode = bag_str(cloud, LD_F_DNS_R_RCODE);
    const ld_value *addrs = ld_bag_get(cloud, LD_F_DNS_R_ADDRESSES);
    const ld_value *scopes = ld_bag_get(cloud, LD_F_DNS_R_SCOPES);
    /* Everything read from the target bag first: writing to it moves its values. */
    const ld_value *system = ld_facts_get(facts, LD_F_DNS_ADDRESSES);
    ld_value missing = {.type = LD_T_LIST};
    ld_status st = LD_OK;
    for (size_t i = 0; addrs && addrs->type == LD_T_LIST && i < addrs->u.list.len; i++) {
        const char *a = addrs->u.list.items[i];
        const char *scope = scopes && scopes->type == LD_T_LIST && i < scopes->u.list.len
                                ? scopes->u.list.items[i]
                                : "";
        int private = strcmp(scope, ld_addr_scope_name(LD_AS_PRIVATE)) == 0 ||
                      strcmp(scope, ld_addr_scope_name(LD_AS_ULA)) == 0;
        if (private && !(system && ld_value_list_has(system, a)) && st == LD_OK)
            st = ld_value_list_add(&missing, a);
    }
    /* A divergent resolver as dns.divergent_resolvers counts them: it
     * answered, the system's resolver answered, and not the same. */
    const char *sys_rcode = bag_str(ld_facts_target_const(facts), LD_F_DNS_RCODE);
    int responded = rcode && strcmp(rcode, rcode_names[RC_TIMEOUT]) != 0 &&
                    strcmp(rcode, rcode_names[RC_UNREACHABLE]) != 0 &&
                    strcmp(rcode, rcode_names[RC_ERROR]) != 0;
    const ld_value *count = ld_facts_get(facts, LD_F_DNS_DIVERGENCE_COUNT);
    int64_t divergent = count ? count->u.i : 0;
    int diverges = responded && server && ld_facts_get(facts, LD_F_DNS_ANSWER_RESOLVER) && count &&
                   (!sys_rcode || strcmp(sys_rcode, rcode) != 0 || !same_set(addrs, system));

    if (st == LD_OK)
        st = ld_bag_set_str(t, LD_F_DNS_CLOUD_RESOLVER, server ? server : "");
    if (rcode)
        ld_bag_set_str(t, LD_F_DNS_CLOUD_RESOLVER_RCODE, rcode);
    ld_bag_set_empty_list(t, LD_F_DNS_CLOUD_RESOLVER_ADDRESSES);
    for (size_t i = 0; addrs && addrs->type == LD_T_LIST && i < addrs->u.list.len; i++)
        ld_bag_list_add(t, LD_F_DNS_CLOUD_RESOLVER_ADDRESSES, addrs->u.list.items[i]);
    if (st == LD_OK)
        st = ld_bag_set_value(t, LD_F_DNS_CLOUD_RESOLVER_PRIVATE_MISSING, &missing);
    ld_bag_set_int(t, LD_F_DNS_CLOUD_RESOLVER_PRIVATE_MISSING_COUNT, (int64_t)missing.u.list.len);
    ld_value_clear(&missing);
    if (diverges) {
        ld_bag_list_add(t, LD_F_DNS_DIVERGENT_RESOLVERS, server);
        ld_bag_set_int(t, LD_F_DNS_DIVERGENCE_COUNT, divergent + 1);
    }
    return st;
}

const ld_probe_ops ld_probe_dns = {
    .name = "dns",
    .start = dns_start,
    .on_io = dns_on_io,
    .on_deadline = dns_on_deadline,
    .cancel = dns_cancel,
    .clear = dns_clear,
    .summarize = dns_summarize,
};
