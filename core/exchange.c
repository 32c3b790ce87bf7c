/* exchange.c - non-blocking request/reply on a stream. */
#include "exchange.h"

ld_exchange_state ld_exchange_advance(ld_exchange *ex) {
    size_t max =
        ex->reply_max && ex->reply_max < sizeof ex->reply ? ex->reply_max : sizeof ex->reply;
    for (;;) {
        size_t n = 0;
        ld_stream_result r;
        if (ex->sent < ex->request_len) {
            r = ld_stream_write(&ex->stream, ex->request + ex->sent, ex->request_len - ex->sent,
                                &n);
            if (r == LD_STREAM_DONE) {
                ex->sent += n;
                if (ex->sent == ex->request_len)
                    ex->t_sent = ld_time_now();
                continue;
            }
        } else {
            r = ld_stream_read(&ex->stream, ex->reply + ex->len, max - ex->len, &n);
            if (r == LD_STREAM_DONE) {
                ex->len += n;
                /* A full buffer decides too: no reply of ours is that long. */
                if (ex->complete(ex->reply, ex->len) || ex->len == max)
                    return LD_EXCHANGE_REPLIED;
                continue; /* TLS may hold more than the fd shows: read on */
            }
        }
        switch (r) {
        case LD_STREAM_WANT_READ:
            return ld_io_set(&ex->io, LD_READ, NULL) == LD_OK ? LD_EXCHANGE_WAITING
                                                              : LD_EXCHANGE_FAILED;
        case LD_STREAM_WANT_WRITE:
            return ld_io_set(&ex->io, LD_WRITE, NULL) == LD_OK ? LD_EXCHANGE_WAITING
                                                               : LD_EXCHANGE_FAILED;
        case LD_STREAM_EOF:
            return LD_EXCHANGE_CLOSED;
        default:
            return LD_EXCHANGE_FAILED;
        }
    }
}

void ld_exchange_close(ld_exchange *ex) {
    ld_io_stop(&ex->io);
    ld_stream_close(&ex->stream);
}
