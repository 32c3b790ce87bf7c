/* msg.h - every message linkdoctor prints to the user goes through here.
 *
 * Errors are one line: "linkdoctor: <input>: <problem>". Keeping them in one
 * module keeps the wording consistent and makes them easy to test.
 */
#ifndef LD_MSG_H
#define LD_MSG_H

/* "linkdoctor: " + message + "\n" on the message stream. */
void ld_msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* ld_msg_error(), and with plugin set (--format nagios) the same line as a
 * monitoring plugin's status, "LINKDOCTOR UNKNOWN - " + message, on stdout:
 * Nagios shows only stdout ("(No output returned from plugin)" else). */
void ld_msg_error_plugin(int plugin, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A log line of a long-running command (serve): "linkdoctor: " + message. */
void ld_msg_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Verbose progress (-v): "linkdoctor: +0.012 " + message + "\n". */
void ld_msg_trace(double since_start_ms, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
