/* SPDX-License-Identifier: MIT */
/* untraced.h - the images a trace does not follow, said out loud.
 *
 * Owns: finding the `untraced` events of a trace that took effect (the
 * shim writes one before an exec whose image will not load it: a static
 * or Go program, a 32-bit one, a set-user-ID one, an environment without
 * LD_PRELOAD; a failed exec of the same process after it means the image
 * never ran), and the one sentence show and check print for each.
 * Never reads a file, never exits.
 */
#ifndef SOCKTRACE_UNTRACED_H
#define SOCKTRACE_UNTRACED_H

#include <stdbool.h>
#include <stddef.h>

#include "reader.h"


/* The same over the events recs[0..n) (in trace order): those untraced
 * events and failed execs (st_untraced_matters) are enough. */
size_t st_untraced_each_of(const struct st_rec *const *recs, size_t n,
			   void (*fn)(const struct st_rec *r, void *arg), void *arg);
/* Is r an event st_untraced_each_of needs: an untraced event, or a failed
 * exec (which may cancel one)? */
bool st_untraced_matters(const struct st_rec *r);

/* "pid N (COMM) exec'd PATH, an image the shim cannot enter (REASON):
 * its socket calls are not in this trace; socktrace --backend=ptrace
 * traces it" into buf (n bytes, always terminated); comm may be NULL. */
void st_untraced_words(const struct st_rec *r, const char *comm, char *buf, size_t n);

#endif
