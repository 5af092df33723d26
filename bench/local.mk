# make bench: ratios against the bare program and against strace
