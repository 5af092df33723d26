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

static const uint64_t pow10_tab[] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
	100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
	10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL,
};

/* The 8 decimal digits of v < 10^8 (zeros lead) as ASCII, the first digit
 * in the lowest byte: the two halves of 4 digits, then of 2, then single
 * digits are split in parallel, each lane of the word holding one part
 * (x / 100 as x * 10486 >> 20, exact for x < 43 699; x / 10 as
 * x * 103 >> 10, exact for x < 1 029), so no byte is made by a loop. */
static inline uint64_t digits8(uint32_t v)
{
	uint64_t t = (uint64_t)(v / 10000) | ((uint64_t)(v % 10000) << 32);
	uint64_t q = ((t * 10486) >> 20) & 0x0000007f0000007fULL;

	t = q | ((t - q * 100) << 16);
	q = ((t * 103) >> 10) & 0x000f000f000f000fULL;
	t = q | ((t - q * 10) << 8);
	return t + 0x3030303030303030ULL;
}

/* stores the 8 bytes of w at p, first byte first */
static inline void store8(char *p, uint64_t w)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	__builtin_memcpy(p, &w, 8);
}

/* n <= 8 bytes of s as one word (bytes read twice where two loads
 * overlap; a word of the same bytes, not in their order) */
static inline uint64_t load_upto8(const unsigned char *s, size_t n)
{
	if (n >= 4) {
		uint32_t a, b;
		__builtin_memcpy(&a, s, 4);
		__builtin_memcpy(&b, s + n - 4, 4);
		return (uint64_t)a | (uint64_t)b << 32;
	}
	if (n >= 2) {
		uint16_t a, b;
		__builtin_memcpy(&a, s, 2);
		__builtin_memcpy(&b, s + n - 2, 2);
		return (uint64_t)a | (uint64_t)b << 16 | (uint64_t)a << 32 | (uint64_t)b << 48;
	}
	return n ? s[0] * 0x0101010101010101ULL : 0x2020202020202020ULL;
}

/* the n decimal digits of v (n its exact length or more: zeros lead,
 * n <= 20) at p, which has room for 8 bytes more than n beyond the last
 * digit it holds: whole words are stored (the bytes after the n digits
 * are left as scratch) */
static inline void put_digits(char *p, uint64_t v, unsigned n)
{
	if (n <= 8) {
		/* the last n of the 8 digits: the first ones shifted out */
		store8(p, n == 8 ? digits8((uint32_t)v) : digits8((uint32_t)v) >> (8 * (8 - n)));
	} else if (n <= 16) {
		uint64_t hi = digits8((uint32_t)(v / 100000000));
		store8(p, hi >> (8 * (16 - n)));
		store8(p + n - 8, digits8((uint32_t)(v % 100000000)));
	} else {
		uint64_t top = v / 10000000000000000ULL;	/* 10^16: at most 4 digits */

		v %= 10000000000000000ULL;
		store8(p, digits8((uint32_t)top) >> (8 * (24 - n)));
		store8(p + n - 16, digits8((uint32_t)(v / 100000000)));
		store8(p + n - 8, digits8((uint32_t)(v % 100000000)));
	}
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
	if (__builtin_expect(b->len + n + 8 < b->cap, 1)) {
		/* straight into the buffer: no copy */
		put_digits(b->p + b->len, v, n);
		b->len += n;
	} else {
		char tmp[20 + 8];
		put_digits(tmp, v, n);
		st_buf_putn(b, tmp, n);
	}
}

void st_buf_micros(struct st_buf *b, int64_t us)
{
	/* 10-digit seconds (2001 to 2286), the common case: the 16 digits in
	 * two words, the point put between the 10th and the 11th */
	if (us >= 1000000000000000LL && us < 10000000000000000LL && b->len + 17 + 8 < b->cap) {
		char *p = b->p + b->len;
		uint64_t lo = digits8((uint32_t)((uint64_t)us % 100000000));

		store8(p, digits8((uint32_t)((uint64_t)us / 100000000)));
		store8(p + 8, lo);
		store8(p + 11, lo >> 16);
		p[10] = '.';
		b->len += 17;
		return;
	}
	st_buf_u64w(b, (uint64_t)us / 1000000, 1);
	st_buf_putc(b, '.');
	st_buf_u64w(b, (uint64_t)us % 1000000, 6);
}

void st_buf_timer(struct st_buf *b, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	if (ms < 1000) {
		st_buf_u64(b, (uint64_t)ms);
		ST_PUTL(b, "ms");
	} else if (ms < 10000) {
		st_buf_u64(b, (uint64_t)ms / 1000);
		st_buf_putc(b, '.');
		st_buf_u64(b, (uint64_t)ms / 100 % 10);
		st_buf_putc(b, 's');
	} else {
		st_buf_u64(b, ((uint64_t)ms + 500) / 1000);
		st_buf_putc(b, 's');
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

/* Whether any of the 8 bytes of w is not plain (see plain[]): below 0x20,
 * '"', '\\' or 0x7f and above; each test sets a byte's high bit only where
 * it holds (x - 0x01.. & ~x & 0x80.. finds a zero byte, exactly). */
static inline bool word_plain(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
	/* bytes < 0x20, w's high bits clear: (w - 0x20..) & ~w has the high bit */
	uint64_t low = (w - ones * 0x20) & ~w;
	/* bytes >= 0x7f: (w + 0x01..) sets the high bit of 0x7f; w's own high bit */
	uint64_t top = (w & ~high) + ones;

	return !(((low | ((q - ones) & ~q) | ((bs - ones) & ~bs)) | w | top) & high);
}

/* copies n bytes to d in whole words (overlapping at the end) */
static inline void copy_words(char *d, const char *s, size_t n)
{
	if (n <= 16) {
		if (n >= 8) {
			uint64_t a, b;
			__builtin_memcpy(&a, s, 8);
			__builtin_memcpy(&b, s + n - 8, 8);
			__builtin_memcpy(d, &a, 8);
			__builtin_memcpy(d + n - 8, &b, 8);
		} else if (n >= 4) {
			uint32_t a, b;
			__builtin_memcpy(&a, s, 4);
			__builtin_memcpy(&b, s + n - 4, 4);
			__builtin_memcpy(d, &a, 4);
			__builtin_memcpy(d + n - 4, &b, 4);
		} else if (n) {
			d[0] = s[0];
			d[n / 2] = s[n / 2];
			d[n - 1] = s[n - 1];
		}
	} else {
		memcpy(d, s, n);
	}
}

void st_buf_jstr(struct st_buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0;

	/* the common case, plain characters: checked 8 bytes at a time (never
	 * past the string's end: the last word overlaps the one before) and
	 * copied in words with the quotes around them */
	if (n >= 8) {
		for (;;) {
			uint64_t w;
			__builtin_memcpy(&w, s + i, 8);
			if (!word_plain(w))
				break;
			if (i + 8 >= n) {
				i = n;
				break;
			}
			i = i + 16 <= n ? i + 8 : n - 8;
		}
	} else if (word_plain(load_upto8(s, n))) {
		i = n;
	}
	if (i < n) {
		/* a byte to escape in the word at i: the plain ones before it */
		while (plain[s[i]])
			i++;
	}
	if (__builtin_expect(b->len + i + 2 < b->cap, 1)) {
		char *d = b->p + b->len;
		d[0] = '"';
		copy_words(d + 1, str, i);
		b->len += i + 1;
	} else {
		st_buf_putc(b, '"');
		st_buf_putn(b, str, i);
	}
	if (i < n)
		escape(b, s + i, s + n, ESC_JSON);
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
