/*
 * community_id.h - the Community ID flow hash, version 1 (corelight's
 * community-id-spec, as Zeek, Suricata and Arkime emit it), so a pipeline can
 * join popsift's events with theirs. Pure function; owns nothing.
 */
#ifndef POPSIFT_COMMUNITY_ID_H
#define POPSIFT_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

/* "1:" + 28 base64 characters + NUL */
#define COMMUNITY_ID_LEN 31

/*
 * Writes the id of the flow between (saddr, sport) and (daddr, dport) into out
 * (COMMUNITY_ID_LEN bytes). Addresses are network order, addr_len 4 (IPv4) or
 * 16 (IPv6); the id is the same whichever side is given as the source.
 */
void community_id_v1(uint16_t seed, const uint8_t *saddr, const uint8_t *daddr, size_t addr_len,
		     uint8_t proto, uint16_t sport, uint16_t dport, char out[COMMUNITY_ID_LEN]);

#endif
