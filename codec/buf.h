/* SPDX-License-Identifier: MIT */
/* buf.h - appending text into a caller's fixed buffer.
 *
 * Owns: bounded string building for the encoders.  Runs inside the traced
 * program, in signal handlers too: no malloc, no stdio, no locks, no errno
 * changes.  Appends past the capacity are counted but not stored, so the
 * caller learns the length a line would have had.
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
static inline void st_buf_putn(struct st_buf *b, const char *s, size_t n)
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
void st_buf_i64(struct st_buf *b, int64_t v);
void st_buf_u64(struct st_buf *b, uint64_t v);
void st_buf_hex(struct st_buf *b, uint64_t v);	/* 0x... */
/* v padded with zeros to at least width digits */
void st_buf_u64w(struct st_buf *b, uint64_t v, int width);
/* a JSON string literal, quotes included; bytes >= 0x80 pass as they are
 * when they form valid UTF-8, else as \u00XX */
void st_buf_jstr(struct st_buf *b, const char *s);
/* terminate (truncating if needed); returns the untruncated length */
size_t st_buf_finish(struct st_buf *b);

#endif
