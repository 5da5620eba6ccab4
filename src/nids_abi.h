/*
 * nids_abi.h - libnids as popsift uses it: the public nids.h, plus the two
 * things popsift relies on that nids.h does not promise, in one place, and
 * the start-up proof that the libnids actually loaded honours them.
 *
 * The only file that includes <nids.h>. The engine files that see libnids'
 * types (reasm.c, mend.c, nids_abi.c) include this header instead.
 *
 * What popsift takes from libnids' private ABI (libnids 1.26, Debian 12):
 *
 * 1. struct skbuff, libnids' out-of-order queue entry. nids.h declares only
 *    the pointer (half_stream.list); the layout below mirrors libnids' tcp.h.
 *    The engine reads the sequence number of the first segment queued behind
 *    a hole, which bounds a filler so that it never overwrites data the
 *    capture does have (docs/libnids.md, Holes). Read only.
 * 2. mkhash(), libnids' internal stream hash, is replaced: libnids calls it
 *    through the PLT, so the definition in nids_abi.c is the one it runs
 *    (cheaper than libnids' own, and keyed; docs/libnids.md, Speed). That
 *    needs the shared library (docs/libnids.md, Linking): linking libnids.a
 *    fails on the duplicate symbol, and a libnids built with -Bsymbolic or
 *    hidden symbols would keep its own hash without a word.
 *
 * A compiler sees neither: another libnids version or build could break them
 * silently. nids_abi_check(), run by reasm_init() before any packet, proves
 * both against the library loaded: it feeds a synthetic connection with one
 * segment beyond a hole, reads the queued segment through the mirror (its
 * sequence number, length and bytes must be the ones sent), and checks that
 * libnids looked the connection up through our mkhash. On failure popsift
 * says which part did not match and exits with EXIT_INTERNAL.
 */
#ifndef POPSIFT_NIDS_ABI_H
#define POPSIFT_NIDS_ABI_H

#include <nids.h>
#include <stdbool.h>
#include <stddef.h>

#if NIDS_MAJOR != 1 || NIDS_MINOR != 26
#error "popsift mirrors libnids 1.26's private structures (src/nids_abi.h): check them against this libnids"
#endif

/* libnids 1.26 tcp.h, field for field. Completes nids.h's `struct skbuff`. */
struct skbuff {
	struct skbuff *next;
	struct skbuff *prev;
	void *data;
	u_int len;
	u_int truesize;
	u_int urg_ptr;
	char fin;
	char urg;
	u_int seq;
	u_int ack;
};

/* libnids' stream hash, defined in nids_abi.c: libnids calls this one. */
u_int mkhash(u_int src, u_short sport, u_int dest, u_short dport);

/* Keys mkhash from getrandom(), so a sender cannot aim packets at one hash chain. */
void nids_abi_seed_hash(void);

/*
 * The self-check, once nids_init() has run and before any callback of the
 * engine is registered: libnids must not be following anything yet. Feeds
 * its packets with header `hdr` (libnids keeps the pointer: it must outlive
 * the run). Leaves libnids as it found it. False, with the reason in err,
 * when the mirror or the mkhash override does not hold for this libnids.
 */
bool nids_abi_check(struct pcap_pkthdr *hdr, char *err, size_t errlen);

#endif
