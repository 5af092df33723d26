/* SPDX-License-Identifier: MIT */
/* fmt_connections.c - `show -f connections`: one JSON object per TCP
 * connection, as tcplife gives one line per connection, for jq and
 * spreadsheets.
 *
 * Owns: the object's keys and what each says (socktrace(1) lists them):
 * both ends (address, and for a traced end its pid, command, descriptor,
 * final state, how it ended, the kernel's state at exit), the start, the
 * duration, the data bytes each way, who closed first, the reset, rtt and
 * retransmits.  Reads the model only (model_conns.c joins the ends and
 * decides the closer, as for the timeline); unknown is null, never 0.
 */
#include "show.h"

#include <inttypes.h>

#include "buf.h"

/* a JSON string (quotes included), or null for NULL */
static void jstr(FILE *out, const char *s)
{
	char tmp[2048];
	struct st_buf b;

	if (!s) {
		fputs("null", out);
		return;
	}
	st_buf_init(&b, tmp, sizeof(tmp));
	st_buf_jstr(&b, s);
	if (st_buf_finish(&b) >= sizeof(tmp)) {
		/* longer than any address or command line kept: say so */
		fputs("\"(too long)\"", out);
		return;
	}
	fputs(tmp, out);
}

/* the counters an end left at its end (see fmt_timeline.c): those of a
 * close that did not end it are not the connection's */
static const struct st_rec *final_tcp(const struct st_msock *s)
{
	return s && s->tcp_final ? s->tcp_rec : NULL;
}

/* queued: the traced listener that never accepted this end (a server end) */
static void end_object(const struct show *sh, const char *addr, const struct st_msock *s,
		       const struct st_ksock *later, const struct st_msock *queued)
{
	char comm[256], words[128];

	fputs("{\"addr\":", sh->out);
	jstr(sh->out, addr[0] ? addr : NULL);
	fprintf(sh->out, ",\"traced\":%s", s ? "true" : "false");
	if (!s && queued)
		fprintf(sh->out, ",\"never_accepted\":true,\"listener_pid\":%" PRId64 ",\"listener_fd\":%d",
			queued->pid, queued->fd);
	if (s) {
		fprintf(sh->out, ",\"pid\":%" PRId64 ",\"comm\":", s->pid);
		jstr(sh->out, show_sock_comm(sh, s, comm, sizeof(comm)));
		fprintf(sh->out, ",\"fd\":%d,\"final_state\":", s->fd);
		jstr(sh->out, s->final_state);
		fputs(",\"end\":", sh->out);
		jstr(sh->out, st_msock_end_words(s, words, sizeof(words)));
		fputs(",\"state_at_exit\":", sh->out);
		jstr(sh->out, later ? later->state : NULL);
	}
	fputc('}', sh->out);
}

static const char *closer_word(enum st_closer c)
{
	switch (c) {
	case ST_CLOSER_CLIENT: return "client";
	case ST_CLOSER_SERVER: return "server";
	case ST_CLOSER_BOTH: return "both";
	case ST_CLOSER_NONE: return "none";
	default: return NULL;
	}
}

static void u64_or_null(FILE *out, const char *key, bool known, uint64_t v)
{
	if (known)
		fprintf(out, ",\"%s\":%" PRIu64, key, v);
	else
		fprintf(out, ",\"%s\":null", key);
}

static void connection(const struct show *sh, const struct st_conn *c)
{
	const struct st_msock *cl = c->client, *sv = c->server;
	const struct st_rec *tcl = final_tcp(cl), *tsv = final_tcp(sv);
	const struct st_rec *tc = cl ? st_msock_teardown(cl) : NULL;
	const struct st_rec *ts = sv ? st_msock_teardown(sv) : NULL;
	const struct st_rec *any = cl && cl->tcp_rec ? cl->tcp_rec : sv ? sv->tcp_rec : NULL;
	int64_t end = tc ? tc->ev.ts_us : -1;
	uint64_t up = 0, down = 0;

	if (ts && (end < 0 || ts->ev.ts_us < end))
		end = ts->ev.ts_us;
	if (tcl)
		st_msock_data(cl, tcl, &up, &down);
	else if (tsv)
		st_msock_data(sv, tsv, &down, &up);

	fprintf(sh->out, "{\"id\":%d,\"start\":%" PRId64 ".%06" PRId64, c->id, c->t_start / 1000000,
		c->t_start % 1000000);
	if (end >= 0)
		fprintf(sh->out, ",\"duration_us\":%" PRId64, end - c->t_start);
	else
		fputs(",\"duration_us\":null", sh->out);
	fprintf(sh->out, ",\"established\":%s,\"failure\":", c->established ? "true" : "false");
	jstr(sh->out, c->failure);
	fputs(",\"client\":", sh->out);
	end_object(sh, c->caddr, cl, c->later_client, NULL);
	fputs(",\"server\":", sh->out);
	end_object(sh, c->saddr, sv, c->later_server, c->queued_on);
	u64_or_null(sh->out, "bytes_client_to_server", tcl || tsv, up);
	u64_or_null(sh->out, "bytes_server_to_client", tcl || tsv, down);
	fputs(",\"closed_first\":", sh->out);
	jstr(sh->out, closer_word(c->closer));
	/* a connection left in a listener's queue: the kernel reset it when
	 * the listener closed, on the server's side */
	fprintf(sh->out, ",\"reset\":%s,\"reset_by\":", c->reset || c->queue_reset ? "true" : "false");
	jstr(sh->out, c->queue_reset && !c->reset ? "server" :
		 !c->reset || !c->reset_by ? NULL : c->reset_by == cl ? "client" : "server");
	u64_or_null(sh->out, "rtt_us", any && any->ev.tcp.rtt_us, any ? any->ev.tcp.rtt_us : 0);
	u64_or_null(sh->out, "retransmits", tcl || tsv,
		    (tcl ? tcl->ev.tcp.total_retrans : 0) + (tsv ? tsv->ev.tcp.total_retrans : 0));
	/* an AF_UNIX connection (TCP's have no such key) */
	if (c->is_unix)
		fprintf(sh->out, ",\"kind\":\"%s\"", c->pair ? "socketpair" : "unix");
	fputs("}\n", sh->out);
}

void show_connections_conn(struct show *sh, const struct st_conn *c)
{
	if (show_keep_conn(sh, c))
		connection(sh, c);
}

int show_connections(struct show *sh)
{
	const struct st_model *m = sh->model;

	for (size_t i = 0; i < m->nconns; i++)
		show_connections_conn(sh, m->conns[i]);
	return 0;
}
