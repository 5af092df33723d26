/* SPDX-License-Identifier: MIT */
/* buf.c - bounded, allocation-free string building (see buf.h).
 * Runs inside the traced program: no malloc, no stdio, no locks. */
#include "buf.h"

#include <stdbool.h>
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

static const char hex_digits[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s (at most avail bytes: shortest
 * form, no surrogate, at most U+10FFFF), its code point in *cp; 0 when it
 * is not one. */
static int utf8_len(const unsigned char *s, size_t avail, unsigned *cp)
{
	int n, i;
	unsigned c;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if ((size_t)n > avail)
		return 0;
	c = s[0] & (0x7fu >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Code points that, though valid UTF-8, act on a terminal (C1 controls:
 * U+009B is CSI) or change the order or lines text is shown in (bidi
 * controls, Trojan Source; line and paragraph separators), and the BOM. */
static bool hostile_cp(unsigned cp)
{
	return cp <= 0x9f || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

static void put_hex2(struct st_buf *b, const char *pre, unsigned char c)
{
	st_buf_puts(b, pre);
	st_buf_putc(b, hex_digits[c >> 4]);
	st_buf_putc(b, hex_digits[c & 0xf]);
}

static void put_u4(struct st_buf *b, unsigned cp)
{
	ST_PUTL(b, "\\u");
	for (int sh = 12; sh >= 0; sh -= 4)
		st_buf_putc(b, hex_digits[(cp >> sh) & 0xf]);
}

/* JSON's escapes rather than a screen's: '"' always, other control bytes
 * and bytes that are not UTF-8 as \u00XX, every byte >= 0x80 kept */
#define ESC_JSON 0x100

/* The one escaping loop, for JSON strings and for screens alike. */
static void escape(struct st_buf *b, const unsigned char *s, const unsigned char *end, unsigned flags)
{
	const char *hex = (flags & ESC_JSON) ? "\\u00" : "\\x";

	if (flags & ESC_JSON)
		flags = (flags | ST_ESC_QUOTED) & ~(unsigned)ST_ESC_ASCII;
	while (s < end) {
		unsigned char c = *s;
		const unsigned char *run = s;

		/* the plain characters go in one copy */
		while (s < end && *s >= 0x20 && *s < 0x7f && *s != '\\' && (*s != '"' || !(flags & ST_ESC_QUOTED)))
			s++;
		if (s != run) {
			st_buf_putn(b, (const char *)run, (size_t)(s - run));
			continue;
		}
		if (c == '\\' || c == '"') {
			st_buf_putc(b, '\\');
			st_buf_putc(b, (char)c);
		} else if (c == '\n') {
			ST_PUTL(b, "\\n");
		} else if (c == '\t') {
			ST_PUTL(b, "\\t");
		} else if (c == '\r') {
			ST_PUTL(b, "\\r");
		} else if (c >= 0x80 && !(flags & ST_ESC_ASCII)) {
			unsigned cp = 0;
			int n = utf8_len(s, (size_t)(end - s), &cp);
			if (n) {
				if (hostile_cp(cp))
					put_u4(b, cp);
				else
					st_buf_putn(b, (const char *)s, (size_t)n);
				s += n;
				continue;
			}
			/* not UTF-8: the byte (in JSON, the code point of its value) */
			put_hex2(b, hex, c);
		} else {
			put_hex2(b, hex, c);
		}
		s++;
	}
}

void st_buf_jstr(struct st_buf *b, const char *str)
{
	st_buf_putc(b, '"');
	escape(b, (const unsigned char *)str, (const unsigned char *)str + strlen(str), ESC_JSON);
	st_buf_putc(b, '"');
}

void st_buf_escn(struct st_buf *b, const char *str, size_t len, unsigned flags)
{
	escape(b, (const unsigned char *)str, (const unsigned char *)str + len, flags & ~(unsigned)ESC_JSON);
}

void st_buf_esc(struct st_buf *b, const char *s, unsigned flags)
{
	st_buf_escn(b, s, strlen(s), flags);
}

size_t st_buf_finish(struct st_buf *b)
{
	if (b->cap)
		b->p[b->len < b->cap ? b->len : b->cap - 1] = '\0';
	return b->len;
}
