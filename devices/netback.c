/* Placeholder until the network backend lands: --net is refused clearly. */
#include <stdio.h>

#include "xenkvm/netback.h"

int net_spec_parse(const char *arg, unsigned index, struct net_spec *out, char *err,
			size_t errlen)
{
	(void)index, (void)out;
	snprintf(err, errlen, "--net %s: PV network devices are not supported yet", arg);
	return -1;
}

struct netback *netback_create(const struct pv_backend_ctx *ctx, const struct net_spec *spec,
			       char *err, size_t errlen)
{
	(void)ctx, (void)spec;
	snprintf(err, errlen, "PV network devices are not supported yet");
	return NULL;
}

void netback_destroy(struct netback *b)
{
	(void)b;
}
