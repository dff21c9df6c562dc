/* The per-VM hypercall policy (--hypercall-policy, xenkvm_hypercall_policy=),
 * in the spirit of XSM/Flask: allow or deny by family, or by family and
 * sub-op. A denied call gets -EPERM before its family runs, is counted per
 * family and sub-op, and is logged once, named. */
#ifndef XENKVM_POLICY_H
#define XENKVM_POLICY_H

#include <stddef.h>
#include <stdint.h>

struct hcall;
struct hcall_policy;

struct hcall_policy *policy_create(void);
void policy_free(struct hcall_policy *p);

/* Add the rules of one SPEC: comma-separated default=allow|deny,
 * allow=TARGET, deny=TARGET, where TARGET is FAMILY or FAMILY:SUBOP (a
 * hypercall name as in hypercall_name(); a sub-op by its Xen name without
 * the prefix, e.g. memory_op:decrease_reservation, or by number). A rule
 * for a target that already has one is refused. 0, or -1 with why in err. */
int policy_add(struct hcall_policy *p, const char *spec, char *err, size_t errlen);
/* Once every rule is in: refuse a rule that changes nothing (allow=X under
 * default=allow, say), which is almost always a mistake. 0 or -1. */
int policy_validate(const struct hcall_policy *p, char *err, size_t errlen);
/* The rules as text, in policy_add's syntax (default first). */
void policy_describe(const struct hcall_policy *p, char *buf, size_t len);

/* For hypercall_dispatch, after the CPL check: 0 to go on, or -XEN_EPERM
 * (counted, and logged the first time for its family and sub-op). */
long policy_check(struct hcall_policy *p, const struct hcall *hc);

/* Would a call of family nr, sub-op subop, go on? (NULL: allows all.) For
 * what answers calls outside the dispatcher (KVM's in-kernel XENVER_version). */
int policy_allows(const struct hcall_policy *p, unsigned nr, uint32_t subop);

/* Calls denied so far: of family nr, and in all. */
unsigned long long policy_denied(const struct hcall_policy *p, unsigned nr);
unsigned long long policy_denied_total(const struct hcall_policy *p);
/* Denials per family and sub-op ("memory_op:decrease_reservation",
 * "hvm_op:200" or "hvm_op:other" past sub-op 63; the family alone for one
 * without sub-ops, "multicall"), those made at least once. */
struct policy_denial {
	char what[64];
	unsigned long long count;
};
unsigned policy_denials(const struct hcall_policy *p, struct policy_denial *out, unsigned max);

#endif
