/* capture.h - live packet capture of linkdoctor's own connection attempts.
 *
 * One libpcap handle per run, on the "any" device (every interface a route may
 * pick, loopback included) or on --interface, in immediate and non-blocking
 * mode with its selectable fd in the loop. A BPF filter keeps TCP on the
 * targets' ports, ICMP errors and ARP; the handshake tracker (handshake.h)
 * keeps per-flow state; watches tie flows to the TCP probes that made them.
 * When the tracker's table is full (a SYN flood on the port) it evicts flows
 * no watch needs, so linkdoctor's own attempts are always tracked; packets the
 * kernel or the table still lose make the capture blind to the attempts
 * watched meanwhile. Only ld_capture_open() needs privilege (root or
 * CAP_NET_RAW).
 */
#ifndef LD_PROBE_CAPTURE_H
#define LD_PROBE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/attempt.h"
#include "core/facts.h"
#include "core/loop.h"
#include "core/neigh.h"
#include "probes/handshake.h"
#include "probes/probe.h"

/* How long after a SYN retransmission an answer may still come before the
 * attempt counts as unanswered, and how an answer the socket never took is
 * told from one that came as it gave up.
 *
 * The retransmission itself comes a full initial RTO (1 s on Linux) after
 * the SYN; what is left to wait for is an answer to it, one round trip
 * later. So the grace is sized by the round trips this capture measured
 * (the SYN-ACKs and resets of other attempts, the resolvers' answers):
 * LD_CAPTURE_RTT_FACTOR of the longest, never below LD_CAPTURE_GRACE_MIN and
 * never above LD_CAPTURE_GRACE. Inside a region a round trip takes well
 * under 2 ms, across zones of one region a few ms; 30 ms is ten times a
 * slow cross-zone path, and 8 round trips absorb a server's SYN queue
 * backlog and a scheduler's delay on this host. With no round trip
 * measured (one address, named by IP) the grace is LD_CAPTURE_GRACE_UNMEASURED:
 * a path whose round trip is longer than that is not a private link inside
 * one region. */
#define LD_CAPTURE_GRACE            (200 * LD_MS)
#define LD_CAPTURE_GRACE_MIN        (30 * LD_MS)
#define LD_CAPTURE_GRACE_UNMEASURED (100 * LD_MS)
#define LD_CAPTURE_RTT_FACTOR       8
/* ARP and neighbour discovery send their second request 1 s after the first
 * (retrans_time). A SYN not on the wire at the first look while the next hop
 * is still unresolved waits for ARP: the capture looks again this long after
 * the first look, when the second request had its grace too. */
#define LD_CAPTURE_NEIGH_RETRY (1000 * LD_MS)
/* A capture file's lone SYN that nothing answered is judged only when the
 * file goes on at least this long (seconds) after it: the initial RTO, by
 * which an answer would have come and Linux would have sent the SYN again.
 * Before that the attempt is undecided. */
#define LD_CAPTURE_QUIET_S 1.0

/* When to capture (--capture), and "file" for a capture read offline. */
typedef enum ld_capture_mode {
    LD_CAPTURE_MODE_AUTO = 0, /* capture when permitted */
    LD_CAPTURE_MODE_ON,       /* capture or fail */
    LD_CAPTURE_MODE_OFF,      /* never capture */
    LD_CAPTURE_MODE_FILE,     /* packets come from a file (linkdoctor analyze) */
} ld_capture_mode;

/* "auto", "on", "off", "file": the capture.mode fact. */
const char *ld_capture_mode_name(ld_capture_mode m);
/* Parses an --capture value (auto, on, off); -1 for anything else. */
int ld_capture_mode_parse(const char *s);

/* What ld_capture_open() failed on. */
typedef enum ld_capture_failure {
    LD_CAPTURE_NO_PERMISSION = 1, /* not root, no CAP_NET_RAW */
    LD_CAPTURE_NO_INTERFACE,      /* --interface names no interface */
    LD_CAPTURE_OTHER,             /* anything else libpcap reports */
} ld_capture_failure;

typedef struct ld_capture ld_capture;
typedef struct ld_capture_watch ld_capture_watch;
/* Called once when the capture proves that no answer will reach a watched
 * attempt's socket: its SYN was retransmitted and nothing answered within
 * the grace (ld_capture_retransmit_grace()); or an answer (SYN-ACK, RST) arrived and the SYN was
 * sent again after it, so the socket never got it; or (when absence_proves and nothing was lost)
 * its SYN had not appeared on the wire LD_CAPTURE_GRACE after the attempt began - a SYN that leaves
 * is captured within microseconds - and was not waiting for an unresolved next hop either (or still
 * was, LD_CAPTURE_NEIGH_RETRY later). ld_capture_judge() says which. */
typedef void (*ld_capture_cb)(ld_capture_watch *w);

/* Interest in one connection attempt; embedded in its owner, zero it first. */
struct ld_capture_watch {
    ld_addr client;               /* the attempt's local address */
    uint16_t client_port;         /* its local port */
    ld_addr server;               /* where it connects */
    uint16_t server_port;         /* to which port */
    ld_capture_cb unanswered;     /* see ld_capture_cb */
    int absence_proves;           /* the capture covers the attempt's interface, so a
                                     SYN it does not see never left */
    void *data;                   /* owner's pointer */
    ld_capture *cap;              /* capture it is registered with */
    int active;                   /* registered */
    int fired;                    /* unanswered was called */
    int neigh_retry;              /* the first look found the next hop unresolved */
    int rtt_noted;                /* its answer's round trip sized the grace */
    unsigned long lost_before;    /* the capture's lost packets when the watch began */
    unsigned long evicted_before; /* its evicted flows then */
    ld_timer grace;               /* the first looks, then the grace after a retransmission */
    size_t idx;                   /* position in the capture's watch list */
};

/* Opens the capture on iface (NULL: "any") for TCP on ports[] (and ICMP
 * errors). On failure returns non-OK, sets *why and a one-line reason in err. */
ld_status ld_capture_open(ld_capture **out, const char *iface, const uint16_t *ports, size_t nports,
                          ld_capture_failure *why, ld_err *err);
/* Puts the capture's fd into loop; packets are tracked from then on. */
ld_status ld_capture_attach(ld_capture *cap, ld_loop *loop, ld_err *err);
/* Takes the capture's fd out of its loop (before the loop goes); watches
 * still registered are forgotten. Attach it again to use it. */
void ld_capture_detach(ld_capture *cap);
/* Closes the capture; watches still registered are forgotten. NULL is harmless. */
void ld_capture_free(ld_capture *cap);
/* The interface captured on ("any" or the name given). */
const char *ld_capture_interface(const ld_capture *cap);
/* 1 when the capture sees what leaves through interface ifname (it captures
 * every interface, or that one): only then does an absent SYN prove that it
 * never left. */
int ld_capture_covers(const ld_capture *cap, const char *ifname);
/* Reads every packet already captured, so that flows are current. */
void ld_capture_drain(ld_capture *cap);
/* Notes a round trip measured outside the capture (a resolver's answer): it
 * sizes the grace after a retransmission (see LD_CAPTURE_GRACE). */
void ld_capture_note_rtt(ld_capture *cap, ld_time rtt);
/* The grace after a SYN retransmission when the longest round trip measured
 * is max_rtt (0: none measured). Pure. */
ld_time ld_capture_grace_for(ld_time max_rtt);

/* Starts watching the attempt w describes (fill its address, callback and
 * absence_proves fields first); call it right after the SYN was sent. */
ld_status ld_capture_watch_start(ld_capture *cap, ld_capture_watch *w);
/* Stops watching; harmless when not watching. */
void ld_capture_watch_stop(ld_capture_watch *w);
/* The flow of a watched attempt, or NULL when nothing of it was captured. */
const ld_hs_flow *ld_capture_watch_flow(const ld_capture_watch *w);
/* Packets the capture lost since w began (0 when it is not watching): the
 * kernel's drops (buffer full), the interface's, and packets of flows its
 * table had no room for. Any loss makes the capture blind to the attempt: a
 * SYN it did not see may have left. */
unsigned long ld_capture_watch_lost(ld_capture_watch *w);
/* Packets lost since the capture opened: dropped by the kernel (buffer full)
 * or the interface, or not tracked for want of room in the flow table. */
unsigned long ld_capture_lost(ld_capture *cap);

/* Records what the capture shows of one attempt (flow NULL: nothing was
 * captured of it) into its tcp.attempt.* evidence: conn_state, syn_seen, SYN
 * times, the answer and when it came. */
void ld_capture_record_flow(ld_bag *attempt, const ld_hs_flow *flow);
/* Records what an active watch of an attempt knows besides its flow:
 * packets it lost and flows it evicted meanwhile (tcp.attempt.capture_*). */
void ld_capture_record_watch(ld_bag *attempt, ld_capture_watch *w);
/* Records the evidence of an answer this host discarded (live only: it
 * reads this host's settings): the interfaces the SYN left and the answer
 * came in through, the rp_filter in effect on the latter (from proc, normally
 * "/proc") into the attempt, and the conntrack table's fill into target. */
void ld_capture_record_reply(ld_bag *attempt, ld_bag *target, const ld_hs_flow *flow,
                             const char *proc);
/* Records the way to an attempt's address (tcp.attempt.next_hop, its
 * neighbour state) and, when cap is not NULL, the ARP / ND requests it
 * captured for the next hop (as of its last drain: it reads no packet, so
 * flow pointers stay valid). */
void ld_capture_record_neighbour(ld_capture *cap, ld_bag *attempt, const ld_neigh *nb);
/* What the judgement of an attempt weighs besides its socket's outcome and
 * its flow. */
typedef struct ld_capture_judge_args {
    int blind;                /* the capture may have missed packets of the attempt
                                 (it lost some, or does not cover its interface) */
    int neighbour_unresolved; /* the next hop's neighbour entry is INCOMPLETE or FAILED */
    double waited_ms;         /* how long the socket waited (tcp.attempt.elapsed_ms),
                                 negative when unknown */
} ld_capture_judge_args;

/* The state of an attempt once the packets are weighed: seen is what its
 * socket said, flow what the capture saw of it (NULL: nothing, or no
 * capture). Pure. In order:
 * - the socket timed out, yet the capture saw the server answer (SYN-ACK or
 *   RST) and then the SYN again, or saw the answer LD_CAPTURE_GRACE before
 *   the socket gave up: this host discarded it (LD_TCP_REPLY_DROPPED);
 * - the socket timed out and the next hop's neighbour is unresolved: no
 *   neighbour answered ARP / ND, so the SYN could not leave (never captured)
 *   or left for a stale link-layer address nobody has (LD_TCP_NO_ROUTE);
 * - the socket saw no answer, or a reset, and the capture never saw the SYN
 *   leave: this host stopped it (LD_TCP_LOCAL_BLOCK) - unless the capture is
 *   blind to it, when absence proves nothing. */
ld_tcp_state ld_capture_judge(ld_tcp_state seen, const ld_hs_flow *flow,
                              const ld_capture_judge_args *args);
/* The state of an attempt a capture file shows, from its packets alone;
 * t_end is the file's last packet's time (LD_TCP_UNDECIDED: see
 * LD_CAPTURE_QUIET_S). Pure. */
ld_tcp_state ld_capture_flow_state(const ld_hs_flow *f, double t_end);
/* Creates the tcp.attempt.* evidence of a flow read from a capture file: the
 * attempt's state comes from the packets alone. t0 is the capture's start,
 * t_end its last packet's time: a lone unanswered SYN less than
 * LD_CAPTURE_QUIET_S before it is undecided. */
ld_status ld_capture_attempt_from_flow(ld_facts *facts, const ld_hs_flow *flow, double t0,
                                       double t_end);
/* Derives the capture.* counts from the tcp.attempt.* evidence of expected
 * attempts (when capture.available is true); capture.lossy, .drops and
 * .evicted only when some attempt was watched live. */
ld_status ld_capture_summarize(ld_facts *facts);

#endif
