# SPDX-License-Identifier: GPL-2.0
#
# Top-level build. "make" builds the module, the libraries, the utilities,
# the selftests and the examples; everything then runs from this tree.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

# util/kver says which kernel: the running one, the VM's, or the newest.
KVER ?= $(shell $(TOP)/util/kver)
KDIR ?= $(if $(wildcard /lib/modules/$(KVER)/build),/lib/modules/$(KVER)/build,/usr/src/linux-headers-$(KVER))

PREFIX ?= /usr/local
DESTDIR ?=
export TOP PREFIX DESTDIR

# System places, outside PREFIX (under DESTDIR): udev's directory (its
# rules and the exasock-ifup helper its rule runs), /etc.
MANDIR ?= $(PREFIX)/share/man
UDEVDIR ?= /lib/udev
SYSCONFDIR ?= /etc

SUBDIRS := lib lib/ext util selftests examples

.PHONY: all module $(SUBDIRS) deps test unit-test vm-test demo bench install clean style check

all: module $(SUBDIRS)

module:
	$(MAKE) -C $(KDIR) M=$(TOP) modules

$(SUBDIRS):
	$(MAKE) -C $@

deps:
	@$(TOP)/util/install-deps

# The README's test command: host unit tests, then the selftests in a VM.
test: deps
	@$(MAKE) --no-print-directory all >/dev/null
	@$(TOP)/selftests/run-all

demo: deps
	@$(MAKE) --no-print-directory all >/dev/null
	@$(TOP)/util/exasock-vm --bench -- $(TOP)/util/demo

# --bench: a guest booted for measuring, not debugging (util/exasock-vm).
BENCH_OUT ?= $(TOP)/selftests/build/bench
bench: deps
	@$(MAKE) --no-print-directory all >/dev/null
	@mkdir -p $(BENCH_OUT)
	@$(TOP)/util/exasock-vm --bench --out $(BENCH_OUT) \
		-- $(TOP)/selftests/bench.sh
	@echo "figures kept in $(BENCH_OUT)/bench.txt"

# The module goes to $(DESTDIR)/lib/modules/<its kernel>/extra, where
# dkms.conf puts it too (depmod runs only for a real install). Start-up
# files: /etc/exasock/interfaces (kept if present), the udev rule and its
# helper, the ifupdown and networkd-dispatcher hooks; the helper and hooks
# are given the installed paths.
install: all
	krel=$$(modinfo -F vermagic kernel/exasock.ko | cut -d' ' -f1) && \
	install -D -m 0644 kernel/exasock.ko \
		$(DESTDIR)/lib/modules/$$krel/extra/exasock.ko && \
	if [ -z "$(DESTDIR)" ]; then depmod -a $$krel; fi
	for d in $(SUBDIRS); do $(MAKE) -C $$d install || exit 1; done
	install -D -m 0644 uapi/linux/exasock.h $(DESTDIR)$(PREFIX)/include/linux/exasock.h
	for m in Documentation/man/*.[0-9]; do \
		install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/} \
			|| exit 1; \
	done
	install -D -m 0644 packaging/udev/90-exasock.rules \
		$(DESTDIR)$(UDEVDIR)/rules.d/90-exasock.rules
	install -d $(DESTDIR)$(UDEVDIR) $(DESTDIR)$(SYSCONFDIR)/network/if-up.d \
		$(DESTDIR)$(SYSCONFDIR)/networkd-dispatcher/routable.d
	sed 's|@BINDIR@|$(PREFIX)/bin|g' packaging/exasock-ifup \
		>$(DESTDIR)$(UDEVDIR)/exasock-ifup
	sed 's|@UDEVDIR@|$(UDEVDIR)|g' packaging/ifupdown/exasock \
		>$(DESTDIR)$(SYSCONFDIR)/network/if-up.d/exasock
	sed 's|@UDEVDIR@|$(UDEVDIR)|g' packaging/networkd-dispatcher/50-exasock \
		>$(DESTDIR)$(SYSCONFDIR)/networkd-dispatcher/routable.d/50-exasock
	chmod 0755 $(DESTDIR)$(UDEVDIR)/exasock-ifup \
		$(DESTDIR)$(SYSCONFDIR)/network/if-up.d/exasock \
		$(DESTDIR)$(SYSCONFDIR)/networkd-dispatcher/routable.d/50-exasock
	[ -e $(DESTDIR)$(SYSCONFDIR)/exasock/interfaces ] || \
		install -D -m 0644 packaging/interfaces \
			$(DESTDIR)$(SYSCONFDIR)/exasock/interfaces

clean:
	$(MAKE) -C $(KDIR) M=$(TOP) clean
	for d in $(SUBDIRS); do $(MAKE) -C $$d clean; done

CHECKPATCH ?= /usr/src/linux-source-6.1/scripts/checkpatch.pl
style:
	$(CHECKPATCH) --no-tree --terse --show-types --ignore SPDX_LICENSE_TAG,LINUX_VERSION_CODE \
		-f kernel/*.c kernel/*.h uapi/linux/exasock.h lib/*.c util/*.c

check:
	$(MAKE) -C $(KDIR) M=$(TOP) C=2 CF="-D__CHECK_ENDIAN__" modules
