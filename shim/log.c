/* log.c - the shim's diagnostics (see log.h).
 * Runs inside the traced program: no malloc, no stdio, no locks; errno kept.
 */
#include "log.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void st_warn(const char *msg, const char *detail)
{
	char line[1024];
	size_t n = 0;
	int saved = errno;
	const char *parts[] = { "socktrace: warning: ", msg, detail ? ": " : "", detail ? detail : "", "\n" };

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		size_t l = strlen(parts[i]);
		if (n + l > sizeof(line) - 2)
			l = sizeof(line) - 2 - n;
		memcpy(line + n, parts[i], l);
		n += l;
	}
	if (line[n - 1] != '\n')
		line[n++] = '\n';
	while (write(2, line, n) < 0 && errno == EINTR)
		;
	errno = saved;
}
