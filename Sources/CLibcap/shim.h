/*
 * CLibcap: Swift's view of libcap (Debian's libcap-dev) plus prctl(2), for the daemon's
 * privilege handling: keep CAP_NET_ADMIN / CAP_NET_BIND_SERVICE across the switch to an
 * unprivileged user, drop everything else, and set no_new_privs.
 *
 * Only macro (and variadic-function) wrappers live here: small `static inline` functions,
 * prefixed `sy_`. prctl(2) is variadic, which Swift cannot call, so the few prctl options the
 * daemon needs get fixed-argument wrappers. cap_get_proc, cap_set_flag, cap_set_proc,
 * cap_clear, cap_to_text, cap_from_text, cap_get_flag, cap_free and the CAP_* numbers
 * (from <linux/capability.h>) import directly.
 */
#ifndef SWITCHYARD_CLIBCAP_SHIM_H
#define SWITCHYARD_CLIBCAP_SHIM_H

#include <sys/capability.h>
#include <sys/prctl.h>

/* prctl(PR_SET_NO_NEW_PRIVS, 1): irreversible for this thread and every child. 0 or -1 (errno). */
static inline int sy_set_no_new_privs(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL);
}

/* prctl(PR_GET_NO_NEW_PRIVS): 0 or 1, or -1 (errno). */
static inline int sy_get_no_new_privs(void) {
    return prctl(PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL);
}

/* prctl(PR_SET_KEEPCAPS, keep): keep the permitted set across setuid() away from root. 0 or -1 (errno). */
static inline int sy_set_keepcaps(int keep) {
    return prctl(PR_SET_KEEPCAPS, (unsigned long)(keep ? 1 : 0), 0UL, 0UL, 0UL);
}

/* prctl(PR_GET_KEEPCAPS): 0 or 1, or -1 (errno). */
static inline int sy_get_keepcaps(void) {
    return prctl(PR_GET_KEEPCAPS, 0UL, 0UL, 0UL, 0UL);
}

/* CAP_IS_SUPPORTED(cap): whether the running kernel knows the capability. */
static inline int sy_cap_is_supported(cap_value_t cap) {
    return CAP_IS_SUPPORTED(cap);
}

#endif /* SWITCHYARD_CLIBCAP_SHIM_H */
