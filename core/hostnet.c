/* hostnet.c - rp_filter, conntrack and neighbour probing from /proc/sys. */
#include "hostnet.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Reads the non-negative integer a /proc/sys file holds; -1 when it cannot. */
static int64_t read_number(const char *path) {
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (end == buf || errno || v < 0 || (*end && *end != '\n'))
        return -1;
    return (int64_t)v;
}

/* 1 when ifname can be a directory name under conf/ or neigh/. */
static int plain_ifname(const char *ifname) {
    return ifname && *ifname && !strchr(ifname, '/') && strcmp(ifname, ".") != 0 &&
           strcmp(ifname, "..") != 0 && strlen(ifname) <= 64;
}

int ld_hostnet_rp_filter(const char *proc, const char *ifname) {
    char path[512];
    if (!plain_ifname(ifname))
        return -1;
    snprintf(path, sizeof path, "%s/sys/net/ipv4/conf/all/rp_filter", proc);
    int64_t all = read_number(path);
    snprintf(path, sizeof path, "%s/sys/net/ipv4/conf/%s/rp_filter", proc, ifname);
    int64_t one = read_number(path);
    if (all < 0 || one < 0 || all > 2 || one > 2)
        return -1;
    return (int)(all > one ? all : one);
}

ld_status ld_hostnet_conntrack(const char *proc, int64_t *count, int64_t *max, ld_err *err) {
    char path[512];
    snprintf(path, sizeof path, "%s/sys/net/netfilter/nf_conntrack_count", proc);
    *count = read_number(path);
    snprintf(path, sizeof path, "%s/sys/net/netfilter/nf_conntrack_max", proc);
    *max = read_number(path);
    if (*count < 0 || *max < 0)
        return ld_err_set(err, LD_EIO, "connection tracking counts unreadable");
    return LD_OK;
}

/* net.ipvN.neigh.IFNAME.name (neigh.default when ifname is not plain), or
 * fallback when unreadable. */
static int64_t neigh_setting(const char *proc, int family, const char *ifname, const char *name,
                             int64_t fallback) {
    char path[512];
    snprintf(path, sizeof path, "%s/sys/net/%s/neigh/%s/%s", proc,
             family == AF_INET6 ? "ipv6" : "ipv4", plain_ifname(ifname) ? ifname : "default", name);
    int64_t v = read_number(path);
    return v < 0 ? fallback : v;
}

double ld_hostnet_neigh_give_up_ms(const char *proc, int family, const char *ifname, int probing) {
    int64_t probes = neigh_setting(proc, family, ifname, "ucast_solicit", 3) +
                     neigh_setting(proc, family, ifname, "app_solicit", 0) +
                     neigh_setting(proc, family, ifname, "mcast_resolicit", 0);
    int64_t retrans = neigh_setting(proc, family, ifname, "retrans_time_ms", 1000);
    double ms = (double)probes * (double)retrans;
    if (!probing)
        ms += 1000.0 * (double)neigh_setting(proc, family, ifname, "delay_first_probe_time", 5);
    return ms;
}
