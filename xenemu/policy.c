/* The hypercall policy: rules by family and sub-op, checked by the
 * dispatcher before a family runs (multicall entries go through the
 * dispatcher too). The most specific rule wins: a sub-op rule, then the
 * family's, then the default. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/physdev.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>
#include <xen/hvm/hvm_op.h>

#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/policy.h"

#include "memory_internal.h"

#define MAX_SUBOP_RULES 256
/* Denials are counted per sub-op below this, the rest together. */
#define SUBOP_BUCKETS 64
#define OTHER_BUCKET SUBOP_BUCKETS

enum action { NO_RULE = -1, ALLOW = 0, DENY = 1 };

struct subop_rule {
	unsigned nr;
	uint32_t subop;
	enum action action;
};

struct hcall_policy {
	int default_given;
	enum action dflt;
	enum action family[NR_HYPERCALLS];
	int has_subop_rules[NR_HYPERCALLS];
	struct subop_rule sub[MAX_SUBOP_RULES];
	unsigned nsub;
	atomic_ullong denied[NR_HYPERCALLS][SUBOP_BUCKETS + 1];
};

/* ---- families and their sub-op names, from the Xen headers ---- */

struct subop_name {
	uint32_t nr;
	const char *name;
};
#define SUB(prefix, name) { prefix##name, #name }

static const struct subop_name memory_names[] = {
	SUB(XENMEM_, increase_reservation), SUB(XENMEM_, decrease_reservation),
	SUB(XENMEM_, maximum_ram_page), SUB(XENMEM_, current_reservation),
	SUB(XENMEM_, maximum_reservation), SUB(XENMEM_, machphys_mfn_list),
	SUB(XENMEM_, populate_physmap), SUB(XENMEM_, add_to_physmap), SUB(XENMEM_, memory_map),
	SUB(XENMEM_, machine_memory_map), SUB(XENMEM_, exchange), SUB(XENMEM_, machphys_mapping),
	SUB(XENMEM_, set_memory_map), SUB(XENMEM_, maximum_gpfn), SUB(XENMEM_, remove_from_physmap),
	SUB(XENMEM_, add_to_physmap_batch), SUB(XENMEM_, acquire_resource),
};
static const struct subop_name version_names[] = {
	SUB(XENVER_, version), SUB(XENVER_, extraversion), SUB(XENVER_, compile_info),
	SUB(XENVER_, capabilities), SUB(XENVER_, changeset), SUB(XENVER_, platform_parameters),
	SUB(XENVER_, get_features), SUB(XENVER_, pagesize), SUB(XENVER_, guest_handle),
	SUB(XENVER_, commandline), SUB(XENVER_, build_id),
};
static const struct subop_name console_names[] = {
	SUB(CONSOLEIO_, write), SUB(CONSOLEIO_, read),
};
static const struct subop_name gnttab_names[] = {
	SUB(GNTTABOP_, map_grant_ref), SUB(GNTTABOP_, unmap_grant_ref), SUB(GNTTABOP_, setup_table),
	SUB(GNTTABOP_, dump_table), SUB(GNTTABOP_, transfer), SUB(GNTTABOP_, copy),
	SUB(GNTTABOP_, query_size), SUB(GNTTABOP_, unmap_and_replace), SUB(GNTTABOP_, set_version),
	SUB(GNTTABOP_, get_status_frames), SUB(GNTTABOP_, get_version),
};
static const struct subop_name vm_assist_names[] = {
	SUB(VMASST_CMD_, enable), SUB(VMASST_CMD_, disable),
};
static const struct subop_name vcpu_names[] = {
	SUB(VCPUOP_, initialise), SUB(VCPUOP_, up), SUB(VCPUOP_, down), SUB(VCPUOP_, is_up),
	SUB(VCPUOP_, get_runstate_info), SUB(VCPUOP_, register_runstate_memory_area),
	SUB(VCPUOP_, set_periodic_timer), SUB(VCPUOP_, stop_periodic_timer),
	SUB(VCPUOP_, set_singleshot_timer), SUB(VCPUOP_, stop_singleshot_timer),
	SUB(VCPUOP_, register_vcpu_info), SUB(VCPUOP_, send_nmi), SUB(VCPUOP_, get_physid),
	SUB(VCPUOP_, register_vcpu_time_memory_area),
};
static const struct subop_name sched_names[] = {
	SUB(SCHEDOP_, yield), SUB(SCHEDOP_, block), SUB(SCHEDOP_, shutdown), SUB(SCHEDOP_, poll),
	SUB(SCHEDOP_, remote_shutdown), SUB(SCHEDOP_, shutdown_code), SUB(SCHEDOP_, watchdog),
	SUB(SCHEDOP_, pin_override),
};
static const struct subop_name evtchn_names[] = {
	SUB(EVTCHNOP_, bind_interdomain), SUB(EVTCHNOP_, bind_virq), SUB(EVTCHNOP_, bind_pirq),
	SUB(EVTCHNOP_, close), SUB(EVTCHNOP_, send), SUB(EVTCHNOP_, status),
	SUB(EVTCHNOP_, alloc_unbound), SUB(EVTCHNOP_, bind_ipi), SUB(EVTCHNOP_, bind_vcpu),
	SUB(EVTCHNOP_, unmask), SUB(EVTCHNOP_, reset), SUB(EVTCHNOP_, init_control),
	SUB(EVTCHNOP_, expand_array), SUB(EVTCHNOP_, set_priority),
};
static const struct subop_name hvm_names[] = {
	SUB(HVMOP_, set_param), SUB(HVMOP_, get_param), SUB(HVMOP_, flush_tlbs),
	SUB(HVMOP_, pagetable_dying), SUB(HVMOP_, get_time), SUB(HVMOP_, xentrace),
	SUB(HVMOP_, get_mem_type),
	SUB(HVMOP_, set_evtchn_upcall_vector), SUB(HVMOP_, guest_request_vm_event),
	SUB(HVMOP_, altp2m),
};
static const struct subop_name physdev_names[] = {
	SUB(PHYSDEVOP_, eoi), SUB(PHYSDEVOP_, pirq_eoi_gmfn_v1), SUB(PHYSDEVOP_, pirq_eoi_gmfn_v2),
	SUB(PHYSDEVOP_, irq_status_query), SUB(PHYSDEVOP_, set_iopl), SUB(PHYSDEVOP_, set_iobitmap),
	SUB(PHYSDEVOP_, apic_read), SUB(PHYSDEVOP_, apic_write), SUB(PHYSDEVOP_, map_pirq),
	SUB(PHYSDEVOP_, unmap_pirq), SUB(PHYSDEVOP_, setup_gsi), SUB(PHYSDEVOP_, get_free_pirq),
};

/* Families whose first argument is a command: they have sub-ops. */
struct family {
	int has_subops;
	uint32_t max_subop; /* what the family can tell apart */
	const struct subop_name *names;
	size_t nnames;
};
#define NAMED(t, max) { 1, max, t, sizeof(t) / sizeof(t[0]) }
#define NUMBERED { 1, UINT32_MAX, NULL, 0 }

static const struct family families[NR_HYPERCALLS] = {
	[__HYPERVISOR_memory_op] = NAMED(memory_names, MEMOP_CMD_MASK),
	[__HYPERVISOR_xen_version] = NAMED(version_names, UINT32_MAX),
	[__HYPERVISOR_console_io] = NAMED(console_names, UINT32_MAX),
	[__HYPERVISOR_grant_table_op] = NAMED(gnttab_names, UINT32_MAX),
	[__HYPERVISOR_vm_assist] = NAMED(vm_assist_names, UINT32_MAX),
	[__HYPERVISOR_vcpu_op] = NAMED(vcpu_names, UINT32_MAX),
	[__HYPERVISOR_sched_op] = NAMED(sched_names, UINT32_MAX),
	[__HYPERVISOR_event_channel_op] = NAMED(evtchn_names, UINT32_MAX),
	[__HYPERVISOR_hvm_op] = NAMED(hvm_names, UINT32_MAX),
	[__HYPERVISOR_physdev_op] = NAMED(physdev_names, UINT32_MAX),
	[__HYPERVISOR_sched_op_compat] = NUMBERED,
	[__HYPERVISOR_nmi_op] = NUMBERED,
	[__HYPERVISOR_callback_op] = NUMBERED,
	[__HYPERVISOR_xenoprof_op] = NUMBERED,
	[__HYPERVISOR_kexec_op] = NUMBERED,
	[__HYPERVISOR_argo_op] = NUMBERED,
	[__HYPERVISOR_xenpmu_op] = NUMBERED,
	[__HYPERVISOR_hypfs_op] = NUMBERED,
};

/* The sub-op a call is for, as its family tells them apart. memory_op
 * keeps continuation state above MEMOP_CMD_MASK; the other families
 * switch on the low 32 bits or on the whole register, and in the latter
 * case a value above 32 bits matches no command, so comparing the low 32
 * bits never lets a call reach a command that a rule does not cover. */
int hypercall_subop(uint64_t nr, uint64_t arg0, uint32_t *subop)
{
	if (nr >= NR_HYPERCALLS || !families[nr].has_subops)
		return 0;
	*subop = (uint32_t)(nr == __HYPERVISOR_memory_op ? arg0 & MEMOP_CMD_MASK : arg0);
	return 1;
}

const char *hypercall_subop_name(uint64_t nr, uint32_t subop)
{
	const struct family *f = nr < NR_HYPERCALLS ? &families[nr] : NULL;

	for (size_t i = 0; f && i < f->nnames; i++)
		if (f->names[i].nr == subop)
			return f->names[i].name;
	return NULL;
}

/* "memory_op:decrease_reservation", "hvm_op:200" or "multicall". */
static void target_text(unsigned nr, int has_subop, uint32_t subop, char *buf, size_t len)
{
	const char *name = has_subop ? hypercall_subop_name(nr, subop) : NULL;

	if (!has_subop)
		snprintf(buf, len, "%s", hypercall_name(nr));
	else if (name)
		snprintf(buf, len, "%s:%s", hypercall_name(nr), name);
	else
		snprintf(buf, len, "%s:%u", hypercall_name(nr), subop);
}

/* ---- parsing ---- */

struct hcall_policy *policy_create(void)
{
	struct hcall_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	for (unsigned nr = 0; nr < NR_HYPERCALLS; nr++)
		p->family[nr] = NO_RULE;
	p->dflt = ALLOW;
	return p;
}

void policy_free(struct hcall_policy *p)
{
	free(p);
}

static int family_by_name(const char *s, size_t len, unsigned *nr)
{
	for (unsigned i = 0; i < NR_HYPERCALLS; i++) {
		const char *name = hypercall_name(i);
		if (strcmp(name, "unknown") && strlen(name) == len && !memcmp(name, s, len)) {
			*nr = i;
			return 0;
		}
	}
	return -1;
}

/* A decimal or 0x-hex number that fits in 32 bits, and nothing else. */
static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v = 0;
	int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *d = hex ? s + 2 : s;

	if (!*d)
		return -1;
	for (; *d; d++) {
		int digit = *d >= '0' && *d <= '9' ? *d - '0'
			    : hex && *d >= 'a' && *d <= 'f' ? *d - 'a' + 10
			    : hex && *d >= 'A' && *d <= 'F' ? *d - 'A' + 10 : -1;
		if (digit < 0)
			return -1;
		v = v * (hex ? 16 : 10) + (unsigned)digit;
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Names that fit, then "..." */
static void list_names(const struct family *f, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < f->nnames; i++) {
		size_t need = strlen(f->names[i].name) + (i ? 2 : 0);
		if (used + need + 5 >= len) {
			snprintf(buf + used, len - used, ", ...");
			return;
		}
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 f->names[i].name);
	}
}

static int parse_subop(unsigned nr, const char *s, uint32_t *subop, char *err, size_t errlen)
{
	const struct family *f = &families[nr];
	char known[160];

	if (!f->has_subops) {
		snprintf(err, errlen, "%s has no sub-ops (write %s alone)", hypercall_name(nr),
			 hypercall_name(nr));
		return -1;
	}
	for (size_t i = 0; i < f->nnames; i++) {
		if (!strcmp(f->names[i].name, s)) {
			*subop = f->names[i].nr;
			return 0;
		}
	}
	if (parse_u32(s, subop) == 0) {
		if (*subop <= f->max_subop)
			return 0;
		snprintf(err, errlen, "%s sub-op %s is out of range (0 to %u)", hypercall_name(nr),
			 s, f->max_subop);
		return -1;
	}
	list_names(f, known, sizeof(known));
	if (f->nnames)
		snprintf(err, errlen, "'%s' is not a %s sub-op (a number, or one of: %s)", s,
			 hypercall_name(nr), known);
	else
		snprintf(err, errlen, "'%s' is not a %s sub-op (a number)", s, hypercall_name(nr));
	return -1;
}

static int add_rule(struct hcall_policy *p, enum action a, unsigned nr, int has_subop,
		    uint32_t subop, char *err, size_t errlen)
{
	char what[64];

	target_text(nr, has_subop, subop, what, sizeof(what));
	if (!has_subop) {
		if (p->family[nr] != NO_RULE)
			goto twice;
		p->family[nr] = a;
		return 0;
	}
	for (unsigned i = 0; i < p->nsub; i++)
		if (p->sub[i].nr == nr && p->sub[i].subop == subop)
			goto twice;
	if (p->nsub == MAX_SUBOP_RULES) {
		snprintf(err, errlen, "more than %d sub-op rules", MAX_SUBOP_RULES);
		return -1;
	}
	p->sub[p->nsub++] = (struct subop_rule){ .nr = nr, .subop = subop, .action = a };
	p->has_subop_rules[nr] = 1;
	return 0;
twice:
	snprintf(err, errlen, "%s has two rules (one allow= or deny= per target)", what);
	return -1;
}

/* TARGET: FAMILY or FAMILY:SUBOP. */
static int parse_target(struct hcall_policy *p, enum action a, const char *t, char *err,
			size_t errlen)
{
	const char *colon = strchr(t, ':');
	size_t flen = colon ? (size_t)(colon - t) : strlen(t);
	unsigned nr;
	uint32_t subop = 0;

	if (family_by_name(t, flen, &nr) < 0) {
		snprintf(err, errlen, "'%.*s' is not a hypercall (memory_op, event_channel_op, "
			 "grant_table_op, sched_op, vcpu_op, hvm_op, xen_version, console_io, "
			 "multicall, ...; see xenkvm(1))", (int)flen, t);
		return -1;
	}
	if (colon && parse_subop(nr, colon + 1, &subop, err, errlen) < 0)
		return -1;
	return add_rule(p, a, nr, colon != NULL, subop, err, errlen);
}

static int parse_item(struct hcall_policy *p, const char *item, char *err, size_t errlen)
{
	const char *eq = strchr(item, '=');
	size_t klen = eq ? (size_t)(eq - item) : 0;
	enum action a;

	if (!eq || !eq[1]) {
		snprintf(err, errlen, "'%s' is not a rule (default=allow|deny, allow=TARGET or "
			 "deny=TARGET)", item);
		return -1;
	}
	if (klen == 7 && !strncmp(item, "default", 7)) {
		if (p->default_given) {
			snprintf(err, errlen, "default= is given twice");
			return -1;
		}
		if (strcmp(eq + 1, "allow") && strcmp(eq + 1, "deny")) {
			snprintf(err, errlen, "default=%s: expected allow or deny", eq + 1);
			return -1;
		}
		p->default_given = 1;
		p->dflt = strcmp(eq + 1, "deny") ? ALLOW : DENY;
		return 0;
	}
	if (klen == 5 && !strncmp(item, "allow", 5))
		a = ALLOW;
	else if (klen == 4 && !strncmp(item, "deny", 4))
		a = DENY;
	else {
		snprintf(err, errlen, "'%.*s=' is not a rule (default=, allow= or deny=)", (int)klen,
			 item);
		return -1;
	}
	return parse_target(p, a, eq + 1, err, errlen);
}

int policy_add(struct hcall_policy *p, const char *spec, char *err, size_t errlen)
{
	char item[128];
	const char *s = spec;

	if (!*spec) {
		snprintf(err, errlen, "empty hypercall policy");
		return -1;
	}
	for (;;) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		/* Spaces around an item are for readable config files. */
		while (len && *s == ' ')
			s++, len--;
		while (len && s[len - 1] == ' ')
			len--;
		if (!len || len >= sizeof(item)) {
			snprintf(err, errlen, len ? "rule '%.40s...' is too long"
						  : "empty rule in '%s' (a stray comma?)", len ? s : spec);
			return -1;
		}
		memcpy(item, s, len);
		item[len] = '\0';
		if (parse_item(p, item, err, errlen) < 0)
			return -1;
		if (!end)
			return 0;
		s = end + 1;
	}
}

static const char *action_text(enum action a)
{
	return a == DENY ? "deny" : "allow";
}

int policy_validate(const struct hcall_policy *p, char *err, size_t errlen)
{
	char what[64];

	for (unsigned nr = 0; nr < NR_HYPERCALLS; nr++) {
		if (p->family[nr] == p->dflt) {
			snprintf(err, errlen, "%s=%s changes nothing: the default is %s%s",
				 action_text(p->dflt), hypercall_name(nr), action_text(p->dflt),
				 p->dflt == ALLOW ? " (add default=deny to allow only what is listed)"
						  : "");
			return -1;
		}
	}
	for (unsigned i = 0; i < p->nsub; i++) {
		const struct subop_rule *r = &p->sub[i];
		enum action outer = p->family[r->nr] != NO_RULE ? p->family[r->nr] : p->dflt;
		if (r->action == outer) {
			char by[64];
			target_text(r->nr, 1, r->subop, what, sizeof(what));
			if (p->family[r->nr] != NO_RULE)
				snprintf(by, sizeof(by), "%s=%s", action_text(outer),
					 hypercall_name(r->nr));
			else
				snprintf(by, sizeof(by), "default=%s", action_text(outer));
			snprintf(err, errlen, "%s=%s changes nothing: %s already says %s",
				 action_text(r->action), what, by, action_text(outer));
			return -1;
		}
	}
	return 0;
}

void policy_describe(const struct hcall_policy *p, char *buf, size_t len)
{
	char what[64];
	size_t used = (size_t)snprintf(buf, len, "default=%s", action_text(p->dflt));

	for (unsigned nr = 0; nr < NR_HYPERCALLS && used < len; nr++)
		if (p->family[nr] != NO_RULE)
			used += (size_t)snprintf(buf + used, len - used, ",%s=%s",
						 action_text(p->family[nr]), hypercall_name(nr));
	for (unsigned i = 0; i < p->nsub && used < len; i++) {
		target_text(p->sub[i].nr, 1, p->sub[i].subop, what, sizeof(what));
		used += (size_t)snprintf(buf + used, len - used, ",%s=%s",
					 action_text(p->sub[i].action), what);
	}
}

/* ---- the check ---- */

static enum action decide(const struct hcall_policy *p, unsigned nr, uint32_t subop)
{
	if (p->has_subop_rules[nr])
		for (unsigned i = 0; i < p->nsub; i++)
			if (p->sub[i].nr == nr && p->sub[i].subop == subop)
				return p->sub[i].action;
	return p->family[nr] != NO_RULE ? p->family[nr] : p->dflt;
}

int policy_allows(const struct hcall_policy *p, unsigned nr, uint32_t subop)
{
	return !p || nr >= NR_HYPERCALLS ||
	       decide(p, nr, families[nr].has_subops ? subop : 0) == ALLOW;
}

long policy_check(struct hcall_policy *p, const struct hcall *hc)
{
	unsigned nr;
	int has_subop;
	uint32_t subop;
	char what[64];

	/* A number that names no hypercall has nothing to protect: -ENOSYS. */
	if (!p || hc->nr >= NR_HYPERCALLS)
		return 0;
	nr = (unsigned)hc->nr;
	subop = 0;
	has_subop = hypercall_subop(nr, hc->arg[0], &subop);
	if (decide(p, nr, subop) == ALLOW)
		return 0;
	if (atomic_fetch_add_explicit(&p->denied[nr][has_subop && subop < SUBOP_BUCKETS
						       ? subop : OTHER_BUCKET],
				      1, memory_order_relaxed) == 0) {
		target_text(nr, has_subop, subop, what, sizeof(what));
		log_warn("hypercall %s denied by the hypercall policy: -EPERM (logged once; "
			 "counted in xenkvm stats)", what);
	}
	return -XEN_EPERM;
}

unsigned long long policy_denied(const struct hcall_policy *p, unsigned nr)
{
	unsigned long long n = 0;

	if (!p || nr >= NR_HYPERCALLS)
		return 0;
	for (unsigned b = 0; b <= SUBOP_BUCKETS; b++)
		n += atomic_load(&p->denied[nr][b]);
	return n;
}

unsigned long long policy_denied_total(const struct hcall_policy *p)
{
	unsigned long long n = 0;

	for (unsigned nr = 0; p && nr < NR_HYPERCALLS; nr++)
		n += policy_denied(p, nr);
	return n;
}

unsigned policy_denials(const struct hcall_policy *p, struct policy_denial *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned nr = 0; p && nr < NR_HYPERCALLS; nr++) {
		for (unsigned b = 0; b <= SUBOP_BUCKETS && n < max; b++) {
			unsigned long long c = atomic_load(&p->denied[nr][b]);
			if (!c)
				continue;
			if (!families[nr].has_subops)
				snprintf(out[n].what, sizeof(out[n].what), "%s", hypercall_name(nr));
			else if (b == OTHER_BUCKET)
				snprintf(out[n].what, sizeof(out[n].what), "%s:other", hypercall_name(nr));
			else
				target_text(nr, 1, b, out[n].what, sizeof(out[n].what));
			out[n++].count = c;
		}
	}
	return n;
}
