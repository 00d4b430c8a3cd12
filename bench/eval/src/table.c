#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "words.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void table_init(struct table *t)
{
	t->cap = 16;
	t->len = 0;
	t->slots = calloc(t->cap, sizeof *t->slots);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i].word);
	free(t->slots);
}

static struct entry *find(const struct table *t, const char *word)
{
	size_t i = hash(word) & (t->cap - 1);
	while (t->slots[i].word && strcmp(t->slots[i].word, word) != 0)
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

static void grow(struct table *t)
{
	struct table n = {calloc(t->cap * 2, sizeof *t->slots), t->cap * 2, t->len};
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].word)
			*find(&n, t->slots[i].word) = t->slots[i];
	free(t->slots);
	*t = n;
}

unsigned table_add(struct table *t, const char *word)
{
	if (2 * (t->len + 1) > t->cap)
		grow(t);
	struct entry *e = find(t, word);
	if (!e->word) {
		e->word = strdup(word);
		t->len++;
	}
	return ++e->count;
}

unsigned table_get(const struct table *t, const char *word)
{
	const struct entry *e = find(t, word);
	return e->word ? e->count : 0;
}

static int by_count(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->word, y->word);
}

struct entry *table_sorted(const struct table *t)
{
	struct entry *out = malloc((t->len + 1) * sizeof *out);
	size_t n = 0;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].word)
			out[n++] = t->slots[i];
	qsort(out, n, sizeof *out, by_count);
	out[n].word = NULL;
	return out;
}
