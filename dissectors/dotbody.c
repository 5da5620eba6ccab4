/*
 * dotbody.c - the streaming dot-unstuffer (see dotbody.h). This is the hot
 * path of a message-heavy capture: runs of lines that need no unstuffing
 * pass on as one span, found by scan_lf_dot() (scan.c).
 */
#include "dotbody.h"

#include "emit.h"
#include "scan.h"
#include "trace.h"

static const char *const dotbody_names[] = {
	[DOTBODY_BOL] = "BOL", [DOTBODY_MID] = "MID", [DOTBODY_DOT] = "DOT", [DOTBODY_DOTCR] = "DOTCR",
};

/* dotbody_set(): the one place the unstuffer's state changes. */
STATE_SETTER(dotbody_set, struct dotbody, state, enum dotbody_state, "dotbody state", dotbody_names)

void dotbody_start(struct dotbody *b)
{
	dotbody_set(b, DOTBODY_BOL);
}

/*
 * One span up to the next line that starts with '.' (or the end of the
 * input): lines that need no unstuffing pass on together, so the sink
 * (hashing, extraction) gets large spans, not lines. Returns bytes used.
 */
static size_t dotbody_span(struct dotbody *b, struct event_sink *sink, const uint8_t *buf,
			   size_t len)
{
	size_t end = len;
	size_t lf = scan_lf_dot(buf, len);
	if (lf < len) { /* the line after it starts with '.' or is not here yet */
		end = lf + 1;
		dotbody_set(b, DOTBODY_BOL);
	}
	emit_message_data(sink, buf, end);
	return end;
}

size_t dotbody_scan(struct dotbody *b, struct event_sink *sink, const uint8_t *buf, size_t len,
		    bool *ended)
{
	size_t i = 0;
	*ended = false;
	while (i < len) {
		switch (b->state) {
		case DOTBODY_MID:
			i += dotbody_span(b, sink, buf + i, len - i);
			break;
		case DOTBODY_BOL:
			if (buf[i] == '.') {
				dotbody_set(b, DOTBODY_DOT);
				i++;
			} else {
				dotbody_set(b, DOTBODY_MID);
			}
			break;
		case DOTBODY_DOT:
			if (buf[i] == '\n') {
				*ended = true;
				return i + 1;
			}
			if (buf[i] == '\r') {
				dotbody_set(b, DOTBODY_DOTCR);
				i++;
			} else {
				dotbody_set(b, DOTBODY_MID); /* the stuffed '.' is dropped */
			}
			break;
		case DOTBODY_DOTCR:
			if (buf[i] == '\n') {
				*ended = true;
				return i + 1;
			}
			emit_message_data(sink, (const uint8_t *)"\r", 1);
			dotbody_set(b, DOTBODY_MID);
			break;
		}
	}
	return i;
}

void dotbody_line(struct event_sink *sink, const uint8_t *p, size_t n, bool bare_lf)
{
	size_t skip = n > 0 && p[0] == '.';
	emit_message_data(sink, p + skip, n - skip);
	emit_message_data(sink, (const uint8_t *)"\r\n" + bare_lf, 2 - (size_t)bare_lf);
}
