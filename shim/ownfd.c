/* ownfd.c - the descriptors the shim itself holds (the trace's, the
 * sock_diag socket's), which the program must never see.
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#include "shim.h"
#include "sockdiag.h"

void st_own_move_from(int fd)
{
	st_sink_move_from(fd);
	st_diag_move_from(fd);
}
