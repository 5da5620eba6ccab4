/*
 * linklayer.h - strips the link layer of a captured frame down to its IP packet.
 */
#ifndef POPSIFT_LINKLAYER_H
#define POPSIFT_LINKLAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ll_result {
	LL_IPV4,
	LL_IPV6,
	LL_OTHER,      /* a protocol popsift does not follow (ARP, ...) */
	LL_TRUNCATED,  /* the frame ends inside a link-layer header */
	LL_UNSUPPORTED /* the capture's link type is not one popsift decodes */
};

/* True when popsift can decode captures of this DLT_* link type. */
bool ll_supported(int dlt);

/*
 * Finds the IP packet in frame[0..caplen) of link type `dlt`. On LL_IPV4 or
 * LL_IPV6, *ip and *iplen describe it (iplen = the captured bytes left).
 */
enum ll_result ll_strip(int dlt, const uint8_t *frame, size_t caplen, const uint8_t **ip,
			size_t *iplen);

#endif
