/*
 * ring.h - a bounded byte queue from one producer thread to one consumer
 * thread, in order.
 *
 * Records are variable-sized and contiguous in memory, so a producer writes a
 * record in place (no malloc per record) and the consumer reads it in place.
 * The producer waits only when the ring is full; the consumer sleeps when it is
 * empty and is woken in batches, not per record, because a wake-up costs more
 * than a small record.
 */
#ifndef POPSIFT_RING_H
#define POPSIFT_RING_H

#include <stdbool.h>
#include <stddef.h>

struct ring;

/* cap: bytes of the ring, rounded up to a multiple of 64. NULL when out of memory. */
struct ring *ring_new(size_t cap);
void ring_free(struct ring *r);

/* The largest record ring_reserve() accepts. */
size_t ring_max_record(const struct ring *r);
/* Producer: how full the ring is, 0 (empty) to 100 (the consumer is behind by all of it). */
unsigned ring_percent_full(const struct ring *r);

/*
 * Producer: n bytes (n <= ring_max_record()) to fill, 16-byte aligned, waiting
 * while the ring is full. Nothing is visible to the consumer before commit.
 */
void *ring_reserve(struct ring *r, size_t n);
enum ring_commit {
	RING_LAZY,   /* visible once 64 KB are waiting or with the next RING_NOW record */
	RING_NOW,    /* visible now; the consumer is woken with a batch */
	RING_URGENT, /* visible now and the consumer woken now */
};

/*
 * Ends the reserved record. Bulk records go RING_LAZY: publishing each one
 * would move the counter's cache line between the cores once per record.
 */
void ring_commit(struct ring *r, enum ring_commit how);
/*
 * Producer: appends n bytes to the last record, if it is still unpublished
 * (RING_LAZY) and can grow in place without waiting; returns where the bytes
 * go (then ring_commit() as after ring_reserve()), or NULL (then reserve a new
 * record). Fewer, larger records cost the consumer less per byte.
 */
void *ring_extend(struct ring *r, size_t n);
/* No more records: the consumer's ring_next() returns NULL once it read them all. */
void ring_close(struct ring *r);

/*
 * Consumer: the next record and its size, waiting for one; NULL when the ring
 * is closed and empty. The record stays valid until ring_release().
 */
const void *ring_next(struct ring *r, size_t *n);
void ring_release(struct ring *r);

#endif
