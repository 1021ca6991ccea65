# SPDX-License-Identifier: GPL-2.0
#
# Top-level build. "make" builds the module, the libraries, the utilities,
# the selftests and the examples; everything then runs from this tree.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

# The running kernel's build tree when there is one, else the newest
# installed Debian headers.
KVER ?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then uname -r; \
	else ls -1 /usr/src | sed -n 's/^linux-headers-\(.*-amd64\)$$/\1/p' | sort -V | tail -n 1; fi)
KDIR ?= $(if $(wildcard /lib/modules/$(KVER)/build),/lib/modules/$(KVER)/build,/usr/src/linux-headers-$(KVER))

PREFIX ?= /usr/local
DESTDIR ?=
export TOP PREFIX DESTDIR

SUBDIRS := lib util selftests examples

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
	@$(TOP)/util/exasock-vm -- $(TOP)/util/demo

bench: deps
	@$(MAKE) --no-print-directory all >/dev/null
	@$(TOP)/util/exasock-vm -- $(TOP)/selftests/bench.sh

install: all
	$(MAKE) -C $(KDIR) M=$(TOP) INSTALL_MOD_PATH=$(DESTDIR) modules_install
	for d in $(SUBDIRS); do $(MAKE) -C $$d install || exit 1; done
	install -D -m 0644 uapi/linux/exasock.h $(DESTDIR)$(PREFIX)/include/linux/exasock.h

clean:
	$(MAKE) -C $(KDIR) M=$(TOP) clean
	for d in $(SUBDIRS); do $(MAKE) -C $$d clean; done

CHECKPATCH ?= /usr/src/linux-source-6.1/scripts/checkpatch.pl
style:
	$(CHECKPATCH) --no-tree --terse --show-types --ignore SPDX_LICENSE_TAG,LINUX_VERSION_CODE \
		-f kernel/*.c kernel/*.h uapi/linux/exasock.h lib/*.c util/*.c

check:
	$(MAKE) -C $(KDIR) M=$(TOP) C=2 CF="-D__CHECK_ENDIAN__" modules
