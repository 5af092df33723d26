/* wrap_process.c */
