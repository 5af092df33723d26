/* SPDX-License-Identifier: MIT */
/* record_rt - every event of the traces given, through the compact record
 * the shim writes into shared memory and back (codec/record.c), must come
 * out as the same JSON line as it went in.
 *   record_rt TRACE...   prints "N events, M bytes of records"; exit 1 and
 *                        the first difference when a line differs
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "reader.h"
#include "record.h"

int main(int argc, char **argv)
{
	struct st_trace t = { 0 };
	size_t bytes = 0;
	static char a[1 << 20], b[1 << 20];
	static unsigned char rec[1 << 20];

	for (int i = 1; i < argc; i++)
		st_trace_read(&t, argv[i], false);
	if (t.bad) {
		fprintf(stderr, "record_rt: bad input\n");
		return 2;
	}
	for (size_t i = 0; i < t.n; i++) {
		const struct st_event *ev = &t.recs[i]->ev;
		struct st_event back;
		struct st_record_space sp;
		size_t n = st_record_encode(ev, rec, sizeof(rec)), need;

		if (n > sizeof(rec)) {
			fprintf(stderr, "record_rt: event %zu: record of %zu bytes\n", i, n);
			return 1;
		}
		bytes += n;
		need = st_record_space(rec, n);
		if (!need) {
			fprintf(stderr, "record_rt: %s:%ld: the record does not decode\n", t.recs[i]->file,
				t.recs[i]->line);
			return 1;
		}
		sp.p = malloc(need);
		sp.len = need;
		if (!sp.p || st_record_decode(rec, n, &back, &sp) < 0) {
			fprintf(stderr, "record_rt: %s:%ld: the record does not decode\n", t.recs[i]->file,
				t.recs[i]->line);
			return 1;
		}
		st_encode_json(ev, a, sizeof(a));
		st_encode_json(&back, b, sizeof(b));
		free(sp.p);
		if (strcmp(a, b)) {
			fprintf(stderr, "record_rt: %s:%ld differs:\n< %s> %s", t.recs[i]->file, t.recs[i]->line,
				a, b);
			return 1;
		}
	}
	printf("%zu events, %zu bytes of records\n", t.n, bytes);
	st_trace_free(&t);
	return 0;
}
