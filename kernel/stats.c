// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU counters: the module-wide set and one per attached interface.
 * Writers increment their own CPU's copy; readers sum, so a reading is
 * a snapshot good to within the increments in flight.
 */
#include "exasock.h"

struct exasock_counters exasock_stats;

int exasock_counters_init(struct exasock_counters *c)
{
	c->pcpu = __alloc_percpu(sizeof(u64) * __EXASOCK_STAT_MAX,
				 __alignof__(u64));
	return c->pcpu ? 0 : -ENOMEM;
}

void exasock_counters_free(struct exasock_counters *c)
{
	free_percpu(c->pcpu);
	c->pcpu = NULL;
}

void exasock_counters_sum(const struct exasock_counters *c,
			  u64 out[__EXASOCK_STAT_MAX])
{
	int cpu, i;

	memset(out, 0, sizeof(u64) * __EXASOCK_STAT_MAX);
	for_each_possible_cpu(cpu) {
		const u64 *v = per_cpu_ptr(c->pcpu, cpu);

		for (i = 0; i < __EXASOCK_STAT_MAX; i++)
			out[i] += READ_ONCE(v[i]);
	}
}
