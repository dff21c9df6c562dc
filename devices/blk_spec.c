/* `--disk` specifications: xenkvm's short form "PATH[,ro][,vdev=xvda]" and
 * xl's disk syntax (xl-disk-configuration(5)): positional
 * "target, format, vdev, access" and keyed "format=raw, vdev=xvda,
 * access=rw, target=PATH", where target= takes the rest of the string. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blkback_internal.h"

/* The disk index a run of letters names: a..z, then aa, ab, ... (base 26
 * without a zero digit, as Linux and libxl count). -1 past max. */
static long letters_to_index(const char *s, size_t n, long max)
{
	long v = 0;

	for (size_t i = 0; i < n; i++) {
		v = v * 26 + (s[i] - 'a' + 1);
		if (v - 1 > max)
			return -1;
	}
	return n ? v - 1 : -1;
}

/* A partition suffix: empty (0) or a decimal number below limit. */
static long partition_number(const char *s, long limit)
{
	char *end;
	long v;

	if (!*s)
		return 0;
	if (!isdigit((unsigned char)*s) || (*s == '0' && s[1]))
		return -1;
	v = strtol(s, &end, 10);
	return *end || v >= limit ? -1 : v;
}

/* libxl_device_disk_dev_number: xvd, hd and sd names, or a plain number. */
long blk_vdev_to_devid(const char *vdev)
{
	size_t n;
	long disk, part;

	if (isdigit((unsigned char)vdev[0])) {
		char *end;
		long v = strtol(vdev, &end, 10);
		return *end || v <= 0 || v >= (1L << 30) ? -1 : v;
	}
	if (strncmp(vdev, "xvd", 3) && strncmp(vdev, "hd", 2) && strncmp(vdev, "sd", 2))
		return -1;
	vdev += vdev[0] == 'x' ? 3 : 2;
	for (n = 0; vdev[n] >= 'a' && vdev[n] <= 'z'; n++)
		;
	disk = letters_to_index(vdev, n, (1L << 20) - 1);
	if (disk < 0)
		return -1;
	if (vdev[-1] == 'd' && vdev[-2] == 'v') { /* xvd */
		part = partition_number(vdev + n, 256);
		if (part < 0)
			return -1;
		/* Xen's compact encoding for the first 16 disks and partitions,
		 * the extended one (bit 28) beyond. */
		if (disk < 16 && part < 16)
			return (202L << 8) | (disk << 4) | part;
		return (1L << 28) | (disk << 8) | part;
	}
	if (vdev[-2] == 'h') { /* hd: IDE majors 3 and 22, 64 minors a disk */
		part = partition_number(vdev + n, 64);
		if (disk > 3 || part < 0)
			return -1;
		return ((disk < 2 ? 3L : 22L) << 8) | ((disk & 1) << 6) | part;
	}
	part = partition_number(vdev + n, 16); /* sd: SCSI major 8 */
	return disk > 15 || part < 0 ? -1 : (8L << 8) | (disk << 4) | part;
}

static void default_vdev(unsigned index, char *buf, size_t len)
{
	char letters[8];
	int n = 0;
	unsigned v = index + 1;

	while (v && n < (int)sizeof(letters)) {
		letters[n++] = (char)('a' + (v - 1) % 26);
		v = (v - 1) / 26;
	}
	snprintf(buf, len, "xvd");
	while (n > 0 && strlen(buf) + 1 < len)
		strncat(buf, &letters[--n], 1);
}

struct spec_parse {
	struct blk_disk_spec *out;
	const char *arg;
	char *err;
	size_t errlen;
	int have_target, positional;
};

static int __attribute__((format(printf, 2, 3)))
spec_error(struct spec_parse *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "--disk %s: %s", p->arg, msg);
	return -1;
}

static int set_target(struct spec_parse *p, const char *path)
{
	if (!*path)
		return spec_error(p, "empty target (the image path)");
	if (strlen(path) >= sizeof(p->out->path))
		return spec_error(p, "target path too long");
	snprintf(p->out->path, sizeof(p->out->path), "%s", path);
	p->have_target = 1;
	return 0;
}

static int set_format(struct spec_parse *p, const char *v)
{
	return strcmp(v, "raw") ? spec_error(p, "format %s is not supported (raw only)", v) : 0;
}

static int set_access(struct spec_parse *p, const char *v)
{
	if (!strcmp(v, "ro") || !strcmp(v, "r"))
		p->out->readonly = 1;
	else if (!strcmp(v, "rw") || !strcmp(v, "w"))
		p->out->readonly = 0;
	else
		return spec_error(p, "access %s: expected r, ro, w or rw", v);
	return 0;
}

static int set_vdev(struct spec_parse *p, const char *v)
{
	long devid = blk_vdev_to_devid(v);

	if (devid < 0 || strlen(v) >= sizeof(p->out->vdev))
		return spec_error(p, "vdev %s: not a Xen virtual device name (xvda, hdb, sdc1, ...)",
				  v);
	snprintf(p->out->vdev, sizeof(p->out->vdev), "%s", v);
	p->out->devid = (unsigned)devid;
	return 0;
}

static int set_devtype(struct spec_parse *p, const char *v)
{
	return strcmp(v, "disk") ? spec_error(p, "devtype %s is not supported (disk only)", v) : 0;
}

static int key_ignored(struct spec_parse *p, const char *v)
{
	(void)p, (void)v;
	return 0;
}

static const struct {
	const char *key;
	int (*set)(struct spec_parse *, const char *);
} spec_keys[] = {
	{ "format", set_format },   { "vdev", set_vdev },
	{ "access", set_access },   { "devtype", set_devtype },
	/* Choices xl offers that make no difference to xenkvm's one backend. */
	{ "backendtype", key_ignored }, { "backend", key_ignored },
};

static int keyed(struct spec_parse *p, const char *key, const char *value)
{
	for (size_t i = 0; i < sizeof(spec_keys) / sizeof(spec_keys[0]); i++)
		if (!strcmp(key, spec_keys[i].key))
			return spec_keys[i].set(p, value);
	return spec_error(p, "unknown key %s", key);
}

/* A word without '=': its position says what it is (target, format, vdev,
 * access), but access words, "raw" and flags are recognised anywhere so the
 * short form "PATH,ro,vdev=xvda" reads naturally. */
static int bare_word(struct spec_parse *p, const char *w)
{
	int pos = p->positional++;

	if (!*w)
		return 0; /* xl: an empty positional parameter keeps the default */
	if (pos == 0 && !p->have_target)
		return set_target(p, w);
	if (!strcmp(w, "ro") || !strcmp(w, "rw") || !strcmp(w, "r") || !strcmp(w, "w"))
		return set_access(p, w);
	if (!strcmp(w, "discard") || !strcmp(w, "no-discard") || !strcmp(w, "direct-io-safe"))
		return 0;
	if (!strcmp(w, "cdrom"))
		return set_devtype(p, w);
	if ((pos == 1 || pos == 2) && blk_vdev_to_devid(w) >= 0)
		return set_vdev(p, w);
	if (pos == 1)
		return set_format(p, w);
	return spec_error(p, "unexpected %s", w);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_words(struct spec_parse *p, char *s)
{
	while (s) {
		char *w = s, *comma, *eq;

		w += strspn(w, " \t");
		if (!strncmp(w, "target=", 7))
			return set_target(p, trim(w + 7)); /* the rest, commas and all */
		comma = strchr(w, ',');
		if (comma)
			*comma = '\0';
		s = comma ? comma + 1 : NULL;
		w = trim(w);
		eq = strchr(w, '=');
		if (eq) {
			*eq = '\0';
			if (keyed(p, trim(w), trim(eq + 1)) < 0)
				return -1;
		} else if (bare_word(p, w) < 0) {
			return -1;
		}
	}
	return 0;
}

static int check_image(struct spec_parse *p)
{
	struct stat st;

	if (stat(p->out->path, &st) < 0)
		return spec_error(p, "cannot open image %s: %s", p->out->path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return spec_error(p, "not a regular file or block device");
	return 0;
}

int blk_disk_spec_parse(const char *arg, unsigned index, struct blk_disk_spec *out, char *err,
			size_t errlen)
{
	struct spec_parse p = { .out = out, .arg = arg, .err = err, .errlen = errlen };
	char *copy = strdup(arg);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!copy)
		return spec_error(&p, "%s", strerror(ENOMEM));
	rc = parse_words(&p, copy);
	free(copy);
	if (rc < 0)
		return -1;
	if (!p.have_target)
		return spec_error(&p, "no target (the image path)");
	if (!out->vdev[0]) {
		char vdev[sizeof(out->vdev)];

		default_vdev(index, vdev, sizeof(vdev));
		if (set_vdev(&p, vdev) < 0)
			return -1;
	}
	return check_image(&p);
}
