/* host.c - the host context of a report: os-release, uname, the clock, and
 * the interfaces from two rtnetlink dumps. */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "netlink.h"
#include "sanitize.h"
#include "utc.h"

#include <linux/if.h>

#define DUMP_MAX ((size_t)1 << 20) /* most bytes of one dump read (~1,000 interfaces) */

ld_host *ld_host_create(void) {
    return calloc(1, sizeof(ld_host));
}

void ld_host_free(ld_host *h) {
    free(h);
}

/* s sanitized into buf (len bytes), cut at a character boundary. */
static void put_text(char *buf, size_t len, const char *s) {
    ld_sanitize_to(s, strlen(s), buf, len);
}

void ld_host_add_nameserver(ld_host *h, const char *s) {
    if (h->nnameservers < LD_HOST_LIST_MAX)
        put_text(h->nameservers[h->nnameservers++], sizeof h->nameservers[0], s);
}

void ld_host_add_search(ld_host *h, const char *s) {
    if (h->nsearch < LD_HOST_LIST_MAX)
        put_text(h->search[h->nsearch++], sizeof h->search[0], s);
}

void ld_host_add_option(ld_host *h, const char *s) {
    if (h->noptions < LD_HOST_LIST_MAX)
        put_text(h->options[h->noptions++], sizeof h->options[0], s);
}

void ld_host_add_hosts_line(ld_host *h, int number, const char *text) {
    if (h->nhosts_lines >= LD_HOST_LIST_MAX)
        return;
    ld_host_line *l = &h->hosts_lines[h->nhosts_lines++];
    l->number = number;
    put_text(l->text, sizeof l->text, text);
}

/* --- os-release --------------------------------------------------------------- */

/* The value of an os-release line (after '='), unquoted as a shell would:
 * "..." with \-escapes, '...' verbatim, or a bare word; into out. */
static void unquote(const char *v, size_t n, char *out, size_t len) {
    char tmp[LD_HOST_TEXT_MAX];
    size_t k = 0;
    char q = n > 0 && (v[0] == '"' || v[0] == '\'') ? v[0] : 0;
    for (size_t i = q ? 1 : 0; i < n && k + 1 < sizeof tmp; i++) {
        if (q && v[i] == q)
            break;
        if (q == '"' && v[i] == '\\' && i + 1 < n)
            i++;
        tmp[k++] = v[i];
    }
    tmp[k] = '\0';
    put_text(out, len, tmp);
}

void ld_host_parse_os_release(ld_host *h, const char *text, size_t len) {
    static const struct {
        const char *key; /* the variable */
        size_t offset;   /* where it goes in ld_host */
        size_t size;     /* ... and its room */
    } keys[] = {
        {"ID", offsetof(ld_host, os_id), sizeof h->os_id},
        {"VERSION_ID", offsetof(ld_host, os_version_id), sizeof h->os_version_id},
        {"PRETTY_NAME", offsetof(ld_host, os_pretty_name), sizeof h->os_pretty_name},
    };
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *eq = memchr(p, '=', (size_t)(eol - p));
        for (size_t i = 0; eq && i < sizeof keys / sizeof keys[0]; i++) {
            size_t klen = strlen(keys[i].key);
            if ((size_t)(eq - p) == klen && memcmp(p, keys[i].key, klen) == 0) {
                size_t vlen = (size_t)(eol - eq - 1);
                if (vlen > 0 && eq[vlen] == '\r')
                    vlen--;
                unquote(eq + 1, vlen, (char *)h + keys[i].offset, keys[i].size);
            }
        }
        p = eol + (nl ? 1 : 0);
    }
}

/* Reads os-release from path, or the standard places (os-release(5)). */
static ld_status read_os_release(ld_host *h, const char *path, ld_err *err) {
    static const char *const standard[] = {"/etc/os-release", "/usr/lib/os-release"};
    char *buf = malloc(LD_HOST_OS_RELEASE_MAX);
    if (!buf)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    ld_status st = LD_EIO;
    for (size_t i = 0; st != LD_OK && i < (path ? 1 : 2); i++) {
        const char *name = path ? path : standard[i];
        int fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
            ld_err_set(err, LD_EIO, "%s: %s", name, strerror(errno));
            continue;
        }
        size_t got = 0;
        ssize_t n;
        while (got < LD_HOST_OS_RELEASE_MAX &&
               ((n = read(fd, buf + got, LD_HOST_OS_RELEASE_MAX - got)) > 0 ||
                (n < 0 && errno == EINTR)))
            got += n > 0 ? (size_t)n : 0;
        close(fd);
        ld_host_parse_os_release(h, buf, got);
        st = LD_OK;
    }
    free(buf);
    return st;
}

/* --- interfaces ------------------------------------------------------------------ */

/* RFC 2863 operational states, as `ip link` names them (lower case). */
static const char *oper_name(unsigned operstate, unsigned flags) {
    static const char *const names[] = {
        [IF_OPER_UNKNOWN] = "unknown", [IF_OPER_NOTPRESENT] = "notpresent",
        [IF_OPER_DOWN] = "down",       [IF_OPER_LOWERLAYERDOWN] = "lowerlayerdown",
        [IF_OPER_TESTING] = "testing", [IF_OPER_DORMANT] = "dormant",
        [IF_OPER_UP] = "up",
    };
    /* Loopback and tunnels report no operational state: their flags say. */
    if (operstate == IF_OPER_UNKNOWN)
        return !(flags & IFF_UP) ? "down" : (flags & IFF_RUNNING) ? "up" : "unknown";
    return operstate < sizeof names / sizeof names[0] && names[operstate] ? names[operstate]
                                                                          : "unknown";
}

ld_status ld_host_parse_links(ld_host *h, const void *msg, size_t len, ld_err *err) {
    size_t off = 0;
    for (const struct nlmsghdr *m; (m = ld_nl_next_msg(msg, len, &off));) {
        if (m->nlmsg_type == NLMSG_DONE)
            return LD_OK;
        if (m->nlmsg_type == NLMSG_ERROR)
            return ld_nl_fail(m, "interface list", err);
        ld_nl_link link;
        if (!ld_nl_read_link(m, &link) || !link.name[0])
            continue;
        if (h->nifaces == LD_HOST_IFACES_MAX) {
            h->ifaces_omitted++;
            continue;
        }
        ld_host_iface *i = &h->ifaces[h->nifaces++];
        memset(i, 0, sizeof *i);
        i->index = link.index;
        put_text(i->name, sizeof i->name, link.name);
        snprintf(i->state, sizeof i->state, "%s", oper_name(link.operstate, link.flags));
        i->mtu = link.mtu;
    }
    return LD_OK;
}

ld_status ld_host_parse_addrs(ld_host *h, const void *msg, size_t len, ld_err *err) {
    size_t off = 0;
    for (const struct nlmsghdr *m; (m = ld_nl_next_msg(msg, len, &off));) {
        if (m->nlmsg_type == NLMSG_DONE)
            return LD_OK;
        if (m->nlmsg_type == NLMSG_ERROR)
            return ld_nl_fail(m, "address list", err);
        if (m->nlmsg_type != RTM_NEWADDR || m->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
            continue;
        const struct ifaddrmsg *ifa = NLMSG_DATA(m);
        ld_host_iface *iface = NULL;
        for (size_t k = 0; k < h->nifaces && !iface; k++)
            if (h->ifaces[k].index == (int)ifa->ifa_index)
                iface = &h->ifaces[k];
        if (!iface || iface->naddrs == LD_HOST_IFACE_ADDRS_MAX)
            continue;
        /* IFA_LOCAL is this host's end (IFA_ADDRESS is the peer's on a
         * point-to-point link); IPv6 gives IFA_ADDRESS alone. */
        ld_addr local = {0}, address = {0};
        size_t alen, at = 0;
        const void *attrs = ld_nl_msg_attrs(m, sizeof *ifa, &alen);
        for (const struct rtattr *a; (a = ld_nl_next_attr(attrs, alen, &at));) {
            if (a->rta_type == IFA_LOCAL)
                ld_nl_attr_addr(a, ifa->ifa_family, &local);
            else if (a->rta_type == IFA_ADDRESS)
                ld_nl_attr_addr(a, ifa->ifa_family, &address);
        }
        const ld_addr *use = local.family ? &local : address.family ? &address : NULL;
        if (!use)
            continue;
        char text[LD_ADDR_STRLEN];
        ld_addr_format(use, text);
        snprintf(iface->addrs[iface->naddrs++], sizeof iface->addrs[0], "%s/%u", text,
                 (unsigned)ifa->ifa_prefixlen);
    }
    return LD_OK;
}

/* Dumps links (then addresses) into h. */
static ld_status read_interfaces(ld_host *h, ld_err *err) {
    union {
        struct nlmsghdr h;
        char bytes[128];
    } req;
    ld_buf dump;
    ld_buf_init(&dump, DUMP_MAX);
    ld_status st = LD_ESYS;
    int fd = ld_nl_open(err);
    if (fd < 0)
        goto out;

    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    req.h.nlmsg_type = RTM_GETLINK;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = 1;
    /* Names, states and MTUs are all that is read: no per-VF details. */
    ld_nl_put_u32(&req, sizeof req, IFLA_EXT_MASK, 0);
    if ((st = ld_nl_dump(fd, &req, &dump, err)) != LD_OK ||
        (st = ld_host_parse_links(h, dump.data, dump.len, err)) != LD_OK)
        goto out;

    ld_buf_reset(&dump);
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
    req.h.nlmsg_type = RTM_GETADDR;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = 2;
    if ((st = ld_nl_dump(fd, &req, &dump, err)) == LD_OK)
        st = ld_host_parse_addrs(h, dump.data, dump.len, err);
out:
    if (fd >= 0)
        close(fd);
    ld_buf_clear(&dump);
    return st;
}

/* --- the rest -------------------------------------------------------------------- */

ld_status ld_host_collect(ld_host *h, const ld_host_sources *src, ld_err *err) {
    ld_status first = LD_OK;
    ld_err e;
    if (read_os_release(h, src->os_release, &e) != LD_OK && first == LD_OK)
        first = ld_err_set(err, LD_EIO, "%s", e.msg);
    struct utsname u;
    if (uname(&u) == 0)
        put_text(h->kernel, sizeof h->kernel, u.release);
    ld_utc_format(src->started_at, h->time, sizeof h->time);
    if (read_interfaces(h, &e) != LD_OK && first == LD_OK)
        first = ld_err_set(err, LD_ESYS, "%s", e.msg);
    for (size_t i = 0; src->proxy && i < src->proxy->n && h->nproxy < LD_HOST_PROXY_MAX; i++) {
        ld_host_var *v = &h->proxy[h->nproxy++];
        char masked[LD_HOST_TEXT_MAX];
        put_text(v->name, sizeof v->name, src->proxy->vars[i]);
        ld_proxy_mask(src->proxy->values[i], masked, sizeof masked);
        put_text(v->value, sizeof v->value, masked);
    }
    return first;
}

/* --- --redact ---------------------------------------------------------------------- */

/* 1 when an IPv6 address's interface identifier is a MAC address in EUI-64
 * form (ff:fe in its middle), which names the hardware wherever it goes. */
static int eui64(const ld_addr *a) {
    return a->family == AF_INET6 && a->v6.s6_addr[11] == 0xff && a->v6.s6_addr[12] == 0xfe;
}

void ld_host_redact(ld_host *h) {
    for (size_t i = 0; i < h->nifaces; i++) {
        ld_host_iface *iface = &h->ifaces[i];
        for (size_t k = 0; k < iface->naddrs; k++) {
            char *cidr = iface->addrs[k];
            char *slash = strchr(cidr, '/');
            char text[LD_HOST_CIDR_STRLEN];
            snprintf(text, sizeof text, "%.*s", (int)(slash ? slash - cidr : (long)strlen(cidr)),
                     cidr);
            ld_addr a;
            if (ld_addr_parse(text, &a, NULL) != LD_OK)
                continue;
            if (ld_addr_scope_of(&a) != LD_AS_PUBLIC && !eui64(&a))
                continue;
            char prefix[8] = "";
            if (slash)
                snprintf(prefix, sizeof prefix, "%s", slash);
            snprintf(cidr, sizeof iface->addrs[k], "redacted-ipv%c%s",
                     a.family == AF_INET ? '4' : '6', prefix);
        }
    }
}
