/* SPDX-License-Identifier: MIT */
/* closer_plugin.c - a plugin that closes a descriptor it is handed, loaded
 * by outofsight with dlopen(RTLD_DEEPBIND): its close() binds to libc's
 * before the preloaded shim's. */
#include <unistd.h>

int plugin_close(int fd);

int plugin_close(int fd)
{
	return close(fd);
}
