/* A host tap device (/dev/net/tun) carrying Ethernet frames behind a
 * virtio-net header, so checksum and GSO offload pass through. */
#ifndef XENKVM_TAP_H
#define XENKVM_TAP_H

#include <net/if.h>
#include <stddef.h>

struct tap {
	int fd;                /* non-blocking; -1 when closed */
	char name[IFNAMSIZ];
	int created;           /* the interface did not exist before us */
};

/* Create the tap `name`, or attach to an existing one (it must be a tap
 * nobody else has open). An interface we create is brought up. 0, or -1
 * with a reason. */
int tap_open(struct tap *t, const char *name, char *err, size_t errlen);
void tap_close(struct tap *t);
/* TUNSETOFFLOAD: which TUN_F_* offloads the reader (the guest) accepts. */
int tap_set_offload(struct tap *t, unsigned flags);
/* Link state as the host sees it: on while a frontend is connected. */
void tap_set_carrier(struct tap *t, int on);

#endif
