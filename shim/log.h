/* log.h - the shim's own diagnostics: one helper, on the program's stderr.
 *
 * Owns: how socktrace speaks to a person from inside the traced program;
 * depends on nothing of the shim.  Never writes to stdout, never changes
 * errno, never allocates.
 */
#ifndef SOCKTRACE_LOG_H
#define SOCKTRACE_LOG_H

/* Writes "socktrace: warning: msg[: detail]\n" to descriptor 2 with one
 * write(2), cut at 1 KiB; detail may be NULL. */
void st_warn(const char *msg, const char *detail);

#endif
