#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# What `socktrace show` spends on a trace is bounded by what is real, not
# by what the trace (or an object it names) claims: a stack frame naming a
# crafted sparse ELF object whose headers claim gigabytes is refused in
# moments with one message naming the object, while a real object, however
# large, is still symbolized; arrays far longer than the shim ever writes
# are refused with their line named.

load helpers

ELFBOMB=$BATS_TEST_DIRNAME/scripts/elfbomb.py

# frame_trace OBJ: a trace of one event whose one frame is OBJ+0x1130
frame_trace() {
	printf '{"v":1,"ts":1795976627.615883,"pid":1,"tid":1,"seq":1,"call":"socket","fd":3,"ret":3,"family":"AF_INET","type":"SOCK_DGRAM","proto":"udp","stack":[{"ip":"0x1000","obj":"%s","off":"0x1130"}]}\n' "$1"
}

# bounded_show TRACE: show -f text within 10 s and 50 MB; $status, out,
# err, and the peak in rss (KB)
bounded_show() {
	status=0
	timeout -k 5 60 /usr/bin/time -o rss -f %M "$SOCKTRACE" show -f text "$1" >out 2>err || status=$?
	[[ $status != 124 ]] || { echo "show took more than 10 s" >&2; return 1; }
	rss=$(tail -n 1 rss)
	(( rss < 50000 )) || { echo "show peaked at $rss KB" >&2; return 1; }
}

need_tools() {
	[[ -n $PYTHON3 ]] || skip "needs python3"
	[[ -x /usr/bin/time ]] || skip "needs /usr/bin/time (GNU time)"
	command -v strip >/dev/null || skip "needs strip (binutils)"
}

@test "bounds: crafted sparse objects claiming 2 GiB or 40M sections are refused at once, the object named once" {
	need_tools
	cp "$(prog stack_pie)" base
	strip -o stripped base
	for kind in symtab strtab dynsym shnum holes; do
		src=base size=2048
		[[ $kind == dynsym ]] && src=stripped
		[[ $kind == holes ]] && size=256	# under the caps: caught by the holes
		"$PYTHON3" "$ELFBOMB" "$src" "$SCRATCH/$kind.elf" "$kind" "$size"
		frame_trace "$SCRATCH/$kind.elf" >"$kind.jsonl"
		bounded_show "$kind.jsonl"
		assert_eq "$status" 0 "exit status for $kind"
		assert_eq "$(wc -l <err)" 1 "lines on stderr for $kind"
		grep -q "^socktrace: $SCRATCH/$kind.elf: not symbolized: " err
		grep -qF "    #0 $SCRATCH/$kind.elf+0x1130" out
		echo "# $kind: $rss KB: $(cat err)" >&3
	done
	# a note claiming 2 GiB costs the build-id only: the frame is still named
	"$PYTHON3" "$ELFBOMB" base "$SCRATCH/note.elf" note 2048
	frame_trace "$SCRATCH/note.elf" >note.jsonl
	bounded_show note.jsonl
	assert_eq "$(wc -l <err)" 1 "lines on stderr for note"
	grep -q "^socktrace: $SCRATCH/note.elf: build-id not read: " err
	grep -qE "^    #0 [a-z_]+(\+0x[0-9a-f]+ \(| \(.*:[0-9]+\) in )$SCRATCH/note.elf\)?$" out
}

@test "bounds: a real object with a symbol table of megabytes is still symbolized" {
	need_tools
	command -v gcc >/dev/null || skip "needs gcc"
	# 60000 functions: a .symtab of 1.4 MB, past the size where holes are looked for
	{
		echo '.text'
		for ((i = 0; i < 60000; i++)); do
			printf '.globl f%d\n.type f%d,@function\nf%d: ret\n.size f%d,1\n' $i $i $i $i
		done
	} >many.s
	gcc -shared -nostdlib -o many.so many.s
	# the same object copied sparse where it holds zeros: still read
	cp --sparse=always many.so sparse.so
	for obj in many.so sparse.so; do
		off=$(nm many.so | awk '$3 == "f41234" { print $1 }')
		printf '{"v":1,"ts":1,"pid":1,"call":"socket","fd":3,"ret":3,"stack":[{"ip":"0x1000","obj":"%s","off":"0x%x"}]}\n' \
			"$SCRATCH/$obj" $((16#$off + 1)) >t.jsonl
		bounded_show t.jsonl
		assert_eq "$status" 0 "exit status"
		[[ ! -s err ]] || { cat err >&2; false; }
		grep -qF "    #0 f41234+0x1 ($SCRATCH/$obj)" out
	done
}

@test "bounds: holders, lingering, argv and stack longer than the shim ever writes: the line is refused, named, at once" {
	[[ -x /usr/bin/time ]] || skip "needs /usr/bin/time (GNU time)"
	many=$(yes '{}' | head -n 300000 | paste -sd,)
	strs=$(yes '""' | head -n 300000 | paste -sd,)
	{
		printf '{"v":1,"ts":1,"pid":1,"call":"bind","fd":3,"ret":-1,"errno":"EADDRINUSE","holders":[%s]}\n' "$many"
		printf '{"v":1,"ts":1,"pid":1,"call":"exit","lingering":[%s]}\n' "$many"
		printf '{"v":1,"ts":1,"pid":1,"call":"start","argv":[%s]}\n' "$strs"
		printf '{"v":1,"ts":1,"pid":1,"call":"socket","fd":3,"ret":3,"stack":[%s]}\n' "$(yes '{"ip":"0x1"}' | head -n 1000 | paste -sd,)"
		printf '{"v":1,"ts":1,"pid":1,"call":"socket","fd":4,"ret":4}\n'
	} >big.jsonl
	status=0
	timeout -k 5 60 /usr/bin/time -o rss -f %M "$SOCKTRACE" show -f text big.jsonl >out 2>err || status=$?
	assert_eq "$status" 2 "exit status"
	# the bound on memory (AddressSanitizer's shadow and quarantine change it)
	[[ ${SOCKTRACE_SANITIZED:-} == 1 ]] || (( $(tail -n 1 rss) < 200000 )) ||
		{ echo "show peaked at $(tail -n 1 rss) KB" >&2; false; }
	grep -qx 'socktrace: big.jsonl:1: "holders" has 300000 entries, more than the shim ever records' err
	grep -qx 'socktrace: big.jsonl:2: "lingering" has 300000 entries, more than the shim ever records' err
	grep -qx 'socktrace: big.jsonl:3: "argv" has 300000 entries, more than the shim ever records' err
	grep -qx 'socktrace: big.jsonl:4: stack has 1000 frames, more than the shim ever records' err
	# the good line is shown
	grep -q 'socket(' out
}

@test "bounds: an object a trace names with .. is not looked up under /usr/lib/debug (which .. would leave)" {
	command -v nm >/dev/null || skip "needs nm (binutils)"
	cp "$(prog stack_pie)" obj.debug
	off=$(nm obj.debug | awk '$3 == "main" { print $1; exit }')
	[[ -n $off ]]
	off=$(printf '%x' "0x$off")
	# /usr/lib/debug/../../..$SCRATCH/obj.debug is $SCRATCH/obj.debug; the
	# object itself does not exist
	frame_trace "/../../..$SCRATCH/obj" | sed "s/0x1130/0x$off/" >dots.jsonl
	"$SOCKTRACE" show -f text dots.jsonl >out 2>err
	grep -qF "    #0 /../../..$SCRATCH/obj+0x$off" out
	! grep -qE '#0 [A-Za-z_]+\+0x' out
	# the same object named plainly is found there and symbolized
	mkdir -p sub
	cp obj.debug sub/
	frame_trace "$SCRATCH/sub/obj.debug" | sed "s/0x1130/0x$off/" >plain.jsonl
	"$SOCKTRACE" show -f text plain.jsonl >out2 2>err2
	grep -qE "    #0 [A-Za-z_]+\+0x[0-9a-f]+ \($SCRATCH/sub/obj.debug\)" out2
}
