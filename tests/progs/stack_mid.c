/* SPDX-License-Identifier: MIT */
/* stack_mid.c - the middle frame of the stack tests' chain. */
int leaf_entry(void);

__attribute__((noinline)) int make_socket(void)
{
	int fd = leaf_entry();
	__asm__ volatile("" ::: "memory");	/* no tail call: this frame stays */
	return fd;
}
