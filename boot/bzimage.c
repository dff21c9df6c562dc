/* Linux bzImage: the real-mode setup code followed by a compressed vmlinux.
 * A PVH boot skips the setup and decompressor entirely and loads the vmlinux
 * ELF, as Xen's toolstack does; boot protocol 2.08 says where it lies. */
#include <asm/bootparam.h>
#include <stddef.h>
#include <string.h>

#include "xenkvm/boot.h"

#define SETUP_HDR_OFFSET offsetof(struct boot_params, hdr) /* 0x1f1 */
#define SETUP_HDR_MAGIC 0x53726448U                          /* "HdrS" */
#define SETUP_MIN_VERSION 0x0208 /* first version with payload_offset/length */
#define SETUP_SECTOR 512
#define SETUP_DEFAULT_SECTS 4 /* setup_sects 0 means 4, for ancient images */

static int read_setup_header(const uint8_t *img, size_t len, struct setup_header *h)
{
	if (len < SETUP_HDR_OFFSET + sizeof(*h))
		return -1;
	memcpy(h, img + SETUP_HDR_OFFSET, sizeof(*h));
	return h->header == SETUP_HDR_MAGIC ? 0 : -1;
}

int bzimage_detect(const uint8_t *img, size_t len)
{
	struct setup_header h;

	return read_setup_header(img, len, &h) == 0;
}

/* Locate the compressed payload: it starts payload_offset bytes into the
 * protected-mode part, which follows the setup sectors and the boot sector. */
static int payload_range(const struct setup_header *h, size_t len, const char *name,
			 uint64_t *off, char *err, size_t errlen)
{
	unsigned sects = h->setup_sects ? h->setup_sects : SETUP_DEFAULT_SECTS;
	uint64_t pm_start = (uint64_t)(sects + 1) * SETUP_SECTOR;

	if (h->version < SETUP_MIN_VERSION)
		return boot_err(err, errlen,
				"%s: Linux boot protocol %u.%02u is too old (need 2.08 or later)",
				name, h->version >> 8, h->version & 0xff);
	*off = pm_start + h->payload_offset;
	if (h->payload_length == 0 || *off > len || h->payload_length > len - *off)
		return boot_err(err, errlen,
				"%s: bzImage payload (offset 0x%llx, %u bytes) is outside the file "
				"(%zu bytes)",
				name, (unsigned long long)*off, h->payload_length, len);
	return 0;
}

int bzimage_extract_payload(const uint8_t *img, size_t len, const char *name, size_t max_out,
			    uint8_t **out, size_t *out_len, char *err, size_t errlen)
{
	struct setup_header h;
	uint64_t off = 0;
	char why[160];

	if (read_setup_header(img, len, &h) < 0)
		return boot_err(err, errlen, "%s: not a bzImage (no HdrS setup header)", name);
	if (payload_range(&h, len, name, &off, err, errlen) < 0)
		return -1;
	if (decompress_any(img + off, h.payload_length, max_out, out, out_len, why,
			   sizeof(why)) < 0)
		return boot_err(err, errlen, "%s: bzImage payload: %s", name, why);
	return 0;
}
