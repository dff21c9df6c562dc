/* Host tap devices for the network backend. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xenkvm/netback_ring.h"
#include "xenkvm/tap.h"

/* A created interface starts down; the guest's link should be usable at
 * once, as after Xen's hotplug script. */
static int link_up(const char *name)
{
	struct ifreq ifr = { .ifr_flags = 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	if (s >= 0)
		close(s);
	return rc;
}

static void tap_error(const char *name, int e, char *err, size_t errlen)
{
	if (e == EBUSY)
		snprintf(err, errlen, "tap %s: in use by another process", name);
	else if (e == EINVAL)
		snprintf(err, errlen, "tap %s: an interface of that name exists and is not a tap",
			 name);
	else if (e == EPERM)
		snprintf(err, errlen, "tap %s: not permitted (needs CAP_NET_ADMIN, or a tap "
			 "created for this user)", name);
	else
		snprintf(err, errlen, "tap %s: %s", name, strerror(e));
}

int tap_open(struct tap *t, const char *name, char *err, size_t errlen)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int hdr_len = (int)NB_VNET_HDR_LEN;

	t->created = if_nametoindex(name) == 0;
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		snprintf(err, errlen, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		tap_error(name, errno, err, errlen);
		goto fail;
	}
	snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr_len) < 0 || tap_set_offload(t, 0) < 0) {
		snprintf(err, errlen, "tap %s: vnet header: %s", name, strerror(errno));
		goto fail;
	}
	tap_set_carrier(t, 0);
	if (t->created && link_up(t->name) < 0) {
		snprintf(err, errlen, "tap %s: cannot bring it up: %s", name, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	close(t->fd);
	t->fd = -1;
	return -1;
}

void tap_close(struct tap *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

int tap_set_offload(struct tap *t, unsigned flags)
{
	return ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)flags);
}

void tap_set_carrier(struct tap *t, int on)
{
	/* Linux 5.0+; an older kernel keeps the carrier on, which is harmless. */
	(void)ioctl(t->fd, TUNSETCARRIER, &on);
}
