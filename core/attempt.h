/* attempt.h - what became of one connection attempt, as one enum with one
 * name table (the values of the tcp.attempt.state fact), and where its
 * address came from (tcp.attempt.origin).
 *
 * The TCP probe judges the attempt from its socket, the capture from the
 * packets, the plan weighs both; rules and reports read the names. Code
 * compares the enum, never the text.
 */
#ifndef LD_ATTEMPT_H
#define LD_ATTEMPT_H

/* The state of a TCP connection attempt. */
typedef enum ld_tcp_state {
    LD_TCP_OPEN = 0,      /* "open": the handshake completed */
    LD_TCP_REFUSED,       /* "refused": the SYN was answered by RST */
    LD_TCP_TIMEOUT,       /* "timeout": the SYNs got no answer */
    LD_TCP_ICMP,          /* "icmp": a remote ICMP unreachable rejected the SYN */
    LD_TCP_NO_ROUTE,      /* "no_route": no route, or no neighbour answered */
    LD_TCP_LOCAL_BLOCK,   /* "local_block": this host's own firewall stopped it */
    LD_TCP_ERROR,         /* "error": another local failure */
    LD_TCP_REPLY_DROPPED, /* "reply_dropped": an answer reached this host, never the socket */
    LD_TCP_UNDECIDED,     /* "undecided": a capture file ends before the attempt was decided */
    LD_TCP__COUNT
} ld_tcp_state;

/* The fact value of a state ("open", "refused", ...). */
const char *ld_tcp_state_name(ld_tcp_state s);
/* Parses a fact value; -1 when s names no state. */
int ld_tcp_state_parse(const char *s);

/* Where an attempt's address came from (bits; several may apply). */
#define LD_ORIGIN_ENDPOINT 1u  /* "endpoint": --endpoint-ip */
#define LD_ORIGIN_DNS      2u  /* "dns": the system's DNS answer */
#define LD_ORIGIN_HOSTS    4u  /* "hosts": /etc/hosts */
#define LD_ORIGIN_LITERAL  8u  /* "literal": the target itself is this address */
#define LD_ORIGIN_CAPTURE  16u /* "capture": read from a capture file */

/* The name of one origin bit, NULL for an unknown one. */
const char *ld_origin_name(unsigned bit);

#endif
