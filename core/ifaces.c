/* ifaces.c - local address table. */
#include "ifaces.h"

#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>

ld_status ld_ifaces_load(ld_ifaces *out, ld_err *err) {
    memset(out, 0, sizeof *out);
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) < 0)
        return ld_err_set(err, LD_ESYS, "getifaddrs: %s", strerror(errno));
    size_t n = 0;
    for (struct ifaddrs *it = list; it; it = it->ifa_next)
        if (it->ifa_addr &&
            (it->ifa_addr->sa_family == AF_INET || it->ifa_addr->sa_family == AF_INET6))
            n++;
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items) {
        freeifaddrs(list);
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    }
    for (struct ifaddrs *it = list; it; it = it->ifa_next) {
        if (!it->ifa_addr ||
            ld_addr_from_sockaddr(it->ifa_addr, &out->items[out->len].addr, NULL) != LD_OK)
            continue;
        ld_iface_addr *ia = &out->items[out->len++];
        if (ia->addr.family == AF_INET6)
            ia->addr.scope_id = 0; /* compare addresses, not zones */
        strncpy(ia->name, it->ifa_name, IF_NAMESIZE - 1);
        ld_addr_scope sc = ld_addr_scope_of(&ia->addr);
        if (ia->addr.family == AF_INET && sc != LD_AS_LOOPBACK)
            out->has_v4 = 1;
        if (ia->addr.family == AF_INET6 && (sc == LD_AS_PUBLIC || sc == LD_AS_ULA))
            out->has_v6 = 1;
    }
    freeifaddrs(list);
    return LD_OK;
}

void ld_ifaces_clear(ld_ifaces *ifs) {
    free(ifs->items);
    memset(ifs, 0, sizeof *ifs);
}

const char *ld_ifaces_name_of(const ld_ifaces *ifs, const ld_addr *a) {
    ld_addr plain = *a;
    plain.scope_id = 0;
    for (size_t i = 0; i < ifs->len; i++)
        if (ld_addr_equal(&ifs->items[i].addr, &plain))
            return ifs->items[i].name;
    return NULL;
}

int ld_ifaces_family_usable(const ld_ifaces *ifs, int family) {
    return family == AF_INET ? ifs->has_v4 : ifs->has_v6;
}
