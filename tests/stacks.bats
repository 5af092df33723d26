#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Call stacks (SOCKTRACE_STACK, socktrace --stack): the shim records each
# frame as object + ELF offset, its own frames left out; the formatters
# name the functions from the objects' symbol tables (libelf).  Checked
# against addr2line on PIE and non-PIE executables, a stripped copy, and a
# plugin loaded with dlopen; their source lines from DWARF (libdw) and C++
# names demangled (libiberty), as addr2line -f -C gives them.

load helpers

# fn OBJ OFF: the function addr2line names for a return address
fn() { addr2line -f -e "$1" "$(printf '0x%x' $(($2 - 1)))" | head -n 1; }

# frames: "obj off" of the socket event's stack, one per line
frames() {
	jq -r 'select(.call=="socket") | .stack[] | "\(.obj) \(.off)"' "$TRACE"
}

check_chain() { # EXE: the first three frames are open_tcp_socket, leaf_entry, make_socket
	local obj off i=0 want=(open_tcp_socket leaf_entry make_socket)
	while read -r obj off; do
		assert_eq "$obj" "$1" "frame $i object"
		assert_eq "$(fn "$obj" "$off")" "${want[$i]}" "frame $i function"
		i=$((i + 1))
		[[ $i -lt 3 ]] || break
	done < <(frames)
	assert_eq "$i" 3 "frames checked"
}

@test "stacks: a PIE executable's chain, first frame at the program's call site" {
	command -v addr2line >/dev/null || skip "addr2line (binutils) is not installed"
	SOCKTRACE_STACK=8 traced "$(prog stack_pie)" >out
	check_chain "$(prog stack_pie)"
	# main calls make_socket: the fourth frame is main
	read -r obj off < <(frames | sed -n 4p)
	assert_eq "$(fn "$obj" "$off")" main
}

@test "stacks: a non-PIE executable's chain" {
	command -v addr2line >/dev/null || skip "addr2line (binutils) is not installed"
	SOCKTRACE_STACK=8 traced "$(prog stack_nopie)" >out
	check_chain "$(prog stack_nopie)"
}

@test "stacks: frames inside a plugin loaded with dlopen name the plugin" {
	command -v addr2line >/dev/null || skip "addr2line (binutils) is not installed"
	plugin=$(prog progs/.libs/stack_plugin.so)
	SOCKTRACE_STACK=8 traced "$(prog stack_pie)" dlopen "$plugin" >out
	read -r obj off < <(frames | sed -n 1p)
	assert_eq "$obj" "$plugin"
	assert_eq "$(fn "$obj" "$off")" plugin_open_socket
	read -r obj off < <(frames | sed -n 2p)
	assert_eq "$(fn "$obj" "$off")" plugin_make_socket
}

@test "stacks: --stack=N caps the frames, --stack alone records 16 at most, and no stacks by default" {
	"$SOCKTRACE" -o t3.jsonl --stack=2 -- "$(prog stack_pie)" >/dev/null
	assert_eq "$(jq -s '[.[] | select(.call=="socket") | .stack | length] | .[0]' t3.jsonl)" 2
	"$SOCKTRACE" -o t16.jsonl --stack -- "$(prog stack_pie)" >/dev/null
	n=$(jq -s '[.[] | select(.call=="socket") | .stack | length] | .[0]' t16.jsonl)
	[[ $n -ge 4 && $n -le 16 ]] || { echo "frames: $n" >&2; false; }
	"$SOCKTRACE" -o t0.jsonl -- "$(prog stack_pie)" >/dev/null
	assert_count 0 '.stack' t0.jsonl
}

@test "stacks: capturing stacks takes no descriptor the program would have got" {
	SOCKTRACE_STACK=8 traced "$(prog stack_pie)" >out
	# without the shim the program's socket is the lowest free descriptor
	bare=$("$(prog stack_pie)" | sed -n 's/^sock fd=//p')
	assert_eq "$(sed -n 's/^sock fd=//p' out)" "$bare"
}

@test "stacks: a bad SOCKTRACE_STACK warns once and records none" {
	SOCKTRACE_STACK=lots traced "$(prog stack_pie)" >out 2>err
	grep -q '^socktrace: warning: SOCKTRACE_STACK must be a number of frames from 0 to 64' err
	assert_eq "$(grep -c socktrace err)" 1
	assert_count 0 '.stack'
	grep -q '^sock fd=' out
}

# shown FILE: the text rendering of the socket event's frames
shown() { "$SOCKTRACE" show "$1" | sed -n '/ socket(/,/ close(/p' | grep '^    #'; }

# as_addr2line TRACE N: the first N frames of the socket event as addr2line
# -f -C shows them, in show's words: "    #I FUNCTION (FILE:LINE) in OBJ"
as_addr2line() {
	local obj off i=0 a2l
	while read -r obj off; do
		a2l=$(addr2line -f -C -e "$obj" "$(printf '0x%x' $((off - 1)))" | sed 's/ (discriminator [0-9]*)$//')
		echo "    #$i $(head -n 1 <<<"$a2l") ($(sed -n 2p <<<"$a2l")) in $obj"
		i=$((i + 1))
		[[ $i -lt $2 ]] || break
	done < <(jq -r 'select(.call=="socket") | .stack[] | "\(.obj) \(.off)"' "$1")
}

@test "stacks: show names the functions of a PIE executable, static ones included, at their source lines" {
	"$SOCKTRACE" -o t.jsonl --stack=6 -- "$(prog stack_pie)" >/dev/null
	run shown t.jsonl
	# function (file.c:LINE) as addr2line gives them, from the DWARF line tables
	diff <(printf '%s\n' "${lines[@]:0:4}") <(as_addr2line t.jsonl 4)
	[[ ${lines[0]} == "    #0 open_tcp_socket ("*"/tests/progs/stack_leaf.c:"[0-9]*") in $(prog stack_pie)" ]]
	[[ ${lines[1]} == "    #1 leaf_entry ("*"/tests/progs/stack_leaf.c:"[0-9]*") in $(prog stack_pie)" ]]
	[[ ${lines[2]} == "    #2 make_socket ("*"/tests/progs/stack_mid.c:"[0-9]*") in $(prog stack_pie)" ]]
	[[ ${lines[3]} == "    #3 main ("*"/tests/progs/stack_main.c:"[0-9]*") in $(prog stack_pie)" ]]
	# the line of the call itself: socket() is called on that line of stack_leaf.c
	line=$(sed -n 's/.*stack_leaf\.c:\([0-9]*\)) in .*/\1/p' <<<"${lines[0]}")
	sed -n "${line}p" "$top_srcdir/tests/progs/stack_leaf.c" | grep -q 'socket(AF_INET'
}

@test "stacks: show names the functions of a non-PIE executable and of a dlopen'ed plugin" {
	"$SOCKTRACE" -o t.jsonl --stack=6 -- "$(prog stack_nopie)" >/dev/null
	run shown t.jsonl
	diff <(printf '%s\n' "${lines[@]:0:3}") <(as_addr2line t.jsonl 3)
	[[ ${lines[0]} == "    #0 open_tcp_socket ("* ]]
	[[ ${lines[2]} == "    #2 make_socket ("* ]]
	plugin=$(prog progs/.libs/stack_plugin.so)
	"$SOCKTRACE" -o p.jsonl --stack=6 -- "$(prog stack_pie)" dlopen "$plugin" >/dev/null
	run shown p.jsonl
	[[ ${lines[0]} == "    #0 plugin_open_socket ("*"stack_plugin.c:"*") in $plugin" ]]
	[[ ${lines[1]} == "    #1 plugin_make_socket ("*"stack_plugin.c:"*") in $plugin" ]]
	[[ ${lines[2]} == "    #2 main ("*") in $(prog stack_pie)" ]]
}

@test "stacks: C++ frames are demangled, with their source lines" {
	"$SOCKTRACE" -o t.jsonl --stack=4 -- "$(prog stack_cxx)" >/dev/null
	run shown t.jsonl
	[[ ${lines[0]} == "    #0 net::Server::open_socket(int)"*" ("*"/tests/progs/stack_cxx.cc:"[0-9]*") in $(prog stack_cxx)" ]]
	[[ ${lines[1]} == "    #1 net::make(net::Server&, int) ("*"/tests/progs/stack_cxx.cc:"[0-9]*") in $(prog stack_cxx)" ]]
	[[ ${lines[2]} == "    #2 main ("*"/tests/progs/stack_cxx.cc:"[0-9]*") in $(prog stack_cxx)" ]]
	# the same names and lines as addr2line -f -C (which leaves out what
	# c++filt and show say of a compiler's clone, "[clone .isra.0]")
	diff <(printf '%s\n' "${lines[@]:0:3}" | sed 's/ \[clone [^]]*\]//') <(as_addr2line t.jsonl 3)
	# and check's report names the place by file and line
	run "$SOCKTRACE" check --rule no-leaks t.jsonl
	assert_eq "$status" 0
}

@test "stacks: a stripped executable falls back to object+offset, the same offsets as unstripped" {
	command -v strip >/dev/null || skip "strip (binutils) is not installed"
	strip -o stripped "$(prog stack_pie)"
	"$SOCKTRACE" -o s.jsonl --stack=4 -- ./stripped >/dev/null
	"$SOCKTRACE" -o u.jsonl --stack=4 -- "$(prog stack_pie)" >/dev/null
	run shown s.jsonl
	[[ ${lines[0]} == "    #0 $SCRATCH/stripped+0x"* ]]
	# the same code at the same offsets
	assert_eq "$(jq -r 'select(.call=="socket") | .stack[0].off' s.jsonl)" \
		"$(jq -r 'select(.call=="socket") | .stack[0].off' u.jsonl)"
}
