/* reqrep.h - the one probe for service checks of the "send X, expect Y" kind
 * (Redis PING, MQTT CONNECT): one request and its reply on a connection the
 * TCP or TLS probe hands over, through core/exchange.
 *
 * A service is data: a const ld_reqrep_service says how to build the request,
 * when the reply is complete, which outcome the reply bytes are, the outcome
 * names from least to most bad and which of them count as success, and which
 * facts to record. The probe records the outcome of each address as subject
 * facts (kind = the probe's name); summarize derives the target facts, the
 * worst outcome deciding. LD_REQREP_PROBE turns a descriptor into the
 * ld_probe_ops the plan names, so a new check is one small file.
 */
#ifndef LD_PROBE_REQREP_H
#define LD_PROBE_REQREP_H

#include <stddef.h>

#include "core/addr.h"
#include "core/exchange.h"
#include "core/facts.h"
#include "core/stream.h"
#include "probes/probe.h"

/* What one request/reply probe talks to. */
typedef struct ld_reqrep_config {
    ld_stream stream; /* the connection; the probe owns it from start */
    ld_addr addr;     /* the address (subject key) */
} ld_reqrep_config;

/* Flags of an outcome. */
#define LD_REQREP_OK     1u /* a success: not a failed address, its time may be the fastest */
#define LD_REQREP_TIMED  2u /* the attempt records its round trip */
#define LD_REQREP_QUOTED 4u /* the attempt records the reply bytes, quoted */

/* One way an attempt can end; a service lists them least bad first. */
typedef struct ld_reqrep_outcome {
    const char *name; /* the value of the outcome facts: "pong", "refused" */
    unsigned flags;   /* LD_REQREP_* */
} ld_reqrep_outcome;

/* How reply bytes are quoted as evidence. */
typedef enum ld_reqrep_quote {
    LD_REQREP_QUOTE_LINE, /* the first line without its end, printable, 120 characters at most */
    LD_REQREP_QUOTE_HEX,  /* the first 16 bytes in hex: "20 02 00 05" */
} ld_reqrep_quote;

/* The fact id that stands for "no such fact". */
#define LD_REQREP_NO_FACT LD_F__COUNT

/* An extra fact of the worst attempt that the target takes over. */
typedef struct ld_reqrep_copy {
    ld_fact_id from; /* the attempt's fact */
    ld_fact_id to;   /* the target fact of the same type */
} ld_reqrep_copy;

#define LD_REQREP_EXTRA_MAX 4 /* extra facts a target takes over, at most */

/* One service. The hooks are pure, except record, which only sets facts. */
typedef struct ld_reqrep_service {
    /* Builds the request into buf[0..cap) for the connection fd (an MQTT
     * client id uses it); returns its length, 0 when it cannot. */
    size_t (*request)(unsigned char *buf, size_t cap, int fd);
    const unsigned char *farewell;    /* sent, best effort, after a success; NULL for none */
    size_t farewell_len;              /* its length */
    ld_exchange_complete_fn complete; /* 1 when the reply read so far decides */
    size_t reply_max;                 /* read at most this much (<= LD_EXCHANGE_REPLY_MAX) */
    /* The outcome of the reply bytes (none, part or all of a reply): an
     * index into outcomes. */
    size_t (*classify)(const unsigned char *reply, size_t len);
    const ld_reqrep_outcome *outcomes; /* least bad first; unknown names rank as the last */
    size_t noutcomes;                  /* how many */
    ld_reqrep_quote quote;             /* how the reply is quoted */

    /* The facts of each attempt (subject scope). */
    ld_fact_id attempt_address;  /* STR: the address */
    ld_fact_id attempt_outcome;  /* STR: the outcome's name */
    ld_fact_id attempt_reply;    /* STR: the reply quoted (LD_REQREP_QUOTED outcomes) */
    ld_fact_id attempt_ms;       /* NUM: request sent to reply decided (LD_REQREP_TIMED ones) */
    ld_fact_id attempt_ended_by; /* STR: how the probe ended (ld_probe_end_name) */
    /* Optional: records the service's extra facts of the attempt. */
    void (*record)(ld_bag *attempt, const unsigned char *reply, size_t len);

    /* The target facts summarize derives; the worst attempt decides. */
    ld_fact_id target_attempted;  /* BOOL: a request was sent */
    ld_fact_id target_ok;         /* BOOL: every outcome is a success; or NO_FACT */
    ld_fact_id target_outcome;    /* STR: the worst outcome */
    ld_fact_id target_reply;      /* STR: its quoted reply, when it has one; or NO_FACT */
    ld_fact_id target_failed;     /* LIST: plain addresses whose outcome is no success */
    ld_fact_id target_fastest_ms; /* NUM: the fastest round trip of a success */
    ld_reqrep_copy target_extra[LD_REQREP_EXTRA_MAX]; /* extra facts of the worst attempt */
    size_t target_nextra;                             /* how many */
} ld_reqrep_service;

/* The generic ops; a service's probe uses them through LD_REQREP_PROBE. */
ld_status ld_reqrep_start(ld_probe *p, const ld_reqrep_service *svc, ld_err *err);
void ld_reqrep_on_io(ld_probe *p, ld_io *io, unsigned events);
void ld_reqrep_on_deadline(ld_probe *p);
void ld_reqrep_cancel(ld_probe *p);
void ld_reqrep_clear(ld_probe *p);
/* Derives svc's target facts from the attempts of kind; records nothing when
 * there are none (the target is not one of this service). */
ld_status ld_reqrep_summarize(const ld_reqrep_service *svc, const char *kind, ld_facts *facts);

/* Defines `const ld_probe_ops ops`, the probe named kind (also the subject
 * kind of its evidence) that runs the ld_reqrep_service service. */
#define LD_REQREP_PROBE(ops, kind, service)                                                        \
    static ld_status ops##_start(ld_probe *p, ld_err *err) {                                       \
        return ld_reqrep_start(p, &(service), err);                                                \
    }                                                                                              \
    static ld_status ops##_summarize(ld_facts *facts, const ld_target_spec *spec) {                \
        (void)spec;                                                                                \
        return ld_reqrep_summarize(&(service), (kind), facts);                                     \
    }                                                                                              \
    const ld_probe_ops ops = {                                                                     \
        .name = (kind),                                                                            \
        .start = ops##_start,                                                                      \
        .on_io = ld_reqrep_on_io,                                                                  \
        .on_deadline = ld_reqrep_on_deadline,                                                      \
        .cancel = ld_reqrep_cancel,                                                                \
        .clear = ld_reqrep_clear,                                                                  \
        .summarize = ops##_summarize,                                                              \
    }

#endif
