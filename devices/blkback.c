/* Placeholder until the block backend lands: --disk is refused clearly. */
#include <stdio.h>

#include "xenkvm/blkback.h"

int blk_disk_spec_parse(const char *arg, unsigned index, struct blk_disk_spec *out, char *err,
			size_t errlen)
{
	(void)index, (void)out;
	snprintf(err, errlen, "--disk %s: PV block devices are not supported yet", arg);
	return -1;
}

struct blkback *blkback_create(const struct pv_backend_ctx *ctx, const struct blk_disk_spec *spec,
			       char *err, size_t errlen)
{
	(void)ctx, (void)spec;
	snprintf(err, errlen, "PV block devices are not supported yet");
	return NULL;
}

void blkback_destroy(struct blkback *b)
{
	(void)b;
}
