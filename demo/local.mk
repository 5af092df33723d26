# SPDX-License-Identifier: MIT
# the bundled demo (./quickstart demo): a tiny TCP echo server and client
noinst_PROGRAMS += demo/echo-server demo/echo-client
demo_echo_server_SOURCES = demo/echo-server.c
demo_echo_client_SOURCES = demo/echo-client.c
