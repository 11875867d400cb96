#!/bin/bash
# Host: the cache of the VM harness (cache.sh) never hands out an entry
# its key does not match, or one that is stale, half-written or damaged;
# entries found machine-wide are verified, then linked into the build tree.
# Runs on small entries in a private COLDROOM_CACHE and BUILD_CACHE.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/test-cache.XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$here/../lib/checks.sh"

TOP_DIR=$work
export COLDROOM_CACHE=$work/machine BUILD_CACHE=$work/build
. "$here/cache.sh" 2>/dev/null

key_a=$(echo a | sha256sum | cut -d' ' -f1)
key_b=$(echo b | sha256sum | cut -d' ' -f1)
# Same first 16 digits as key_a, another key: the directory name is no key.
key_a2=${key_a:0:16}$(echo other | sha256sum | cut -c17-64)
make_entry() { # make_entry DIR CONTENT
	mkdir -p "$1/sub"
	echo "$2" >"$1/data"
	head -c 100000 /dev/urandom >"$1/sub/blob"
	ln -s data "$1/link"
}

check "a cold cache has no entry" fails cache_get image "$key_a"
make_entry "$work/new" one
got=$(cache_put image "$key_a" "$work/new")
check "cache_put stores an entry in the build tree" test "$got" = "$BUILD_CACHE/image-${key_a:0:16}"
check "...and machine-wide" test -f "$COLDROOM_CACHE/image-${key_a:0:16}/data"
check "...consuming the source" test ! -e "$work/new"
check "cache_get returns it" test "$(cache_get image "$key_a")" = "$got"
check "its content is intact" test "$(cat "$got/data")" = one
check "another key is a miss" fails cache_get image "$key_b"
check "a key sharing the name's 16 digits is a miss" fails cache_get image "$key_a2"

# A fresh clone: nothing in the build tree, the machine-wide entry is used.
rm -rf "$BUILD_CACHE"
got=$(cache_get image "$key_a" 2>/dev/null)
check "a new build tree gets the machine-wide entry" test "$(cat "$got/data" 2>/dev/null)" = one
check "...linked into the build tree" test "$got" = "$BUILD_CACHE/image-${key_a:0:16}"

# Damage the machine-wide entry without changing its size: a new build tree
# must not use it.
rm -rf "$BUILD_CACHE"
m=$COLDROOM_CACHE/image-${key_a:0:16}
printf 'X' | dd of="$m/sub/blob" bs=1 seek=500 conv=notrunc status=none
check "a machine-wide entry with a changed byte is never used" fails cache_get image "$key_a"
make_entry "$work/new" two
cache_put image "$key_a" "$work/new" >/dev/null
check "a new entry replaces it" test "$(cat "$(cache_get image "$key_a")/data")" = two

# The build tree's copy is checked quickly: a truncated or missing file, a
# missing checksum list or another key there is a miss (then taken again
# from the machine-wide entry, if that one is sound).
b=$BUILD_CACHE/image-${key_a:0:16}
rm -rf "$b"; cache_get image "$key_a" >/dev/null
# A new file, not a write into the old one: the build tree's files may be
# hard links to the machine-wide entry's.
head -c 10 "$b/sub/blob" >"$work/blob" && mv "$work/blob" "$b/sub/blob"
check "a truncated file in the build tree is not used as it is" \
	test "$(stat -c %s "$(cache_get image "$key_a" 2>/dev/null)/sub/blob")" = 100000
rm -f "$b/link"
check "a missing symlink in the build tree is not used as it is" \
	test -L "$(cache_get image "$key_a" 2>/dev/null)/link"
rm -f "$b/CACHE-SUMS" "$COLDROOM_CACHE/image-${key_a:0:16}/CACHE-SUMS"
check "an entry without its checksums is never used" fails cache_get image "$key_a"

# A half-written entry: what an interrupted cache_put leaves is never found.
make_entry "$work/new" three
cache_put image "$key_b" "$work/new" >/dev/null
rm -rf "$BUILD_CACHE"
mv "$COLDROOM_CACHE/image-${key_b:0:16}" "$COLDROOM_CACHE/.incoming.half"
check "an entry that was not renamed into place is never used" fails cache_get image "$key_b"
mv "$COLDROOM_CACHE/.incoming.half" "$COLDROOM_CACHE/image-${key_b:0:16}"
rm "$COLDROOM_CACHE/image-${key_b:0:16}/CACHE-KEY"
check "an entry without its key is never used" fails cache_get image "$key_b"

# Side by side (make check-vm's lanes): runs that bring one entry from the
# machine-wide folder at once each get it whole, and keep it while they use
# it.
key_c=$(echo c | sha256sum | cut -d' ' -f1)
make_entry "$work/new" five
cache_put image "$key_c" "$work/new" >/dev/null
use() { # use ROUND RUN: gets the entry, and reads it again a moment later.
	local d
	d=$(cache_get image "$key_c" 2>/dev/null) && [ "$(cat "$d/data")" = five ] &&
		sleep 0.$((RANDOM % 3)) && [ "$(cat "$d/data")" = five ] && [ -f "$d/sub/blob" ] &&
		echo "ok $1 $2"
}
whole=0
for round in 1 2 3 4 5; do
	rm -rf "$BUILD_CACHE"
	for run in 1 2 3; do use "$round" "$run" >"$work/par.$run" & done
	wait
	whole=$((whole + $(cat "$work"/par.* | grep -c '^ok')))
done
check "three runs at once, five times, each got the entry whole ($whole of 15)" test "$whole" -eq 15

# A machine cache that cannot be written: the build tree keeps the entry.
COLDROOM_CACHE=/proc/coldroom-cache-test
make_entry "$work/new" four
got=$(cache_put image "$key_b" "$work/new" 2>/dev/null)
check "without a writable machine-wide folder the build tree keeps it" \
	test "$(cat "$(cache_get image "$key_b")/data" 2>/dev/null)" = four

checks_done test-cache
