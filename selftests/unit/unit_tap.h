/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TAP 13 driver of the host unit tests: a table of named test
 * functions, each failing through CHECK() (which also prints errno), run
 * in order by unit_main().
 */
#ifndef EXASOCK_UNIT_TAP_H
#define EXASOCK_UNIT_TAP_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failed;		/* in the current test */

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			printf("# %s:%d: check failed: %s: ", __func__,	\
			       __LINE__, #cond);			\
			printf(__VA_ARGS__);				\
			printf(" (errno %s)\n", strerror(errno));	\
			failed = 1;					\
		}							\
	} while (0)

struct unit_test {
	const char *name;
	void (*fn)(void);
};

/* Runs @n tests, a hang past @timeout seconds failing the whole run.
 * Returns the exit status: 0 when all passed, else 1.
 */
static inline int unit_main(const struct unit_test *tests, unsigned int n,
			    unsigned int timeout)
{
	int nr_failed = 0;
	unsigned int i;

	alarm(timeout);	/* a hang is a failure, not a stuck CI job */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%u\n", n);
	for (i = 0; i < n; i++) {
		failed = 0;
		tests[i].fn();
		nr_failed += failed;
		printf("%sok %u - %s\n", failed ? "not " : "", i + 1,
		       tests[i].name);
	}
	printf("# %u/%u passed\n", n - nr_failed, n);
	return nr_failed ? 1 : 0;
}

#endif /* EXASOCK_UNIT_TAP_H */
