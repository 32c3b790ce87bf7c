/* test_tcp_reset.c - the TCP probe when the peer resets a connection it
 * accepted before the probe saw it open (issue 13: redis.reset, mqtt.reset
 * and https.reset sometimes ended "error"). The race is made certain: the
 * connect is started, the listener accepts and resets it, and only then
 * does the loop run, so the probe's first look finds SO_ERROR ECONNRESET.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probes/tcp.h"
#include "unit.h"

static void stop_loop(ld_probe *p) {
    ld_loop_stop(p->loop);
}

static const char *str(const ld_bag *b, ld_fact_id id) {
    const ld_value *v = ld_bag_get(b, id);
    return v && v->type == LD_T_STR ? v->u.s : "(none)";
}

static void reset_right_after_the_handshake_is_open(void) {
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t slen = sizeof sin;
    CU_ASSERT_FATAL(lfd >= 0);
    CU_ASSERT_FATAL(bind(lfd, (struct sockaddr *)&sin, sizeof sin) == 0);
    CU_ASSERT_FATAL(listen(lfd, 4) == 0);
    CU_ASSERT_FATAL(getsockname(lfd, (struct sockaddr *)&sin, &slen) == 0);

    ld_err err = {{0}};
    ld_loop *loop = ld_loop_create(&err);
    ld_facts *facts = ld_facts_create();
    CU_ASSERT_FATAL(loop && facts);
    ld_ifaces none = {0};
    ld_tcp_config cfg = {.port = ntohs(sin.sin_port), .expected = 1, .ifaces = &none};
    CU_ASSERT_EQUAL_FATAL(ld_addr_parse("127.0.0.1", &cfg.addr, &err), LD_OK);
    ld_time now = ld_time_now();
    ld_probe p = {.ops = &ld_probe_tcp,
                  .config = &cfg,
                  .loop = loop,
                  .facts = facts,
                  .run_started = now,
                  .deadline_at = now + 2000 * LD_MS,
                  .done = stop_loop};
    CU_ASSERT_EQUAL_FATAL(ld_probe_start(&p, &err), LD_OK);

    /* The kernel completed the handshake; accept and reset before the loop runs. */
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    CU_ASSERT_FATAL(poll(&pfd, 1, 1000) == 1);
    int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    CU_ASSERT_FATAL(cfd >= 0);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(cfd);
    usleep(20 * 1000); /* the reset crosses loopback */

    if (!p.finished)
        CU_ASSERT_EQUAL(ld_loop_run(loop, &err), LD_OK);
    CU_ASSERT_TRUE(p.finished);
    CU_ASSERT_EQUAL(p.end, LD_END_RESULT);
    CU_ASSERT_EQUAL(ld_tcp_outcome(&p), LD_TCP_OPEN);
    const ld_bag *a = ld_tcp_evidence(&p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    /* What the socket said stays evidence: the peer reset an open connection. */
    CU_ASSERT_STRING_EQUAL(str(a, LD_F_TCP_A_ERRNO), "ECONNRESET");
    p.ops->clear(&p);
    ld_facts_free(facts);
    ld_loop_free(loop);
    close(lfd);
}

int main(void) {
    static const ld_test_case cases[] = {
        LD_TEST(reset_right_after_the_handshake_is_open),
        {0},
    };
    return ld_unit_run("tcp_reset", cases);
}
