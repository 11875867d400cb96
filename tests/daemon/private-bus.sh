# shellcheck shell=bash
# Sourced by the daemon's shell tests: start_private_bus DIR starts a
# dbus-daemon that lets everyone do everything on unix:path=DIR/bus and
# sets $addr and $bus_pid (the caller kills it).
start_private_bus() {
	cat >"$1/bus.conf" <<CONF
<busconfig>
  <listen>unix:path=$1/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/> <allow own="*"/>
    <allow send_destination="*"/> <allow receive_sender="*"/>
  </policy>
</busconfig>
CONF
	dbus-daemon --config-file="$1/bus.conf" --fork --print-address=3 --print-pid=4 \
		3>"$1/address" 4>"$1/pid" 2>/dev/null || return 1
	addr=$(head -n1 "$1/address")
	bus_pid=$(head -n1 "$1/pid")
}
