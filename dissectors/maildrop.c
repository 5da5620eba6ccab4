/*
 * maildrop.c - per-session message table (see maildrop.h). Owns the uids and
 * sizes the server listed, and the deletion marks, and the parsing of the
 * LIST/UIDL listing lines that name them; pop3.c feeds it from
 * UIDL/LIST/DELE/RSET and reads it when a message streams and at the end.
 * Memory grows with the messages named (not with the highest number), at most
 * MAILDROP_MAX of them; nothing is allocated for a session that never lists
 * or deletes.
 */
#include "maildrop.h"

#include "bstr.h"

#include <stdlib.h>
#include <string.h>

struct slot {
	uint32_t number;
	uint8_t uid[EV_UID_MAX];
	uint8_t uid_len;
	bool marked;
	int64_t size;
};

/*
 * Slots are kept in the order first seen, found through an open-addressing
 * index, so memory follows the messages actually named, not the highest
 * number: one "LIST 100000" reply costs one slot, not 100,000 (a dense array
 * indexed by number let 20 bytes of a hostile capture cost 8.8 MB a session).
 */
struct maildrop {
	struct slot *slots;
	uint32_t count, cap;
	uint32_t *index;     /* slot position + 1; 0 = empty */
	uint32_t index_mask; /* index has index_mask + 1 entries, a power of two */
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
	free(m->index);
	free(m);
}

static uint32_t maildrop_hash(uint32_t n)
{
	return n * 2654435761u;
}

/* The slot of message n, or NULL. */
static struct slot *maildrop_find(const struct maildrop *m, uint32_t n)
{
	if (!m || !m->index)
		return NULL;
	for (uint32_t i = maildrop_hash(n) & m->index_mask;; i = (i + 1) & m->index_mask) {
		uint32_t v = m->index[i];
		if (v == 0)
			return NULL;
		if (m->slots[v - 1].number == n)
			return &m->slots[v - 1];
	}
}

/* Rebuilds the index with room for `want` slots at half load; false when out of memory. */
static bool maildrop_reindex(struct maildrop *m, uint32_t want)
{
	uint32_t size = 32;
	while (size < 2 * want)
		size *= 2;
	uint32_t *index = calloc(size, sizeof(*index));
	if (!index)
		return false;
	for (uint32_t k = 0; k < m->count; k++) {
		uint32_t i = maildrop_hash(m->slots[k].number) & (size - 1);
		while (index[i])
			i = (i + 1) & (size - 1);
		index[i] = k + 1;
	}
	free(m->index);
	m->index = index;
	m->index_mask = size - 1;
	return true;
}

/* The slot of message n, made on first use; NULL past the bound or out of memory. */
static struct slot *maildrop_slot(struct maildrop *m, uint32_t n)
{
	if (n == 0 || n > MAILDROP_MAX)
		return NULL;
	struct slot *s = maildrop_find(m, n);
	if (s)
		return s;
	if (m->count == m->cap) {
		uint32_t cap = m->cap ? m->cap * 2 : 16;
		if (cap > MAILDROP_MAX)
			cap = MAILDROP_MAX;
		struct slot *slots = realloc(m->slots, (size_t)cap * sizeof(*slots));
		if (!slots)
			return NULL;
		m->slots = slots;
		m->cap = cap;
	}
	if (!m->index || 2 * (m->count + 1) > m->index_mask + 1) {
		if (!maildrop_reindex(m, m->count + 1))
			return NULL;
	}
	s = &m->slots[m->count];
	memset(s, 0, sizeof(*s));
	s->number = n;
	s->size = -1;
	uint32_t i = maildrop_hash(n) & m->index_mask;
	while (m->index[i])
		i = (i + 1) & m->index_mask;
	m->index[i] = ++m->count;
	return s;
}

static void maildrop_set_uid(struct maildrop *m, uint32_t n, const uint8_t *uid, size_t len)
{
	struct slot *s = maildrop_slot(m, n);
	if (!s)
		return;
	s->uid_len = (uint8_t)(len < EV_UID_MAX ? len : EV_UID_MAX);
	memcpy(s->uid, uid, s->uid_len);
}

static void maildrop_set_size(struct maildrop *m, uint32_t n, uint64_t size)
{
	struct slot *s = maildrop_slot(m, n);
	if (!s)
		return;
	s->size = (int64_t)(size < INT64_MAX ? size : INT64_MAX);
}

static bool maildrop_blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

void maildrop_listing(struct maildrop *m, bool uidl, const uint8_t *s, size_t n)
{
	uint32_t num;
	size_t i = 0;
	while (i < n && s[i] == ' ')
		i++;
	if (!bytes_to_u32(s + i, n - i, &num))
		return;
	while (i < n && !maildrop_blank(s[i]))
		i++; /* the number */
	while (i < n && maildrop_blank(s[i]))
		i++;
	size_t end = i;
	while (end < n && !maildrop_blank(s[end]))
		end++;
	if (end == i)
		return;
	uint32_t size;
	if (uidl)
		maildrop_set_uid(m, num, s + i, end - i);
	else if (bytes_to_u32(s + i, end - i, &size))
		maildrop_set_size(m, num, size);
}

void maildrop_mark(struct maildrop *m, uint32_t n)
{
	struct slot *s = maildrop_slot(m, n);
	if (!s)
		return;
	s->marked = true;
}

void maildrop_unmark_all(struct maildrop *m)
{
	for (uint32_t i = 0; i < m->count; i++)
		m->slots[i].marked = false;
}

static void maildrop_fill(const struct slot *s, struct mailbox_entry *e)
{
	e->number = s->number;
	e->uid = bytes_of(s->uid, s->uid_len);
	e->size = s->size;
	e->marked = s->marked;
	e->folder = BYTES_NONE;
}

bool maildrop_get(const struct maildrop *m, uint32_t n, struct mailbox_entry *e)
{
	const struct slot *s = maildrop_find(m, n);
	if (!s)
		return false;
	maildrop_fill(s, e);
	return true;
}

static int maildrop_by_number(const void *a, const void *b)
{
	uint32_t x = ((const struct mailbox_entry *)a)->number;
	uint32_t y = ((const struct mailbox_entry *)b)->number;
	return x < y ? -1 : x > y;
}

size_t maildrop_list(const struct maildrop *m, struct mailbox_entry **out)
{
	*out = NULL;
	if (!m || m->count == 0 || !(*out = malloc(m->count * sizeof(**out))))
		return 0;
	for (uint32_t i = 0; i < m->count; i++)
		maildrop_fill(&m->slots[i], &(*out)[i]);
	qsort(*out, m->count, sizeof(**out), maildrop_by_number);
	return m->count;
}
