/* A word-count table: open addressing with linear probing. */
#ifndef WORDS_H
#define WORDS_H

#include <stddef.h>

struct entry {
	char *word;
	unsigned count;
};

struct table {
	struct entry *slots;
	size_t cap, len;
};

void table_init(struct table *t);
void table_free(struct table *t);
/* table_add counts one more occurrence of word and returns its count. */
unsigned table_add(struct table *t, const char *word);
unsigned table_get(const struct table *t, const char *word);
/* table_sorted returns the entries by count (descending), then word. */
struct entry *table_sorted(const struct table *t);

/* next_word copies the next lower-cased word of *s into buf (at most n-1
 * bytes), advances *s past it and returns its length, 0 at the end. */
size_t next_word(const char **s, char *buf, size_t n);

#endif
