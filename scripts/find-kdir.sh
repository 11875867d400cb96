#!/bin/sh
# Prints the kernel headers to build the modules against: the running
# kernel's, else the newest installed. Run when a build needs them, not
# before: "make check" installs the headers in the same run (make deps).
#
# MODULES_ROOT (default /lib/modules) is where kernels' headers are looked
# for; tests point it at a tree of their own.
set -eu
root=${MODULES_ROOT:-/lib/modules}
running=$root/$(uname -r)/build
if [ -e "$running/Makefile" ]; then
	echo "$running"
	exit 0
fi
newest=$(ls -d "$root"/*/build 2>/dev/null | sort -V | while read -r d; do
	[ -e "$d/Makefile" ] && echo "$d"; done | tail -n 1)
if [ -z "$newest" ]; then
	echo "no kernel headers in $root: install linux-headers-amd64 (make deps) or pass KDIR=" >&2
	exit 1
fi
echo "$newest"
