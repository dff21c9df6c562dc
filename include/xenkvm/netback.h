/* The PV network backend (netif, <xen/io/netif.h>) on a host tap device. */
#ifndef XENKVM_NETBACK_H
#define XENKVM_NETBACK_H

#include <stddef.h>
#include <stdint.h>

#include "xenkvm/pvdev.h"

struct net_spec {
	char tap[16];      /* host interface name: created, or an existing tap */
	uint8_t mac[6];    /* the guest's MAC */
	int mac_given;     /* else generated (00:16:3e:xx:xx:xx, Xen's OUI) */
	unsigned devid;    /* vif/<devid> */
};

/* `--net` argument: "tap=NAME[,mac=aa:bb:cc:dd:ee:ff]" (xl's vif keys
 * welcome). 0, or -1 with a reason. */
int net_spec_parse(const char *arg, unsigned index, struct net_spec *out, char *err, size_t errlen);

struct netback;
struct netback *netback_create(const struct pv_backend_ctx *ctx, const struct net_spec *spec,
			       char *err, size_t errlen);
void netback_destroy(struct netback *n);

#endif
