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

# Modules build against KDIR= when given, else the running kernel's headers,
# else the newest installed (a build host often runs another kernel than it
# targets). The headers are looked for when a recipe needs them, never when
# make starts: "make check" and "make demo" install them (deps) in the same
# run, and nothing found on the machine may be decided before that.
FIND_KDIR = $${KDIR:-$$($(TOP)/scripts/find-kdir.sh)}

# The dependency installer (tests stand in a fake one).
DEPS ?= $(TOP)/scripts/deps.sh

PREFIX ?= /usr
DESTDIR ?=
export PREFIX DESTDIR

VM_RUN := tests/vm/vm-run

.PHONY: all deps fresh firmware driver daemon check check-guests check-guest-image check-guest-uml \
	check-lanes check-host \
	check-unit check-unit-programs check-unit-others check-build check-kernel check-packages check-vm \
	check-vm-harness check-vm-driver check-vm-bulk check-vm-stress \
	check-vm-serve check-vm-sources check-vm-deb check-vm-rpm check-vm-site check-vm-cockpit check-uml \
	check-debug demo \
	deb rpm install bench bench-native fuzz-long clean

all: firmware driver daemon

deps:
	@$(DEPS)

# What "make check" and "make demo" start with on any machine, a new one
# included: the dependencies, then the build in a make of its own, which
# finds what deps has just installed.
fresh: deps
	@echo "check: dependencies there at $$(date -u +%T)"
	$(MAKE) -j$$(nproc) all

firmware:
	$(MAKE) -C firmware

driver: firmware
	@kdir=$(FIND_KDIR) && echo "driver: building against $$kdir" && \
		$(MAKE) -C driver KDIR="$$kdir"

daemon: firmware
	$(MAKE) -C daemon

# Every test. Dependencies first, so a fresh machine needs nothing else.
# Then everything else at once (check-lanes), -k: a failure in one lane
# does not stop the others. COLDROOM_CHECK_RUN names this run, so that a
# guest kernel whose build failed is not built again by each runner that
# boots it (tests/vm/kernel-lib.sh).
check: export COLDROOM_CHECK_RUN := $(shell date +%s.%N)
check: fresh
	@$(MAKE) -k -j2 --output-sync=line check-guests || \
		echo "check: a guest did not build; the lanes that boot it will say why"
	@echo "check: lanes start at $$(date -u +%T)"
	$(MAKE) -k -j5 --output-sync=line check-lanes
	@echo "check: all tests passed at $$(date -u +%T)"

# What the guests boot, built side by side before the lanes start and
# then cached (tests/vm/cache.sh): the image (mostly downloads) and the UML
# debug kernel (a compile). A no-op on a warm cache. Inside the lanes, the
# kernel's build would run at nice 10 behind two guests and hold up the
# UML lane by half an hour on a new machine.
check-guests: check-guest-image check-guest-uml

check-guest-image:
	tests/vm/mkrootfs.sh >/dev/null
	@echo "check: the guest image there at $$(date -u +%T)"

check-guest-uml:
	tests/vm/mkumlkernel.sh >/dev/null
	@echo "check: the UML kernel there at $$(date -u +%T)"

# The host's own checks, the kernel checkers' lane (check-uml), the
# packages, and the VM suites in two lanes of one guest each: a guest
# spends much of a test waiting on timers, udev and the bus, so two of them
# and the host's builds share the machine's cores. The order-only
# prerequisites chain each lane's suites; the packaged product's tests wait
# for the packages (built and linted).
check-lanes: check-host check-uml check-vm-cockpit check-vm-rpm

# The VM suites alone, in their two lanes.
check-vm:
	$(MAKE) -k -j3 --output-sync=line check-vm-cockpit check-vm-rpm

# Lane one: the harness, the 10,000 units, coldroomd serving and its
# sources, the site-wide parts, the Cockpit page in a browser. Lane two: the stress suite, the .debs, the
# .rpms (each with a DKMS build under emulation). The driver's other suites
# and the bulk path run under the kernel's checkers (check-uml) instead;
# the stress suite runs there too, and here again on two CPUs, for the
# interleavings a uniprocessor kernel cannot have.
check-vm-driver: | check-vm-harness
check-vm-serve: | check-vm-driver
check-vm-sources: | check-vm-serve
check-vm-site: | check-vm-sources check-packages
check-vm-cockpit: | check-vm-site
check-vm-deb: | check-vm-stress check-packages
check-vm-rpm: | check-vm-deb

# When each suite ended, for the time figures in README.
STAMP = @echo "check: $@ ended at $$(date -u +%T)"

# What runs on the host alone. The guests' kernels watch for stalls (RCU,
# soft lockups) by the host's clock, and a guest starved of CPU reports
# one that is no fault of the driver's (an RCU stall in a page fault of
# grep, under TCG, when the host lane ran its SIGKILL loop beside two
# guests): the host's checks, which watch no clock, yield to the guests.
# Its three chains side by side: the daemon's tests spend much of their
# time waiting on timers, buses and brokers, which the others fill.
check-host:
	nice -n 10 $(MAKE) check-build
	nice -n 10 $(MAKE) -k -j3 --output-sync=line check-unit check-kernel
	$(STAMP)

# The build itself: the decisions "make check" and "make demo" take on a
# machine that has nothing installed yet.
check-build:
	tests/build/fresh-machine.sh

# The unit tests in two chains that share no build directory: the
# programs (the firmware library, the daemons, and the mixin, whose scrape
# runs the daemon tests' build) and the rest.
check-unit: check-unit-programs check-unit-others

check-unit-programs:
	$(MAKE) -C firmware check
	$(MAKE) -C daemon check
	$(MAKE) -C mixin check

check-unit-others:
	$(MAKE) -C tests/sim check
	$(MAKE) -C systemd check
	$(MAKE) -C man check
	$(MAKE) -C cockpit check

check-packages: deb rpm
	tests/packaging/check-packages.sh
	$(STAMP)

check-kernel:
	@kdir=$(FIND_KDIR) && \
		$(MAKE) -C firmware check-kernel KDIR="$$kdir" && \
		$(MAKE) -C driver check KDIR="$$kdir"

check-vm-harness:
	tests/vm/harness/run.sh
	$(STAMP)

check-vm-driver:
	tests/vm/driver/run.sh scale
	$(STAMP)

check-vm-bulk:
	tests/vm/bulk/run.sh bulk events removal
	$(STAMP)

check-vm-stress:
	tests/vm/bulk/run.sh stress
	$(STAMP)

check-vm-serve:
	tests/vm/daemon/run.sh serve
	$(STAMP)

check-vm-sources:
	tests/vm/daemon/run.sh sources
	$(STAMP)

check-vm-deb:
	tests/vm/product/run.sh --no-build deb
	$(STAMP)

check-vm-rpm:
	tests/vm/product/run.sh --no-build rpm
	$(STAMP)

check-vm-site:
	tests/vm/product/run.sh --no-build site
	$(STAMP)

check-vm-cockpit:
	tests/vm/product/run.sh --no-build cockpit
	$(STAMP)

# The kernel checkers' lane: the driver, the bulk path and the stress
# suite on the User-Mode Linux debug kernel (lockdep, KASAN, UBSAN,
# kmemleak, DEBUG_ATOMIC_SLEEP, debug objects; tests/vm/mkumlkernel.sh
# builds it once, then it is cached), after its runner's own tests and the
# negative controls that prove those checkers live. A host process, no emulation: at nice 10, like
# the host's checks, so the guests of the VM lanes are not starved. -k: a
# failed set does not skip the next.
check-uml:
	@rc=0; \
	nice -n 10 tests/vm/harness/run.sh --uml || rc=1; \
	VM_KERNEL=uml nice -n 10 tests/vm/debug/run.sh || rc=1; \
	VM_KERNEL=uml nice -n 10 tests/vm/driver/run.sh basic lifecycle || rc=1; \
	VM_KERNEL=uml nice -n 10 tests/vm/bulk/run.sh bulk events removal stress || rc=1; \
	echo "check: $@ ended at $$(date -u +%T)"; \
	exit $$rc

# The same on the SMP debug kernel under emulation (tests/vm/mkdebugkernel.sh),
# for the interleavings UML, uniprocessor and without preemption, cannot
# have. Not part of "check": under emulation each boot of that kernel
# takes minutes.
check-debug: fresh
	tests/vm/debug/run.sh
	VM_KERNEL=debug tests/vm/driver/run.sh basic lifecycle
	VM_KERNEL=debug tests/vm/bulk/run.sh bulk events removal stress

demo: fresh
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
	$(MAKE) -C mixin install
	$(MAKE) -C cockpit install

# Every fuzz target for 10 million executions (make check fuzzes briefly).
fuzz-long:
	$(MAKE) -C tests/fuzz fuzz-long

# The VM benchmark of the reading paths, then coldroomd natively.
bench: all
	tests/bench/run.sh
	$(MAKE) bench-native

bench-native: daemon
	tests/bench/native/run.sh
	tests/bench/native/methods.sh
	tests/bench/native/recorder.sh
	tests/bench/native/record-stall.sh
	tests/bench/native/metrics.sh
	tests/bench/native/uplink.sh
	$(MAKE) -C cockpit check

clean:
	rm -rf $(O)
	-@kdir=$(FIND_KDIR) 2>/dev/null && $(MAKE) -C driver clean KDIR="$$kdir"
