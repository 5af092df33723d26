/* SPDX-License-Identifier: MIT */
/* buf.h - appending text into a caller's fixed buffer.
 *
 * Owns: bounded string building for the encoders.  Runs inside the traced
 * program, in signal handlers too: no malloc, no stdio, no locks, no errno
 * changes.  Appends past the capacity are counted but not stored, so the
 * caller learns the length a line would have had.  The bytes between the
 * length and the capacity are scratch: numbers are stored in whole words
 * and may write up to 8 bytes there (never past the capacity).
 */
#ifndef SOCKTRACE_BUF_H
#define SOCKTRACE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct st_buf {
	char *p;
	size_t cap;
	size_t len;
};

static inline void st_buf_init(struct st_buf *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
}

static inline void st_buf_putc(struct st_buf *b, char c)
{
	if (b->len + 1 < b->cap)
		b->p[b->len] = c;
	b->len++;
}

/* inline, so that a copy of a constant length becomes a few moves */
static inline __attribute__((always_inline)) void st_buf_putn(struct st_buf *b, const char *s, size_t n)
{
	if (__builtin_expect(b->len + n < b->cap, 1)) {
		__builtin_memcpy(b->p + b->len, s, n);
	} else if (b->len < b->cap) {
		size_t room = b->cap - b->len - 1;
		__builtin_memcpy(b->p + b->len, s, n < room ? n : room);
	}
	b->len += n;
}

/* a string literal */
#define ST_PUTL(b, lit) st_buf_putn((b), (lit), sizeof(lit) - 1)

void st_buf_puts(struct st_buf *b, const char *s);
void st_buf_u64_big(struct st_buf *b, uint64_t v);
void st_buf_i64_neg(struct st_buf *b, int64_t v);

/* a number in decimal; inline for the one-digit numbers most keys hold */
static inline void st_buf_u64(struct st_buf *b, uint64_t v)
{
	if (v < 10)
		st_buf_putc(b, (char)('0' + v));
	else
		st_buf_u64_big(b, v);
}

static inline void st_buf_i64(struct st_buf *b, int64_t v)
{
	if (v < 0)
		st_buf_i64_neg(b, v);
	else
		st_buf_u64(b, (uint64_t)v);
}
void st_buf_hex(struct st_buf *b, uint64_t v);	/* 0x... */
/* v padded with zeros to at least width digits */
void st_buf_u64w(struct st_buf *b, uint64_t v, int width);
/* us microseconds (>= 0) as seconds with six decimals: S.UUUUUU */
void st_buf_micros(struct st_buf *b, int64_t us);
/* a kernel timer's time left, ms milliseconds (>= 0), as a person reads
 * it: "204ms" under a second, "1.5s" (tenths, rounded down) under ten,
 * whole seconds rounded from there ("59s"): never "0s" for a timer that
 * still runs */
void st_buf_timer(struct st_buf *b, int64_t ms);
/* a JSON string literal, quotes included; bytes >= 0x80 pass as they are
 * when they form valid UTF-8, else as \u00XX; the code points that act on
 * a terminal or reorder text (see st_buf_esc) as \uXXXX */
void st_buf_jstr(struct st_buf *b, const char *s);

/* Escaping for a person's screen: every string a trace (or a peer, or
 * another user) chose goes through it before it is shown.  Printable
 * ASCII passes, '\' is doubled, '\n' '\t' '\r' are written so, other
 * bytes below 0x20 and DEL as \xNN; valid UTF-8 passes except the C1
 * controls U+0080-009F, the bidi marks, embeddings, overrides and
 * isolates (U+061C, U+200E-200F, U+202A-202E, U+2066-2069), the line and
 * paragraph separators (U+2028-2029) and U+FEFF, written as \uXXXX; a
 * byte that is not part of valid UTF-8 is \xNN.  So a '\\' in the output
 * always starts an escape, \xNN is always a byte and \uXXXX a code point.
 * At most 6 bytes out per byte in.  No locale, no malloc: the shim uses it. */
#define ST_ESC_QUOTED 0x1	/* shown inside "...": '"' as \" */
#define ST_ESC_ASCII 0x2	/* every byte >= 0x80 as \xNN (a terminal that is not UTF-8) */
void st_buf_esc(struct st_buf *b, const char *s, unsigned flags);
/* the same for n bytes, a NUL among them written as \x00 */
void st_buf_escn(struct st_buf *b, const char *s, size_t n, unsigned flags);
/* terminate (truncating if needed); returns the untruncated length */
size_t st_buf_finish(struct st_buf *b);

#endif
