#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The licence: LICENSE is the MIT text with its holder, every source file
# carries an SPDX-License-Identifier line at its top, and the bug-report
# address is one and the same in configure, the README, --help and
# socktrace(1).

setup() {
	export LC_ALL=C
	: "${top_srcdir:?run me through make check}" "${top_builddir:?run me through make check}"
	: "${SOCKTRACE:=$top_builddir/src/socktrace}"
}

@test "LICENSE is the MIT licence of The socktrace authors" {
	grep -qx 'MIT License' "$top_srcdir/LICENSE"
	grep -qx 'Copyright (c) [0-9]* The socktrace authors' "$top_srcdir/LICENSE"
	grep -q '^Permission is hereby granted, free of charge' "$top_srcdir/LICENSE"
}

@test "every source file says SPDX-License-Identifier: MIT in its first lines" {
	cd "$top_srcdir"
	# one awk over every file (a head and a grep per file took 17 s on a loaded machine)
	mapfile -t missing < <(find . \( -path ./tests/data -o -path ./fuzz/corpus -o -path ./m4 -o -path ./build-aux \
			-o -path ./autom4te.cache -o -name '.git' -o -name '.deps' -o -name '.libs' -o -path './socktrace-*' -o -path ./_build -o -path ./_inst \
			-o -path ./build-sanitize \) -prune -o \
		-type f \( -name '*.[ch]' -o -name '*.def' -o -name '*.tbl' -o -name '*.sh' -o -name '*.py' \
			-o -name '*.bats' -o -name '*.bash' -o -name '*.mk' -o -name 'Makefile.am' \
			-o -name 'configure.ac' -o -name '*.in' -o -name quickstart -o -path ./fuzz/run \
			-o -path ./bench/run -o -path './.ci/*' \) \
		! -name 'config.h.in' ! -name 'config.h' ! -name 'Makefile.in' ! -name '*-gen.c' -print0 |
		xargs -0 -r awk 'FNR == 1 { if (NR > 1 && !ok) print f; f = FILENAME; ok = 0 }
			FNR <= 3 && /SPDX-License-Identifier: MIT/ { ok = 1 }
			END { if (NR && !ok) print f }')
	[ ${#missing[@]} -eq 0 ] || { printf 'no SPDX line: %s\n' "${missing[@]}"; false; }
}

@test "the bug-report address is the same in configure, README, --help and socktrace(1)" {
	addr=$(sed -n 's/^#define PACKAGE_BUGREPORT "\(.*\)"$/\1/p' "$top_builddir/config.h")
	[[ $addr == *@* ]] || { echo "PACKAGE_BUGREPORT: '$addr'"; false; }
	grep -qF "Report bugs to <$addr>" "$top_srcdir/README.md"
	run "$SOCKTRACE" --help
	[[ $output == *"Report bugs to <$addr>."* ]]
	grep -qxF ".RI < $addr >." "$top_builddir/man/socktrace.1"
}
