/* wrap_socket.c */
