/* fuzz_neigh.c - the rtnetlink answer parsers on arbitrary bytes: never a
 * crash, a read past the datagram, or undefined behaviour, and a success
 * always names a state.
 *
 * The first byte picks the question. Without bit 2: bit 0 the parser (route
 * or neighbour), bit 1 the family asked about (IPv4 10.77.0.99 or IPv6
 * fd77::99). With bit 2: bit 0 clear, the interface answer for the ifindex in
 * bits 3-7; bit 0 set, the host's link and address dumps (core/host.h). The
 * rest is the answer, copied to a buffer of exactly its size so that any
 * over-read is caught.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/host.h"
#include "core/neigh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The host parsers: whatever they keep stays within its bounds, NUL-terminated. */
static void host_dumps(const uint8_t *msg, size_t len) {
    ld_host *h = ld_host_create(); /* ~100 KiB: not for the stack */
    ld_err err;
    if (!h)
        return;
    ld_status a = ld_host_parse_links(h, msg, len, &err);
    ld_status b = ld_host_parse_addrs(h, msg, len, &err);
    if ((a != LD_OK && a != LD_EINVAL) || (b != LD_OK && b != LD_EINVAL))
        abort();
    if (h->nifaces > LD_HOST_IFACES_MAX)
        abort();
    for (size_t i = 0; i < h->nifaces; i++)
        if (h->ifaces[i].naddrs > LD_HOST_IFACE_ADDRS_MAX ||
            memchr(h->ifaces[i].name, '\0', sizeof h->ifaces[i].name) == NULL)
            abort();
    ld_host_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    int neigh = data[0] & 1, v6 = (data[0] >> 1) & 1, other = (data[0] >> 2) & 1;
    size_t len = size - 1;
    /* malloc keeps the datagram aligned as the kernel's would be */
    uint8_t *msg = malloc(len ? len : 1);
    if (!msg)
        return 0;
    memcpy(msg, data + 1, len);
    if (other && neigh) {
        host_dumps(msg, len);
        free(msg);
        return 0;
    }
    ld_neigh n;
    ld_err err;
    memset(&n, 0, sizeof n);
    if (ld_addr_parse(v6 ? "fd77::99" : "10.77.0.99", &n.dst, &err) != LD_OK)
        abort();
    n.next_hop = n.dst;
    n.ifindex = data[0] >> 3;
    ld_status st = other   ? ld_neigh_parse_link(msg, len, &n, &err)
                   : neigh ? ld_neigh_parse_neigh(msg, len, &n, &err)
                           : ld_neigh_parse_route(msg, len, &n, &err);
    if (st != LD_OK && st != LD_EINVAL)
        abort();
    if (st == LD_OK && (n.state < 0 || n.state >= LD_NEIGH__COUNT))
        abort();
    if (st == LD_OK && !memchr(n.ifname, '\0', sizeof n.ifname))
        abort();
    if (st == LD_EINVAL && (err.msg[0] == '\0' || strchr(err.msg, '\n')))
        abort();
    free(msg);
    return 0;
}
