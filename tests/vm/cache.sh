# shellcheck shell=bash
# Entries keyed by their inputs (the guest image today), kept machine-wide
# and in the build tree.
#
# An entry is a directory NAME-<first 16 hex digits of KEY> holding the
# entry's files plus CACHE-KEY (the whole key), CACHE-LIST (every path with
# its type and size) and CACHE-SUMS (the SHA-256 of every file). An entry
# is only ever completed in a temporary directory and renamed into place,
# and is used only when its CACHE-KEY is the key asked for and its files
# match CACHE-LIST and CACHE-SUMS: a stale, half-written or damaged entry is
# never used, it is made again.
#
#   COLDROOM_CACHE   the machine-wide folder (default /var/cache/coldroom-sensor),
#                    shared by every clone and CI run on the machine; an
#                    entry found there is linked into BUILD_CACHE after its
#                    checksums are verified.
#   BUILD_CACHE      this tree's copy (default build/cache); entries here
#                    were verified when they arrived, so a use checks their
#                    key and sizes only.

COLDROOM_CACHE=${COLDROOM_CACHE:-/var/cache/coldroom-sensor}
BUILD_CACHE=${BUILD_CACHE:-${O:-$TOP_DIR/build}/cache}
# How many entries of one name the machine-wide folder keeps (the most
# recently used), so that switching between branches does not rebuild.
CACHE_KEEP=${CACHE_KEEP:-3}

cache_log() {
	printf '[cache] %s\n' "$*" >&2
}

# cache_entry_name NAME KEY
cache_entry_name() {
	echo "$1-${2:0:16}"
}

# cache_list DIR: what DIR holds, one line per path: type, size (not of
# directories, which differ between file systems) and symlink target.
cache_list() {
	(cd "$1" && find . -mindepth 1 ! -name 'CACHE-*' \
		\( -type d -printf 'd %P\n' -o -printf '%y %s %P %l\n' \) | LC_ALL=C sort)
}

# cache_valid DIR KEY full|quick: DIR is a complete entry for KEY. "quick"
# checks the key and that every path is there with its type and size;
# "full" also the checksum of every file.
cache_valid() {
	local dir=$1 key=$2 mode=$3
	[ -f "$dir/CACHE-KEY" ] && [ -s "$dir/CACHE-LIST" ] && [ -s "$dir/CACHE-SUMS" ] || return 1
	[ "$(cat "$dir/CACHE-KEY")" = "$key" ] || return 1
	cache_list "$dir" | cmp -s - "$dir/CACHE-LIST" || return 1
	[ "$mode" = quick ] && return 0
	(cd "$dir" && sha256sum --quiet --strict -c CACHE-SUMS >/dev/null 2>&1)
}

cache_machine_writable() {
	mkdir -p "$COLDROOM_CACHE" 2>/dev/null && [ -w "$COLDROOM_CACHE" ]
}

# cache_link SRC DST: DST becomes a copy of the entry SRC, hard-linked when
# both are on one file system, made under a temporary name.
cache_link() {
	local src=$1 dst=$2 tmp
	tmp=$(mktemp -d "$(dirname "$dst")/.incoming.XXXXXX")
	rmdir "$tmp"
	cp -al "$src" "$tmp" 2>/dev/null || { rm -rf "$tmp"; cp -a "$src" "$tmp"; } || return 1
	rm -rf "$dst"
	mv -T "$tmp" "$dst"
}

# cache_prune DIR NAME KEEP: removes all but the KEEP most recently used
# entries of NAME in DIR (and leftovers of interrupted writes).
cache_prune() {
	local dir=$1 name=$2 keep=$3
	find "$dir" -maxdepth 1 -name '.incoming.*' -mmin +240 -exec rm -rf {} + 2>/dev/null
	ls -1dt "$dir/$name"-* 2>/dev/null | tail -n +$((keep + 1)) | xargs -r rm -rf
}

# cache_adopt NAME KEY: links the machine-wide entry for KEY into
# BUILD_CACHE after verifying it, unless a valid one is there already.
# Under a lock: side by side runs (make check-vm's lanes) bring it once,
# and none removes a copy another is using.
cache_adopt() {
	local name=$1 key=$2 entry
	entry=$(cache_entry_name "$name" "$key")
	mkdir -p "$BUILD_CACHE"
	(
		flock 7
		cache_valid "$BUILD_CACHE/$entry" "$key" quick && exit 0
		if ! cache_valid "$COLDROOM_CACHE/$entry" "$key" full; then
			cache_log "ignoring $COLDROOM_CACHE/$entry: its key or its checksums do not match"
			exit 1
		fi
		cache_link "$COLDROOM_CACHE/$entry" "$BUILD_CACHE/$entry" || exit 1
		# The newest, whatever times the copy kept: pruning keeps it.
		touch "$BUILD_CACHE/$entry"
		cache_prune "$BUILD_CACHE" "$name" 1
		cache_log "using $COLDROOM_CACHE/$entry"
	) 7>"$BUILD_CACHE/.adopt-$name"
}

# cache_get NAME KEY: prints the directory of a valid entry for KEY in
# BUILD_CACHE, bringing it from COLDROOM_CACHE if needed; fails if there is
# none.
cache_get() {
	local name=$1 key=$2 entry local_dir machine_dir
	entry=$(cache_entry_name "$name" "$key")
	local_dir=$BUILD_CACHE/$entry
	machine_dir=$COLDROOM_CACHE/$entry
	if cache_valid "$local_dir" "$key" quick; then
		touch "$machine_dir" 2>/dev/null || true
		echo "$local_dir"
		return 0
	fi
	[ -d "$machine_dir" ] || return 1
	cache_adopt "$name" "$key" || return 1
	touch "$machine_dir" 2>/dev/null || true
	echo "$local_dir"
}

# cache_put NAME KEY DIR: makes DIR (which it consumes) the entry for KEY,
# machine-wide when COLDROOM_CACHE is writable, and in BUILD_CACHE; prints
# the BUILD_CACHE directory.
cache_put() {
	local name=$1 key=$2 dir=$3 entry tmp
	entry=$(cache_entry_name "$name" "$key")
	rm -f "$dir"/CACHE-*
	cache_list "$dir" >"$dir/CACHE-LIST" &&
		(cd "$dir" && find . -type f ! -name 'CACHE-*' -printf '%P\0' | LC_ALL=C sort -z |
			xargs -0 -r sha256sum --) >"$dir/CACHE-SUMS" || return 1
	echo "$key" >"$dir/CACHE-KEY"
	mkdir -p "$BUILD_CACHE"
	if cache_machine_writable; then
		tmp=$(mktemp -d "$COLDROOM_CACHE/.incoming.XXXXXX")
		rmdir "$tmp"
		mv -T "$dir" "$tmp" 2>/dev/null || { cp -a "$dir" "$tmp" && rm -rf "$dir"; } || return 1
		rm -rf "${COLDROOM_CACHE:?}/$entry"
		mv -T "$tmp" "$COLDROOM_CACHE/$entry"
		touch "$COLDROOM_CACHE/$entry"
		cache_prune "$COLDROOM_CACHE" "$name" "$CACHE_KEEP"
		cache_adopt "$name" "$key" || return 1
	else
		cache_log "$COLDROOM_CACHE is not writable: keeping $entry in $BUILD_CACHE only"
		rm -rf "${BUILD_CACHE:?}/$entry"
		mv -T "$dir" "$BUILD_CACHE/$entry"
	fi
	cache_prune "$BUILD_CACHE" "$name" 1
	echo "$BUILD_CACHE/$entry"
}

# cache_lock NAME: holds an exclusive lock (on fd 9) for making NAME, so
# that two runs on one machine do not build the same entry at once.
cache_lock() {
	local lock
	if cache_machine_writable; then
		lock=$COLDROOM_CACHE/.lock-$1
	else
		mkdir -p "$BUILD_CACHE"
		lock=$BUILD_CACHE/.lock-$1
	fi
	exec 9>"$lock"
	flock 9
}
