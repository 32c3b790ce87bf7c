/* test_httpd.c - libmicrohttpd in our loop: answers at once and answers
 * later (a suspended connection resumed from a timer), query arguments in
 * order with repeats, and a request line too large refused by the library. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/httpd.h"
#include "unit.h"

/* The server side of a test. */
typedef struct fixture {
    ld_loop *loop;          /* the loop */
    ld_httpd *h;            /* the server */
    ld_timer later;         /* answers a kept request */
    ld_httpd_request *kept; /* the request answered later */
    char args[512];         /* "name=value&..." as the handler saw them */
} fixture;

static int collect(void *arg, const char *name, const char *value) {
    fixture *fx = arg;
    size_t n = strlen(fx->args);
    snprintf(fx->args + n, sizeof fx->args - n, "%s%s=%s", n ? "&" : "", name,
             value ? value : "(null)");
    return 0;
}

static void answer_later(ld_timer *t) {
    fixture *fx = t->data;
    ld_httpd_respond(fx->kept, 200, NULL, "later\n", 6);
    fx->kept = NULL;
}

static void handler(void *arg, ld_httpd_request *req) {
    fixture *fx = arg;
    if (strcmp(ld_httpd_path(req), "/later") == 0) {
        fx->kept = req;
        ld_timer_start(fx->loop, &fx->later, ld_time_now() + 50 * LD_MS, answer_later, fx);
        return;
    }
    ld_httpd_args(req, collect, fx);
    char body[600];
    int n = snprintf(body, sizeof body, "%s %s %s\n", ld_httpd_method(req), ld_httpd_path(req),
                     fx->args);
    ld_httpd_respond(req, strcmp(ld_httpd_path(req), "/") == 0 ? 200 : 404, NULL, body, (size_t)n);
}

/* A client request in a thread: sends `request`, reads the whole answer. */
typedef struct client {
    unsigned port;       /* the server's */
    const char *request; /* raw HTTP */
    char answer[4096];   /* what came back */
    pthread_t thread;    /* the client */
} client;

static void *client_main(void *arg) {
    client *c = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        size_t left = strlen(c->request);
        const char *p = c->request;
        while (left > 0) {
            ssize_t n = write(fd, p, left);
            if (n <= 0)
                break;
            p += n;
            left -= (size_t)n;
        }
        size_t got = 0;
        ssize_t n;
        while (got < sizeof c->answer - 1 &&
               (n = read(fd, c->answer + got, sizeof c->answer - 1 - got)) > 0)
            got += (size_t)n;
        c->answer[got] = '\0';
    }
    close(fd);
    return NULL;
}

static void stop_when_done(ld_timer *t) {
    ld_loop_stop(t->data);
}

/* Serves one client request and returns what it got back. */
static const char *exchange(const char *request) {
    static fixture fx;
    static client c;
    memset(&fx, 0, sizeof fx);
    memset(&c, 0, sizeof c);
    ld_err err;
    fx.loop = ld_loop_create(&err);
    fx.later.heap_idx = SIZE_MAX;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ld_httpd_limits lim = {.max_connections = 8, .idle_seconds = 5, .memory_per_connection = 8192};
    fx.h = ld_httpd_create(fx.loop, (struct sockaddr *)&sa, sizeof sa, &lim, handler, &fx, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fx.h);
    c.port = ld_httpd_port(fx.h);
    c.request = request;
    CU_ASSERT_TRUE_FATAL(c.port > 0);
    pthread_create(&c.thread, NULL, client_main, &c);
    ld_timer stop = {.heap_idx = SIZE_MAX};
    ld_timer_start(fx.loop, &stop, ld_time_now() + 400 * LD_MS, stop_when_done, fx.loop);
    ld_loop_run(fx.loop, &err);
    pthread_join(c.thread, NULL);
    CU_ASSERT_EQUAL(ld_httpd_pending(fx.h), 0);
    ld_httpd_free(fx.h);
    ld_loop_free(fx.loop);
    return c.answer;
}

static void answers_at_once_with_the_arguments_in_order(void) {
    const char *a = exchange("GET /?target=a%3A1&endpoint_ip=1&endpoint_ip=2&flag HTTP/1.1\r\n"
                             "Host: x\r\nConnection: close\r\n\r\n");
    CU_ASSERT_TRUE(strncmp(a, "HTTP/1.1 200", 12) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "GET / target=a:1&endpoint_ip=1&endpoint_ip=2&flag=(null)\n"));
}

static void answers_later_from_the_loop(void) {
    const char *a = exchange("GET /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CU_ASSERT_TRUE(strncmp(a, "HTTP/1.1 200", 12) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "\r\n\r\nlater\n"));
}

static void status_and_content_type_are_the_handler_s(void) {
    const char *a = exchange("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CU_ASSERT_TRUE(strncmp(a, "HTTP/1.1 404", 12) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(a, "Content-Type: text/plain; charset=utf-8\r\n"));
}

static void request_line_past_the_memory_limit_is_refused(void) {
    static char req[20000];
    strcpy(req, "GET /?target=");
    memset(req + strlen(req), 'a', 16000);
    strcat(req, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const char *a = exchange(req);
    CU_ASSERT_TRUE(strncmp(a, "HTTP/1.1 414", 12) == 0);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(answers_at_once_with_the_arguments_in_order),
        LD_TEST(answers_later_from_the_loop),
        LD_TEST(status_and_content_type_are_the_handler_s),
        LD_TEST(request_line_past_the_memory_limit_is_refused),
        {0},
    };
    return ld_unit_run("httpd", cases);
}
