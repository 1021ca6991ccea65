// SPDX-License-Identifier: GPL-2.0
/*
 * Signals and spinning. A blocking recv() or poll() interrupted by a
 * signal handler returns EINTR (recv() only when the handler lacks
 * SA_RESTART). While the library spins in user space, the kernel cannot
 * do that for us, so every handler the program installs is wrapped by a
 * trampoline that counts, per thread, the handlers that ran; the spin
 * loops stop with -EINTR when the count moves. Without this, a server
 * spinning with EXASOCK_SPIN_USEC=-1 would never see its SIGINT or
 * SIGALRM flag.
 *
 * Handlers installed with a raw rt_sigaction system call are not seen.
 */
#include <signal.h>
#include <string.h>
#include "internal.h"

__thread unsigned int exa_sig_any __attribute__((tls_model("initial-exec")));
__thread unsigned int exa_sig_depth __attribute__((tls_model("initial-exec")));
__thread unsigned int exa_sig_intr __attribute__((tls_model("initial-exec")));

/* What the program installed, for the trampoline and for queries. */
struct exa_sigent {
	void (*fn)(void);	/* sa_handler or sa_sigaction */
	int flags;		/* the program's sa_flags */
};

static struct exa_sigent exa_sigs[_NSIG];
static pthread_mutex_t exa_sig_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int exa_sig_lock_mine	/* taking, holding or dropping it */
	__attribute__((tls_model("initial-exec")));

/* fork(): a lock another thread held is never released in the child */
void exa_sig_fork_child(void)
{
	pthread_mutex_init(&exa_sig_lock, NULL);
}

static void exa_sig_tramp(int sig, siginfo_t *si, void *uc)
{
	struct exa_sigent e;

	e.fn = __atomic_load_n(&exa_sigs[sig].fn, __ATOMIC_ACQUIRE);
	e.flags = __atomic_load_n(&exa_sigs[sig].flags, __ATOMIC_RELAXED);
	exa_sig_any++;
	if (!(e.flags & SA_RESTART))
		exa_sig_intr++;
	if (!e.fn)
		return;
	exa_sig_depth++;
	if (e.flags & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))e.fn)(sig, si, uc);
	else
		((void (*)(int))e.fn)(sig);
	exa_sig_depth--;
}

static int exa_catchable(int sig)
{
	return sig > 0 && sig < _NSIG && sig != SIGKILL && sig != SIGSTOP;
}

/* Turn what the kernel holds back into what the program installed. */
static void exa_sig_unwrap(int sig, struct sigaction *sa)
{
	if (sa->sa_sigaction != exa_sig_tramp)
		return;
	sa->sa_flags = __atomic_load_n(&exa_sigs[sig].flags,
				       __ATOMIC_RELAXED);
	if (sa->sa_flags & SA_SIGINFO)
		sa->sa_sigaction = (void (*)(int, siginfo_t *, void *))
				   exa_sigs[sig].fn;
	else
		sa->sa_handler = (void (*)(int))exa_sigs[sig].fn;
}

static int exa_sigaction(int sig, const struct sigaction *act,
			 struct sigaction *oact)
{
	struct sigaction wrapped, old;
	struct exa_sigent saved;
	int r, wrap, locked;

	if (!exa_catchable(sig))
		return REAL(sigaction)(sig, act, oact);

	/* sigaction() is async-signal-safe: a handler may call it while
	 * the thread it interrupted is taking, holding or dropping the
	 * lock, and then goes on without it (another thread's hold it
	 * waits for). The mark is up before the lock is asked for and down
	 * only after it is given back, so no such moment is missed.
	 */
	locked = !exa_sig_lock_mine;
	if (locked) {
		exa_sig_lock_mine = 1;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		pthread_mutex_lock(&exa_sig_lock);
	}
	saved = exa_sigs[sig];
	wrap = act && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN;
	if (wrap) {
		wrapped = *act;
		wrapped.sa_sigaction = exa_sig_tramp;
		wrapped.sa_flags |= SA_SIGINFO;
		/* the trampoline may run as soon as it is installed */
		__atomic_store_n(&exa_sigs[sig].flags, act->sa_flags,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&exa_sigs[sig].fn, (void (*)(void))
				 ((act->sa_flags & SA_SIGINFO) ?
				  (void (*)(void))act->sa_sigaction :
				  (void (*)(void))act->sa_handler),
				 __ATOMIC_RELEASE);
	}
	r = REAL(sigaction)(sig, wrap ? &wrapped : act, &old);
	if (r && wrap) {
		__atomic_store_n(&exa_sigs[sig].fn, saved.fn, __ATOMIC_RELEASE);
		__atomic_store_n(&exa_sigs[sig].flags, saved.flags,
				 __ATOMIC_RELAXED);
	}
	if (!r && oact) {
		*oact = old;
		exa_sig_unwrap(sig, oact);
	}
	if (locked) {
		pthread_mutex_unlock(&exa_sig_lock);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		exa_sig_lock_mine = 0;
	}
	return r;
}

EXA_EXPORT int sigaction(int sig, const struct sigaction *act,
			 struct sigaction *oact)
{
	int r = exa_sigaction(sig, act, oact);

	EXA_TRACE(r, "%s(%d, %p, %p)", __func__, sig, (const void *)act,
		  (void *)oact);
	return r;
}

/* BSD semantics, as glibc's signal(): SA_RESTART, the signal masked */
static sighandler_t exa_signal(int sig, sighandler_t handler)
{
	struct sigaction act, old;

	if (handler == SIG_ERR || !exa_catchable(sig)) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = handler;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, sig);
	act.sa_flags = SA_RESTART;
	if (exa_sigaction(sig, &act, &old))
		return SIG_ERR;
	return old.sa_handler;
}

EXA_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	return exa_signal(sig, handler);
}

EXA_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	return exa_signal(sig, handler);
}

EXA_EXPORT int siginterrupt(int sig, int flag)
{
	struct sigaction act;

	if (!exa_catchable(sig) || exa_sigaction(sig, NULL, &act)) {
		errno = EINVAL;
		return -1;
	}
	if (flag)
		act.sa_flags &= ~SA_RESTART;
	else
		act.sa_flags |= SA_RESTART;
	return exa_sigaction(sig, &act, NULL);
}
