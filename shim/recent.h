/* recent.h - the tuples of recently closed TCP connections (recent.c). */
#ifndef SOCKTRACE_RECENT_H
#define SOCKTRACE_RECENT_H

#include <stdbool.h>
#include <stdint.h>

void st_recent_add(const char *local, const char *remote);
bool st_recent_has(const char *local, const char *remote);
/* false when this process closed no connection at all (since fork) */
bool st_recent_any(void);
/* after fork: the child's closes are its own */
void st_recent_reset(void);

#endif
