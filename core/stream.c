/* stream.c - plain or TLS reads and writes on a non-blocking socket. */
#include "stream.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

/* Maps an SSL_read/SSL_write failure to what to wait for. */
static ld_stream_result ssl_result(SSL *ssl, int rc) {
    switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        return LD_STREAM_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return LD_STREAM_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return LD_STREAM_EOF;
    default:
        return LD_STREAM_ERROR;
    }
}

ld_stream_result ld_stream_read(ld_stream *s, void *buf, size_t len, size_t *n) {
    *n = 0;
    if (s->fd < 0)
        return LD_STREAM_ERROR;
    if (s->ssl) {
        size_t got = 0;
        int rc = SSL_read_ex(s->ssl, buf, len, &got);
        if (rc == 1) {
            *n = got;
            return LD_STREAM_DONE;
        }
        return ssl_result(s->ssl, rc);
    }
    ssize_t r = read(s->fd, buf, len);
    if (r > 0) {
        *n = (size_t)r;
        return LD_STREAM_DONE;
    }
    if (r == 0)
        return LD_STREAM_EOF;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? LD_STREAM_WANT_READ
                                                                     : LD_STREAM_ERROR;
}

ld_stream_result ld_stream_write(ld_stream *s, const void *buf, size_t len, size_t *n) {
    *n = 0;
    if (s->fd < 0)
        return LD_STREAM_ERROR;
    if (s->ssl) {
        size_t put = 0;
        int rc = SSL_write_ex(s->ssl, buf, len, &put);
        if (rc == 1) {
            *n = put;
            return LD_STREAM_DONE;
        }
        return ssl_result(s->ssl, rc);
    }
    /* A peer that went away must be an error, not SIGPIPE. */
    ssize_t w = send(s->fd, buf, len, MSG_NOSIGNAL);
    if (w > 0) {
        *n = (size_t)w;
        return LD_STREAM_DONE;
    }
    return w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
               ? LD_STREAM_WANT_WRITE
               : LD_STREAM_ERROR;
}

void ld_stream_close(ld_stream *s) {
    if (s->ssl) {
        SSL_shutdown(s->ssl); /* one non-blocking attempt at close_notify */
        SSL_free(s->ssl);
        s->ssl = NULL;
    }
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}
