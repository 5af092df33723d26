/* SPDX-License-Identifier: MIT */
/* model.h - sockets, connections and processes rebuilt from events.
 *
 * Owns: following descriptors through socket/accept/dup/fork/close into
 * sockets (one per kernel socket, whatever descriptors alias it), and
 * joining the two ends of a TCP connection traced in two processes by their
 * tuple (client local == server remote), those of an AF_UNIX stream one by
 * inode (the accepted end's peer_inode).  Shared by `show` and `check`.
 * Reads events only; never prints.
 */
#ifndef SOCKTRACE_MODEL_H
#define SOCKTRACE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reader.h"

struct st_conn;
struct st_builder;
struct st_model;
struct st_map;
struct st_ent;

/* How a socket's life ended: by the last descriptor of the last process
 * that held it (a close of one copy, while another remains, is not its
 * end). */
enum st_end {
	ST_END_OPEN,		/* still held when the trace ends (its holder's end not seen) */
	ST_END_CLOSED,		/* the program closed it (close, close_range, closefrom, an
				 * implicit dup2, fclose, freopen) */
	ST_END_EXIT,		/* its last holder ended holding it (a leak or not:
				 * st_msock_leaked) */
	ST_END_ELSEWHERE,	/* closed here, still held by a process with no events (fork) */
	ST_END_EXEC,		/* closed by the kernel at an exec (close-on-exec) */
	ST_END_KILLED,		/* its process was killed by a signal holding it */
	ST_END_UNSEEN,		/* closed out of the shim's sight (noticed later: a gone event) */
	ST_END_UNTRACED,	/* its process ended in an image the trace does not follow (an
				 * exec of an untraced program): what became of it is unknown */
};

/* One process's hold of a socket: from the return of the call that gave
 * the process its first descriptor naming it (socket, accept, dup of an
 * unseen alias, its fork -- a child holds its parent's sockets from the
 * fork --, an SCM_RIGHTS receive, its start's list of sockets held from
 * before the trace) to the call that took its last (its close of that
 * copy, a bulk close, a dup2 over it, exec's close-on-exec, its exit or
 * death), whether or not another process still holds the socket. */
struct st_hold {
	int64_t pkey;		/* the process (st_proc.key) */
	int64_t from_us, to_us;	/* ts_us; to_us -1: still held when the trace ends */
	uint64_t from_n, to_n;	/* the order of the two among every hold's
				 * beginnings and ends (the model's), to_n 0 with to_us */
	int nfds;		/* its descriptors naming the socket now (model) */
	/* how the hold ended, whatever other processes still held: a close
	 * of its own (ST_END_CLOSED: close, a bulk close, a dup2 over it),
	 * ST_END_EXEC (close-on-exec), ST_END_UNSEEN, or its process's end
	 * with it (ST_END_EXIT, ST_END_KILLED, ST_END_UNTRACED);
	 * ST_END_OPEN while held; an enum st_end in a byte, so that the
	 * hold stays 48 bytes */
	uint8_t how;
	bool handed;		/* ... its end was that of an image that held it from
				 * its start (exec, inetd-style stdio) or of a
				 * daemon()'s parent (handed to the child) */
};

/* A process: its latest image's start and exit, and its end as another
 * process saw it (its parent, the runner). */
struct st_proc {
	int64_t pid, ppid;
	int64_t key;		/* pid with its origin (st_rec.pkey): two machines'
				 * pid 4242 are two processes */
	const struct st_rec *start, *exit;	/* may be NULL */
	const struct st_rec *end;	/* an end event about it, NULL none */
	const struct st_rec *first;	/* its first event */
	size_t nevents;
	int images;		/* start events: 2 and more after exec */
	const struct st_rec **starts;	/* each image's start, in order (images
					 * of them; starts[images - 1] is start) */
	bool ended;		/* its current image is over (exit or end seen) */
	bool forked;		/* a fork event of its parent made it */
	/* the most sockets its descriptors named at once (each socket once,
	 * whatever descriptors alias it; a socket another process also holds
	 * counts here while this process holds a copy), and when it first
	 * held that many (ts_us, 0 never held one); counted as the model is
	 * fed, the same for a retiring model (st_model_retiring) as for
	 * the whole trace; set by st_model_finish */
	int open_peak;
	int64_t open_peak_us;
	struct st_ent *held;	/* model: the descriptors an end without an exit
				 * event took from its image, which a child forked
				 * inside libc (daemon) may still hold; NULL none */
	size_t nheld;
	size_t capstarts;	/* model: room in starts */
};


/* A socket's life as the trace tells it: one per kernel socket, whatever
 * descriptors and processes held it.  (Not the shim's live record of a
 * descriptor, struct st_sock of shim/fdtable.h.) */
struct st_msock {
	int id;			/* 1.. in the order the sockets appear */
	int64_t pid;		/* where it was made (or first seen) */
	int64_t pkey;		/* ... that process's key (st_proc.key) */
	unsigned origin;	/* ... and its origin (st_rec.origin) */
	unsigned machine;	/* ... and machine (st_rec.machine): whose kernel */
	int fd;
	bool inherited;		/* first seen without the call that made it */
	bool told_listening;	/* first seen so: the start's list of inherited
				 * sockets, or the SCM_RIGHTS message that
				 * brought it, said it listens (SO_ACCEPTCONN) */
	const char *family, *type, *proto;	/* may be NULL */
	/* last known, "" unknown: point into its events (or its start's list
	 * of inherited sockets), which live as long as the model */
	const char *local, *remote;
	uint64_t inode;
	/* AF_UNIX stream/seqpacket: the inode of the other end, as its accept
	 * (or socketpair) event says (peer_inode); 0 unknown */
	uint64_t peer_inode;

	/* the events on it, in time order (accepts on a listener included) */
	const struct st_rec **evs;
	size_t nevs, capevs;

	const struct st_rec *made;	/* socket/socketpair/accept*, NULL when inherited */
	const struct st_rec *bind;	/* the last bind, NULL none */
	const struct st_rec *listen;	/* successful listen */
	const struct st_rec *connect;	/* the first connect */
	const struct st_rec *connected;	/* the event that saw the connect finish */
	const struct st_rec *shutdown;	/* the first shutdown that stopped sending */
	const struct st_rec *close;	/* the event that ended it */
	const struct st_rec *tcp_rec;	/* the last event with tcp counters */
	struct st_msock *listener;	/* accepted: the listening socket */
	struct st_msock *peer;	/* socketpair: the other end */
	struct st_conn *conn;	/* TCP connection, NULL none */
	unsigned accepted;	/* listener: connections accepted */
	unsigned queued;	/* listener: traced clients' connections it never accepted */
	unsigned errors;	/* failed calls on it */
	bool connect_failed;	/* refused, timed out... (sync or async) */
	const char *connect_err;	/* its errno name */

	enum st_end end;
	int64_t end_pid;	/* the process whose last descriptor ended it (or held it at its end) */
	int64_t end_pkey;	/* ... its key, -1 none */
	const struct st_rec *end_rec;	/* the event that ended it (close, gone, exec, exit, end) */
	int64_t t_first, t_end;	/* ts_us; t_end of the last event when still open */
	const char *final_state;	/* TCP state it was left in, NULL unknown */
	bool tcp_final;		/* tcp_rec is the event that ended it: its counters are the last */
	bool self_connect;	/* connected to its own address */
	bool received;		/* first seen arriving in an SCM_RIGHTS message */
	bool handed;		/* ended with a process image that held it from its start
				 * (handed to it at exec, as stdio of an inetd-style child) */

	/* the processes that held it, and when: those whose hold ended
	 * first (holds[0 .. nended), in the order they let go), then those
	 * holding it still */
	struct st_hold *holds;
	size_t nholds, capholds, nended;

	unsigned live_accepted;	/* listener: its accepted sockets not retired (model) */
	/* the event that made it known: its time (st_rec_effect_us) and place
	 * (st_rec.order), which order the sockets as a sorted trace does when
	 * the model was fed through a window (st_model_retiring) */
	int64_t seen_us;
	size_t seen_order;
	bool retiring;		/* chosen to retire in this round (model) */
	int nrefs;		/* descriptors holding it now, in every process (model) */
	int in_flight;		/* sent with SCM_RIGHTS, not yet seen received (model) */
	const struct st_ksock *later;	/* TCP: its entry in the kernel's table at an
					 * exit after its end (an exit event's
					 * lingering list), NULL none (model_conns.c) */
	const struct st_rec *later_exit;	/* ... that exit event */
};

/* Who sent the first FIN (or RST). */
enum st_closer {
	ST_CLOSER_UNKNOWN,
	ST_CLOSER_CLIENT,
	ST_CLOSER_SERVER,
	ST_CLOSER_BOTH,		/* simultaneous close */
	ST_CLOSER_NONE,		/* neither end closed in the trace */
};

/* One TCP connection (or attempt): a connecting socket, an accepted one,
 * or both joined by their tuple.  Or one AF_UNIX stream (or seqpacket)
 * connection, both ends traced: a client that connected and the accepted
 * socket whose peer_inode is the client's inode (same machine), or the
 * two ends of a socketpair (client the first, server the second). */
struct st_conn {
	int id;			/* 1.. in time order */
	struct st_msock *client, *server;	/* either may be NULL (never for unix) */
	bool is_unix;		/* an AF_UNIX connection: no TCP states, no tuple; the
				 * first teardown (shutdown or close) of an end is
				 * the first close */
	bool pair;		/* ... the two ends of a socketpair: no address */
	/* client and server endpoints, "" unknown: point into its sockets'
	 * events, which live as long as the model */
	const char *caddr, *saddr;
	int64_t t_start, t_end;
	bool established;	/* the handshake completed */
	const char *failure;	/* errno name of a failed connect, NULL */
	enum st_closer closer;
	bool self;		/* one socket connected to itself: client is it, no server */
	bool reset;		/* an end closed with RST */
	struct st_msock *reset_by;
	/* reset: a FIN that came before the RST (an end's shutdown or close),
	 * the earliest; NULL none */
	const struct st_rec *fin_before_reset;
	struct st_msock *fin_by;	/* ... the end that sent it */
	/* client only: the traced listener it connected to, which never
	 * accepted it (it waited in that listener's backlog), NULL none */
	struct st_msock *queued_on;
	bool queue_reset;	/* ... whose end reset it (RST) before the client's own teardown */
	/* the kernel's table at exit (lingering), matched by tuple */
	const struct st_ksock *later_client, *later_server;
};

/* Retiring what has ended, for a trace too big to hold (st_model_retiring):
 * when more than hold events are held, each socket that ended at least
 * after_us (of trace time) before the latest event fed, that no descriptor
 * names any more and whose accepted sockets have retired, goes, with its
 * events: a TCP end together with the other end of its connection (both
 * ended), or alone when the other end is not in the trace (and, a client,
 * no traced listener still open may yet accept it).  Each is handed to the
 * callbacks first, fully decided (its end, final state, the kernel's table
 * at the exits fed so far), then freed. */
struct st_retire {
	size_t hold;		/* events held before a round (> 0) */
	int64_t after_us;	/* trace time from a socket's end to its retirement */
	/* each retiring socket, in the order they appeared (st_msock.id); NULL none */
	void (*sock)(void *arg, const struct st_model *m, const struct st_msock *s);
	/* each connection of the retiring TCP ends, numbered (st_conn.id) on
	 * from the last round's, in time order within the round (before the
	 * sockets'); NULL none */
	void (*conn)(void *arg, const struct st_model *m, const struct st_conn *c);
	/* each event once, as the model lets go of it: with the socket it is
	 * counted under (owner: its listener for an accept, else its socket;
	 * NULL none) as that socket retires (after the socket's own call), or
	 * when it is freed when it has none.  The events not yet handed at the
	 * end: st_model_untold.  NULL none */
	void (*rec)(void *arg, const struct st_model *m, const struct st_rec *r, const struct st_msock *owner);
	void *arg;
};

struct st_model {
	struct st_msock **socks;	/* retiring: only those not retired */
	size_t nsocks;
	struct st_conn **conns;
	size_t nconns;
	struct st_proc **procs;
	size_t nprocs;
	int64_t t_first, t_last;	/* ts_us of the first and last event */
	size_t nfed;		/* events fed so far */
	struct st_builder *building;	/* fed event by event, not yet finished;
					 * NULL once st_model_finish ran (model.c) */
	int next_sock_id;	/* the id of the next socket made, less one */
	/* retiring (st_model_retiring) */
	bool retiring;
	struct st_retire retire;
	size_t live_recs;	/* events held (model_retire.c) */
	size_t ahead;		/* events the caller holds, read and not yet fed
				 * (the stream's window): counted against the hold
				 * with live_recs; set by the caller before each
				 * st_model_release */
	size_t next_round;	/* ... a round when above this */
	int64_t next_round_us;	/* ... and once the trace is past this time */
	/* TCP ends that retired with no other end, by tuple (model_conns.c),
	 * and the ends that came later with the other side of such a tuple:
	 * connections printed as two halves, their ends more than the window
	 * apart (clocks apart, a trace that lags behind) */
	struct st_map *lone;
	size_t split;
	size_t socks_retired, conns_retired, rounds;
	struct st_rec **pinned;	/* records kept to the end: processes' starts,
				 * exits and ends, st_model_keep's, digests */
	size_t npinned, cappinned;
	struct st_rec **digests;	/* ... of which the digests (model_retire.c) */
	size_t ndigests, capdigests;
};

/* Builds the model from events sorted by st_trace_sort; sets each record's
 * sock/lsock.  Returns 0, or -1 when out of memory.  The same as
 * st_model_begin, st_model_feed of each event and st_model_finish. */
int st_model_build(struct st_model *m, struct st_rec *const *recs, size_t n);

/* The model fed one event at a time, as a stream hands them out (in the
 * order st_trace_sort gives, st_stream_next's): begin empties m and makes
 * its builder; feed follows one event (sets its sock/lsock; the model
 * keeps a pointer to r, which must live as long as m); finish decides what
 * only the end can tell (sockets held by processes that left no events,
 * states left) and joins the connections (m->conns).  The sockets and
 * processes are readable between feeds; m->conns only after finish.  Each
 * returns 0, or -1 when out of memory (m then only fit for
 * st_model_free). */
int st_model_begin(struct st_model *m);
int st_model_feed(struct st_model *m, struct st_rec *r);
int st_model_finish(struct st_model *m);

/* Frees what m holds (finished or not); the records stay the caller's
 * (but for a retiring model's: it frees them). */
void st_model_free(struct st_model *m);

/* Makes m, just begun (st_model_begin), retire what has ended as it is fed
 * (struct st_retire).  The model then owns the records fed to it: the
 * caller gives each back with st_model_release once done with it (after
 * st_model_feed; its sock and lsock set), and must not touch it after.
 * What retired is gone from the model: st_model_finish decides only about
 * the sockets still held, the kernel's table at a later exit is not
 * matched to a retired connection (nor a retired socket's options to a
 * later failed bind's TIME_WAIT holders).  open_peak is the whole
 * trace's: counted as the holds begin and end, retired or not.  0, or -1
 * when out of memory. */
int st_model_retiring(struct st_model *m, const struct st_retire *rt);
/* r given back after st_model_feed (retiring: freed unless the model holds
 * it; may run a round of retirement and its callbacks).  -1 when out of
 * memory. */
int st_model_release(struct st_model *m, struct st_rec *r);
/* r kept to st_model_free (retiring; the caller reads it at the end) */
void st_model_keep(struct st_model *m, struct st_rec *r);
/* r added to the caller's list (*v, *n of *cap, grown as needed) and kept
 * to st_model_free (st_model_keep); false when out of memory (r then
 * neither listed nor kept) */
bool st_model_keep_in(struct st_model *m, const struct st_rec ***v, size_t *n, size_t *cap, struct st_rec *r);
/* r kept by the caller past st_model_release, to be read (its fields,
 * and its sock and lsock until their sockets retire: then NULL) until it
 * gives it back with st_model_let_go; taken after st_model_feed and
 * before st_model_release.  Retiring only; it counts against the hold as
 * the model's own records do.  let_go frees r when the model no longer
 * holds it either. */
void st_model_take(struct st_model *m, struct st_rec *r);
void st_model_let_go(struct st_model *m, struct st_rec *r);
/* The events a retiring model still holds that st_retire's rec was not
 * given (finished or not), by time (st_rec_effect_us, then order): a new
 * array in *out (free it), their count; -1 when out of memory. */
long st_model_untold(const struct st_model *m, const struct st_rec ***out);

/* the latest process of that pid (of any origin), NULL none */
struct st_proc *st_model_proc(const struct st_model *m, int64_t pid);
/* the process of that key (st_proc.key), NULL none */
struct st_proc *st_model_proc_key(const struct st_model *m, int64_t key);

/* The start event of p's image that was running at r (the last start
 * not after r: an image's events, its exec call included, come before
 * the next image's start), p's latest start when r is NULL or not of p;
 * NULL when p has no start. */
const struct st_rec *st_proc_image_at(const struct st_proc *p, const struct st_rec *r);
/* The start event of p's image that was running at ts_us (microseconds
 * since the epoch, as st_event.ts_us): the last start not after it; p's
 * first start when ts_us is before every start, its latest when ts_us
 * is 0 (unknown); NULL when p has no start. */
const struct st_rec *st_proc_image_at_us(const struct st_proc *p, int64_t ts_us);
/* The start event of the image that made s (its socket or accept call; the
 * image that first held it when no call made it in the trace), NULL when
 * unknown.  Not the process's latest image: a socket made before an exec
 * and inherited across it was made by the image before. */
const struct st_rec *st_msock_maker_image(const struct st_model *m, const struct st_msock *s);

/* "127.0.0.1:8080" from "[::ffff:127.0.0.1]:8080"; others unchanged */
void st_addr_normalize(const char *in, char out[ST_ADDR_MAX]);
/* the port of "host:port", -1 none */
int st_addr_port(const char *addr);
/* "tcp", "udp", "unix", ... */
const char *st_msock_kind(const struct st_msock *s);
/* a stream socket of AF_INET/AF_INET6 */
bool st_msock_is_tcp(const struct st_msock *s);
/* its local end: the last known, else the address it was bound to; ""
 * when neither is known.  Points into s or its events. */
const char *st_msock_local(const struct st_msock *s);
/* its remote end: the last known, else the address it connected to; ""
 * when neither is known.  Points into s or its events. */
const char *st_msock_remote(const struct st_msock *s);
/* when the call returned: ts plus its duration (an accept's ts is when it
 * started waiting) */
int64_t st_rec_end_us(const struct st_rec *r);
/* the socket's teardown event (first shutdown stopping sends, else close) */
const struct st_rec *st_msock_teardown(const struct st_msock *s);
/* How it ended, in words: "closed", "closed by exec (close-on-exec)",
 * "closed out of sight (noticed at close())", "held by its process at exit",
 * "held by its process when SIGKILL killed it", ... */
const char *st_msock_end_words(const struct st_msock *s, char *buf, size_t n);
/* Did it listen: a listen() in the trace, or, for a listening socket
 * inherited from a program the trace does not follow (socket activation),
 * connections accepted on it, the kernel's LISTEN state in its events
 * (the start's list of inherited sockets included), or that list's (or
 * a received SCM_RIGHTS message's) "listening" (SO_ACCEPTCONN: a unix
 * listener, which has no TCP state). */
bool st_msock_listening(const struct st_msock *s);
/* Was it leaked, as `check --rule no-leaks` and the formats judge it: a
 * process that held it exited holding it -- the last holder or not, so
 * that the verdict does not hang on the order in which the processes
 * sharing it (a forking server and its children, nginx's master and
 * workers) happen to exit --, and that copy was neither handed to the
 * program at its start (exec, inetd-style stdio) nor left by a daemon()'s
 * parent to its child, and the socket was not held from before the trace
 * (not the process's to close).  A process a signal killed is not judged. */
bool st_msock_leaked(const struct st_msock *s);
/* The holds of s that leaked (the processes that exited holding it), in
 * the order the holds began (st_hold.from_n: stable from run to run,
 * unlike the order of the exits): up to max of them in out; returns how
 * many there are (0 when s did not leak).  Pointers into s->holds. */
size_t st_msock_leakers(const struct st_msock *s, const struct st_hold **out, size_t max);
/* The pid of the process that leaked s named first (st_msock_leakers'
 * first; its last holder's when only its end says so), -1 when s did not
 * leak. */
int64_t st_msock_leaker(const struct st_msock *s);
/* The data bytes an end of a TCP connection sent and received (bytes),
 * from the tcp_info counters of its event t (s->tcp_rec, or its final one):
 * the kernel counts a FIN as one byte in bytes_acked (ours, once acked) and
 * in bytes_received (the peer's); neither is data.  A FIN received is known
 * from the state before t (CLOSE_WAIT, LAST_ACK, CLOSING, TIME_WAIT) or,
 * where the state does not tell (CLOSE: the kernel had moved the
 * connection to its TIME_WAIT, or a reset ended it), from the kernel's
 * table at exit listing this end in TIME_WAIT, or from the other end's
 * final counters when both ends are traced; else the count is the
 * kernel's.  s may be NULL (then only the
 * state tells).  false, with zeros, when t has no counters. */
bool st_msock_data(const struct st_msock *s, const struct st_rec *t, uint64_t *sent, uint64_t *received);
/* How the kernel's table at an exit (an exit event's lingering list) is
 * matched to the TCP end it belongs to (st_msock.later): by machine
 * (st_rec.machine) and tuple, to the last end of those that ended, by
 * st_msock_linger_us, at or before the exit.  st_msock_linger_key: the
 * 64-bit hash of s's tuple (local, remote, normalized as
 * st_addr_normalize does) the match compares, never 0; 0 when s is not
 * matched so (not TCP, an end unknown, neither connecting nor accepted).
 * st_ksock_linger_key: the same of an entry of that list (0: an end
 * unknown).  st_msock_linger_us: when s ended, for the match (ts_us of
 * the event that ended it, else of its last). */
uint64_t st_msock_linger_key(const struct st_msock *s);
uint64_t st_ksock_linger_key(const struct st_ksock *ks);
int64_t st_msock_linger_us(const struct st_msock *s);
/* Is a TCP state one a connection reaches only after its handshake
 * (ESTABLISHED, CLOSE_WAIT, FIN_WAIT1, ...)? */
bool st_state_connected(const char *state);

#endif
