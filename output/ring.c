/*
 * ring.c - the bounded single-producer single-consumer byte queue (ring.h).
 *
 * head and tail count bytes ever committed and released; the position in the
 * buffer is the count modulo the (power of two) capacity. Each record starts
 * with a 16-byte header; a record that would run past the end of the buffer
 * starts at the beginning instead, after a wrap marker. Each side keeps private
 * copies of the counters and reads the other side's only when it must, so the
 * two cores do not trade cache lines per record.
 *
 * Sleeping uses a mutex and two condition variables; the flags that say who is
 * asleep are sequentially consistent atomics, stored before re-checking the
 * other side's counter, so that a wake-up is never lost (each side either sees
 * the other's new counter or the other sees its flag). Waits are timed anyway,
 * so a bug here would cost latency, not a hang.
 */
#include "ring.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING_HDR 16
#define RING_WRAP UINT64_MAX
/* Wake a sleeping consumer once this much is pending (or at once if urgent). */
#define RING_BATCH (256 * 1024)
/* RING_LAZY records wait for this much before they are published. */
#define RING_PUBLISH (64 * 1024)
/* Busy-wait iterations before the consumer sleeps: a wake-up is a syscall pair. */
#define RING_SPIN 2000
#define RING_CONSUMER_NAP_MS 50 /* the longest an unwoken record waits */
#define RING_PRODUCER_NAP_MS 100

struct ring_hdr {
	uint64_t len; /* bytes this record takes, header included; RING_WRAP: go to 0 */
	uint64_t n;   /* the caller's size */
};

struct ring {
	uint8_t *buf;
	size_t cap, mask;
	/* shared, each on its own cache line */
	_Alignas(64) _Atomic uint64_t head;
	_Alignas(64) _Atomic uint64_t tail;
	_Alignas(64) _Atomic unsigned consumer_asleep; /* 0, or the number of the sleep */
	_Atomic bool producer_asleep;
	_Atomic size_t producer_wants; /* free bytes the sleeping producer waits for */
	_Atomic bool closed;
	pthread_mutex_t mu;
	pthread_cond_t data, space;
	/* the producer's own */
	_Alignas(64) uint64_t p_head, p_tail, p_len;
	uint64_t p_published; /* head as the consumer may see it */
	uint64_t p_last;      /* where the last committed record starts */
	unsigned p_woken; /* the consumer sleep already woken */
	/* the consumer's own */
	_Alignas(64) uint64_t c_tail, c_len;
	uint64_t c_head; /* head when the consumer last read it */
	unsigned c_sleeps;
};

struct ring *ring_new(size_t cap)
{
	size_t c = 4096;
	while (c < cap)
		c *= 2;
	struct ring *r = aligned_alloc(64, sizeof(*r));
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->buf = aligned_alloc(64, c);
	if (!r->buf) {
		free(r);
		return NULL;
	}
	r->cap = c;
	r->mask = c - 1;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->data, &ca);
	pthread_cond_init(&r->space, &ca);
	pthread_condattr_destroy(&ca);
	return r;
}

void ring_free(struct ring *r)
{
	if (!r)
		return;
	pthread_cond_destroy(&r->data);
	pthread_cond_destroy(&r->space);
	pthread_mutex_destroy(&r->mu);
	free(r->buf);
	free(r);
}

size_t ring_max_record(const struct ring *r)
{
	return r->cap / 4 - RING_HDR;
}

unsigned ring_percent_full(const struct ring *r)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	return (unsigned)((r->p_head - tail) * 100 / r->cap);
}

static inline void ring_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Waits on cv (mu held) for at most ms milliseconds. */
static void ring_nap(struct ring *r, pthread_cond_t *cv, long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_cond_timedwait(cv, &r->mu, &ts);
}

static size_t ring_space(const struct ring *r, uint64_t tail)
{
	return r->cap - (size_t)(r->p_head - tail);
}

/*
 * Producer: waits until `need` bytes are free. Once it has to sleep, it sleeps
 * until a quarter of the ring is free: waking for each record the consumer
 * frees would cost two syscalls a record when the consumer is the slower side.
 */
static void ring_publish(struct ring *r, bool urgent);

static void ring_wait_space(struct ring *r, size_t need)
{
	if (ring_space(r, r->p_tail) >= need)
		return;
	r->p_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	if (ring_space(r, r->p_tail) >= need)
		return;
	ring_publish(r, true); /* what it waits for the consumer to free must be visible */
	while (ring_space(r, r->p_tail) < need) {
		pthread_mutex_lock(&r->mu);
		atomic_store(&r->producer_wants, need > r->cap / 4 ? need : r->cap / 4);
		atomic_store(&r->producer_asleep, true);
		r->p_tail = atomic_load(&r->tail);
		if (ring_space(r, r->p_tail) < need) {
			pthread_cond_signal(&r->data); /* it may be waiting for a batch */
			ring_nap(r, &r->space, RING_PRODUCER_NAP_MS);
		}
		atomic_store(&r->producer_asleep, false);
		pthread_mutex_unlock(&r->mu);
		r->p_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	}
}

void *ring_reserve(struct ring *r, size_t n)
{
	size_t len = RING_HDR + ((n + 15) & ~(size_t)15);
	size_t pos = (size_t)(r->p_head & r->mask);
	size_t pad = pos + len > r->cap ? r->cap - pos : 0;
	ring_wait_space(r, pad + len);
	if (pad) {
		struct ring_hdr *w = (struct ring_hdr *)(r->buf + pos);
		w->len = RING_WRAP;
		w->n = 0;
		r->p_head += pad;
		pos = 0;
	}
	struct ring_hdr *h = (struct ring_hdr *)(r->buf + pos);
	h->len = len;
	h->n = n;
	r->p_len = len;
	r->p_last = r->p_head;
	return r->buf + pos + RING_HDR;
}

void *ring_extend(struct ring *r, size_t n)
{
	if (r->p_last < r->p_published || r->p_last == r->p_head)
		return NULL; /* published already, or nothing committed */
	size_t pos = (size_t)(r->p_last & r->mask);
	struct ring_hdr *h = (struct ring_hdr *)(r->buf + pos);
	size_t len = RING_HDR + ((h->n + n + 15) & ~(size_t)15);
	if (h->n + n > ring_max_record(r) || pos + len > r->cap)
		return NULL;
	size_t grow = len - h->len;
	if (ring_space(r, r->p_tail) < grow) {
		r->p_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (ring_space(r, r->p_tail) < grow)
			return NULL;
	}
	uint8_t *at = r->buf + pos + RING_HDR + h->n;
	h->n += n;
	h->len = len;
	r->p_len = grow; /* ring_commit() adds it to head */
	return at;
}

static void ring_wake_consumer(struct ring *r)
{
	pthread_mutex_lock(&r->mu);
	pthread_cond_signal(&r->data);
	pthread_mutex_unlock(&r->mu);
}

void ring_commit(struct ring *r, enum ring_commit how)
{
	r->p_head += r->p_len;
	r->p_len = 0;
	if (how != RING_LAZY || r->p_head - r->p_published >= RING_PUBLISH)
		ring_publish(r, how == RING_URGENT);
}

static void ring_publish(struct ring *r, bool urgent)
{
	if (r->p_published == r->p_head && !urgent)
		return;
	r->p_published = r->p_head;
	atomic_store(&r->head, r->p_head);
	unsigned sleep = atomic_load(&r->consumer_asleep);
	if (!sleep || (!urgent && sleep == r->p_woken))
		return;
	if (urgent || r->p_head - atomic_load_explicit(&r->tail, memory_order_relaxed) >= RING_BATCH) {
		r->p_woken = sleep;
		ring_wake_consumer(r);
	}
}

void ring_close(struct ring *r)
{
	ring_publish(r, false);
	atomic_store(&r->closed, true);
	ring_wake_consumer(r);
}

/* Consumer: waits until something past c_tail was committed; false when closed and empty. */
static bool ring_wait_data(struct ring *r)
{
	if (r->c_head != r->c_tail)
		return true;
	for (unsigned spin = 0;; spin++) {
		r->c_head = atomic_load_explicit(&r->head, memory_order_acquire);
		if (r->c_head != r->c_tail)
			return true;
		if (spin < RING_SPIN) {
			ring_relax();
			continue;
		}
		if (atomic_load(&r->closed)) {
			r->c_head = atomic_load(&r->head);
			return r->c_head != r->c_tail;
		}
		pthread_mutex_lock(&r->mu);
		atomic_store(&r->consumer_asleep, ++r->c_sleeps ? r->c_sleeps : ++r->c_sleeps);
		if (atomic_load(&r->head) == r->c_tail && !atomic_load(&r->closed))
			ring_nap(r, &r->data, RING_CONSUMER_NAP_MS);
		atomic_store(&r->consumer_asleep, 0);
		pthread_mutex_unlock(&r->mu);
		spin = 0;
	}
}

const void *ring_next(struct ring *r, size_t *n)
{
	if (!ring_wait_data(r))
		return NULL;
	size_t pos = (size_t)(r->c_tail & r->mask);
	const struct ring_hdr *h = (const struct ring_hdr *)(r->buf + pos);
	if (h->len == RING_WRAP) {
		r->c_tail += r->cap - pos; /* the record after it was published with it */
		h = (const struct ring_hdr *)r->buf;
	}
	r->c_len = h->len;
	*n = (size_t)h->n;
	return (const uint8_t *)h + RING_HDR;
}

void ring_release(struct ring *r)
{
	r->c_tail += r->c_len;
	r->c_len = 0;
	atomic_store(&r->tail, r->c_tail);
	if (atomic_load(&r->producer_asleep) &&
	    r->cap - (size_t)(atomic_load(&r->head) - r->c_tail) >= atomic_load(&r->producer_wants)) {
		pthread_mutex_lock(&r->mu);
		pthread_cond_signal(&r->space);
		pthread_mutex_unlock(&r->mu);
	}
}
