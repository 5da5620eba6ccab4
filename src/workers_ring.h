/*
 * workers_ring.h - the shared-memory ring that carries packets from the
 * reading process to one file worker (--workers N, src/workers.c): single
 * producer, single consumer, C11 atomics, in memory mapped MAP_SHARED before
 * fork(). Bounded (WRING_SIZE): the producer waits when it is full (files:
 * nothing is ever dropped), the consumer when it is empty.
 *
 * Records are a 32-octet header and a payload, both rounded up to 32 octets,
 * so the space left at the end of the buffer is always a whole header or
 * nothing: a record that does not fit there is preceded by a padding record
 * and written at the start.
 */
#ifndef POPSIFT_WORKERS_RING_H
#define POPSIFT_WORKERS_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WRING_SIZE (4u << 20)            /* per worker; a power of two */
#define WRING_PAYLOAD_MAX (1u << 20)      /* the largest record: a 262,144-octet frame fits */
/*
 * Hysteresis, so producer and consumer do not wake each other for every
 * record: a sleeping consumer is woken when this much waits (or by a fenced
 * wring_wake()), a waiting producer when the ring is half empty.
 */
#define WRING_WAKE_AT (256u * 1024)

enum wring_type {
	WRING_PAD,     /* nothing: the rest of the buffer is skipped */
	WRING_PACKET,  /* an IP packet; aux: 1 IPv6, 0 IPv4; file: the capture file's index */
	WRING_TICK,    /* the capture clock's second changed (sessions may time out) */
	WRING_SECRETS, /* TLS key log lines of a pcapng Decryption Secrets Block */
	WRING_SYNC,    /* write a marker after every event so far (workers_order.h); frame: the latest */
	WRING_END,     /* no more input; aux: the end_reason of the sessions still open */
};

struct wring_rec {
	uint32_t type;  /* enum wring_type */
	uint32_t len;   /* payload octets */
	uint64_t frame; /* pcap_cnt of the frame being read */
	int64_t sec;
	int32_t usec;
	uint16_t aux;
	uint16_t file;
};
_Static_assert(sizeof(struct wring_rec) == 32, "a header is one 32-octet unit");

struct wring {
	_Alignas(64) _Atomic uint64_t head; /* octets published (producer) */
	_Atomic uint32_t consumer_asleep;    /* the consumer waits on this futex for a record */
	_Alignas(64) _Atomic uint64_t tail; /* octets consumed (consumer) */
	_Atomic uint32_t producer_waiting;   /* the producer waits for room (wring_wants_room) */
	_Alignas(64) uint8_t data[WRING_SIZE];
};

/* The rings of n workers in one shared anonymous mapping; NULL when it cannot be mapped. */
struct wring *wring_map(unsigned n);
void wring_unmap(struct wring *rings, unsigned n);
/* Producer: appends a record (len <= WRING_PAYLOAD_MAX); false when it has no room now. */
bool wring_put(struct wring *r, const struct wring_rec *h, const void *payload);
/* Consumer: the oldest record (payload right after it), NULL when empty. */
const struct wring_rec *wring_peek(struct wring *r);
/* Consumer: the record wring_peek() gave is done with. */
void wring_next(struct wring *r);

/*
 * Waiting without spinning. The consumer of an empty ring sleeps in
 * wring_wait() (a futex; at most timeout_ms) until wring_wake() after a
 * put. The producer of a full ring calls wring_wants_room() (true: still
 * full, so wait) and waits on its own terms (the parent polls its pipes and an
 * eventfd); the consumer calls wring_room_made() after wring_next(), which
 * says whether to signal it.
 */
void wring_wait(struct wring *r, int timeout_ms);
void wring_wake(struct wring *r);
/*
 * wring_wake() without its fence, once WRING_WAKE_AT octets wait: wakes a
 * consumer seen asleep, but may miss one falling asleep right now (it then
 * waits for the next wring_wake(), which the producer gives every few
 * thousand records and after the last one, or its timeout).
 */
void wring_wake_cheap(struct wring *r);
bool wring_wants_room(struct wring *r, size_t len);
bool wring_room_made(struct wring *r, bool fenced); /* not fenced: may miss it (see wring_wake_cheap) */

#endif
