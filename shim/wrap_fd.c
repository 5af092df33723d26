/* wrap_fd.c */
