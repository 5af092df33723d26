#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The man pages: socktrace(1) and socktrace(7) are built by configure, lint
# clean, and socktrace(7) documents every SOCKTRACE_* variable the shim reads
# (and no other) and every key the shim writes into a trace.

setup() {
	export LC_ALL=C
	: "${top_srcdir:?run me through make check}" "${top_builddir:?run me through make check}"
	man1=$top_builddir/man/socktrace.1
	man7=$top_builddir/man/socktrace.7
	cd "$BATS_TEST_TMPDIR"
}

need_mandoc() {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
}

# lint PAGE: no warning from mandoc (or, without it, from groff)
lint() {
	if command -v mandoc >/dev/null; then
		mandoc -Tlint -Wwarning "$1"
	else
		command -v groff >/dev/null || skip "neither mandoc nor groff is installed"
		local out
		out=$(groff -man -ww -z "$1" 2>&1) || return 1
		[ -z "$out" ] || { printf '%s\n' "$out"; return 1; }
	fi
}

# section PAGE ID: that section of the page as HTML (ID as mandoc spells it)
section() {
	mandoc -Thtml -Ofragment "$1" |
		awk -v id="id=\"$2\"" '/<h1/ { on = index($0, id) > 0 } on'
}

@test "socktrace.1 and socktrace.7 are generated with the package version" {
	version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")
	[ -n "$version" ]
	for page in "$man1" "$man7"; do
		[ -s "$page" ]
		run grep -n '@[A-Za-z_]*@' "$page"
		[ "$status" -eq 1 ] || { echo "unsubstituted in $page: $output"; false; }
		grep -q "^\.TH SOCKTRACE [17] .*\"socktrace $version\"" "$page"
	done
}

@test "socktrace.1 lints clean" {
	run lint "$man1"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "socktrace.7 lints clean" {
	run lint "$man7"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "socktrace.1 has its sections" {
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT EXAMPLES "SEE ALSO"; do
		grep -Eq "^\.SH \"?$s\"?\$" "$man1" || { echo "socktrace.1 lacks $s"; false; }
	done
}

@test "socktrace.7 has its sections" {
	for s in NAME DESCRIPTION ENVIRONMENT "EVENT SCHEMA" "TCP STATES" GUARANTEES LIMITATIONS "SEE ALSO"; do
		grep -Eq "^\.SH \"?$s\"?\$" "$man7" || { echo "socktrace.7 lacks $s"; false; }
	done
}

@test "socktrace.7 documents exactly the SOCKTRACE_* variables the shim reads" {
	need_mandoc
	grep -ohE 'getenv\("SOCKTRACE_[A-Z0-9_]+"' "$top_srcdir"/shim/*.c |
		grep -oE 'SOCKTRACE_[A-Z0-9_]+' | sort -u >read-by-shim
	[ -s read-by-shim ] || { echo "found no getenv(\"SOCKTRACE_...\") in shim/*.c"; false; }
	# the tagged entries (.TP) of ENVIRONMENT
	section "$man7" ENVIRONMENT | grep '<dt' |
		grep -oE '<b>SOCKTRACE_[A-Z0-9_]+</b>' | sed 's/<[^>]*>//g' | sort -u >documented
	run diff -u read-by-shim documented
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "socktrace.7's EVENT SCHEMA names every key the shim writes" {
	need_mandoc
	# the top-level keys: every FIELD and CUSTOM of codec/fields.def
	sed -nE 's/^(FIELD|CUSTOM)\(([A-Za-z_][A-Za-z0-9_]*)[,)].*/\2/p' "$top_srcdir/codec/fields.def" >written
	[ "$(wc -l <written)" -ge 40 ] || { echo "too few keys found in fields.def:"; cat written; false; }
	grep -qx call written
	grep -qx errno written
	# the nested keys, written by the CUSTOM encoders: ST_PUTL(b, ",\"rtt_us\":"),
	# KSTR(b, "comm", ...)
	grep -oE '\\"[A-Za-z_][A-Za-z0-9_]*\\":|\<K[A-Z]+\(b, "[A-Za-z_][A-Za-z0-9_]*"' \
		"$top_srcdir/codec/encode_json.c" | sed -E 's/^K[A-Z]+\(b, //' |
		grep -oE '[A-Za-z_][A-Za-z0-9_]*' >>written
	grep -qx timer_ms written
	grep -qx rtt_us written
	sort -u -o written written
	# every word set in bold in that section
	section "$man7" EVENT_SCHEMA | grep -oE '<b>[^<]*</b>' | sed 's/<[^>]*>//g' |
		grep -oE '[A-Za-z_][A-Za-z0-9_]*' | sort -u >documented
	run comm -23 written documented
	[ -z "$output" ] || { echo "keys missing from socktrace(7) EVENT SCHEMA: $output"; false; }
}

@test "socktrace.7's TCP STATES names every state of the shim's table" {
	need_mandoc
	awk '!/^#/ && NF == 2 { print $2 }' "$top_srcdir/codec/tables/tcpstates.tbl" | sort -u >states
	[ -s states ]
	section "$man7" TCP_STATES | grep '<dt' | grep -oE '<b>[A-Z_0-9]+</b>' |
		sed 's/<[^>]*>//g' | sort -u >documented
	run comm -23 states documented
	[ -z "$output" ] || { echo "states missing from socktrace(7) TCP STATES: $output"; false; }
}

@test "socktrace.1's OPTIONS name every long option of the runner" {
	need_mandoc
	sed -nE 's/^[[:space:]]*\{ "([a-z][a-z0-9-]*)", (no|required|optional)_argument.*/\1/p' \
		"$top_srcdir/src/run.c" | sort -u >options
	[ "$(wc -l <options)" -ge 5 ] || { echo "too few options found in src/run.c:"; cat options; false; }
	# the tags (.TP) of OPTIONS, each joined onto one line
	section "$man1" OPTIONS | tr '\n' ' ' | sed 's#</dt>#&\n#g' | grep -o '<dt.*' |
		grep -oE -- '--[a-z][a-z0-9-]*' | sed 's/^--//' | sort -u >documented
	run comm -23 options documented
	[ -z "$output" ] || { echo "options missing from socktrace(1) OPTIONS: $output"; false; }
}

@test "socktrace.1's ENVIRONMENT names every SOCKTRACE_* variable the command reads" {
	need_mandoc
	grep -ohE 'getenv\("SOCKTRACE_[A-Z0-9_]+"' "$top_srcdir"/src/*.c "$top_srcdir"/formatters/*.c |
		grep -oE 'SOCKTRACE_[A-Z0-9_]+' | sort -u >read-by-cli
	section "$man1" ENVIRONMENT | grep -oE 'SOCKTRACE_[A-Z0-9_]+' | sort -u >documented
	run comm -23 read-by-cli documented
	[ -z "$output" ] || { echo "variables missing from socktrace(1) ENVIRONMENT: $output"; false; }
}
