#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# A run whose processes exec images the shim cannot enter (an environment
# without LD_PRELOAD, as `env -i` makes; a statically linked program) ends
# when they do: the runner's watcher does not wait for a record that such
# an image never writes, and lets go of the trace and of the descriptors it
# holds (a pipe reading the human log gets its end of file).

load helpers
bats_require_minimum_version 1.5.0

# the watcher writing FILE has gone
no_watcher_of() { ! watcher_of "$1" >/dev/null; }

@test "the run ends after env -i: the human log through a pipe gets its end of file" {
	run timeout 60 sh -c '"$0" -- env -i /bin/true 2>&1 | cat' "$SOCKTRACE"
	assert_eq "$status" 0 "the pipeline's status (124: the watcher held the pipe)"
	[[ $output == *'start("/usr/bin/env"'* ]]
	[[ $output == *'+++ exited with 0 +++'* ]]
}

@test "the run ends after env -i: -o FILE is let go of, its end recorded" {
	"$SOCKTRACE" -o env.jsonl -- env -i /bin/true
	wait_until 30 no_watcher_of "$SCRATCH/env.jsonl"
	assert_eq "$(jq -c 'select(.call == "end") | [.status, .by]' env.jsonl)" '[0,"runner"]' "the end"
}

@test "the run ends when a traced shell execs a static program" {
	local port
	port=$(free_port)
	# the client finds no server: it fails at once, in an image without the shim
	run "$SOCKTRACE" -o static.jsonl -- sh -c 'exec "$0" -p "$1" -n 1' "$(prog tcp_client_static)" "$port"
	[[ $status != 0 ]]
	wait_until 30 no_watcher_of "$SCRATCH/static.jsonl"
	assert_eq "$(jq -r 'select(.call == "start") | .exe' static.jsonl)" /usr/bin/dash "the one image traced"
	assert_eq "$(jq -c 'select(.call == "end") | .by' static.jsonl)" '"runner"' "its end"
	# and the trace says what it does not follow, where a user looks
	assert_eq "$(jq -c 'select(.call == "untraced") | [.exe, .reason]' static.jsonl)" \
		"[\"$(prog tcp_client_static)\",\"static\"]" "the untraced event"
	local said="exec'd $(prog tcp_client_static), an image the shim cannot enter (static): its socket calls are not in this trace; socktrace --backend=ptrace traces it"
	"$SOCKTRACE" show -f timeline static.jsonl >/dev/null 2>err
	grep -qF "socktrace: pid " err && grep -qF "$said" err
	"$SOCKTRACE" show static.jsonl >text
	grep -qF "untraced(\"$(prog tcp_client_static)\")  exec of an image the shim cannot enter (static)" text
	run "$SOCKTRACE" check static.jsonl
	assert_eq "$status" 0 "check's status"
	[[ $output == *"note: untraced: pid "*"$said"* ]]
}

@test "an environment without LD_PRELOAD is said; an exec that fails is not" {
	"$SOCKTRACE" -o env.jsonl -- env -i /bin/true
	assert_eq "$(jq -c 'select(.call == "untraced") | [.exe, .reason]' env.jsonl)" '["/bin/true","no LD_PRELOAD"]' "env -i"
	# a static program that cannot run (not executable): the shim says so
	# before the exec, the failed exec after it cancels that
	cp "$(prog tcp_client_static)" noexec
	chmod a-x noexec
	"$SOCKTRACE" -o fail.jsonl -- sh -c 'exec ./noexec; exit 7' || true
	run "$SOCKTRACE" check fail.jsonl
	[[ $output != *"untraced:"* ]] || { echo "$output" >&2; false; }
	"$SOCKTRACE" show -f summary fail.jsonl >/dev/null 2>err
	assert_empty err
}

@test "a file another run still writes is not emptied: refused with exit 2, -A appends" {
	SOCKTRACE_OUTPUT= "$SOCKTRACE" -o same.jsonl -- "$(prog tcp_server)" -n 1 >srv.out 2>srv.err &
	BG[srv]=$!
	local srv=$!
	wait_line srv '^listen ' >/dev/null
	PORT=$(fact "$SCRATCH/srv.out" listen port)
	run "$SOCKTRACE" -o same.jsonl -- "$(prog tcp_client)" -p "$PORT" -n 1
	assert_eq "$status" 2 "exit status"
	[[ $output == *"same.jsonl is being written by another socktrace run (its program is pid $srv)"* ]]
	# the server's run kept its events; the client ran with -A into the same file
	"$SOCKTRACE" -A -o same.jsonl -- "$(prog tcp_client)" -p "$PORT" -n 1 >/dev/null
	bg_wait srv
	assert_eq "$(jq -r 'select(.call == "listen") | .pid' same.jsonl)" "$srv" "the server's listen"
	assert_eq "$(jq -c 'select(.call == "connect")' same.jsonl | wc -l)" 1 "the client's connect"
	# once that run has ended, the file may be emptied again
	"$SOCKTRACE" -o same.jsonl -- /bin/true
	assert_eq "$(jq -c 'select(.call == "listen")' same.jsonl | wc -l)" 0 "emptied"
}

@test "a posix_spawn of an image the shim cannot enter is said by its parent, with the child's pid" {
	[[ -n $PYTHON3 ]] || skip "needs python3"
	# os.posix_spawn and os.posix_spawnp are libc's posix_spawn and posix_spawnp
	"$SOCKTRACE" -o spawn.jsonl -- "$PYTHON3" -c '
import os, sys
for spawn, path, env in ((os.posix_spawn, sys.argv[1], os.environ), (os.posix_spawnp, "true", {}),
                         (os.posix_spawnp, "true", os.environ)):
    pid = spawn(path, [path, "-p", "1", "-n", "1"], env)
    print("spawned", pid)
    os.waitpid(pid, 0)
' "$(prog tcp_client_static)" >spawn.out 2>spawn.err
	mapfile -t kids < <(awk '/^spawned/ {print $2}' spawn.out)
	assert_eq "${#kids[@]}" 3 "children spawned"
	parent=$(jq -r 'select(.call == "start") | .pid' spawn.jsonl | head -n 1)
	assert_eq "$(jq -c 'select(.call == "untraced") | [.pid, .child, .exe, .reason]' spawn.jsonl | tr '\n' ' ')" \
		"[$parent,${kids[0]},\"$(prog tcp_client_static)\",\"static\"] [$parent,${kids[1]},\"true\",\"no LD_PRELOAD\"] " \
		"untraced events: the static image and the empty environment; none for the traced true"
	run "$SOCKTRACE" check spawn.jsonl
	assert_eq "$status" 0 "check's status"
	[[ $output == *"note: untraced: pid $parent ("*") spawned pid ${kids[0]}, which exec'd $(prog tcp_client_static), an image the shim cannot enter (static)"* ]]
}

@test "a vfork child's exec of an image the shim cannot enter is said by its parent; a failed one is not" {
	[[ -n $PYTHON3 ]] || skip "needs python3"
	# python's subprocess forks with vfork(): its child records nothing, so
	# the parent says what the child exec'd
	"$SOCKTRACE" -o vf.jsonl -- "$PYTHON3" -c '
import subprocess, sys
for argv, env in (([sys.argv[1], "-p", "1", "-n", "1"], None), ([sys.argv[2]], {}), ([sys.argv[2]], None)):
    p = subprocess.Popen(argv, env=env)
    print("spawned", p.pid)
    p.wait()
try:
    subprocess.run(["./no-such-program"])
except OSError:
    print("failed")
' "$(prog tcp_client_static)" "$(type -P true)" >vf.out 2>vf.err
	mapfile -t kids < <(awk '/^spawned/ {print $2}' vf.out)
	assert_eq "${#kids[@]}" 3 "children spawned"
	grep -qx failed vf.out
	parent=$(jq -r 'select(.call == "start") | .pid' vf.jsonl | head -n 1)
	assert_eq "$(jq -r 'select(.call == "vfork") | .ret' vf.jsonl | head -n 3 | tr '\n' ' ')" \
		"${kids[0]} ${kids[1]} ${kids[2]} " "the children came from vfork"
	assert_eq "$(jq -c 'select(.call == "untraced") | [.pid, .child, .exe, .reason]' vf.jsonl | tr '\n' ' ')" \
		"[$parent,${kids[0]},\"$(prog tcp_client_static)\",\"static\"] [$parent,${kids[1]},\"$(type -P true)\",\"no LD_PRELOAD\"] " \
		"untraced events: the static image and the empty environment; none for the traced true nor the failed exec"
	run "$SOCKTRACE" check --strict vf.jsonl
	assert_eq "$status" 2 "check --strict's status"
	[[ $output == *"spawned pid ${kids[0]}, which exec'd $(prog tcp_client_static), an image the shim cannot enter (static)"* ]]
}

@test "a child of clone(CLONE_VM | CLONE_VFORK) that execs an image the shim cannot enter is said by its parent, with its pid and reason; a traced one and a failed exec are not" {
	# glibc's clone() with a stack of its own, as a runtime's spawn calls
	# it: the child runs in its parent's memory and records nothing
	"$SOCKTRACE" -o vc.jsonl -- "$(prog vclone)" "$(prog tcp_client_static) -p 1 -n 1" "-e $(type -P true)" \
		"./no-such-program" "$(type -P true)" >vc.out 2>vc.err
	for i in 1 2 3 4; do
		kids[i]=$(fact vc.out cloned pid "$i")
	done
	assert_eq "$(fact vc.out reaped status 3)" 127 "the failed exec's status"
	parent=$(jq -r 'select(.call == "start") | .pid' vc.jsonl | head -n 1)
	assert_eq "$(jq -r "select(.call == \"clone\" and .pid == $parent) | .ret" vc.jsonl | tr '\n' ' ')" \
		"${kids[1]} ${kids[2]} ${kids[3]} ${kids[4]} " "the children came from clone"
	assert_eq "$(jq -c 'select(.call == "untraced") | [.pid, .child, .exe, .reason]' vc.jsonl | tr '\n' ' ')" \
		"[$parent,${kids[1]},\"$(prog tcp_client_static)\",\"static\"] [$parent,${kids[2]},\"$(type -P true)\",\"no LD_PRELOAD\"] " \
		"untraced events: the static image and the empty environment; none for the failed exec nor the traced true"
	# the traced child starts its own record, under its own pid
	assert_eq "$(jq -r "select(.call == \"start\" and .pid == ${kids[4]}) | .ppid" vc.jsonl)" "$parent" "the traced child's start"
	assert_count 0 ".pid == ${kids[1]} and .call != \"end\"" vc.jsonl
	run "$SOCKTRACE" check --strict vc.jsonl
	assert_eq "$status" 2 "check --strict's status"
	[[ $output == *"spawned pid ${kids[1]}, which exec'd $(prog tcp_client_static), an image the shim cannot enter (static)"* ]]
}

# An image that will not load the shim, reached in ways the shim did not
# judge before: a script whose interpreter is static, an LD_PRELOAD given
# by a relative path after a chdir (the loader skips it with a warning), an
# exec made with syscall(2).  Each forked child then ended without an exit
# event and without an untraced one, and check said it "lacks its exit
# event"; now the child says, before the exec, why its next image is not
# traced.
# untraced_child TRACE REASON: one untraced event, for a child that started
# in the trace; no note of a missing exit; --strict refuses (the trace has
# an untraced image), as for any untraced image.
untraced_child() {
	assert_eq "$(jq -r 'select(.call == "untraced") | .reason' "$1")" "$2" "the untraced event's reason"
	local pid
	pid=$(jq -r 'select(.call == "untraced") | .pid' "$1")
	assert_count 1 ".call==\"start\" and .pid==$pid" "$1"
	assert_count 1 ".call==\"end\" and .pid==$pid" "$1"
	run --separate-stderr "$SOCKTRACE" check "$1"
	assert_eq "$status" 0 "check: $output $stderr"
	[[ "$output $stderr" != *"lacks its exit event"* ]] || { echo "$output $stderr" >&2; false; }
	[[ $output == *"note: untraced: pid $pid "* ]] || { echo "$output" >&2; false; }
}

@test "untraced: a script with a static interpreter, a relative LD_PRELOAD after cd, a raw syscall(SYS_execve) are said, not missing exits" {
	[[ -n $PYTHON3 ]] || skip "needs python3"
	local rel
	printf '#!%s\n' "$(prog tcp_client_static)" >script
	chmod +x script
	env LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT=script.jsonl bash -c './script -n 1 2>/dev/null; true'
	untraced_child script.jsonl static
	mkdir sub
	rel=$(realpath --relative-to=. "$SHIM")
	env LD_PRELOAD="$rel" SOCKTRACE_OUTPUT=$SCRATCH/rel.jsonl bash -c '(cd sub && exec /bin/true) 2>/dev/null; true'
	untraced_child rel.jsonl "no LD_PRELOAD"
	# a close-on-exec socket: the raw exec closes it, and says so
	env LD_PRELOAD="$SHIM" SOCKTRACE_OUTPUT=raw.jsonl "$PYTHON3" -c 'import ctypes, os, socket
pid = os.fork()
if pid == 0:
    s = socket.socket()
    argv = (ctypes.c_char_p * 2)(b"/bin/true", None)
    envp = (ctypes.c_char_p * 1)(None)
    ctypes.CDLL(None, use_errno=True).syscall(59, b"/bin/true", argv, envp)   # SYS_execve
    os._exit(9)
os.waitpid(pid, 0)'
	untraced_child raw.jsonl "no LD_PRELOAD"
	assert_count 1 '.call=="exec" and .family=="AF_INET"' raw.jsonl
}

@test "untraced: a program with file capabilities, run by a user other than root, is said (the loader ignores LD_PRELOAD)" {
	[[ $(id -u) == 0 ]] || skip "needs root to set file capabilities"
	command -v setcap >/dev/null && command -v setpriv >/dev/null || skip "needs setcap and setpriv"
	# the scratch directory is the test runner's alone: a directory all
	# may enter, removed at the end
	local d
	d=$(mktemp -d /tmp/socktrace-caps.XXXXXX)
	chmod 755 "$d"
	mkdir "$d/out"
	chmod 777 "$d/out"
	cp "$SHIM" "$d/libsocktrace.so"
	cp /bin/true "$d/captrue"
	chmod 755 "$d/libsocktrace.so" "$d/captrue"
	if ! setcap cap_net_raw+ep "$d/captrue"; then
		rm -rf "$d"
		skip "the file system takes no capabilities"
	fi
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env LD_PRELOAD="$d/libsocktrace.so" SOCKTRACE_OUTPUT="$d/out/cap.jsonl" bash -c "$d/captrue; true"
	cp "$d/out/cap.jsonl" cap.jsonl
	rm -rf "$d"
	untraced_child cap.jsonl capabilities
}
