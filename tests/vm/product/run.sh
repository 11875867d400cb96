#!/bin/bash
# Host: builds the packages (packaging/deb, packaging/rpm, linted) and runs
# the product's end-to-end tests in the VM, one run per format:
# product.sh installs the .debs with apt exactly as a user installs them;
# rpm.sh installs the .rpms with rpm -i --nodeps in the same Debian guest,
# as far as it allows (packaging/README.md says what still differs);
# site.sh installs the daemon's .deb beside modules built here for the
# guest's kernel and tests the site-wide parts with the real engines
# (Prometheus's binaries come from the host's prometheus package);
# cockpit.sh does the same with the Cockpit page's .deb, and a real
# browser here (tests/cockpit/browser.py: Chromium, selenium) uses the
# page through a port forwarded to the guest's Cockpit.
#
#   [WAIT_SCALE=N] run.sh [--no-build] [TEST...]
#       TEST: deb, rpm, site, cockpit (default: deb and rpm); --no-build
#       tests the packages already in $O/packages instead of building them
#       first
#
# Exit status: 0 when all passed, else the first failed test's (125 when
# its packages or the VM failed).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
O=${O:-$top/build}
out=$O/tests/product
pkgs=$O/packages

build=1
[ "${1:-}" = --no-build ] && { build=0; shift; }
formats=("$@")
[ ${#formats[@]} -gt 0 ] || formats=(deb rpm)
mkdir -p "$out"
. "$top/tests/vm/lib.sh"
version=$("$top/packaging/version.sh") || exit 125

# packages FORMAT: builds FORMAT's packages unless --no-build, then prints
# their paths; 125 when the build failed or one is missing.
packages() {
	local format=$1 p
	if [ "$build" -eq 1 ]; then
		echo "product-vm: building the $format packages" >&2
		make -C "$top/packaging/$format" O="$O" >"$out/$format-build.log" 2>&1 || {
			tail -n 40 "$out/$format-build.log" >&2
			echo "product-vm: $format package build failed (log: $out/$format-build.log)" >&2
			return 125
		}
	fi
	case $format in
	deb) set -- "$pkgs/coldroom-sensor_${version}_amd64.deb" "$pkgs/coldroom-sensor-dkms_${version}_all.deb" ;;
	rpm) set -- "$pkgs"/coldroom-sensor-"$version"-1*.x86_64.rpm "$pkgs"/coldroom-sensor-dkms-"$version"-1*.noarch.rpm ;;
	*) echo "product-vm: no format $format (deb, rpm)" >&2; return 125 ;;
	esac
	for p in "$@"; do
		[ -f "$p" ] || { echo "product-vm: $p is missing" >&2; return 125; }
		echo "$p"
	done
}

# run_test FORMAT TEST: the guest test TEST.sh with FORMAT's packages, its
# console in $out/TEST.log; returns its status.
run_test() {
	local format=$1 name=$2 rc p list label=$1 browser=()
	case $name in site|cockpit) label=$name ;; esac
	local files=(--file "$here/product-lib.sh:/usr/lib/vmtest/product-lib.sh"
		--file "$here/as_person.py:/usr/lib/vmtest/as_person.py")
	if [ "$name" = site ] || [ "$name" = cockpit ]; then
		vm_build_modules product-vm >&2 || {
			echo "product-vm: FAIL $label (no modules)"
			return 125
		}
		files+=(--file "$VM_MODULES/coldroom.ko:/usr/lib/vmtest/modules/coldroom.ko"
			--file "$VM_MODULES/coldroom_sim.ko:/usr/lib/vmtest/modules/coldroom_sim.ko")
	fi
	if [ "$name" = cockpit ]; then
		p=$pkgs/coldroom-sensor-cockpit_${version}_all.deb
		[ -f "$p" ] || { echo "product-vm: FAIL cockpit ($p is missing)"; return 125; }
		echo "${WAIT_SCALE:-1}" >"$out/wait-scale"
		files+=(--file "$p:/usr/lib/vmtest/packages/$(basename "$p")"
			--file "$out/wait-scale:/usr/lib/vmtest/wait-scale")
		rm -f "$out/cockpit.port"
		browser=(--forward "9090:$out/cockpit.port")
	fi
	if [ "$name" = site ]; then
		files+=(--file "$top/tests/daemon/record/chain.py:/usr/lib/vmtest/chain.py")
		for p in prometheus promtool; do
			[ -x "/usr/bin/$p" ] || {
				echo "product-vm: FAIL site (no /usr/bin/$p: make deps)"
				return 125
			}
			files+=(--file "/usr/bin/$p:/usr/lib/vmtest/bin/$p")
		done
	fi
	list=$(packages "$format") || {
		echo "product-vm: FAIL $label (no packages)"
		return 125
	}
	while IFS= read -r p; do
		# The site and cockpit tests take their modules from the host, not from DKMS.
		[ "$label" != "$format" ] && [[ $p == */coldroom-sensor-dkms_* ]] && continue
		files+=(--file "$p:/usr/lib/vmtest/packages/$(basename "$p")")
	done <<<"$list"
	# Boot, the install, a DKMS build of both modules under emulation, the
	# test, the removal.
	# A loaded host stretches the time limit (WAIT_SCALE), never the checks.
	# The limit only tells a hung guest from a slow one (each check has its
	# own bound): the deb suite takes about 6 min alone and 14 min beside the
	# other lanes, and passed 112 of its checks in 20 min on a host that ran
	# other jobs' guests too.
	local start=$SECONDS limit
	limit=$(awk -v s="${WAIT_SCALE:-1}" 'BEGIN { printf "%d", 1800 * (s < 1 ? 1 : s) }')
	if [ ${#browser[@]} -eq 0 ]; then
		"$top/tests/vm/vm-run" --timeout "$limit" --log "$out/$name.log" "${files[@]}" \
			"$here/$name.sh" >/dev/null
		rc=$?
	else
		# The guest and the browser side by side: the browser follows the
		# console, the guest waits for what the browser does.
		: >"$out/$name.log"
		"$top/tests/vm/vm-run" --timeout "$limit" --log "$out/$name.log" "${files[@]}" \
			"${browser[@]}" "$here/$name.sh" >/dev/null &
		local vm=$! brc
		"$top/tests/cockpit/browser.py" --console "$out/$name.log" --port-file "$out/cockpit.port" \
			--vm-pid "$vm" --out "$O/tests/cockpit" --timeout "$limit" 2>&1 | sed 's/^/    browser: /'
		brc=${PIPESTATUS[0]}
		wait "$vm"
		rc=$?
		[ "$rc" -ne 0 ] || rc=$brc
	fi
	grep -E '^(PASS|FAIL|RESULT|kept)' "$out/$name.log" | sed 's/^/    /'
	if [ "$rc" -eq 0 ]; then
		echo "product-vm: PASS $label ($(grep -c '^PASS' "$out/$name.log") checks, $((SECONDS - start)) s)"
	else
		echo "product-vm: FAIL $label (exit status $rc, log: $out/$name.log, $((SECONDS - start)) s)"
	fi
	return "$rc"
}

# The deb test keeps its historical name.
status=0
for format in "${formats[@]}"; do
	name=$format
	[ "$format" = deb ] && name=product
	case $format in site|cockpit) format=deb ;; esac
	rc=0
	run_test "$format" "$name" || rc=$?
	[ "$status" -ne 0 ] || status=$rc
done
exit "$status"
