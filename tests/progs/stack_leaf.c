/* SPDX-License-Identifier: MIT */
/* stack_leaf.c - the innermost frames: a static function calling socket(). */
#include <sys/socket.h>

static __attribute__((noinline)) int open_tcp_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	__asm__ volatile("" ::: "memory");
	return fd;
}

__attribute__((noinline)) int leaf_entry(void)
{
	int fd = open_tcp_socket();
	__asm__ volatile("" ::: "memory");
	return fd;
}
