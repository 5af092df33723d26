/* ownfd.c - the descriptors the shim itself holds (see ownfd.h).
 * Runs inside the traced program: no malloc, no stdio, no locks.
 */
#include "ownfd.h"
#include "sockdiag.h"

void st_own_move_from(int fd)
{
	st_sink_move_from(fd);
	st_diag_move_from(fd);
}
