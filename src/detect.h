/*
 * detect.h - recognising POP on a port popsift does not follow by default
 * (--detect): the first bytes of both directions are held and the
 * dissectors' probes decide.
 */
#ifndef POPSIFT_DETECT_H
#define POPSIFT_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../dissectors/dissector.h"

#define DETECT_MAX 512  /* bytes held per direction while deciding */
#define DETECT_SEGS 32  /* arrivals remembered, to replay them in order */

struct detect {
	uint8_t buf[DIR_COUNT][DETECT_MAX];
	size_t n[DIR_COUNT];
	struct {
		uint8_t dir;
		uint16_t len;
	} seg[DETECT_SEGS];
	size_t nseg;
};

/*
 * Holds the bytes and asks every dissector's probe (dissector.h) about them:
 * PROBE_YES with *which set once one recognises them, PROBE_NO once all
 * refused (or the bytes outgrew the bound), PROBE_MORE meanwhile.
 */
enum probe_verdict detect_feed(struct detect *d, enum dir dir, const uint8_t *p, size_t n,
			       const struct dissector **which);
/* Calls fn for every held arrival, in the order they came (after a POP verdict). */
void detect_replay(const struct detect *d, void (*fn)(void *ctx, enum dir dir, const uint8_t *p, size_t n),
		   void *ctx);

#endif
