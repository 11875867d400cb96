# coldroom-sensor: top-level build.
#
#   make            build the kernel modules, the daemon, the CLI and the tools
#   make check      every test: unit, fuzz, kernel quality, VM end to end
#   make demo       the product end to end in a VM (SHELL=1: stay in a shell)
#   make deb / rpm  distro packages
#   make install    DESTDIR-aware install of the user-space side
#   make deps       install the build and test dependencies
#   make bench      the benchmarks (in the VM)

# "make demo SHELL=1" asks for an interactive guest; make itself must keep
# running recipes with a real shell.
ifeq ($(origin SHELL),command line)
DEMO_SHELL := $(SHELL)
override SHELL := /bin/sh
MAKEOVERRIDES := $(filter-out SHELL=%,$(MAKEOVERRIDES))
endif

TOP := $(CURDIR)
O ?= $(TOP)/build
export O

# Modules build against the running kernel's headers, else the newest
# installed ones (a build host often runs a different kernel than it targets).
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(lastword $(sort $(wildcard /lib/modules/*/build))))
export KDIR

PREFIX ?= /usr
DESTDIR ?=
export PREFIX DESTDIR

VM_RUN := tests/vm/vm-run

.PHONY: all deps firmware driver daemon check check-unit check-kernel \
	check-packages check-vm demo deb rpm install bench clean

all: firmware driver daemon

deps:
	@scripts/deps.sh

firmware:
	$(MAKE) -C firmware

driver: firmware
	@if [ -z "$(KDIR)" ]; then \
		echo "no kernel headers found: install linux-headers-amd64 (make deps) or pass KDIR=" >&2; \
		exit 1; fi
	$(MAKE) -C driver KDIR=$(KDIR)

daemon: firmware
	$(MAKE) -C daemon

# Every test. Dependencies first, so a fresh machine needs nothing else.
check: deps
	$(MAKE) all
	$(MAKE) check-unit
	$(MAKE) check-kernel
	$(MAKE) check-packages
	$(MAKE) check-vm
	@echo "check: all tests passed"

check-unit:
	$(MAKE) -C firmware check
	$(MAKE) -C daemon check
	$(MAKE) -C tests/sim check
	$(MAKE) -C systemd check
	$(MAKE) -C man check

check-packages: deb rpm
	tests/packaging/check-packages.sh

check-kernel:
	$(MAKE) -C firmware check-kernel KDIR=$(KDIR)
	$(MAKE) -C driver check KDIR=$(KDIR)

check-vm:
	tests/vm/harness/run.sh
	tests/vm/driver/run.sh
	tests/vm/bulk/run.sh
	tests/vm/daemon/run.sh
	tests/vm/product/run.sh --no-build

demo: deps
	$(MAKE) all
	tests/vm/demo/run.sh $(if $(filter 1 yes,$(DEMO_SHELL)),--shell)

deb:
	$(MAKE) -C packaging/deb

rpm:
	$(MAKE) -C packaging/rpm

install: firmware daemon
	$(MAKE) -C firmware install
	$(MAKE) -C daemon install
	$(MAKE) -C udev install
	$(MAKE) -C systemd install
	$(MAKE) -C man install

bench: all
	tests/bench/run.sh

clean:
	rm -rf $(O)
	-$(MAKE) -C driver clean KDIR=$(KDIR)
