/*
 * workers_open.c - the table of workers_open.h: linear probing on the
 * flow_id (already a hash), at most half full, deletion by backward shift.
 */
#include "workers_open.h"

#include <stdlib.h>
#include <string.h>

#define WOPEN_MIN 1024

static size_t wopen_home(const struct wopen_table *t, uint64_t id)
{
	return (size_t)(id * 0x9E3779B97F4A7C15ULL >> 20) & (t->cap - 1);
}

static bool wopen_grow(struct wopen_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : WOPEN_MIN;
	struct wopen_table g = { calloc(cap, sizeof(*g.slot)), calloc(cap, sizeof(bool)), cap, 0 };
	if (!g.slot || !g.used) {
		free(g.slot);
		free(g.used);
		return false;
	}
	for (size_t i = 0; i < t->cap; i++)
		if (t->used[i])
			wopen_add(&g, &t->slot[i]);
	wopen_free(t);
	*t = g;
	return true;
}

bool wopen_add(struct wopen_table *t, const struct wmsg_open *m)
{
	if ((t->n + 1) * 2 > t->cap && !wopen_grow(t))
		return false;
	size_t i = wopen_home(t, m->flow.flow_id);
	while (t->used[i] && t->slot[i].flow.flow_id != m->flow.flow_id)
		i = (i + 1) & (t->cap - 1);
	t->n += !t->used[i];
	t->used[i] = true;
	t->slot[i] = *m;
	return true;
}

bool wopen_remove(struct wopen_table *t, uint64_t flow_id)
{
	if (!t->cap)
		return false;
	size_t i = wopen_home(t, flow_id);
	while (t->used[i] && t->slot[i].flow.flow_id != flow_id)
		i = (i + 1) & (t->cap - 1);
	if (!t->used[i])
		return false;
	t->used[i] = false;
	t->n--;
	/* backward shift: an entry after the hole that may move into it does */
	for (size_t j = (i + 1) & (t->cap - 1); t->used[j]; j = (j + 1) & (t->cap - 1)) {
		size_t h = wopen_home(t, t->slot[j].flow.flow_id);
		if (((j - h) & (t->cap - 1)) >= ((j - i) & (t->cap - 1))) {
			t->slot[i] = t->slot[j];
			t->used[i] = true;
			t->used[j] = false;
			i = j;
		}
	}
	return true;
}

void wopen_drain(struct wopen_table *t, void (*fn)(void *ctx, const struct wmsg_open *m), void *ctx)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->used[i]) {
			if (fn)
				fn(ctx, &t->slot[i]);
			t->used[i] = false;
		}
	t->n = 0;
}

void wopen_free(struct wopen_table *t)
{
	free(t->slot);
	free(t->used);
	memset(t, 0, sizeof(*t));
}
