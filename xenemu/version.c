/* xen_version: what Xen tells an unprivileged domU about itself. */
#include <string.h>

#include <stdint.h>
#include <xen/version.h>
#include <xen/features.h>

#include "xenkvm/compat32.h"
#include "xenkvm/guest_mem.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/xen.h"

#define XEN_DENIED "<denied>"
#define XEN_CAPABILITIES "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64"

/* Copy a fixed-size string field, zero-padded as Xen does. */
static long put_string(struct hcall *hc, const char *s, size_t field_size)
{
	char buf[1024] = { 0 };

	strncpy(buf, s, field_size - 1);
	return copy_to_guest(hc, hc->arg[1], buf, field_size);
}

static long version_compile_info(struct hcall *hc)
{
	xen_compile_info_t info;

	memset(&info, 0, sizeof(info));
	strncpy(info.compiler, "gcc " __VERSION__, sizeof(info.compiler) - 1);
	strncpy(info.compile_by, "xenkvm", sizeof(info.compile_by) - 1);
	strncpy(info.compile_domain, "xenkvm", sizeof(info.compile_domain) - 1);
	strncpy(info.compile_date, __DATE__, sizeof(info.compile_date) - 1);
	return copy_to_guest(hc, hc->arg[1], &info, sizeof(info));
}

/* HVM guests have no hypervisor hole in their address space: virt_start 0. */
static long version_platform_parameters(struct hcall *hc)
{
	struct compat_platform_parameters p32 = { 0 };
	xen_platform_parameters_t p64 = { 0 };

	return hc->abi64 ? copy_to_guest(hc, hc->arg[1], &p64, sizeof(p64))
			 : copy_to_guest(hc, hc->arg[1], &p32, sizeof(p32));
}

/* The feature bits Xen gives a translated (HVM/PVH) domU. */
static long version_get_features(struct hcall *hc)
{
	xen_feature_info_t fi;

	if (copy_from_guest(hc, &fi, hc->arg[1], sizeof(fi)))
		return -XEN_EFAULT;
	if (fi.submap_idx != 0)
		return -XEN_EINVAL;
	fi.submap = (1u << XENFEAT_writable_page_tables) |
		    (1u << XENFEAT_auto_translated_physmap) | (1u << XENFEAT_hvm_safe_pvclock) |
		    (1u << XENFEAT_hvm_callback_vector) | (1u << XENFEAT_not_direct_mapped);
	return copy_to_guest(hc, hc->arg[1], &fi, sizeof(fi));
}

static long version_guest_handle(struct hcall *hc)
{
	xen_domain_handle_t handle;

	memset(handle, 0, sizeof(handle));
	return copy_to_guest(hc, hc->arg[1], handle, sizeof(handle));
}

long xen_version_op(struct hcall *hc)
{
	switch (hc->arg[0]) {
	case XENVER_version:
		return (XENKVM_XEN_MAJOR << 16) | XENKVM_XEN_MINOR;
	case XENVER_extraversion:
		return put_string(hc, XENKVM_XEN_EXTRAVERSION, sizeof(xen_extraversion_t));
	case XENVER_compile_info:
		return version_compile_info(hc);
	case XENVER_capabilities:
		return put_string(hc, XEN_CAPABILITIES, sizeof(xen_capabilities_info_t));
	case XENVER_changeset:
		return put_string(hc, "xenkvm", sizeof(xen_changeset_info_t));
	case XENVER_platform_parameters:
		return version_platform_parameters(hc);
	case XENVER_get_features:
		return version_get_features(hc);
	case XENVER_pagesize:
		return hc->arg[1] ? -XEN_EINVAL : (long)GUEST_PAGE_SIZE;
	case XENVER_guest_handle:
		return version_guest_handle(hc);
	case XENVER_commandline:
		/* Xen's default policy hides these from unprivileged domains: the
		 * command line reads "<denied>", the build id is refused. */
		return copy_to_guest(hc, hc->arg[1], XEN_DENIED, sizeof(XEN_DENIED));
	case XENVER_build_id:
		return -XEN_EPERM;
	default:
		return -XEN_ENOSYS;
	}
}
