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

static const uint64_t pow10_tab[] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
	100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
	10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL,
};

/* the n decimal digits of v (n its exact length or more: zeros lead),
 * written backwards from end, two at a time */
static inline void put_digits(char *end, uint64_t v, unsigned n)
{
	char *p = end;

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;
		v /= 100;
		p -= 2;
		p[0] = digit_pairs[d];
		p[1] = digit_pairs[d + 1];
	}
	if (v >= 10) {
		p -= 2;
		p[0] = digit_pairs[v * 2];
		p[1] = digit_pairs[v * 2 + 1];
	} else {
		*--p = (char)('0' + v);
	}
	while (p > end - n)
		*--p = '0';
}

void st_buf_u64w(struct st_buf *b, uint64_t v, int width)
{
	/* the number of digits: log2 * log10(2) (1233 / 4096), then exact */
	unsigned t = (unsigned)(64 - __builtin_clzll(v | 1)) * 1233 >> 12;
	unsigned n = t + (v >= pow10_tab[t]);

	if (n == 0)
		n = 1;
	if (width > 20)
		width = 20;
	if ((int)n < width)
		n = (unsigned)width;
	if (__builtin_expect(b->len + n < b->cap, 1)) {
		/* straight into the buffer: no copy */
		put_digits(b->p + b->len + n, v, n);
		b->len += n;
	} else {
		char tmp[20];
		put_digits(tmp + n, v, n);
		st_buf_putn(b, tmp, n);
	}
}

void st_buf_u64_big(struct st_buf *b, uint64_t v)
{
	st_buf_u64w(b, v, 1);
}

void st_buf_i64_neg(struct st_buf *b, int64_t v)
{
	st_buf_putc(b, '-');
	st_buf_u64w(b, (uint64_t)0 - (uint64_t)v, 1);
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

/* 1 for a byte that every escaping copies as it is: printable ASCII but
 * '"' and '\\' (NUL is 0: the scan of a C string stops on it) */
static const unsigned char plain[256] = {
	[0x20 ... 0x21] = 1,	/* '"' is 0x22 */
	[0x23 ... 0x5b] = 1,	/* '\\' is 0x5c */
	[0x5d ... 0x7e] = 1,
};

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
		while (s < end && (plain[*s] || (*s == '"' && !(flags & ST_ESC_QUOTED))))
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
	const unsigned char *s = (const unsigned char *)str;

	st_buf_putc(b, '"');
	/* the common case, plain characters: copied while scanned, as far as
	 * the buffer has room (the scan stops on the NUL too) */
	if (b->len < b->cap) {
		char *d = b->p + b->len, *lim = b->p + b->cap - 1;
		while (d < lim && plain[*s])
			*d++ = (char)*s++;
		b->len = (size_t)(d - b->p);
	}
	if (*s)
		escape(b, s, s + strlen((const char *)s), ESC_JSON);
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
