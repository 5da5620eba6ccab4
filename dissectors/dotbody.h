/*
 * dotbody.h - the streaming dot-unstuffer: reads a dot-stuffed message body
 * (RFC 1939 §3, a POP3 RETR/TOP answer or an XTND XMIT submission) up to its
 * terminating "." line, passing the unstuffed octets on as message_data
 * events in spans as large as the input allows. It never holds a byte: the
 * state below survives any chunk boundary.
 *
 * Owns only where it stands within the current line. Per RFC 1939 every line
 * that starts with '.' loses that '.', even one that was not properly
 * stuffed, exactly as a compliant client reads it.
 */
#ifndef POPSIFT_DOTBODY_H
#define POPSIFT_DOTBODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum dotbody_state {
	DOTBODY_BOL,   /* at the start of a line */
	DOTBODY_MID,   /* inside a line */
	DOTBODY_DOT,   /* a '.' began the line (not yet passed on) */
	DOTBODY_DOTCR  /* ".\r" began the line */
};

struct dotbody {
	enum dotbody_state state;
};

/* A body begins: the next byte starts its first line. */
void dotbody_start(struct dotbody *b);

/*
 * Reads body bytes from buf[0..len) up to and including the terminating line
 * (CRLF or bare LF), emitting the unstuffed octets through sink. Returns the
 * bytes consumed; sets *ended when the terminator was among them (the bytes
 * after it are not the body's).
 */
size_t dotbody_scan(struct dotbody *b, struct event_sink *sink, const uint8_t *buf, size_t len,
		    bool *ended);

/*
 * One whole line of a body read line by line (after a gap, where the position
 * within a line was lost), without its line end: emitted unstuffed, followed
 * by the line end it had. The caller has already told the terminator apart.
 */
void dotbody_line(struct event_sink *sink, const uint8_t *p, size_t n, bool bare_lf);

#endif
