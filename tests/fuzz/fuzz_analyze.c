/* fuzz_analyze.c - the handshake decoder on arbitrary bytes: never a crash, a
 * leak or undefined behaviour, and the flow table stays consistent.
 *
 * The first byte picks the mode:
 *   0  the rest is a whole capture file, read through ld_hs_read_file() from a
 *      memfd (the same path `linkdoctor analyze` takes, libpcap included);
 *   1  the next byte picks a link type, the rest is one packet;
 *   2  the next byte picks a link type, the rest is packets, each preceded by
 *      a 2-byte big-endian length, fed to a table of 8 flows at most; when
 *      that byte is 128 or more, the table evicts (it keeps flows whose
 *      client port is even, as a capture keeps the attempts it watches).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "probes/handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Supported link types first; a few others to check they are refused cleanly. */
static const int dlts[] = {1, 113, 276, 12, 228, 229, 0, 108, 101, 105, 127, -1};

/* Every documented property of a table, checked after the input is spent. */
static void check(const ld_hs_table *t, size_t max_flows) {
    size_t n = ld_hs_count(t);
    if (n > max_flows || ld_hs_at(t, n) != NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        const ld_hs_flow *f = ld_hs_at(t, i);
        if (!f || ld_hs_find(t, &f->client, f->client_port, &f->server, f->server_port) != f)
            abort();
        if (!ld_hs_conn_state(f) || !f->icmp_seen != !ld_hs_icmp_reason(f))
            abort();
        if (f->packets == 0 || f->nsyn > f->packets || f->first_ts > f->last_ts)
            abort();
        if (f->client.family != f->server.family)
            abort();
    }
}

static void read_capture(const uint8_t *data, size_t size) {
    int fd = memfd_create("capture", 0);
    if (fd < 0)
        return;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            goto out;
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ld_hs_table *t = ld_hs_create(64);
    if (!t)
        goto out;
    ld_hs_file_stats st;
    ld_err err = {{0}};
    ld_status s = ld_hs_read_file(t, path, 0, &st, &err);
    if (s != LD_OK && (s != LD_EINVAL || err.msg[0] == '\0' || strchr(err.msg, '\n')))
        abort();
    if (st.used + st.malformed > st.packets)
        abort();
    check(t, 64);
    ld_hs_free(t);
out:
    close(fd);
}

/* The keep callback of evicting tables: flows with an even client port. */
static int keep_even(const ld_hs_flow *f, void *arg) {
    (void)arg;
    return f->client_port % 2 == 0;
}

static void feed_packets(int dlt, const uint8_t *data, size_t size, int one, int evict) {
    size_t max = one ? 0 : 8;
    ld_hs_table *t = ld_hs_create(max);
    if (!t)
        return;
    if (evict)
        ld_hs_set_keep(t, keep_even, NULL);
    if (one) {
        ld_hs_result r = ld_hs_packet(t, dlt, data, size, 1.0);
        if (r != LD_HS_USED && r != LD_HS_IGNORED && r != LD_HS_MALFORMED)
            abort();
        /* USED: a flow started, or an ARP / ND packet was counted (no flow) */
        if (ld_hs_count(t) > (r == LD_HS_USED ? 1u : 0u))
            abort();
    } else {
        double ts = 0;
        while (size >= 2) {
            size_t len = ((size_t)data[0] << 8) | data[1];
            data += 2;
            size -= 2;
            if (len > size)
                len = size;
            ld_hs_result r = ld_hs_packet(t, dlt, data, len, ts);
            if (r == LD_HS_FULL && ld_hs_count(t) != 8)
                abort();
            if (!evict && ld_hs_evicted(t) != 0)
                abort();
            data += len;
            size -= len;
            ts += 0.25;
        }
    }
    check(t, one ? LD_HS_DEFAULT_MAX_FLOWS : 8);
    ld_hs_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    int mode = data[0] % 3;
    if (mode == 0) {
        read_capture(data + 1, size - 1);
        return 0;
    }
    if (size < 2)
        return 0;
    int dlt = dlts[data[1] % (sizeof dlts / sizeof *dlts)];
    feed_packets(dlt, data + 2, size - 2, mode == 1, mode == 2 && data[1] >= 128);
    return 0;
}
