#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# A real program: python3 -m http.server on 127.0.0.1 (port 0), fetched
# with curl; both traced.  The server's accept is curl's connect seen from
# the other end.

load helpers

setup() {
	st_setup
	command -v curl >/dev/null || skip "curl not installed"
	[[ -x $PYTHON3 ]] || skip "python3 not installed"
	mkdir www
	echo "hello from socktrace" >www/index.html
}

@test "http.server + curl: the server's accept4 and curl's connect are the two ends of one connection" {
	SOCKTRACE_OUTPUT=$SCRATCH/srv.jsonl bg_start srv traced "$PYTHON3" -u -m http.server 0 \
		--bind 127.0.0.1 --directory "$SCRATCH/www"
	line=$(wait_line srv '^Serving HTTP on 127\.0\.0\.1 port [0-9]+' 20)
	port=$(sed -E 's/.* port ([0-9]+).*/\1/' <<<"$line")

	SOCKTRACE_OUTPUT=$SCRATCH/curl.jsonl traced curl -sS -o body -w '%{local_port}\n' \
		"http://127.0.0.1:$port/index.html" >curl.out
	cmp body www/index.html
	cport=$(cat curl.out)
	[[ $cport =~ ^[0-9]+$ ]]

	S=$SCRATCH/srv.jsonl
	C=$SCRATCH/curl.jsonl
	# the server: listening socket with SO_REUSEADDR (socketserver sets it)
	e=$(one '.call=="bind" and .family=="AF_INET"' "$S")
	assert_field "$e" .ret 0
	assert_field "$e" .addr 127.0.0.1:0
	assert_field "$e" .local "127.0.0.1:$port"
	assert_field "$e" .opts.SO_REUSEADDR true
	lfd=$(get "$e" .fd)
	e=$(one '.call=="listen"' "$S")
	assert_field "$e" .fd "$lfd"
	assert_field "$e" .state LISTEN

	# the server's end of curl's connection is closed once served
	wait_until 10 grep -q "\"remote\":\"127.0.0.1:$cport\".*\"state_before\"" "$S"
	e=$(one ".call==\"accept4\" and .remote==\"127.0.0.1:$cport\"" "$S")
	assert_field "$e" .listen_fd "$lfd"
	assert_field "$e" .local "127.0.0.1:$port"
	assert_field "$e" .state ESTABLISHED
	afd=$(get "$e" .fd)
	e=$(one ".call==\"close\" and .fd==$afd and .remote==\"127.0.0.1:$cport\"" "$S")
	assert_field "$e" .ret 0
	[[ $(get "$e" .tcp.bytes_sent) -gt $(wc -c <www/index.html) ]]

	# curl: the connect to the server, from the port curl reported
	e=$(one ".call==\"connect\" and .addr==\"127.0.0.1:$port\"" "$C")
	assert_field "$e" .local "127.0.0.1:$cport"
	assert_field "$e" .remote "127.0.0.1:$port"
	assert_field "$e" .family AF_INET
	assert_field "$e" .proto tcp
	assert_field "$(one ".call==\"start\"" "$C")" .exe "$(readlink -f "$(command -v curl)")"
	cfd=$(get "$e" .fd)
	e=$(one ".call==\"close\" and .fd==$cfd and .remote==\"127.0.0.1:$port\"" "$C")
	assert_field "$e" .ret 0
	# what curl received is what the server sent (+1 for the server's FIN,
	# which the kernel counts once it arrived)
	sent=$(get "$(one ".call==\"close\" and .fd==$afd and .remote==\"127.0.0.1:$cport\"" "$S")" .tcp.bytes_sent)
	received=$(get "$e" .tcp.bytes_received)
	[[ $received == "$sent" || $received == "$((sent + 1))" ]] ||
		{ echo "curl received $received bytes, the server sent $sent" >&2; false; }
	assert_valid_jsonl "$S"
	assert_valid_jsonl "$C"
	assert_seq_ok "$C"
}
