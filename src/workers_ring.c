/*
 * workers_ring.c - the single-producer single-consumer ring of workers_ring.h.
 * head and tail only grow (64 bits never wrap); the producer publishes a
 * record with a release store of head, the consumer frees it with a release
 * store of tail, each reading the other's with an acquire load.
 */
#include "workers_ring.h"

#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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

/* The octets a record of len needs now (with the padding before it), and whether they are free. */
static bool wring_fits(struct wring *r, size_t len, size_t *pad, size_t *need)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	*need = wring_units(len);
	size_t to_end = WRING_SIZE - head % WRING_SIZE;
	*pad = *need > to_end ? to_end : 0;
	return WRING_SIZE - (head - tail) >= *pad + *need;
}

bool wring_put(struct wring *r, const struct wring_rec *h, const void *payload)
{
	size_t pad, need;
	if (!wring_fits(r, h->len, &pad, &need))
		return false;
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t off = head % WRING_SIZE;
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

static long wring_futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

void wring_wait(struct wring *r, int timeout_ms)
{
	atomic_store(&r->consumer_asleep, 1);
	atomic_thread_fence(memory_order_seq_cst);
	/* seq_cst: either the producer sees the flag, or this sees its record */
	if (atomic_load(&r->head) == atomic_load_explicit(&r->tail, memory_order_relaxed)) {
		struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000 };
		wring_futex(&r->consumer_asleep, FUTEX_WAIT, 1, &ts);
	}
	atomic_store(&r->consumer_asleep, 0);
}

void wring_wake(struct wring *r)
{
	atomic_thread_fence(memory_order_seq_cst); /* the record published before the flag is read */
	if (atomic_load(&r->consumer_asleep) && atomic_exchange(&r->consumer_asleep, 0))
		wring_futex(&r->consumer_asleep, FUTEX_WAKE, 1, NULL);
}

void wring_wake_cheap(struct wring *r)
{
	uint64_t held = atomic_load_explicit(&r->head, memory_order_relaxed) -
			atomic_load_explicit(&r->tail, memory_order_relaxed);
	if (held >= WRING_WAKE_AT && atomic_load_explicit(&r->consumer_asleep, memory_order_relaxed) &&
	    atomic_exchange(&r->consumer_asleep, 0))
		wring_futex(&r->consumer_asleep, FUTEX_WAKE, 1, NULL);
}

bool wring_wants_room(struct wring *r, size_t len)
{
	size_t pad, need;
	atomic_store(&r->producer_waiting, 1);
	atomic_thread_fence(memory_order_seq_cst);
	if (wring_fits(r, len, &pad, &need)) {
		atomic_store(&r->producer_waiting, 0);
		return false;
	}
	return true;
}

bool wring_room_made(struct wring *r, bool fenced)
{
	uint64_t held = atomic_load_explicit(&r->head, memory_order_relaxed) -
			atomic_load_explicit(&r->tail, memory_order_relaxed);
	if (held > WRING_SIZE / 2)
		return false; /* not yet: the producer would fill it again at once */
	if (fenced)
		atomic_thread_fence(memory_order_seq_cst); /* the room made before the flag is read */
	else if (!atomic_load_explicit(&r->producer_waiting, memory_order_relaxed))
		return false;
	return atomic_load(&r->producer_waiting) && atomic_exchange(&r->producer_waiting, 0);
}
