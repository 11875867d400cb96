#!/bin/sh
# Writes debian/changelog for VERSION to stdout. The version has one home
# (packaging/version.sh); the date is that of the last commit, so two builds
# of one commit make the same packages.
#
#   mkchangelog.sh VERSION MAINTAINER TOPDIR
set -eu
version=$1 maintainer=$2 top=$3
date=$(git -C "$top" log -1 --format=%cD 2>/dev/null || date -R)
cat <<END
coldroom-sensor ($version) unstable; urgency=medium

  * Release $version.

 -- $maintainer  $date
END
