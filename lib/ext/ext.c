// SPDX-License-Identifier: GPL-2.0
/*
 * libexasock_ext: the public extension API (<exasock/exasock.h>,
 * <exasock/socket.h>).
 *
 * This library is linked into the program; libexasock.so may or may not
 * be preloaded in front of it. Every call here goes through the global
 * symbol scope, so setsockopt() and getsockopt() reach the preloaded
 * library's versions when it is there, and libc's when it is not.
 *
 * How "running under exasock" is detected: dl_iterate_phdr() walks the
 * objects loaded in the process, and one named libexasock.so or
 * libexasock-debug.so (any directory) is the preloaded library. This needs
 * nothing from libexasock beyond its file name, cannot be fooled by a
 * stale LD_PRELOAD string (the object must really be loaded), and still
 * works when the program defines a function libexasock interposes. If
 * libexasock one day exports exasock_preload_version_code(), its answer is
 * used instead, so that the version reported is the preloaded library's
 * own.
 */
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <exasock/exasock.h>
#include <exasock/socket.h>

#define EXA_EXT_EXPORT	__attribute__((visibility("default")))


/* matches EXASOCK_VERSION_CODE of <linux/exasock.h> */
static const char exa_ext_version_text[] = "3.0.0";

/* 0 not yet known; else the version code + 1 (so 1 means "not under") */
static int exa_ext_cached;

static int exa_ext_object_is_preload(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	/* libexasock.so, libexasock-debug.so; not libexasock_ext.so */
	return !strncmp(base, "libexasock", 10) &&
	       (base[10] == '.' || base[10] == '-');
}

static int exa_ext_phdr_cb(struct dl_phdr_info *info, size_t size,
			   void *data)
{
	(void)size;
	(void)data;
	return info->dlpi_name && exa_ext_object_is_preload(info->dlpi_name);
}

static int exa_ext_detect(void)
{
	int (*preload_version)(void);

	*(void **)&preload_version = dlsym(RTLD_DEFAULT,
					   "exasock_preload_version_code");
	if (preload_version)
		return preload_version();
	return dl_iterate_phdr(exa_ext_phdr_cb, NULL) ?
	       EXASOCK_VERSION_CODE : 0;
}

EXA_EXT_EXPORT int exasock_version_code(void)
{
	int v = __atomic_load_n(&exa_ext_cached, __ATOMIC_RELAXED);

	if (!v) {
		/* racing threads compute the same answer: no lock needed */
		v = exa_ext_detect() + 1;
		__atomic_store_n(&exa_ext_cached, v, __ATOMIC_RELAXED);
	}
	return v - 1;
}

EXA_EXT_EXPORT const char *exasock_version_text(void)
{
	static char buf[32];
	int v = exasock_version_code();

	if (!v)
		return NULL;
	if (v == EXASOCK_VERSION_CODE)
		return exa_ext_version_text;
	/* a different preloaded library: say what it said */
	if (!__atomic_load_n(&buf[0], __ATOMIC_ACQUIRE)) {
		char tmp[32];
		int n = snprintf(tmp, sizeof(tmp), "%d.%d.%d", (v >> 16) & 0xff,
				 (v >> 8) & 0xff, v & 0xff);

		if (n <= 0)
			return exa_ext_version_text;
		memcpy(buf + 1, tmp + 1, n);
		__atomic_store_n(&buf[0], tmp[0], __ATOMIC_RELEASE);
	}
	return buf;
}

/*
 * The kernel's answer to SOL_EXASOCK on a socket of another family when
 * libexasock.so is not there to take it: ENOPROTOOPT (inet), EOPNOTSUPP
 * (families without a setsockopt of their own).
 */
static int exa_ext_not_exasock(int err)
{
	return err == ENOPROTOOPT || err == EOPNOTSUPP;
}

EXA_EXT_EXPORT int exasock_disable_acceleration(int fd)
{
	int saved = errno;
	int one = 1;

	if (!setsockopt(fd, SOL_EXASOCK, SO_EXA_NO_ACCEL, &one, sizeof(one)))
		return 0;
	/* an ordinary kernel socket that nothing will convert: done */
	if (exa_ext_not_exasock(errno)) {
		errno = saved;
		return 0;
	}
	return -1;
}

EXA_EXT_EXPORT int exasock_is_accelerated(int fd)
{
	socklen_t len = sizeof(int);
	int saved = errno;
	int val = 0;

	if (!getsockopt(fd, SOL_EXASOCK, SO_EXA_ACCELERATED, &val, &len))
		return val != 0;
	if (exa_ext_not_exasock(errno)) {
		errno = saved;
		return 0;
	}
	return -1;
}
