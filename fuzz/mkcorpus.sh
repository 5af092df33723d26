#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mkcorpus.sh - seed the fuzz corpus from real traces.
#
#   fuzz/mkcorpus.sh TRACE.jsonl...
#
# Cuts each trace into pieces of at most 12 lines (the first 120 lines of
# a long trace, and its last 12: start and exit events) and writes them to
# fuzz/corpus/trace/NAME-N.jsonl, the seeds of the reader and show targets.
# The check target's seeds, fuzz/corpus/check/NAME-N, are the same pieces
# after a first line holding an --expect pattern (the lifecycle of a
# socket of that piece, as `socktrace show -f lifecycle` prints it, when
# SOCKTRACE names a built socktrace; a fixed pattern otherwise).
# Review the pieces before committing them: they are recordings.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
out=$here/corpus
mkdir -p "$out/trace" "$out/check"
patterns=('tcp *:* socket bind listen accept+ close' 'tcp socket connect close'
	'* socket* close' 'unix socketpair close' 'udp 127.0.0.1:* -> 127.0.0.1:* socket connect close?'
	'pid=* fd=3 tcp socket setsockopt(SO_REUSEADDR) bind listen accept×2 close(*)')
k=0
for t in "$@"; do
	name=$(basename "$t" .jsonl)
	lines=$(wc -l <"$t")
	{
		head -n 120 "$t"
		if ((lines > 132)); then tail -n 12 "$t"; fi
	} | split -l 12 -d -a 3 --additional-suffix=.jsonl - "$out/trace/$name-"
	for piece in "$out/trace/$name"-*.jsonl; do
		pat=
		if [[ -n ${SOCKTRACE:-} ]]; then
			pat=$("$SOCKTRACE" show -f lifecycle "$piece" 2>/dev/null | head -n 1 |
				sed 's/^pid=[0-9]* fd=[0-9]* //') || true
		fi
		[[ -n $pat ]] || pat=${patterns[k % ${#patterns[@]}]}
		k=$((k + 1))
		{ printf '%s\n' "$pat"; cat "$piece"; } >"$out/check/$(basename "$piece" .jsonl)"
	done
done
echo "corpus: $(ls "$out/trace" | wc -l) trace seeds, $(ls "$out/check" | wc -l) check seeds"
