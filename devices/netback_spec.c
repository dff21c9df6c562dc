/* `--net` specs: "tap=NAME[,mac=..]" and the vif keys of
 * xl-network-configuration(5) that mean something without Xen's toolstack.
 * Keys whose job belongs to hotplug scripts are refused with the reason. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "xenkvm/netback.h"
#include "xenkvm/xen.h"

#define SPEC_MAX 512

struct spec_ctx {
	const char *arg;
	char *err;
	size_t errlen;
};

static int spec_error(const struct spec_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int spec_error(const struct spec_ctx *c, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "--net %s: %s", c->arg, why);
	return -1;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	int n = 0;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3],
				      &v[4], &v[5], &n) != 6 || n != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[i * 3]) || !isxdigit((unsigned char)s[i * 3 + 1]))
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

/* Interface names the kernel accepts: 1..15 bytes, no '/', ':' or space. */
static int valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(((struct net_spec *)0)->tap) || !strcmp(s, ".") ||
	    !strcmp(s, ".."))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]) ||
		    !isprint((unsigned char)s[i]))
			return 0;
	return 1;
}

static int parse_devid(const char *s, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!isdigit((unsigned char)*s) || *end || v > 65535)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Keys xl knows that xenkvm cannot honour, and why. */
static const char *refused_key(const char *key)
{
	static const struct {
		const char *key, *why;
	} refused[] = {
		{ "bridge", "bridge=: xenkvm does not add the tap to a bridge (no hotplug "
			    "scripts); create the tap, add it to the bridge and give tap=NAME" },
		{ "script", "script=: xenkvm runs no hotplug scripts; configure the tap yourself" },
		{ "ip", "ip=: addresses are applied by hotplug scripts, which xenkvm does not run" },
		{ "gatewaydev", "gatewaydev=: used by hotplug scripts, which xenkvm does not run" },
		{ "model", "model=: only PV network devices (no emulated NIC)" },
		{ "rate", "rate=: rate limiting is not supported" },
		{ "forwarddev", "forwarddev=: used by hotplug scripts, which xenkvm does not run" },
		{ "mtu", "mtu=: set the MTU on the tap instead" },
	};

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (!strcmp(key, refused[i].key))
			return refused[i].why;
	return NULL;
}

static int parse_pair(const struct spec_ctx *c, const char *key, const char *val,
		      struct net_spec *out)
{
	const char *why = refused_key(key);

	if (why)
		return spec_error(c, "%s", why);
	if (!strcmp(key, "tap") || !strcmp(key, "vifname")) {
		if (!valid_ifname(val))
			return spec_error(c, "'%s' is not an interface name (1-15 characters, no "
					  "'/', ':' or spaces)", val);
		snprintf(out->tap, sizeof(out->tap), "%s", val);
	} else if (!strcmp(key, "mac")) {
		if (parse_mac(val, out->mac) < 0)
			return spec_error(c, "mac '%s' is not of the form aa:bb:cc:dd:ee:ff", val);
		if (out->mac[0] & 1)
			return spec_error(c, "mac '%s' is a multicast address", val);
		out->mac_given = 1;
	} else if (!strcmp(key, "devid")) {
		if (parse_devid(val, &out->devid) < 0)
			return spec_error(c, "devid '%s' is not a number from 0 to 65535", val);
	} else if (!strcmp(key, "type")) {
		if (strcmp(val, "vif"))
			return spec_error(c, "type=%s: only type=vif (PV) is supported", val);
	} else if (!strcmp(key, "backend")) {
		if (strcmp(val, "0") && strcmp(val, "Domain-0"))
			return spec_error(c, "backend=%s: the backend is xenkvm itself (domain 0)",
					  val);
	} else {
		return spec_error(c, "unknown key '%s' (expected tap=, vifname=, mac=, devid=)",
				  key);
	}
	return 0;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Xen's OUI, the rest random, as libxl generates it. */
static void generate_mac(uint8_t mac[6])
{
	uint8_t r[3] = { 0 };

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r[0] = (uint8_t)rand(), r[1] = (uint8_t)rand(), r[2] = (uint8_t)rand();
	mac[0] = 0x00, mac[1] = 0x16, mac[2] = 0x3e;
	mac[3] = r[0] & 0x7f, mac[4] = r[1], mac[5] = r[2];
}

static int parse_items(const struct spec_ctx *c, char *buf, struct net_spec *out)
{
	char *save = NULL;

	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		char *key = item;

		if (!*trim(item))
			continue;
		if (!eq)
			return spec_error(c, "'%s' is not key=value", trim(item));
		*eq = '\0';
		if (parse_pair(c, trim(key), trim(eq + 1), out) < 0)
			return -1;
	}
	return 0;
}

int net_spec_parse(const char *arg, unsigned index, struct net_spec *out, char *err,
		   size_t errlen)
{
	struct spec_ctx c = { arg, err, errlen };
	char buf[SPEC_MAX];

	memset(out, 0, sizeof(*out));
	out->devid = index;
	if (strlen(arg) >= sizeof(buf))
		return spec_error(&c, "%s", "too long");
	snprintf(buf, sizeof(buf), "%s", arg);
	if (parse_items(&c, buf, out) < 0)
		return -1;
	/* xl names a vif's host side vif<domid>.<devid>. */
	if (!out->tap[0])
		snprintf(out->tap, sizeof(out->tap), "vif%u.%u", XENKVM_DOMID, out->devid);
	if (!out->mac_given)
		generate_mac(out->mac);
	return 0;
}
