#!/bin/sh
# Prints the project's version, the one both package formats carry.
#
# The version lives in the top-level VERSION file when there is one, else in
# dkms.conf's PACKAGE_VERSION (DKMS reads it from there, and the DKMS source
# tree is /usr/src/coldroom-<version>). When both exist they must agree: a
# package whose name says one version and whose DKMS tree says another
# breaks "dkms remove" on purge.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

dkms_version=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$top/dkms.conf" 2>/dev/null || true)
if [ -f "$top/VERSION" ]; then
	version=$(tr -d ' \n' <"$top/VERSION")
	if [ -n "$dkms_version" ] && [ "$dkms_version" != "$version" ]; then
		echo "version: VERSION says $version but dkms.conf says $dkms_version" >&2
		exit 1
	fi
else
	version=$dkms_version
fi
case "$version" in
[0-9]*.[0-9]*) ;;
*) echo "version: no usable version in VERSION or dkms.conf ('$version')" >&2; exit 1 ;;
esac
echo "$version"
