/* SPDX-License-Identifier: MIT */
/* fmt_text.c - `show -f text` and `show -f json`: one line per event.
 *
 * Owns: a line buffer that grows until the longest line fits, and one
 * event's line (show_event), which `show` calls for each event as it
 * comes when it streams.  The text
 * format is st_render_text, the very code the shim uses; json is
 * st_encode_json.  Neither is written a second time here, and nothing here
 * may make a line differ from the one the shim would have written.
 */
#include "show.h"

#include <stdlib.h>

#include "event.h"

static bool linebuf_fit(struct show_line *b, size_t need)
{
	char *p;

	if (need < b->cap)
		return true;
	p = realloc(b->p, need + 1);
	if (!p)
		return false;
	b->p = p;
	b->cap = need + 1;
	return true;
}

int show_event(struct show *sh, struct show_line *b, const struct st_rec *r, bool json)
{
	unsigned flags = (sh->color ? ST_RENDER_COLOR : 0) | (sh->utc ? ST_RENDER_UTC : 0);
	const struct st_event *ev = &r->ev;
	size_t n;

	if (!b->p && !linebuf_fit(b, 4096))
		return 2;
	n = json ? st_encode_json(ev, b->p, b->cap) : st_render_text(ev, b->p, b->cap, flags);
	if (n >= b->cap) {
		if (!linebuf_fit(b, n))
			return 2;
		n = json ? st_encode_json(ev, b->p, b->cap) : st_render_text(ev, b->p, b->cap, flags);
	}
	fwrite(b->p, 1, n, sh->out);
	return 0;
}

void show_line_free(struct show_line *b)
{
	free(b->p);
	b->p = NULL;
	b->cap = 0;
}

static int per_event(struct show *sh, bool json)
{
	struct show_line b = { NULL, 0 };
	int rc = 0;

	st_render_set_tz(sh->tz_offset);
	for (size_t i = 0; i < sh->nrecs && !rc; i++)
		rc = show_event(sh, &b, sh->recs[i], json);
	show_line_free(&b);
	return rc;
}

int show_text(struct show *sh)
{
	return per_event(sh, false);
}

int show_json(struct show *sh)
{
	return per_event(sh, true);
}
