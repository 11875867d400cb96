#!/bin/bash
# Host: makes the blobs the driver's VM tests serve, with the project's
# coldroom-fwtool, and errors.txt: the reason the shared parser gives for
# each bad one (what firmware_error must say).
#
#   make-blobs.sh OUTDIR
#
# Blobs (all version 1.4.2):
#   crs200.fw        CRS-200, any serial; calibration +500 / -250 mdeg,
#                    interval 500 ms, thresholds -24000..-12000 hyst 800 and
#                    -40000..0 hyst 1000, label "Freezer A"
#   crs210t.fw       CRS-210T, any serial; neutral calibration, interval
#                    1000 ms, label "Freezer B", 32x24 thermal imager
#   wrong-serial.fw  crs200.fw for serial SIM-999999 only
#   corrupt.fw       crs200.fw with one payload byte flipped
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
O=${O:-$top/build}
out=${1:?usage: make-blobs.sh OUTDIR}
fwtool=${COLDROOM_FWTOOL:-$O/firmware/coldroom-fwtool}
if [ ! -x "$fwtool" ]; then
	make -C "$top/firmware" O="$O" >/dev/null || { echo "make-blobs: building coldroom-fwtool failed" >&2; exit 1; }
fi
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# build_blob OUT LINE...: a source in the tool's "key = value" syntax.
build_blob() {
	local blob=$1
	shift
	printf '%s\n' "$@" \
		"payload = 436f6c64726f6f6d2074657374207061796c6f6164" >"$tmp/src"
	"$fwtool" build "$tmp/src" -o "$blob"
}

build_blob "$out/crs200.fw" "model = CRS-200" "serial = *" "version = 1.4.2" \
	"temp1.gain_ppm = 1000000" "temp1.offset_mdeg = 500" \
	"temp2.gain_ppm = 1000000" "temp2.offset_mdeg = -250" \
	"interval_ms = 500" \
	"temp1.min_mdeg = -24000" "temp1.max_mdeg = -12000" "temp1.hyst_mdeg = 800" \
	"temp2.min_mdeg = -40000" "temp2.max_mdeg = 0" "temp2.hyst_mdeg = 1000" \
	"label = Freezer A"
build_blob "$out/crs210t.fw" "model = CRS-210T" "serial = *" "version = 1.4.2" \
	"temp1.gain_ppm = 1000000" "temp1.offset_mdeg = 0" \
	"temp2.gain_ppm = 1000000" "temp2.offset_mdeg = 0" \
	"interval_ms = 1000" "label = Freezer B" \
	"thermal.width = 32" "thermal.height = 24"
build_blob "$out/wrong-serial.fw" "model = CRS-200" "serial = SIM-999999" \
	"version = 1.4.2" \
	"temp1.gain_ppm = 1000000" "temp1.offset_mdeg = 500" \
	"temp2.gain_ppm = 1000000" "temp2.offset_mdeg = -250"
# Flip one bit of the last payload byte: only the checksum can catch it.
cp "$out/crs200.fw" "$out/corrupt.fw"
size=$(stat -c %s "$out/corrupt.fw")
byte=$(od -An -tu1 -j $((size - 1)) -N1 "$out/corrupt.fw" | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 1)))" |
	dd of="$out/corrupt.fw" bs=1 seek=$((size - 1)) conv=notrunc status=none

"$fwtool" verify "$out/crs200.fw" >/dev/null
"$fwtool" verify "$out/crs210t.fw" >/dev/null

# The reasons, from the one parser (built per run: suites make their
# blobs side by side).
reason=$tmp/fw-reason
${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -I"$top/firmware/lib" -o "$reason" \
	"$here/fw-reason.c" "$top/firmware/lib/coldroom_fw.c"
{
	echo "corrupt.fw: $("$reason" "$out/corrupt.fw" CRS-200 SIM-000002)"
	echo "wrong-serial.fw: $("$reason" "$out/wrong-serial.fw" CRS-200 SIM-000002)"
	echo "wrong-model.fw: $("$reason" "$out/crs210t.fw" CRS-200 SIM-000002)"
} >"$out/errors.txt"
grep -q ': $' "$out/errors.txt" && { echo "make-blobs: a bad blob passed the parser" >&2; exit 1; }
echo "make-blobs: test blobs in $out"
