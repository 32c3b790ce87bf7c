/* reqrep.c - one request and its reply on a handed-over connection, and
 * what the service's descriptor says they mean.
 *
 * The probe finishes exactly once, in conclude(): the reply (whatever of it
 * arrived, possibly nothing) is classified when the exchange is decided, when
 * the peer closes or fails, at the probe's deadline and when the run ends, so
 * a partial reply is evidence too.
 */
#include "reqrep.h"

#include <stdlib.h>
#include <string.h>

#include "core/reply.h"

#define QUOTE_MAX 121 /* a quoted reply and its NUL: a line of 120 characters, or the hex */

/* Private state of one attempt. */
typedef struct reqrep_state {
    const ld_reqrep_service *svc; /* what to send and what the reply means */
    ld_exchange ex;               /* the request and its reply (the connection, owned from start) */
    ld_bag *subject;              /* the attempt's facts */
    char addr[LD_ADDR_STRLEN];    /* the address, as text */
} reqrep_state;

/* Records the outcome, says goodbye after a success, closes the connection
 * and ends the probe. */
static void conclude(ld_probe *p, ld_probe_end end) {
    reqrep_state *s = p->priv;
    if (p->finished)
        return;
    const ld_reqrep_service *svc = s->svc;
    size_t i = svc->classify(s->ex.reply, s->ex.len);
    const ld_reqrep_outcome *o = &svc->outcomes[i < svc->noutcomes ? i : svc->noutcomes - 1];
    ld_bag_set_str(s->subject, svc->attempt_outcome, o->name);
    if ((o->flags & LD_REQREP_QUOTED) && s->ex.len) {
        char text[QUOTE_MAX];
        if (svc->quote == LD_REQREP_QUOTE_HEX)
            ld_reply_quote_hex(s->ex.reply, s->ex.len, text, sizeof text);
        else
            ld_reply_quote_line(s->ex.reply, s->ex.len, text, sizeof text);
        ld_bag_set_str(s->subject, svc->attempt_reply, text);
    }
    if (o->flags & LD_REQREP_TIMED)
        ld_bag_set_num(s->subject, svc->attempt_ms,
                       (double)(ld_time_now() - s->ex.t_sent) / (double)LD_MS);
    if (svc->record)
        svc->record(s->subject, s->ex.reply, s->ex.len);
    ld_bag_set_str(s->subject, svc->attempt_ended_by, ld_probe_end_name(end));
    if ((o->flags & LD_REQREP_OK) && svc->farewell) {
        /* Best effort: a server logs a clean goodbye instead of a lost client. */
        size_t n;
        ld_stream_write(&s->ex.stream, svc->farewell, svc->farewell_len, &n);
    }
    ld_exchange_close(&s->ex);
    ld_probe_finish(p, end);
}

/* Moves the exchange on; ends the probe once it is decided. */
static void advance(ld_probe *p) {
    reqrep_state *s = p->priv;
    switch (ld_exchange_advance(&s->ex)) {
    case LD_EXCHANGE_WAITING:
        return;
    case LD_EXCHANGE_REPLIED:
    case LD_EXCHANGE_CLOSED:
        conclude(p, LD_END_RESULT);
        return;
    case LD_EXCHANGE_FAILED:
        conclude(p, LD_END_ERROR); /* reset, TLS failure */
        return;
    }
}

ld_status ld_reqrep_start(ld_probe *p, const ld_reqrep_service *svc, ld_err *err) {
    const ld_reqrep_config *cfg = p->config;
    reqrep_state *s = calloc(1, sizeof *s);
    if (!s) {
        ld_stream orphan = cfg->stream; /* ours from now on, even when we cannot run */
        ld_stream_close(&orphan);
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    }
    s->svc = svc;
    s->ex.stream = cfg->stream;
    s->ex.reply_max = svc->reply_max;
    s->ex.complete = svc->complete;
    p->priv = s;
    ld_addr_format(&cfg->addr, s->addr);
    s->subject = ld_facts_subject(p->facts, p->ops->name, s->addr);
    if (!s->subject)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    ld_bag_set_str(s->subject, svc->attempt_address, s->addr);
    s->ex.request_len = svc->request(s->ex.request, sizeof s->ex.request, s->ex.stream.fd);
    if (s->ex.stream.fd < 0 || s->ex.request_len == 0 ||
        ld_probe_watch(p, &s->ex.io, s->ex.stream.fd, LD_WRITE, err) != LD_OK) {
        conclude(p, LD_END_ERROR);
        return LD_OK;
    }
    advance(p);
    return LD_OK;
}

void ld_reqrep_on_io(ld_probe *p, ld_io *io, unsigned events) {
    advance(p);
}

void ld_reqrep_on_deadline(ld_probe *p) {
    conclude(p, LD_END_TIMEOUT);
}

void ld_reqrep_cancel(ld_probe *p) {
    if (p->priv)
        conclude(p, LD_END_RUN_DEADLINE);
}

void ld_reqrep_clear(ld_probe *p) {
    reqrep_state *s = p->priv;
    if (!s)
        return;
    ld_exchange_close(&s->ex);
    free(s);
    p->priv = NULL;
}

/* Where the outcome called name stands: its index, the last for a name the
 * service does not know. */
static size_t outcome_rank(const ld_reqrep_service *svc, const char *name) {
    for (size_t i = 0; i < svc->noutcomes; i++)
        if (strcmp(name, svc->outcomes[i].name) == 0)
            return i;
    return svc->noutcomes - 1;
}

ld_status ld_reqrep_summarize(const ld_reqrep_service *svc, const char *kind, ld_facts *facts) {
    ld_bag *t = ld_facts_target(facts);
    const ld_bag *worst = NULL;
    size_t worst_rank = 0;
    double best_ms = -1;
    for (size_t i = 0; i < ld_facts_subject_count(facts); i++) {
        const ld_bag *a = ld_facts_subject_at(facts, i);
        if (strcmp(ld_bag_kind(a), kind) != 0)
            continue;
        const ld_value *outcome = ld_bag_get(a, svc->attempt_outcome);
        const ld_value *addr = ld_bag_get(a, svc->attempt_address);
        if (!outcome || !addr)
            continue;
        size_t rank = outcome_rank(svc, outcome->u.s);
        if (!worst)
            ld_bag_set_empty_list(t, svc->target_failed);
        if (!worst || rank > worst_rank) {
            worst = a;
            worst_rank = rank;
        }
        if (!(svc->outcomes[rank].flags & LD_REQREP_OK)) {
            ld_bag_list_add(t, svc->target_failed, addr->u.s);
            continue;
        }
        const ld_value *ms = ld_bag_get(a, svc->attempt_ms);
        if (ms && (best_ms < 0 || ms->u.n < best_ms))
            best_ms = ms->u.n;
    }
    if (!worst)
        return LD_OK;
    ld_bag_set_bool(t, svc->target_attempted, 1);
    if (svc->target_ok != LD_REQREP_NO_FACT)
        ld_bag_set_bool(t, svc->target_ok, (svc->outcomes[worst_rank].flags & LD_REQREP_OK) != 0);
    ld_bag_set_str(t, svc->target_outcome, ld_bag_get(worst, svc->attempt_outcome)->u.s);
    const ld_value *reply = ld_bag_get(worst, svc->attempt_reply);
    if (reply && svc->target_reply != LD_REQREP_NO_FACT)
        ld_bag_set_str(t, svc->target_reply, reply->u.s);
    for (size_t i = 0; i < svc->target_nextra; i++) {
        const ld_value *v = ld_bag_get(worst, svc->target_extra[i].from);
        if (v)
            ld_bag_set_value(t, svc->target_extra[i].to, v);
    }
    if (best_ms >= 0)
        ld_bag_set_num(t, svc->target_fastest_ms, best_ms);
    return LD_OK;
}
