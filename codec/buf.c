/* SPDX-License-Identifier: MIT */
/* buf.c - bounded, allocation-free string building (see buf.h).
 * Runs inside the traced program: no malloc, no stdio, no locks. */
#include "buf.h"

#include <string.h>

void st_buf_puts(struct st_buf *b, const char *s)
{
	st_buf_putn(b, s, strlen(s));
}

static const char digit_pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

void st_buf_u64w(struct st_buf *b, uint64_t v, int width)
{
	char tmp[24];
	int n = (int)sizeof(tmp);

	if (v < 10 && width <= 1) {	/* most counters of an event: 0, 1, a small fd */
		st_buf_putc(b, (char)('0' + v));
		return;
	}

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;
		v /= 100;
		tmp[--n] = digit_pairs[d + 1];
		tmp[--n] = digit_pairs[d];
	}
	if (v >= 10) {
		unsigned d = (unsigned)v * 2;
		tmp[--n] = digit_pairs[d + 1];
		tmp[--n] = digit_pairs[d];
	} else {
		tmp[--n] = (char)('0' + v);
	}
	while ((int)sizeof(tmp) - n < width && n > 0)
		tmp[--n] = '0';
	st_buf_putn(b, tmp + n, sizeof(tmp) - (size_t)n);
}

void st_buf_u64(struct st_buf *b, uint64_t v)
{
	st_buf_u64w(b, v, 1);
}

void st_buf_i64(struct st_buf *b, int64_t v)
{
	if (v < 0) {
		st_buf_putc(b, '-');
		st_buf_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		st_buf_u64(b, (uint64_t)v);
	}
}

void st_buf_hex(struct st_buf *b, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[18];
	int n = (int)sizeof(tmp);

	do {
		tmp[--n] = digits[v & 0xf];
		v >>= 4;
	} while (v);
	tmp[--n] = 'x';
	tmp[--n] = '0';
	st_buf_putn(b, tmp + n, sizeof(tmp) - (size_t)n);
}

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static int utf8_len(const unsigned char *s)
{
	int n, i;
	unsigned cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	cp = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void st_buf_jstr(struct st_buf *b, const char *str)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;

	st_buf_putc(b, '"');
	while (*s) {
		unsigned char c = *s;
		const unsigned char *run = s;

		/* the plain characters go in one copy */
		while (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\')
			s++;
		if (s != run) {
			st_buf_putn(b, (const char *)run, (size_t)(s - run));
			continue;
		}
		if (c == '"' || c == '\\') {
			st_buf_putc(b, '\\');
			st_buf_putc(b, (char)c);
		} else if (c == '\n') {
			st_buf_puts(b, "\\n");
		} else if (c == '\t') {
			st_buf_puts(b, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			st_buf_puts(b, "\\u00");
			st_buf_putc(b, digits[c >> 4]);
			st_buf_putc(b, digits[c & 0xf]);
		} else if (c >= 0x80) {
			int n = utf8_len(s);
			if (n) {
				st_buf_putn(b, (const char *)s, (size_t)n);
				s += n;
				continue;
			}
			st_buf_puts(b, "\\u00");
			st_buf_putc(b, digits[c >> 4]);
			st_buf_putc(b, digits[c & 0xf]);
		} else {
			st_buf_putc(b, (char)c);
		}
		s++;
	}
	st_buf_putc(b, '"');
}

size_t st_buf_finish(struct st_buf *b)
{
	if (b->cap)
		b->p[b->len < b->cap ? b->len : b->cap - 1] = '\0';
	return b->len;
}
