/* SPDX-License-Identifier: MIT */
/* fuzz_reader.c - libFuzzer target: the trace reader.
 *
 * Each line of the input goes through st_rec_parse, and each event it
 * accepts is written back with the shim's own encoder and text renderer
 * (the json and text formats); then the whole input is read as a trace
 * file with st_trace_read, strict and not, and sorted.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "fuzz.h"
#include "reader.h"

static int read_both(int argc, char **argv)
{
	struct st_trace t = { 0 };

	(void)argc;
	(void)argv;
	st_trace_read(&t, NULL, false);
	st_trace_sort(&t);
	st_trace_free(&t);
	return 0;
}

static int read_strict(int argc, char **argv)
{
	struct st_trace t = { 0 };

	(void)argc;
	(void)argv;
	st_trace_read(&t, "-", true);
	st_trace_free(&t);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* room for the line of any event of a real trace; a longer one is cut
 * (the encoder then returns the length it needed, which the check allows) */
#define OUT_MAX 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[OUT_MAX];
	const char *p = (const char *)data, *end = p + size;
	char *argv[] = { "reader", NULL };

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct st_rec *r = st_rec_new();
		char why[256];

		if (!r)
			abort();
		if (st_rec_parse(r, p, len, why, sizeof(why))) {
			size_t n = st_encode_json(&r->ev, out, sizeof(out));
			if (n < sizeof(out) && strlen(out) != n)
				abort();
			st_render_text(&r->ev, out, sizeof(out), 0);
		} else if (!memchr(why, '\0', sizeof(why))) {
			abort();	/* the reason must be a string */
		}
		st_rec_free(r);
		p += len + 1;
	}
	fuzz_run_cmd(read_both, 1, argv, data, size);
	fuzz_run_cmd(read_strict, 1, argv, data, size);
	return 0;
}
