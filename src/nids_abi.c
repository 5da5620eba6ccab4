/*
 * nids_abi.c - popsift's replacement for libnids' stream hash (mkhash) and the
 * start-up self-check of what nids_abi.h mirrors of libnids' private ABI.
 *
 * Mutable statics: the hash key and a count of mkhash calls. libnids calls
 * mkhash with no context of ours, so both can only live here.
 */
#include "nids_abi.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "ipv4.h"

#define CHECK_CLIENT_ISN 1000u
#define CHECK_SERVER_ISN 5000u
#define CHECK_HOLE 100u /* bytes missing before the queued segment */

static uint64_t hash_key = 0x9e3779b97f4a7c15ULL;
static uint64_t hash_calls; /* how often libnids called mkhash: the check's proof */

/*
 * libnids 1.26 hashes every lookup with twelve dependent modulo operations
 * (hash.c), and every segment costs two to four lookups: 20-25% of libnids'
 * own time on short sessions. This one is a few multiplications. The result
 * stays below 2^31: libnids stores it in an int before taking it modulo the
 * table size.
 */
u_int mkhash(u_int src, u_short sport, u_int dest, u_short dport)
{
	hash_calls++;
	uint64_t h = ((uint64_t)src << 32 | dest) ^ hash_key;
	h ^= ((uint64_t)sport << 16 | dport) * 0xff51afd7ed558ccdULL;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	h *= 0x9e3779b97f4a7c15ULL;
	h ^= h >> 32;
	return (u_int)(h & 0x7fffffff);
}

/* libnids' own key and permutation come from /dev/urandom: ours from getrandom(). */
void nids_abi_seed_hash(void)
{
	uint64_t key;
	if (getrandom(&key, sizeof(key), GRND_NONBLOCK) == (ssize_t)sizeof(key))
		hash_key = key | 1;
}

/* The check connection wants its data, or libnids would drop it at once. */
static void check_tcp(struct tcp_stream *ts, void **unused)
{
	(void)unused;
	if (ts->nids_state == NIDS_JUST_EST) {
		ts->client.collect++;
		ts->server.collect++;
	}
}

static void check_feed(struct pcap_pkthdr *hdr, const struct segment *g, const uint8_t *data)
{
	uint8_t pkt[IPV4_TCP_HEADERS + 16];
	hdr->caplen = hdr->len = (bpf_u_int32)ipv4_tcp_segment(pkt, g, data);
	nids_pcap_handler(NULL, hdr, pkt);
}

/* A handshake on t, then `data` sent CHECK_HOLE bytes beyond the next expected byte. */
static void check_connection(struct pcap_pkthdr *hdr, const struct ipv4_tuple *t,
			     const uint8_t *data, size_t len)
{
	struct segment c = { *t, CHECK_CLIENT_ISN, 0, TCP_SYN, 0 };
	struct segment s = { ipv4_reverse(t), CHECK_SERVER_ISN, CHECK_CLIENT_ISN + 1,
			     TCP_SYN | TCP_ACK, 0 };
	check_feed(hdr, &c, NULL);
	check_feed(hdr, &s, NULL);
	c = (struct segment){ *t, CHECK_CLIENT_ISN + 1, CHECK_SERVER_ISN + 1, TCP_ACK, 0 };
	check_feed(hdr, &c, NULL);
	c.seq += CHECK_HOLE;
	c.payload = len;
	check_feed(hdr, &c, data);
}

/* What the mirror reads of the segment queued behind the hole; NULL when it is right. */
static const char *check_queue(const struct tcp_stream *ts, const uint8_t *data, size_t len,
			       char *why, size_t whylen)
{
	if (!ts)
		return "libnids did not follow the check connection";
	const struct skbuff *q = ts->server.list; /* what the client sent, queued */
	if (!q)
		return "libnids queued no out-of-order segment";
	uint32_t seq = CHECK_CLIENT_ISN + 1 + CHECK_HOLE;
	if (q->seq == seq && q->len == len && q->data && memcmp(q->data, data, len) == 0 && !q->next)
		return NULL;
	snprintf(why, whylen,
		 "its out-of-order queue entry (struct skbuff) reads seq %u, len %u where "
		 "libnids queued seq %u, len %zu",
		 q->seq, q->len, seq, len);
	return why;
}

bool nids_abi_check(struct pcap_pkthdr *hdr, char *err, size_t errlen)
{
	static const uint8_t data[] = "popsift-abi";
	struct ipv4_tuple t = { htonl(0x7f000001), htonl(0x7f000002), 40000, 110 };
	struct tuple4 key = { t.sport, t.dport, t.saddr, t.daddr };
	char why[160];
	uint64_t calls = hash_calls;
	nids_register_tcp((void *)check_tcp);
	check_connection(hdr, &t, data, sizeof(data) - 1);
	struct tcp_stream *ts = nids_find_tcp_stream(&key);
	const char *bad = check_queue(ts, data, sizeof(data) - 1, why, sizeof(why));
	if (ts)
		nids_free_tcp_stream(ts);
	nids_unregister_tcp((void *)check_tcp);
	if (!bad && hash_calls == calls)
		bad = "it does not call popsift's mkhash (a static or -Bsymbolic libnids?)";
	if (bad)
		snprintf(err, errlen,
			 "the libnids loaded does not match what popsift was built for: %s; "
			 "popsift needs the shared libnids 1.26 (docs/libnids.md, Linking)",
			 bad);
	return !bad;
}
