/* SPDX-License-Identifier: MIT */
/* calls.c - the name and kind of every call (see calls.h), from calls.def.
 * Pure constant data and lookups: safe anywhere, signal handlers included.
 */
#include "calls.h"

#include <string.h>

const struct st_call_info st_calls[ST_CALL_COUNT] = {
	[ST_CALL_NONE] = { "?", 0 },
#define WRAP(name, kind, ret, params, args) [ST_CALL_##name] = { #name, kind },
#define WRAPV WRAP
#define EVENT(name, kind) [ST_CALL_##name] = { #name, kind },
#include "calls.def"
#undef WRAP
#undef WRAPV
#undef EVENT
};

enum st_call st_call_lookup(const char *name)
{
	for (int c = ST_CALL_NONE + 1; c < ST_CALL_COUNT; c++)
		if (!strcmp(st_calls[c].name, name))
			return (enum st_call)c;
	return ST_CALL_NONE;
}
