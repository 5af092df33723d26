/* SPDX-License-Identifier: MIT */
/* stack_plugin.c - a plugin loaded with dlopen: its own static frame
 * calling socket(), under an exported entry point. */
#include <sys/socket.h>

static __attribute__((noinline)) int plugin_open_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	__asm__ volatile("" ::: "memory");
	return fd;
}

__attribute__((noinline)) int plugin_make_socket(void)
{
	int fd = plugin_open_socket();
	__asm__ volatile("" ::: "memory");
	return fd;
}
