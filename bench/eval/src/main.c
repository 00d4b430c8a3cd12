/* wordfreq: counts the words of standard input, most frequent first. */
#include <stdio.h>
#include <stdlib.h>

#include "words.h"

int main(void)
{
	struct table t;
	char line[4096], word[128];
	table_init(&t);
	while (fgets(line, sizeof line, stdin)) {
		const char *s = line;
		while (next_word(&s, word, sizeof word))
			table_add(&t, word);
	}
	struct entry *e = table_sorted(&t);
	for (struct entry *p = e; p->word; p++)
		printf("%s %u\n", p->word, p->count);
	free(e);
	table_free(&t);
	return 0;
}
