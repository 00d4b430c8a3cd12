#include <ctype.h>

#include "words.h"

size_t next_word(const char **s, char *buf, size_t n)
{
	const char *p = *s;
	size_t len = 0;
	while (*p && !isalnum((unsigned char)*p))
		p++;
	while (*p && isalnum((unsigned char)*p)) {
		if (len + 1 < n)
			buf[len++] = (char)tolower((unsigned char)*p);
		p++;
	}
	buf[len] = '\0';
	*s = p;
	return len;
}
