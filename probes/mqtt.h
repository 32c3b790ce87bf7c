/* mqtt.h - the MQTT probe: an MQTT 3.1.1 CONNECT (clean session, no will, no
 * credentials, client id "linkdoctor-<pid>-<n>") on a connection (plain, or
 * TLS for mqtts://) and the CONNACK it gets, read with a bounded buffer.
 * Facts: mqtt.attempt.* per address (subject kind "mqtt"); mqtt.* from
 * summarize().
 */
#ifndef LD_PROBE_MQTT_H
#define LD_PROBE_MQTT_H

#include <stddef.h>
#include <stdint.h>

#include "probes/reqrep.h"

/* The request/reply probe running CONNECT; its config is an ld_reqrep_config. */
extern const ld_probe_ops ld_probe_mqtt;

/* How a reply reads. */
typedef enum ld_mqtt_reply {
    LD_MQTT_INCOMPLETE = 0, /* fewer than 4 bytes yet: read more */
    LD_MQTT_CONNACK,        /* a well-formed CONNACK: *code holds its return code */
    LD_MQTT_INVALID,        /* anything else */
} ld_mqtt_reply;

/* Builds the CONNECT packet for client_id into buf; returns its length, 0 when
 * it does not fit. */
size_t ld_mqtt_connect_packet(const char *client_id, uint16_t keepalive, unsigned char *buf,
                              size_t len);
/* Classifies the first reply in buf[0..len); pure, bounded, fuzzed. */
ld_mqtt_reply ld_mqtt_parse(const unsigned char *buf, size_t len, int *code);
/* The MQTT 3.1.1 name of a CONNACK return code (0..5), "reserved" otherwise. */
const char *ld_mqtt_connack_name(int code);

#endif
