/*
 * maildrop.c - per-session message table (see maildrop.h). Owns the uids and
 * sizes the server listed, and the deletion marks; pop3.c fills it from
 * UIDL/LIST/DELE/RSET and reads it when a message streams and at the end.
 * Memory grows with the highest message number seen, bounded by MAILDROP_MAX;
 * nothing is allocated for a session that never lists or deletes.
 */
#include "maildrop.h"

#include <stdlib.h>
#include <string.h>

struct slot {
	uint8_t uid[MAILDROP_UID_MAX];
	uint8_t uid_len;
	bool known, marked;
	int64_t size;
};

struct maildrop {
	struct slot *slots; /* index n-1 */
	uint32_t cap;
};

struct maildrop *maildrop_new(void)
{
	return calloc(1, sizeof(struct maildrop));
}

void maildrop_free(struct maildrop *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

/* The slot of message n, grown into on demand; NULL past the bound. */
static struct slot *maildrop_slot(struct maildrop *m, uint32_t n)
{
	if (n == 0 || n > MAILDROP_MAX)
		return NULL;
	if (n > m->cap) {
		uint32_t cap = m->cap ? m->cap : 64;
		while (cap < n)
			cap *= 2;
		if (cap > MAILDROP_MAX)
			cap = MAILDROP_MAX;
		struct slot *s = realloc(m->slots, (size_t)cap * sizeof(*s));
		if (!s)
			return NULL;
		memset(s + m->cap, 0, (size_t)(cap - m->cap) * sizeof(*s));
		for (uint32_t i = m->cap; i < cap; i++)
			s[i].size = -1;
		m->slots = s;
		m->cap = cap;
	}
	return &m->slots[n - 1];
}

void maildrop_set_uid(struct maildrop *m, uint32_t n, const uint8_t *uid, size_t len)
{
	struct slot *s = maildrop_slot(m, n);
	if (!s)
		return;
	s->uid_len = (uint8_t)(len < MAILDROP_UID_MAX ? len : MAILDROP_UID_MAX);
	memcpy(s->uid, uid, s->uid_len);
	s->known = true;
}

void maildrop_set_size(struct maildrop *m, uint32_t n, uint64_t size)
{
	struct slot *s = maildrop_slot(m, n);
	if (!s)
		return;
	s->size = (int64_t)(size < INT64_MAX ? size : INT64_MAX);
	s->known = true;
}

void maildrop_mark(struct maildrop *m, uint32_t n)
{
	struct slot *s = maildrop_slot(m, n);
	if (!s)
		return;
	s->marked = true;
	s->known = true;
}

void maildrop_unmark_all(struct maildrop *m)
{
	for (uint32_t i = 0; i < m->cap; i++)
		m->slots[i].marked = false;
}

static void maildrop_fill(const struct maildrop *m, uint32_t i, struct mailbox_entry *e)
{
	const struct slot *s = &m->slots[i];
	e->number = i + 1;
	e->uid = bytes_of(s->uid, s->uid_len);
	e->size = s->size;
	e->marked = s->marked;
}

bool maildrop_get(const struct maildrop *m, uint32_t n, struct mailbox_entry *e)
{
	if (!m || n == 0 || n > m->cap || !m->slots[n - 1].known)
		return false;
	maildrop_fill(m, n - 1, e);
	return true;
}

size_t maildrop_list(const struct maildrop *m, struct mailbox_entry **out)
{
	*out = NULL;
	size_t count = 0;
	for (uint32_t i = 0; m && i < m->cap; i++)
		count += m->slots[i].known;
	if (count == 0 || !(*out = malloc(count * sizeof(**out))))
		return 0;
	size_t k = 0;
	for (uint32_t i = 0; i < m->cap; i++)
		if (m->slots[i].known)
			maildrop_fill(m, i, &(*out)[k++]);
	return k;
}
