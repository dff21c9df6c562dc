/* The PV block backend (blkif, <xen/io/blkif.h>). */
#ifndef XENKVM_BLKBACK_H
#define XENKVM_BLKBACK_H

#include <stddef.h>

#include "xenkvm/pvdev.h"

struct blk_disk_spec {
	char path[4096];
	char vdev[32];    /* xvda, ... */
	unsigned devid;   /* the XenBus device id vdev names (51712 for xvda) */
	int readonly;
};

/* `--disk` argument: "PATH[,ro][,vdev=xvda]" or xl's disk syntax
 * ("format=raw, vdev=xvda, access=rw, target=PATH"). index is the disk's
 * position, for the default vdev (xvda, xvdb, ...). 0, or -1 with a reason. */
int blk_disk_spec_parse(const char *arg, unsigned index, struct blk_disk_spec *out, char *err,
			size_t errlen);

struct blkback;
/* Open the image and publish the backend in XenStore. NULL with a reason. */
struct blkback *blkback_create(const struct pv_backend_ctx *ctx, const struct blk_disk_spec *spec,
			       char *err, size_t errlen);
void blkback_destroy(struct blkback *b);

#endif
