/* Minimal ACPI for a PVH guest: just enough for the kernel to find its CPUs
 * and the IO-APIC, and to know there is no legacy hardware (hardware-reduced
 * FADT, no PIC, no RTC, no VGA). These layouts are the ACPI specification's,
 * not Xen's ABI, so they are declared here.
 *
 * Layout in the reserved legacy hole (BOOT_ACPI_BASE = 0xe0000):
 *   0xe0000 RSDP (v2)   0xe0040 XSDT   0xe0080 FADT   0xe01c0 DSDT   0xe1000 MADT
 * Power off is ACPI S5 through the FADT's sleep control register (Linux has
 * no other way to power off a PVH domU): the DSDT's only object is \_S5. */
#include <string.h>

#include "xenkvm/boot.h"

#define RSDP_GPA (BOOT_ACPI_BASE + 0x0)
#define XSDT_GPA (BOOT_ACPI_BASE + 0x40)
#define FADT_GPA (BOOT_ACPI_BASE + 0x80)
#define DSDT_GPA (BOOT_ACPI_BASE + 0x1c0)
#define MADT_GPA (BOOT_ACPI_BASE + 0x1000)

#define FADT_HW_REDUCED (1U << 20)
#define FADT_BOOT_NO_VGA (1U << 2)
#define FADT_BOOT_NO_CMOS_RTC (1U << 5)
#define DSDT_S5_AML_LEN 12
#define ACPI_GAS_SYSTEM_IO 1
#define ACPI_GAS_ACCESS_BYTE 1
#define MADT_TYPE_IOAPIC 1
#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_X2APIC 9
#define MADT_ENABLED 1U
#define LAPIC_MAX_ID 254 /* 0xff is the broadcast id; larger ids need x2APIC entries */

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* over the first 20 bytes (the ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* over all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_xsdt {
	struct acpi_header h;
	uint64_t entry[2];
} __attribute__((packed));

struct acpi_gas {
	uint8_t space_id, bit_width, bit_offset, access_size;
	uint64_t address;
} __attribute__((packed));

/* FADT revision 6 (ACPI 6.0). */
struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl, dsdt;
	uint8_t reserved0, preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk;
	uint32_t pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_blk_len, gpe1_blk_len;
	uint8_t gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t address, gsi_base;
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, length, processor_id, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_x2apic {
	uint8_t type, length;
	uint16_t reserved;
	uint32_t x2apic_id, flags, processor_uid;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_header) == 36, "ACPI header");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");
_Static_assert(RSDP_GPA + sizeof(struct acpi_rsdp) <= XSDT_GPA &&
		       XSDT_GPA + sizeof(struct acpi_xsdt) <= FADT_GPA &&
		       FADT_GPA + sizeof(struct acpi_fadt) <= DSDT_GPA &&
		       DSDT_GPA + sizeof(struct acpi_header) + DSDT_S5_AML_LEN <= MADT_GPA,
	       "ACPI tables overlap");
_Static_assert(MADT_GPA + sizeof(struct acpi_madt) + sizeof(struct madt_ioapic) +
			       BOOT_MAX_VCPUS * sizeof(struct madt_x2apic) <=
		       BOOT_ACPI_END,
	       "MADT for BOOT_MAX_VCPUS does not fit");

/* The value that makes the bytes of [p, p+len) sum to zero. */
static uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)-sum;
}

static struct acpi_header acpi_header_make(const char sig[4], uint32_t length, uint8_t rev)
{
	struct acpi_header h = { .length = length, .revision = rev, .oem_revision = 1,
				 .creator_revision = 1 };

	memcpy(h.signature, sig, sizeof(h.signature));
	memcpy(h.oem_id, "XENKVM", sizeof(h.oem_id));
	memcpy(h.oem_table_id, "XENKVM  ", sizeof(h.oem_table_id));
	memcpy(h.creator_id, "XKVM", sizeof(h.creator_id));
	return h;
}

/* Copy a table whose first bytes are an acpi_header into guest memory and
 * fix its checksum there. */
static void table_put(uint8_t *dst, const void *table, size_t len)
{
	memcpy(dst, table, len);
	dst[offsetof(struct acpi_header, checksum)] = acpi_checksum(dst, len);
}

static void rsdp_put(uint8_t *dst)
{
	struct acpi_rsdp r = { .revision = 2, .length = sizeof(r), .xsdt_address = XSDT_GPA };

	memcpy(r.signature, "RSD PTR ", sizeof(r.signature));
	memcpy(r.oem_id, "XENKVM", sizeof(r.oem_id));
	r.checksum = acpi_checksum((const uint8_t *)&r, offsetof(struct acpi_rsdp, length));
	r.extended_checksum = acpi_checksum((const uint8_t *)&r, sizeof(r));
	memcpy(dst, &r, sizeof(r));
}

static void xsdt_put(uint8_t *dst)
{
	struct acpi_xsdt x = { .h = acpi_header_make("XSDT", sizeof(x), 1),
			       .entry = { FADT_GPA, MADT_GPA } };

	table_put(dst, &x, sizeof(x));
}

static void fadt_put(uint8_t *dst)
{
	struct acpi_fadt f = { .h = acpi_header_make("FACP", sizeof(f), 6),
			       .dsdt = (uint32_t)DSDT_GPA,
			       .x_dsdt = DSDT_GPA,
			       .flags = FADT_HW_REDUCED,
			       .iapc_boot_arch = FADT_BOOT_NO_VGA | FADT_BOOT_NO_CMOS_RTC,
			       .sleep_control_reg = { ACPI_GAS_SYSTEM_IO, 8, 0, ACPI_GAS_ACCESS_BYTE,
						      BOOT_ACPI_SLEEP_PORT },
			       .sleep_status_reg = { ACPI_GAS_SYSTEM_IO, 8, 0, ACPI_GAS_ACCESS_BYTE,
						     BOOT_ACPI_SLEEP_PORT + 1 } };

	table_put(dst, &f, sizeof(f));
}

/* The DSDT holds one object, Name (\_S5, Package () { 5, 5 }), in AML: the
 * sleep type S5 writes to the sleep control register. No device needs AML. */
static void dsdt_put(uint8_t *dst)
{
	static const uint8_t s5[DSDT_S5_AML_LEN] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02,
				      0x0a, BOOT_ACPI_SLP_TYP_S5, 0x0a, BOOT_ACPI_SLP_TYP_S5 };
	struct acpi_header h = acpi_header_make("DSDT", sizeof(h) + sizeof(s5), 2);

	memcpy(dst, &h, sizeof(h));
	memcpy(dst + sizeof(h), s5, sizeof(s5));
	dst[offsetof(struct acpi_header, checksum)] = acpi_checksum(dst, sizeof(h) + sizeof(s5));
}

/* The CPU entry for vCPU i: APIC id = vCPU index, as KVM assigns them. */
static size_t madt_cpu_put(uint8_t *dst, unsigned i)
{
	struct madt_lapic l = { .type = MADT_TYPE_LAPIC, .length = sizeof(l),
				.processor_id = (uint8_t)i, .apic_id = (uint8_t)i,
				.flags = MADT_ENABLED };
	struct madt_x2apic x = { .type = MADT_TYPE_X2APIC, .length = sizeof(x), .x2apic_id = i,
				 .flags = MADT_ENABLED, .processor_uid = i };

	if (i <= LAPIC_MAX_ID) {
		memcpy(dst, &l, sizeof(l));
		return sizeof(l);
	}
	memcpy(dst, &x, sizeof(x));
	return sizeof(x);
}

/* No PCAT_COMPAT flag: there is no 8259 PIC to disable. */
static void madt_put(uint8_t *dst, unsigned vcpus)
{
	struct acpi_madt madt = { .lapic_address = BOOT_LAPIC_ADDR };
	struct madt_ioapic io = { .type = MADT_TYPE_IOAPIC, .length = sizeof(io),
				  .address = BOOT_IOAPIC_ADDR, .gsi_base = 0 };
	size_t len = sizeof(madt);

	memcpy(dst + len, &io, sizeof(io));
	len += sizeof(io);
	for (unsigned i = 0; i < vcpus; i++)
		len += madt_cpu_put(dst + len, i);
	madt.h = acpi_header_make("APIC", (uint32_t)len, 4);
	memcpy(dst, &madt, sizeof(madt));
	dst[offsetof(struct acpi_header, checksum)] = acpi_checksum(dst, len);
}

int acpi_build(struct guest_mem *m, unsigned vcpus, uint64_t *rsdp_gpa, char *err,
	       size_t errlen)
{
	uint8_t *area = gmem_ptr(m, BOOT_ACPI_BASE, BOOT_ACPI_END - BOOT_ACPI_BASE);

	if (vcpus < 1 || vcpus > BOOT_MAX_VCPUS)
		return boot_err(err, errlen, "ACPI: %u vCPUs, must be 1 to %d", vcpus,
				BOOT_MAX_VCPUS);
	if (!area)
		return boot_err(err, errlen, "ACPI: guest memory does not cover 0x%llx-0x%llx",
				BOOT_ACPI_BASE, BOOT_ACPI_END);
	memset(area, 0, BOOT_ACPI_END - BOOT_ACPI_BASE);
	rsdp_put(area + (RSDP_GPA - BOOT_ACPI_BASE));
	xsdt_put(area + (XSDT_GPA - BOOT_ACPI_BASE));
	fadt_put(area + (FADT_GPA - BOOT_ACPI_BASE));
	dsdt_put(area + (DSDT_GPA - BOOT_ACPI_BASE));
	madt_put(area + (MADT_GPA - BOOT_ACPI_BASE), vcpus);
	*rsdp_gpa = RSDP_GPA;
	return 0;
}
