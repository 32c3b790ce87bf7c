/* attempt.c - names of attempt states and origins. */
#include "attempt.h"

#include <string.h>

static const char *const state_names[LD_TCP__COUNT] = {
    [LD_TCP_OPEN] = "open",           [LD_TCP_REFUSED] = "refused",
    [LD_TCP_TIMEOUT] = "timeout",     [LD_TCP_ICMP] = "icmp",
    [LD_TCP_NO_ROUTE] = "no_route",   [LD_TCP_LOCAL_BLOCK] = "local_block",
    [LD_TCP_ERROR] = "error",         [LD_TCP_REPLY_DROPPED] = "reply_dropped",
    [LD_TCP_UNDECIDED] = "undecided",
};

const char *ld_tcp_state_name(ld_tcp_state s) {
    return (unsigned)s < LD_TCP__COUNT ? state_names[s] : "error";
}

int ld_tcp_state_parse(const char *s) {
    for (int i = 0; s && i < LD_TCP__COUNT; i++)
        if (strcmp(state_names[i], s) == 0)
            return i;
    return -1;
}

const char *ld_origin_name(unsigned bit) {
    switch (bit) {
    case LD_ORIGIN_ENDPOINT:
        return "endpoint";
    case LD_ORIGIN_DNS:
        return "dns";
    case LD_ORIGIN_HOSTS:
        return "hosts";
    case LD_ORIGIN_LITERAL:
        return "literal";
    case LD_ORIGIN_CAPTURE:
        return "capture";
    default:
        return NULL;
    }
}
