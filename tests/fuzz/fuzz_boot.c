/* libFuzzer harness: the PVH loader (pvh_boot_load) on kernel files of the
 * fuzzer's making: ELF32/ELF64 headers, program and section headers, notes,
 * bzImage setup headers and their compressed payloads (gzip, xz, lzma,
 * zstd, lz4, bzip2), with an initrd and a command line. Input:
 *   u8 flags: bit 0 an initrd, bit 1 a command line, bits 2-3 RAM size
 *   u16 vCPUs (for the MADT)
 *   with an initrd: u32 its length (taken from the end of the input)
 *   the rest: the kernel file
 * Checked beyond the sanitizers: a load that succeeds reports an entry point
 * inside the loaded image and an image inside guest RAM; a failure names
 * the file. Decompressing is bounded by BOOT_MAX_KERNEL_SIZE, which the
 * fuzzer's RSS limit (-rss_limit_mb) must allow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_vm.h"
#include "xenkvm/boot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const uint64_t ram_sizes[] = { 2ULL << 20, 16ULL << 20, 64ULL << 20, 3ULL << 30 };

static void fail(const char *why)
{
	fprintf(stderr, "fuzz_boot: %s\n", why);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t flags = fin_u8(&in);
	unsigned vcpus = fin_u16(&in) % (BOOT_MAX_VCPUS + 2);
	size_t initrd_len = flags & 1 ? fin_u32(&in) % (in.left + 1) : 0, kernel_len;
	struct boot_config c = { .kernel_name = "kernel", .initrd_name = "initrd",
				 .cmdline = flags & 2 ? "console=hvc0 earlyprintk=xen" : NULL,
				 .vcpus = vcpus };
	struct guest_mem m;
	struct boot_info bi;
	char err[256] = "";
	uint8_t *kernel, *initrd = NULL;

	kernel_len = in.left - initrd_len;
	/* Own copies, so reads past either end are caught. */
	kernel = malloc(kernel_len ? kernel_len : 1);
	memcpy(kernel, in.p, kernel_len);
	if (flags & 1) {
		initrd = malloc(initrd_len ? initrd_len : 1);
		memcpy(initrd, in.p + kernel_len, initrd_len);
	}
	c.kernel = kernel, c.kernel_len = kernel_len;
	c.initrd = initrd, c.initrd_len = initrd_len;
	if (gmem_init(&m, ram_sizes[(flags >> 2) & 3], NULL, NULL) < 0)
		fail("gmem_init");
	if (pvh_boot_load(&m, &c, &bi, err, sizeof(err)) == 0) {
		if (bi.entry < bi.kernel_start || bi.entry >= bi.kernel_end)
			fail("the entry point is outside the image");
		if (!gmem_is_ram(&m, bi.kernel_start, bi.kernel_end - bi.kernel_start))
			fail("the image is outside RAM");
		if (bi.initrd_len && !gmem_is_ram(&m, bi.initrd_gpa, bi.initrd_len))
			fail("the initrd is outside RAM");
	} else if (!strstr(err, "kernel") && !strstr(err, "initrd") && !strstr(err, "vCPU")) {
		fprintf(stderr, "fuzz_boot: error without a file name: %s\n", err);
		abort();
	}
	gmem_destroy(&m);
	free(kernel);
	free(initrd);
	return 0;
}
