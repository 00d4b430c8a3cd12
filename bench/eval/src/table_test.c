#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "words.h"

static int failed;

#define CHECK(c)                                                        \
	do {                                                            \
		if (!(c)) {                                             \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); \
			failed++;                                       \
		}                                                       \
	} while (0)

int main(void)
{
	struct table t;
	char buf[64];
	table_init(&t);
	for (int i = 0; i < 1000; i++) {
		snprintf(buf, sizeof buf, "w%d", i % 100);
		table_add(&t, buf);
	}
	CHECK(t.len == 100);
	CHECK(table_get(&t, "w7") == 10);
	CHECK(table_get(&t, "nope") == 0);
	struct entry *e = table_sorted(&t);
	CHECK(strcmp(e[0].word, "w0") == 0 && e[0].count == 10);
	free(e);
	table_free(&t);

	const char *s = "  Hello, hello WORLD! ";
	CHECK(next_word(&s, buf, sizeof buf) == 5 && strcmp(buf, "hello") == 0);
	CHECK(next_word(&s, buf, sizeof buf) == 5 && strcmp(buf, "hello") == 0);
	CHECK(next_word(&s, buf, sizeof buf) == 5 && strcmp(buf, "world") == 0);
	CHECK(next_word(&s, buf, sizeof buf) == 0);
	if (failed) {
		fprintf(stderr, "table_test: %d failed\n", failed);
		return 1;
	}
	printf("table_test: ok\n");
	return 0;
}
