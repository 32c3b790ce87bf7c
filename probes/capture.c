/* capture.c - live capture in the loop, watches, and capture evidence as
 * facts.
 *
 * The capture is a packet socket of our own (AF_PACKET, SOCK_DGRAM: the
 * network-layer packet and, in its address, the interface, the link type and
 * the direction), read with recvmsg() in the loop, with a kernel filter that
 * libpcap compiles. We do not use libpcap's live handle: it always sets up
 * a mapped ring, and setting up a ring makes the kernel wait for an RCU grace
 * period (packet_set_ring: synchronize_net) - 7 to 22 ms measured here, more
 * than a healthy check takes, on every run. A plain packet socket opens in
 * 0.03 ms. Handshakes are a few packets: a socket queue is plenty for them.
 *
 * Each packet is given to the decoder as Linux cooked v2 (a 20-byte header
 * made from the socket address), the link type libpcap gives "any" and that
 * capture files of linkdoctor's own runs have, so that live and offline go
 * through one decoder.
 *
 * The filter is libpcap's compilation of the expression for raw IP (a
 * SOCK_DGRAM socket's filter sees the packet from its network header), with
 * three instructions in front that accept ARP, which raw IP cannot name (the
 * neighbour evidence counts ARP requests; ND is ICMPv6). */
#include "capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/hostnet.h"

#define CAPTURE_SNAPLEN   256       /* IP(v6) + TCP headers, or an ICMP error's quote */
#define CAPTURE_BUFFER    (1 << 20) /* socket queue asked for (the kernel may give less) */
#define CAPTURE_MAX_PORTS 32        /* beyond this the filter keeps all TCP */
#define SLL2_HDR_LEN      20        /* Linux cooked v2 header */
#define CAPTURE_BATCH     256       /* packets read per round of a drain */

struct ld_capture {
    int fd;                     /* the packet socket, -1 once closed */
    char iface[64];             /* "any" or the interface */
    ld_hs_table *flows;         /* what the packets show */
    ld_loop *loop;              /* loop the fd is in */
    ld_io io;                   /* the selectable fd */
    ld_capture_watch **watches; /* active watches */
    size_t nwatches;            /* how many */
    size_t capwatches;          /* allocated */
    unsigned long untracked;    /* packets of new flows the table had no room for */
    unsigned long kernel_drops; /* packets the kernel dropped (PACKET_STATISTICS, summed) */
    ld_time max_rtt;            /* longest round trip noted, 0 while none */
    ld_defer check;             /* check_watches() after a drain outside capture_io_cb */
};

static const char *const mode_names[] = {"auto", "on", "off", "file"};

const char *ld_capture_mode_name(ld_capture_mode m) {
    return (unsigned)m < sizeof mode_names / sizeof mode_names[0] ? mode_names[m] : "off";
}

int ld_capture_mode_parse(const char *s) {
    for (int i = LD_CAPTURE_MODE_AUTO; s && i <= LD_CAPTURE_MODE_OFF; i++)
        if (strcmp(mode_names[i], s) == 0)
            return i;
    return -1;
}

/* The filter expression: TCP to or from the targets' ports, and ICMP (errors
 * and neighbour discovery are picked out by the decoder); ARP is let through
 * by the instructions compile_filter() puts in front. */
static void build_filter(const uint16_t *ports, size_t nports, char *buf, size_t len) {
    if (nports == 0 || nports > CAPTURE_MAX_PORTS) {
        snprintf(buf, len, "tcp or icmp or icmp6");
        return;
    }
    size_t n = (size_t)snprintf(buf, len, "(tcp and (");
    for (size_t i = 0; i < nports && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%sport %u", i ? " or " : "", ports[i]);
    if (n < len)
        snprintf(buf + n, len - n, ")) or icmp or icmp6");
}

/* The table's keep callback: a flow an active watch looks at stays. */
static int flow_watched(const ld_hs_flow *f, void *arg) {
    const ld_capture *cap = arg;
    for (size_t i = 0; i < cap->nwatches; i++) {
        const ld_capture_watch *w = cap->watches[i];
        if (ld_hs_flow_matches(f, &w->client, w->client_port, &w->server, w->server_port))
            return 1;
    }
    return 0;
}

/* Compiles expr for raw IP and puts "accept ARP" in front of it. The
 * program is the caller's to free. */
static ld_status compile_filter(const char *expr, struct sock_fprog *out, ld_err *err) {
    pcap_t *dead = pcap_open_dead(DLT_RAW, CAPTURE_SNAPLEN);
    struct bpf_program prog;
    if (!dead)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    if (pcap_compile(dead, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        ld_status st = ld_err_set(err, LD_ESYS, "filter '%s': %s", expr, pcap_geterr(dead));
        pcap_close(dead);
        return st;
    }
    pcap_close(dead);
    struct sock_filter *f = calloc(prog.bf_len + 3, sizeof *f);
    if (!f) {
        pcap_freecode(&prog);
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    }
    /* A = the packet's protocol (host order); ARP: accept it whole. */
    f[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL);
    f[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 0, 1);
    f[2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0x40000);
    memcpy(f + 3, prog.bf_insns, prog.bf_len * sizeof *f);
    out->len = (unsigned short)(prog.bf_len + 3);
    out->filter = f;
    pcap_freecode(&prog);
    return LD_OK;
}

ld_status ld_capture_open(ld_capture **out, const char *iface, const uint16_t *ports, size_t nports,
                          ld_capture_failure *why, ld_err *err) {
    char filter[CAPTURE_MAX_PORTS * 16 + 64];
    struct sock_fprog prog = {0};
    ld_status st = LD_OK;
    *out = NULL;
    *why = LD_CAPTURE_OTHER;
    ld_capture *cap = calloc(1, sizeof *cap);
    if (!cap)
        return ld_err_set(err, LD_ENOMEM, "out of memory");
    cap->fd = -1;
    cap->io.fd = -1;
    snprintf(cap->iface, sizeof cap->iface, "%s", iface ? iface : "any");
    if (!(cap->flows = ld_hs_create(0))) {
        st = ld_err_set(err, LD_ENOMEM, "out of memory");
        goto out;
    }
    ld_hs_set_keep(cap->flows, flow_watched, cap);
    unsigned ifindex = 0;
    if (iface && !(ifindex = if_nametoindex(iface))) {
        *why = LD_CAPTURE_NO_INTERFACE;
        st = ld_err_set(err, LD_EINVAL, "no interface named '%s'", iface);
        goto out;
    }
    build_filter(ports, nports, filter, sizeof filter);
    if ((st = compile_filter(filter, &prog, err)) != LD_OK)
        goto out;
    cap->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (cap->fd < 0) {
        if (errno == EPERM || errno == EACCES) {
            *why = LD_CAPTURE_NO_PERMISSION;
            st = ld_err_set(err, LD_ESYS,
                            "no permission to capture packets (run as root, or grant the binary "
                            "CAP_NET_RAW: setcap cap_net_raw+ep linkdoctor)");
        } else {
            st = ld_err_set(err, LD_ESYS, "packet socket: %s", strerror(errno));
        }
        goto out;
    }
    /* The filter is in place before any packet can arrive: bound to no
     * protocol, the socket receives nothing until bind() below. */
    int on = 1, size = CAPTURE_BUFFER;
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
    if (setsockopt(cap->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0 ||
        setsockopt(cap->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0 ||
        bind(cap->fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        st = ld_err_set(err, LD_ESYS, "packet socket on %s: %s", cap->iface, strerror(errno));
        goto out;
    }
    setsockopt(cap->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size); /* at most rmem_max */
out:
    free(prog.filter);
    if (st != LD_OK) {
        ld_capture_free(cap);
        return st;
    }
    *out = cap;
    return LD_OK;
}

/* Whether the server answered the attempt in any way. */
static int flow_answered(const ld_hs_flow *f) {
    return f->synack_seen || f->rst_from_server || f->icmp_seen;
}

/* Ends the watch: the owner learns that no answer will reach the socket. */
static void fire(ld_capture_watch *w) {
    ld_timer_stop(&w->grace);
    w->fired = 1;
    w->unanswered(w);
}

/* LD_CAPTURE_GRACE after the attempt began: a SYN that left is in the
 * capture by now. One that is not was stopped inside this host - unless it
 * waits for the next hop's ARP / ND answer, which the kernel's neighbour
 * entry tells: then look again once the next request went unanswered too. */
static void first_look_cb(ld_timer *t) {
    ld_capture_watch *w = t->data;
    ld_capture_drain(w->cap);
    const ld_hs_flow *f = ld_capture_watch_flow(w);
    if (!w->active || w->fired || (f && (f->nsyn > 0 || flow_answered(f))))
        return; /* it left (the retransmission check takes over) or got an answer */
    if (!w->absence_proves || ld_capture_watch_lost(w) > 0)
        return; /* blind: the socket's own end decides */
    if (!w->neigh_retry) {
        ld_neigh nb;
        ld_err err;
        ld_neigh_query(&w->server, &nb, &err);
        if (ld_neigh_unresolved(nb.state)) {
            w->neigh_retry = 1;
            ld_timer_start(w->cap->loop, &w->grace, ld_time_now() + LD_CAPTURE_NEIGH_RETRY,
                           first_look_cb, w);
            return;
        }
    }
    fire(w);
}

static void grace_cb(ld_timer *t) {
    ld_capture_watch *w = t->data;
    ld_capture_drain(w->cap); /* an answer may be waiting in the ring */
    const ld_hs_flow *f = ld_capture_watch_flow(w);
    if (!w->active || w->fired || !f || flow_answered(f))
        return;
    fire(w);
}

void ld_capture_note_rtt(ld_capture *cap, ld_time rtt) {
    if (cap && rtt > cap->max_rtt)
        cap->max_rtt = rtt;
}

ld_time ld_capture_grace_for(ld_time max_rtt) {
    if (max_rtt <= 0)
        return LD_CAPTURE_GRACE_UNMEASURED;
    ld_time g = max_rtt * LD_CAPTURE_RTT_FACTOR;
    return g < LD_CAPTURE_GRACE_MIN ? LD_CAPTURE_GRACE_MIN
           : g > LD_CAPTURE_GRACE   ? LD_CAPTURE_GRACE
                                    : g;
}

/* Notes the round trip of a watched attempt's answer once: from the latest
 * SYN before the SYN-ACK or reset to it. */
static void note_flow_rtt(ld_capture *cap, ld_capture_watch *w, const ld_hs_flow *f) {
    if (w->rtt_noted || !(f->synack_seen || f->rst_from_server))
        return;
    w->rtt_noted = 1;
    double answer = f->synack_seen ? f->synack_ts : f->rst_server_ts;
    double sent = -1;
    unsigned n = f->nsyn < LD_HS_MAX_SYNS ? f->nsyn : LD_HS_MAX_SYNS;
    for (unsigned i = 0; i < n; i++)
        if (f->syn_ts[i] <= answer && f->syn_ts[i] > sent)
            sent = f->syn_ts[i];
    if (sent >= 0)
        ld_capture_note_rtt(cap, (ld_time)((answer - sent) * 1e9));
}

/* After new packets: ends at once every watch whose answer came and was
 * ignored (the SYN went out again after it), and arms the grace timer of
 * every watch whose SYN was retransmitted without an answer. */
static void check_watches(ld_capture *cap) {
    for (size_t i = 0; i < cap->nwatches; i++) {
        ld_capture_watch *w = cap->watches[i];
        if (w->fired)
            continue;
        const ld_hs_flow *f = ld_capture_watch_flow(w);
        if (f)
            note_flow_rtt(cap, w, f);
        if (f && ld_hs_reply_lost(f))
            fire(w); /* the owner's done call is deferred: the list stays as it is */
        else if (!w->grace.active && f && f->nsyn >= 2 && !flow_answered(f))
            ld_timer_start(cap->loop, &w->grace, ld_time_now() + ld_capture_grace_for(cap->max_rtt),
                           grace_cb, w);
    }
}

/* Reads one packet into buf after a Linux cooked v2 header made from its
 * socket address; its length with the header, 0 when there is none now. */
static size_t read_packet(ld_capture *cap, unsigned char *buf, size_t len, double *ts) {
    struct sockaddr_ll from;
    union {
        char buf[CMSG_SPACE(sizeof(struct timespec))]; /* the arrival time */
        struct cmsghdr align;                          /* aligned as a header */
    } control;
    struct iovec iov = {.iov_base = buf + SLL2_HDR_LEN, .iov_len = len - SLL2_HDR_LEN};
    struct msghdr msg = {.msg_name = &from,
                         .msg_namelen = sizeof from,
                         .msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    ssize_t n = recvmsg(cap->fd, &msg, MSG_DONTWAIT);
    if (n < 0)
        return 0;
    size_t got = (size_t)n < iov.iov_len ? (size_t)n : iov.iov_len; /* a longer one is cut */
    struct timespec when = {0};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
        memcpy(&when, CMSG_DATA(c), sizeof when);
    else
        clock_gettime(CLOCK_REALTIME, &when);
    *ts = (double)when.tv_sec + (double)when.tv_nsec / 1e9;
    /* Linux cooked v2: protocol, reserved, interface index, ARPHRD type,
     * packet type, address length, address (8 bytes), all network order. */
    memset(buf, 0, SLL2_HDR_LEN);
    memcpy(buf, &from.sll_protocol, 2);
    uint32_t ifindex = htonl((uint32_t)from.sll_ifindex);
    memcpy(buf + 4, &ifindex, 4);
    uint16_t hatype = htons(from.sll_hatype);
    memcpy(buf + 8, &hatype, 2);
    buf[10] = from.sll_pkttype;
    buf[11] = from.sll_halen < 8 ? from.sll_halen : 8;
    memcpy(buf + 12, from.sll_addr, buf[11]);
    return SLL2_HDR_LEN + got;
}

static void check_cb(ld_defer *d) {
    check_watches(d->data);
}

void ld_capture_drain(ld_capture *cap) {
    if (!cap || cap->fd < 0)
        return;
    unsigned char buf[SLL2_HDR_LEN + CAPTURE_SNAPLEN];
    int i;
    /* Bounded: a flood of packets cannot keep the loop here forever. */
    for (i = 0; i < 64 * CAPTURE_BATCH; i++) {
        double ts;
        size_t n = read_packet(cap, buf, sizeof buf, &ts);
        if (n == 0)
            break;
        if (ld_hs_packet(cap->flows, DLT_LINUX_SLL2, buf, n, ts) == LD_HS_FULL)
            cap->untracked++;
    }
    /* The packets read here will not wake capture_io_cb: a retransmission
     * among them must still arm its watch's grace, once the caller is done. */
    if (i > 0 && cap->loop)
        ld_defer_start(cap->loop, &cap->check, check_cb, cap);
}

static void capture_io_cb(ld_io *io, unsigned events) {
    ld_capture *cap = io->data;
    (void)events;
    ld_capture_drain(cap);
    ld_defer_stop(&cap->check);
    check_watches(cap);
}

ld_status ld_capture_attach(ld_capture *cap, ld_loop *loop, ld_err *err) {
    cap->loop = loop;
    return ld_io_start(loop, &cap->io, cap->fd, LD_READ, capture_io_cb, cap, err);
}

/* Closes the capture without waiting for the kernel's clean-up of it, and
 * without leaving anything behind.
 *
 * Releasing a packet socket waits for an RCU grace period (packet_release:
 * synchronize_net): 8-20 ms measured on our machines, as long as the rest of
 * a healthy check, and spent after the answer is known. A child or thread of ours that took the
 * last reference would make us wait for it at exit, or - outliving us - be left to whoever adopts
 * orphans: a zombie under a PR_SET_CHILD_SUBREAPER parent that never reaps (container inits, some
 * monitoring agents).
 *
 * So the last reference goes to the kernel: the socket is sent (SCM_RIGHTS)
 * into a unix socket pair together with the receiving socket itself, a cycle
 * only the unix garbage collector frees; releasing the sending socket
 * schedules it. Since Linux 6.9 the collector runs in a kernel worker, and a
 * file it drops is released by another (delayed fput): the grace periods are
 * waited for there (measured on 6.18: the close takes 0.15 ms instead of
 * 20-60 ms, and the socket is gone ~50 ms later). Older kernels collect in
 * the task that closes: there the close costs what a plain close does. When
 * the hand-off fails, we close here and wait. */
static void close_elsewhere(int fd) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) < 0) {
        close(fd);
        return;
    }
    int fds[2] = {fd, pair[1]};
    union {
        char buf[CMSG_SPACE(sizeof fds)]; /* room for two descriptors */
        struct cmsghdr align;             /* aligned as a header */
    } control;
    memset(&control, 0, sizeof control);
    char byte = 0;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    sendmsg(pair[0], &msg, 0); /* when it fails, close(fd) below is the last reference */
    close(pair[1]);            /* now held only by the message in its own queue */
    close(fd);                 /* our descriptor */
    close(pair[0]);            /* the collector is scheduled, and frees the cycle */
}

void ld_capture_detach(ld_capture *cap) {
    for (size_t i = 0; i < cap->nwatches; i++) {
        ld_timer_stop(&cap->watches[i]->grace);
        cap->watches[i]->active = 0;
    }
    cap->nwatches = 0;
    ld_io_stop(&cap->io);
    ld_defer_stop(&cap->check);
    cap->loop = NULL;
}

void ld_capture_free(ld_capture *cap) {
    if (!cap)
        return;
    ld_capture_detach(cap);
    if (cap->fd >= 0)
        close_elsewhere(cap->fd);
    ld_hs_free(cap->flows);
    free(cap->watches);
    free(cap);
}

const char *ld_capture_interface(const ld_capture *cap) {
    return cap->iface;
}

int ld_capture_covers(const ld_capture *cap, const char *ifname) {
    return strcmp(cap->iface, "any") == 0 || (ifname && strcmp(cap->iface, ifname) == 0);
}

unsigned long ld_capture_lost(ld_capture *cap) {
    /* The kernel's counters start again at every read: they are summed. */
    struct tpacket_stats ps;
    socklen_t len = sizeof ps;
    if (cap->fd >= 0 && getsockopt(cap->fd, SOL_PACKET, PACKET_STATISTICS, &ps, &len) == 0)
        cap->kernel_drops += ps.tp_drops;
    return cap->untracked + cap->kernel_drops;
}

unsigned long ld_capture_watch_lost(ld_capture_watch *w) {
    if (!w->cap || !w->active)
        return 0; /* never watched: the attempt ended before anything could be missed */
    unsigned long now = ld_capture_lost(w->cap);
    return now > w->lost_before ? now - w->lost_before : 0;
}

ld_status ld_capture_watch_start(ld_capture *cap, ld_capture_watch *w) {
    if (cap->nwatches == cap->capwatches) {
        size_t n = cap->capwatches ? cap->capwatches * 2 : 16;
        ld_capture_watch **ws = realloc(cap->watches, n * sizeof *ws);
        if (!ws)
            return LD_ENOMEM;
        cap->watches = ws;
        cap->capwatches = n;
    }
    w->cap = cap;
    w->active = 1;
    w->fired = 0;
    w->neigh_retry = 0;
    w->rtt_noted = 0;
    w->lost_before = ld_capture_lost(cap);
    w->evicted_before = ld_hs_evicted(cap->flows);
    w->idx = cap->nwatches;
    cap->watches[cap->nwatches++] = w;
    /* The grace timer first serves the first look (and the neighbour's second
     * one), then (re-armed by check_watches) the retransmission check. */
    ld_timer_start(cap->loop, &w->grace, ld_time_now() + LD_CAPTURE_GRACE, first_look_cb, w);
    return LD_OK;
}

void ld_capture_watch_stop(ld_capture_watch *w) {
    if (!w->active)
        return;
    ld_capture *cap = w->cap;
    ld_timer_stop(&w->grace);
    const ld_hs_flow *f = ld_capture_watch_flow(w);
    if (f)
        note_flow_rtt(cap, w, f); /* answered before the capture's fd was read */
    cap->watches[w->idx] = cap->watches[--cap->nwatches];
    cap->watches[w->idx]->idx = w->idx;
    w->active = 0;
}

const ld_hs_flow *ld_capture_watch_flow(const ld_capture_watch *w) {
    if (!w->cap)
        return NULL;
    return ld_hs_find(w->cap->flows, &w->client, w->client_port, &w->server, w->server_port);
}

/* --- capture evidence as facts -------------------------------------------------------- */

void ld_capture_record_flow(ld_bag *a, const ld_hs_flow *f) {
    if (!f) {
        ld_bag_set_str(a, LD_F_TCP_A_CONN_STATE, "none");
        ld_bag_set_bool(a, LD_F_TCP_A_SYN_SEEN, 0);
        return;
    }
    ld_bag_set_str(a, LD_F_TCP_A_CONN_STATE, ld_hs_conn_state(f));
    ld_bag_set_bool(a, LD_F_TCP_A_SYN_SEEN, f->nsyn > 0);
    ld_bag_set_empty_list(a, LD_F_TCP_A_SYN_TIMES_MS);
    unsigned kept = f->nsyn < LD_HS_MAX_SYNS ? f->nsyn : LD_HS_MAX_SYNS;
    for (unsigned i = 0; i < kept; i++) {
        char ms[32];
        snprintf(ms, sizeof ms, "%.1f", (f->syn_ts[i] - f->syn_ts[0]) * 1000.0);
        ld_bag_list_add(a, LD_F_TCP_A_SYN_TIMES_MS, ms);
    }
    double t0 = f->nsyn ? f->syn_ts[0] : f->first_ts;
    if (f->syn_ifindex > 0 && f->reply_ifindex > 0)
        ld_bag_set_bool(a, LD_F_TCP_A_REPLY_OTHER_INTERFACE, f->syn_ifindex != f->reply_ifindex);
    if (f->synack_seen)
        ld_bag_set_num(a, LD_F_TCP_A_SYNACK_RTT_MS, (f->synack_ts - t0) * 1000.0);
    if (f->rst_from_server)
        ld_bag_set_num(a, LD_F_TCP_A_RST_MS, (f->rst_server_ts - t0) * 1000.0);
    if (f->icmp_seen) {
        char from[LD_ADDR_STRLEN];
        ld_addr_format(&f->icmp_from, from);
        ld_bag_set_num(a, LD_F_TCP_A_ICMP_MS, (f->icmp_ts - t0) * 1000.0);
        /* The socket's error queue may have recorded the same ICMP already. */
        if (!ld_bag_get(a, LD_F_TCP_A_ICMP_REASON)) {
            ld_bag_set_int(a, LD_F_TCP_A_ICMP_TYPE, f->icmp_type);
            ld_bag_set_int(a, LD_F_TCP_A_ICMP_CODE, f->icmp_code);
            ld_bag_set_str(a, LD_F_TCP_A_ICMP_REASON, ld_hs_icmp_reason(f));
            ld_bag_set_str(a, LD_F_TCP_A_ICMP_FROM, from);
        }
    }
}

void ld_capture_record_watch(ld_bag *a, ld_capture_watch *w) {
    if (!w->cap || !w->active)
        return;
    unsigned long evicted = ld_hs_evicted(w->cap->flows);
    ld_bag_set_int(a, LD_F_TCP_A_CAPTURE_LOST, (int64_t)ld_capture_watch_lost(w));
    ld_bag_set_int(a, LD_F_TCP_A_CAPTURE_EVICTED,
                   (int64_t)(evicted > w->evicted_before ? evicted - w->evicted_before : 0));
}

void ld_capture_record_reply(ld_bag *a, ld_bag *target, const ld_hs_flow *f, const char *proc) {
    char syn_if[IF_NAMESIZE], reply_if[IF_NAMESIZE];
    if (f && f->syn_ifindex > 0 && if_indextoname((unsigned)f->syn_ifindex, syn_if))
        ld_bag_set_str(a, LD_F_TCP_A_SYN_INTERFACE, syn_if);
    if (f && f->reply_ifindex > 0 && if_indextoname((unsigned)f->reply_ifindex, reply_if)) {
        ld_bag_set_str(a, LD_F_TCP_A_REPLY_INTERFACE, reply_if);
        int rp = ld_hostnet_rp_filter(proc, reply_if);
        if (rp >= 0)
            ld_bag_set_int(a, LD_F_TCP_A_RP_FILTER, rp);
    }
    int64_t count, max;
    ld_err err;
    if (ld_hostnet_conntrack(proc, &count, &max, &err) == LD_OK) {
        ld_bag_set_int(target, LD_F_TCP_CONNTRACK_COUNT, count);
        ld_bag_set_int(target, LD_F_TCP_CONNTRACK_MAX, max);
    }
}

void ld_capture_record_neighbour(ld_capture *cap, ld_bag *a, const ld_neigh *nb) {
    ld_bag_set_str(a, LD_F_TCP_A_NEIGHBOUR_STATE, ld_neigh_state_name(nb->state));
    if (nb->next_hop.family == 0)
        return;
    char hop[LD_ADDR_STRLEN];
    ld_addr_format(&nb->next_hop, hop);
    ld_bag_set_str(a, LD_F_TCP_A_NEXT_HOP, hop);
    ld_bag_set_bool(a, LD_F_TCP_A_NEXT_HOP_GATEWAY, nb->via_gateway);
    if (nb->have_confirmed)
        ld_bag_set_num(a, LD_F_TCP_A_NEIGHBOUR_CONFIRMED_MS, nb->confirmed_ms);
    if (cap) {
        /* No drain: the caller's flow pointer must survive (see ld_hs_set_keep). */
        const ld_hs_neigh *n = ld_hs_find_neigh(cap->flows, &nb->next_hop);
        ld_bag_set_int(a, LD_F_TCP_A_NEIGHBOUR_REQUESTS, n ? n->requests : 0);
    }
}

/* 1 when the capture shows an answer the socket never took: the SYN went out
 * again after it, or it arrived a grace before the socket gave up waiting
 * (a socket takes an answer microseconds after the capture sees it). */
static int answer_ignored(const ld_hs_flow *f, double waited_ms) {
    if (!f || (!f->synack_seen && !f->rst_from_server) || f->ack_seen)
        return 0;
    if (ld_hs_reply_lost(f))
        return 1;
    if (f->nsyn == 0 || waited_ms < 0)
        return 0;
    double answered = f->synack_seen ? f->synack_ts : f->rst_server_ts;
    if (f->rst_from_server && f->rst_server_ts < answered)
        answered = f->rst_server_ts;
    double grace_ms = (double)LD_CAPTURE_GRACE / (double)LD_MS;
    return (answered - f->syn_ts[0]) * 1000.0 + grace_ms <= waited_ms;
}

ld_tcp_state ld_capture_judge(ld_tcp_state seen, const ld_hs_flow *f,
                              const ld_capture_judge_args *args) {
    int syn_unseen = !f || f->nsyn == 0;
    /* The server answered, the socket never heard: discarded inside this host. */
    if (seen == LD_TCP_TIMEOUT && answer_ignored(f, args->waited_ms))
        return LD_TCP_REPLY_DROPPED;
    /* Waiting for a neighbour that never answered: the SYN could not leave;
     * or it left for a stale MAC address and the kernel's probes of it have
     * failed since (STALE -> DELAY -> PROBE -> FAILED): it reached no one. */
    if (seen == LD_TCP_TIMEOUT && args->neighbour_unresolved)
        return LD_TCP_NO_ROUTE;
    /* No answer, or a reset, for a SYN that never reached the wire: this
     * host's own firewall dropped it (or answered for the endpoint). */
    if (!args->blind && syn_unseen && (seen == LD_TCP_TIMEOUT || seen == LD_TCP_REFUSED))
        return LD_TCP_LOCAL_BLOCK;
    return seen;
}

ld_tcp_state ld_capture_flow_state(const ld_hs_flow *f, double t_end) {
    /* An answer the client ignored - unless the capture shows it was not
     * taken on the client (then the answer was lost beyond it). */
    if (ld_hs_reply_lost(f) && f->syn_dir >= 0)
        return LD_TCP_REPLY_DROPPED;
    if (f->synack_seen)
        return LD_TCP_OPEN;
    if (f->rst_from_server)
        return LD_TCP_REFUSED;
    if (f->icmp_seen)
        return f->nsyn == 0 || ld_addr_equal(&f->icmp_from, &f->client) ? LD_TCP_LOCAL_BLOCK
                                                                        : LD_TCP_ICMP;
    /* One SYN and no more capture after it than an answer needs: undecided. */
    if (f->nsyn < 2 && t_end - f->last_syn_ts < LD_CAPTURE_QUIET_S)
        return LD_TCP_UNDECIDED;
    return LD_TCP_TIMEOUT;
}

ld_status ld_capture_attempt_from_flow(ld_facts *facts, const ld_hs_flow *f, double t0,
                                       double t_end) {
    char addr[LD_ADDR_STRLEN], src[LD_ADDR_STRLEN];
    ld_addr_format(&f->server, addr);
    ld_addr_format(&f->client, src);
    ld_bag *a = ld_facts_subject(facts, "tcp", addr);
    if (!a)
        return LD_ENOMEM;
    ld_tcp_state state = ld_capture_flow_state(f, t_end);
    double first = f->nsyn ? f->syn_ts[0] : f->first_ts;
    /* When the packets decided it: the answer, the SYN sent again after an
     * answer, or the end of what was captured. */
    double decided = state == LD_TCP_REPLY_DROPPED ? f->last_syn_ts
                     : state == LD_TCP_UNDECIDED   ? t_end
                     : f->synack_seen              ? f->synack_ts
                     : f->rst_from_server          ? f->rst_server_ts
                     : f->icmp_seen                ? f->icmp_ts
                                                   : f->last_ts;
    ld_bag_set_str(a, LD_F_TCP_A_ADDRESS, addr);
    ld_bag_set_int(a, LD_F_TCP_A_PORT, f->server_port);
    ld_bag_set_empty_list(a, LD_F_TCP_A_ORIGIN);
    ld_bag_list_add(a, LD_F_TCP_A_ORIGIN, ld_origin_name(LD_ORIGIN_CAPTURE));
    ld_bag_set_bool(a, LD_F_TCP_A_EXPECTED, 1);
    ld_bag_set_str(a, LD_F_TCP_A_STATE, ld_tcp_state_name(state));
    ld_bag_set_num(a, LD_F_TCP_A_STARTED_MS, (first - t0) * 1000.0);
    ld_bag_set_num(a, LD_F_TCP_A_ELAPSED_MS, (decided - first) * 1000.0);
    if (state == LD_TCP_TIMEOUT || state == LD_TCP_REPLY_DROPPED || state == LD_TCP_UNDECIDED)
        ld_bag_set_int(a, LD_F_TCP_A_SYNS_SENT, f->nsyn);
    ld_bag_set_str(a, LD_F_TCP_A_SOURCE_IP, src);
    ld_bag_set_int(a, LD_F_TCP_A_SOURCE_PORT, f->client_port);
    ld_bag_set_str(a, LD_F_TCP_A_ENDED_BY, ld_probe_end_name(LD_END_CAPTURE));
    ld_capture_record_flow(a, f);
    return LD_OK;
}

ld_status ld_capture_summarize(ld_facts *facts) {
    const ld_value *avail = ld_facts_get(facts, LD_F_CAPTURE_AVAILABLE);
    if (!avail || !avail->u.b)
        return LD_OK;
    int64_t attempts = 0, unanswered = 0, not_seen = 0, rejected = 0, established = 0, retrans = 0;
    int64_t lost = 0, evicted = 0;
    int watched = 0; /* some attempt was watched live: its losses are known */
    for (size_t i = 0; i < ld_facts_subject_count(facts); i++) {
        const ld_bag *a = ld_facts_subject_at(facts, i);
        const ld_value *expected = ld_bag_get(a, LD_F_TCP_A_EXPECTED);
        const ld_value *cs = ld_bag_get(a, LD_F_TCP_A_CONN_STATE);
        if (strcmp(ld_bag_kind(a), "tcp") != 0 || !expected || !expected->u.b || !cs)
            continue;
        const ld_value *seen = ld_bag_get(a, LD_F_TCP_A_SYN_SEEN);
        const ld_value *times = ld_bag_get(a, LD_F_TCP_A_SYN_TIMES_MS);
        const ld_value *state = ld_bag_get(a, LD_F_TCP_A_STATE);
        int syn_seen = seen && seen->u.b;
        int synack = ld_bag_get(a, LD_F_TCP_A_SYNACK_RTT_MS) != NULL;
        int rst = ld_bag_get(a, LD_F_TCP_A_RST_MS) != NULL;
        int icmp = ld_bag_get(a, LD_F_TCP_A_ICMP_MS) != NULL;
        int open = state && ld_tcp_state_parse(state->u.s) == LD_TCP_OPEN;
        attempts += strcmp(cs->u.s, "none") != 0; /* the capture has packets of it */
        if (!syn_seen && !open)
            not_seen++;
        else if (syn_seen && !synack && !rst && !icmp && times && times->u.list.len >= 2)
            unanswered++; /* proof needs the retransmission: a full RTO without an answer */
        if (syn_seen && ((rst && !synack) || icmp))
            rejected++; /* answered on the wire; a local reject counts as not seen */
        if (synack)
            established++;
        if (times && (int64_t)times->u.list.len - 1 > retrans)
            retrans = (int64_t)times->u.list.len - 1;
        const ld_value *v;
        if ((v = ld_bag_get(a, LD_F_TCP_A_CAPTURE_LOST))) {
            watched = 1;
            if (v->u.i > lost)
                lost = v->u.i;
        }
        if ((v = ld_bag_get(a, LD_F_TCP_A_CAPTURE_EVICTED)) && v->u.i > evicted)
            evicted = v->u.i;
    }
    ld_bag *t = ld_facts_target(facts);
    ld_bag_set_int(t, LD_F_CAPTURE_ATTEMPTS, attempts);
    ld_bag_set_int(t, LD_F_CAPTURE_SYN_UNANSWERED, unanswered);
    ld_bag_set_int(t, LD_F_CAPTURE_SYN_NOT_SEEN, not_seen);
    ld_bag_set_int(t, LD_F_CAPTURE_REJECTED, rejected);
    ld_bag_set_int(t, LD_F_CAPTURE_ESTABLISHED, established);
    ld_bag_set_int(t, LD_F_CAPTURE_SYN_RETRANSMITS, retrans);
    if (watched) { /* a file says nothing of what its capture lost */
        ld_bag_set_bool(t, LD_F_CAPTURE_LOSSY, lost > 0);
        ld_bag_set_int(t, LD_F_CAPTURE_DROPS, lost);
        ld_bag_set_int(t, LD_F_CAPTURE_EVICTED, evicted);
    }
    return LD_OK;
}
