/*
 * workers_ring.c - the single-producer single-consumer ring of workers_ring.h.
 * head and tail only grow (64 bits never wrap); the producer publishes a
 * record with a release store of head, the consumer frees it with a release
 * store of tail, each reading the other's with an acquire load.
 */
#include "workers_ring.h"

#include <string.h>
#include <sys/mman.h>

#define WRING_UNIT 32u

static size_t wring_units(size_t len)
{
	return (sizeof(struct wring_rec) + len + WRING_UNIT - 1) / WRING_UNIT * WRING_UNIT;
}

struct wring *wring_map(unsigned n)
{
	void *p = mmap(NULL, (size_t)n * sizeof(struct wring), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p; /* zeroed: every ring empty */
}

void wring_unmap(struct wring *rings, unsigned n)
{
	if (rings)
		munmap(rings, (size_t)n * sizeof(struct wring));
}

bool wring_put(struct wring *r, const struct wring_rec *h, const void *payload)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	size_t need = wring_units(h->len);
	size_t off = head % WRING_SIZE, to_end = WRING_SIZE - off;
	size_t pad = need > to_end ? to_end : 0;
	if (WRING_SIZE - (head - tail) < pad + need)
		return false;
	if (pad) {
		struct wring_rec p = { .type = WRING_PAD };
		memcpy(r->data + off, &p, sizeof(p));
		off = 0;
	}
	memcpy(r->data + off, h, sizeof(*h));
	if (h->len)
		memcpy(r->data + off + sizeof(*h), payload, h->len);
	atomic_store_explicit(&r->head, head + pad + need, memory_order_release);
	return true;
}

const struct wring_rec *wring_peek(struct wring *r)
{
	for (;;) {
		uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
		uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
		if (tail == head)
			return NULL;
		const struct wring_rec *h = (const void *)(r->data + tail % WRING_SIZE);
		if (h->type != WRING_PAD)
			return h;
		atomic_store_explicit(&r->tail, tail + (WRING_SIZE - tail % WRING_SIZE),
				      memory_order_release);
	}
}

void wring_next(struct wring *r)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	const struct wring_rec *h = (const void *)(r->data + tail % WRING_SIZE);
	atomic_store_explicit(&r->tail, tail + wring_units(h->len), memory_order_release);
}
