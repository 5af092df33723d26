/* SPDX-License-Identifier: MIT */
/* tprog.h - shared helpers of the test programs in tests/progs/.
 *
 * Owns: argument parsing of addresses, formatting endpoints exactly as the
 * trace does ("127.0.0.1:80", "[::1]:80", "/path", "@name"), errno and TCP
 * state names, and the one-line "facts" the programs print on stdout for
 * the bats tests to compare with the recorded trace.
 * These programs are the traced side: they use plain libc only.
 */
#ifndef TPROG_H
#define TPROG_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>

#define TP_ADDR_MAX 128

/* Exit status of a program that could not set up its scenario. */
#define TP_EXIT_SETUP 99

extern const char *tp_progname;

/* Call first: names the program in messages, line-buffers stdout. */
void tp_init(int argc, char **argv);

/* Print the message (and strerror(errno) when with_errno) on stderr, exit TP_EXIT_SETUP. */
__attribute__((noreturn, format(printf, 1, 2))) void tp_die(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void tp_die_errno(const char *fmt, ...);
__attribute__((noreturn)) void tp_usage(const char *usage);

/* "ECONNREFUSED", or "0" for 0. */
const char *tp_errname(int err);

/* Parse a numeric host ("127.0.0.1", "::1", "::ffff:127.0.0.1") and port. */
socklen_t tp_inet_addr(const char *host, int port, struct sockaddr_storage *ss);
/* An AF_UNIX address: "/path" or "@abstract". */
socklen_t tp_unix_addr(const char *name, struct sockaddr_storage *ss);

/* Endpoint text as in the trace; "" for an unnamed socket. */
const char *tp_fmt_addr(const struct sockaddr *sa, socklen_t len, char *buf);
const char *tp_local(int fd, char *buf);
const char *tp_remote(int fd, char *buf);
int tp_port(int fd);		/* local port, -1 when none */
unsigned long tp_inode(int fd);

/* TCP state name from TCP_INFO, or "-" when unavailable. */
const char *tp_tcp_state(int fd);
/* "tcpinfo fd=N state=S bytes_sent=N bytes_received=N" (before a close). */
void tp_print_tcpinfo(int fd);

/* Parse a decimal integer argument or die. */
long tp_num(const char *s);

/* Read exactly n bytes (or until EOF); returns bytes read, -1 on error. */
long tp_read_full(int fd, void *buf, size_t n);
/* Read until EOF; returns 0 at EOF, else the errno of the failing read. */
int tp_read_eof(int fd);
/* Write all or die. */
void tp_write_all(int fd, const void *buf, size_t n);

/* A TCP listener on 127.0.0.1 (port 0, SO_REUSEADDR), a client connected
 * to it and the accepted end; prints "listen fd= port= ino=", "client fd=
 * ino= local=" and "accept fd= ino=".  Any pointer may not be NULL. */
void tp_loopback_trio(int *listener, int *client, int *accepted);
/* The sockets this process holds now, as /proc/self/fd lists them (each
 * socket once, whatever its number of descriptors; netlink sockets, such as
 * a tracer's own, are left out). */
int tp_count_sockets(void);

#endif
