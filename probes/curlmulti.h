/* curlmulti.h - a libcurl multi handle driven by a probe's loop: the shared
 * piece of the probes that speak HTTP (http.c, metadata.c).
 *
 * curl says which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to be
 * called back (CURLMOPT_TIMERFUNCTION); readiness and timer expiry go back
 * through curl_multi_socket_action(), after which the owner's `after`
 * callback collects finished transfers (curl_multi_info_read). curl may not
 * be called from its own callbacks, so even a "0 ms" timer goes through the
 * loop. Nothing is torn down from inside a curl callback: the owner stops
 * the binding (ld_curl_multi_stop) when it concludes, and cleans it up in
 * its clear(), where curl's last socket and timer callbacks find it stopped
 * and leave the loop alone.
 */
#ifndef LD_PROBE_CURLMULTI_H
#define LD_PROBE_CURLMULTI_H

#include <curl/curl.h>

#include "core/err.h"
#include "probes/probe.h"

#define LD_CURL_SOCKS_MAX 16 /* sockets one multi handle may hold at once */

/* One socket curl asked us to watch. */
typedef struct ld_curl_sock {
    curl_socket_t fd; /* curl's socket, CURL_SOCKET_BAD when the slot is free */
    ld_io io;         /* its watch in the loop */
} ld_curl_sock;

/* Called after each curl_multi_socket_action() with its result. */
typedef void (*ld_curl_after_cb)(ld_probe *p, CURLMcode mc);

/* A multi handle bound to a probe's loop; embedded in the probe's state,
 * zeroed before ld_curl_multi_init(). */
typedef struct ld_curl_multi {
    CURLM *multi;                          /* the handle, NULL until created */
    ld_probe *probe;                       /* whose loop, and passed to after */
    ld_curl_after_cb after;                /* collects finished transfers */
    ld_curl_sock socks[LD_CURL_SOCKS_MAX]; /* watched sockets, looked up by fd */
    ld_timer timer;                        /* curl's next timeout */
    int stopped;                           /* curl's callbacks no longer touch the loop */
    char watch_error[LD_ERR_MAX];          /* why a socket could not be watched, "" */
} ld_curl_multi;

/* Sets what every probe's transfer has: no proxy, whatever the environment
 * says (what is diagnosed is the direct path; the metadata service is
 * link-local); no redirect followed; http and https only; no signals;
 * a resolver thread still looking a name up detached, never joined, when
 * the handle is cleaned up (CURLOPT_QUICK_EXIT: a lookup cannot hold the
 * run past its deadline);
 * linkdoctor's User-Agent; curl's error text into errbuf
 * (CURL_ERROR_SIZE); on_header and on_body with data; and connect and
 * transfer time-outs at p's deadline, when it has one. */
CURLcode ld_curl_easy_defaults(CURL *easy, const ld_probe *p, char *errbuf,
                               curl_write_callback on_header, curl_write_callback on_body,
                               void *data);

/* Creates the multi handle and binds it to p's loop. */
ld_status ld_curl_multi_init(ld_curl_multi *m, ld_probe *p, ld_curl_after_cb after, ld_err *err);
/* Hands a readiness event of one of m's sockets to curl; 0 when io is not
 * one of m's (or m is stopped). */
int ld_curl_multi_on_io(ld_curl_multi *m, ld_io *io, unsigned events);
/* Stops every watch and the timer: curl is no longer driven. Harmless twice. */
void ld_curl_multi_stop(ld_curl_multi *m);
/* Stops, then cleans the multi handle up (its easy handles must have been
 * removed). A zeroed m is harmless. */
void ld_curl_multi_cleanup(ld_curl_multi *m);

#endif
