/* fuzz_neigh.c - the rtnetlink answer parsers on arbitrary bytes: never a
 * crash, a read past the datagram, or undefined behaviour, and a success
 * always names a state.
 *
 * The first byte picks the question: bit 0 the parser (route or neighbour),
 * bit 1 the family asked about (IPv4 10.77.0.99 or IPv6 fd77::99). The rest
 * is the answer datagram, copied to a buffer of exactly its size so that any
 * over-read is caught.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/neigh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    int neigh = data[0] & 1, v6 = (data[0] >> 1) & 1;
    size_t len = size - 1;
    /* malloc keeps the datagram aligned as the kernel's would be */
    uint8_t *msg = malloc(len ? len : 1);
    if (!msg)
        return 0;
    memcpy(msg, data + 1, len);
    ld_neigh n;
    ld_err err;
    memset(&n, 0, sizeof n);
    if (ld_addr_parse(v6 ? "fd77::99" : "10.77.0.99", &n.dst, &err) != LD_OK)
        abort();
    n.next_hop = n.dst;
    ld_status st =
        neigh ? ld_neigh_parse_neigh(msg, len, &n, &err) : ld_neigh_parse_route(msg, len, &n, &err);
    if (st != LD_OK && st != LD_EINVAL)
        abort();
    if (st == LD_OK && (n.state < 0 || n.state >= LD_NEIGH__COUNT))
        abort();
    if (st == LD_EINVAL && (err.msg[0] == '\0' || strchr(err.msg, '\n')))
        abort();
    free(msg);
    return 0;
}
