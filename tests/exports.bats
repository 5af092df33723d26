#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# What libsocktrace.so shows the programs it is preloaded into: exactly the
# wrapped functions of codec/calls.def, and no library heavier than libc,
# libdl and libunwind.

setup() {
	export LC_ALL=C
	: "${top_srcdir:?run me through make check}" "${SHIM:?run me through make check}"
	[ -f "$SHIM" ]
	cd "$BATS_TEST_TMPDIR"
}

@test "libsocktrace.so exports exactly the functions of codec/calls.def" {
	sed -nE 's/^WRAPV?\(([A-Za-z_][A-Za-z0-9_]*),.*/\1/p' "$top_srcdir/codec/calls.def" |
		sort -u >wrapped
	[ "$(wc -l <wrapped)" -ge 19 ]
	# symbol type A: version nodes of a version script, not code
	nm -D --defined-only "$SHIM" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' |
		sort -u >exported
	run diff -u wrapped exported
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "every exported symbol of libsocktrace.so is a function" {
	run sh -c "nm -D --defined-only '$SHIM' | awk '\$2 != \"A\" && \$2 !~ /^[TWi]\$/'"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "libsocktrace.so links nothing heavier than libc, libdl and libunwind" {
	LC_ALL=C readelf -d "$SHIM" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' >needed
	grep -qx 'libc.so.6' needed
	# the --enable-sanitizers build (.ci/sanitize) links UBSan's runtime into it
	local extra=
	[[ ${SOCKTRACE_SANITIZED:-} != 1 ]] || extra='|libubsan\.so\.[0-9]+'
	run grep -vE "^(libc\.so\.6|libdl\.so\.2|libpthread\.so\.0|libunwind(-[a-z0-9_]+)?\.so\.[0-9]+|ld-linux[-a-z0-9_.]*\.so\.[0-9]+$extra)\$" needed
	echo "$output"
	[ "$status" -eq 1 ]
}
