#!/bin/bash
# Copies the project's source tree to DEST: the files git tracks plus new
# files not yet added, never what .gitignore covers (objects, modules, the
# build directory), so a package is built from sources only.
#
#   export-tree.sh DEST
set -euo pipefail
dest=${1:?usage: export-tree.sh DEST}
top=$(cd "$(dirname "$0")/.." && pwd)

git -C "$top" rev-parse --git-dir >/dev/null 2>&1 ||
	{ echo "export-tree: $top is not a git checkout" >&2; exit 1; }
mkdir -p "$dest"
cd "$top"
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do
		# A tracked file deleted in the working tree is not exported.
		[ -e "$f" ] && printf '%s\0' "$f"
	done |
	cpio --null -pdm --quiet "$dest"
