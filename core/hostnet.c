/* hostnet.c - rp_filter and conntrack from /proc/sys. */
#include "hostnet.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int ld_hostnet_rp_filter(const char *proc, const char *ifname) {
    char path[512];
    if (!ifname || !*ifname || strchr(ifname, '/') || strcmp(ifname, ".") == 0 ||
        strcmp(ifname, "..") == 0 || strlen(ifname) > 64)
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
