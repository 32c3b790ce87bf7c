/* registry.c - the probe registry. */
#include "registry.h"

#include "probes/dns.h"
#include "probes/http.h"
#include "probes/mqtt.h"
#include "probes/redis.h"
#include "probes/tcp.h"
#include "probes/tls.h"

const ld_probe_ops *const ld_plan_probes[] = {
    &ld_probe_dns,   &ld_probe_tcp,  &ld_probe_tls, &ld_probe_http,
    &ld_probe_redis, &ld_probe_mqtt, NULL,
};
