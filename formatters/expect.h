/* SPDX-License-Identifier: MIT */
/* expect.h - the --expect pattern language of `socktrace check`: some
 * socket's lifecycle, as `show -f lifecycle` prints it, matches a pattern.
 *
 *   [pid=GLOB] [fd=GLOB] KIND [LOCAL] [-> REMOTE] STEP...
 *   tcp *:8080 socket setsockopt(SO_REUSEADDR) bind listen accept+ close
 *
 * KIND, LOCAL, REMOTE and each step are fnmatch(3) globs; a step repeats
 * with word+, word? or word* and exactly with word×N; "accept" matches
 * accept4 (a call matches its variants), a word without "@" matches the call
 * in any process.
 */
#ifndef SOCKTRACE_EXPECT_H
#define SOCKTRACE_EXPECT_H

#include <stdbool.h>
#include <stddef.h>

#include "check.h"

/* One step of a pattern: a word (glob) and how often it may repeat. */
struct expect_step {
	char *word;
	unsigned min, max;	/* max UINT_MAX: no bound */
};

/* A parsed pattern; every string its own (expect_free). */
struct expect_pattern {
	char *text;		/* as given */
	char *pid, *fd, *kind, *local, *remote;	/* globs, NULL any */
	struct expect_step *steps;
	size_t nsteps;
};

/* Parses text into p.  On error returns false with the reason in why,
 * which names the column (1: the first byte of text) where the pattern
 * goes wrong: a step's '(' never closed or ')' that closes none, an
 * endpoint's '[' never closed, a bad ×N, a step that is only a repeat mark, a '->' with nothing after
 * it (p then holds what was parsed so far: free it with expect_free). */
bool expect_parse(const char *text, struct expect_pattern *p, char *why, size_t whysz);
void expect_free(struct expect_pattern *p);
/* Do a and b ask the same (the same words, whatever blanks lie between
 * them in the text): a pattern given twice is judged once. */
bool expect_same(const struct expect_pattern *a, const struct expect_pattern *b);

/* The result "expect: TEXT" of p, judged as the sockets come (a check
 * reads the traces as a stream): expect_sock judges each socket once (retiring, or held at the
 * end; any order), keeping whether one matched and else the lifecycle
 * lines of the EXPECT_CLOSEST closest (by the distance of their steps,
 * then the order they appeared); expect_done then adds the result to c
 * once every socket was seen (no violation when some socket matched p,
 * else one naming the closest sockets' lifecycles, or saying the trace
 * has no sockets), and frees what seen
 * kept.  seen starts zeroed.  Out of memory: said on stderr, exit 2. */
#define EXPECT_CLOSEST 3
struct expect_seen {
	bool found;
	struct {
		size_t d;	/* edit distance of the steps */
		int id;		/* st_msock.id */
		char *line;	/* as show -f lifecycle prints it */
	} best[EXPECT_CLOSEST];
	size_t nbest;
};
void expect_sock(struct check *c, const struct expect_pattern *p, struct expect_seen *seen,
		 const struct st_msock *s);
void expect_done(struct check *c, const struct expect_pattern *p, struct expect_seen *seen);

#endif
