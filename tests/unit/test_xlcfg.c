/* xl.cfg files: the syntax (values, lists, escapes, comments, continuation,
 * +=), every malformed input as one "file:line: problem", each key's
 * mapping onto struct run_config, KEY=VALUE overrides and flags on top. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_suite.h"
#include "xenkvm/cli.h"
#include "xenkvm/xlcfg.h"

#include "cli_args.h"

static struct xlcfg cfg;
static char err[512];

static void setup(void)
{
	xlcfg_init(&cfg);
	err[0] = '\0';
}

static void teardown(void)
{
	xlcfg_free(&cfg);
}

static int parse(const char *text)
{
	return xlcfg_parse(&cfg, "t.cfg", 1, text, strlen(text), err, sizeof(err));
}

static const struct xlcfg_value *get(const char *key)
{
	const struct xlcfg_setting *s = xlcfg_find(&cfg, key);

	ck_assert_msg(s, "no setting '%s'", key);
	return &s->value;
}

/* The text must fail with exactly this message. */
static void bad(const char *text, const char *want)
{
	struct xlcfg c;
	char e[512] = "";

	xlcfg_init(&c);
	ck_assert_int_eq(xlcfg_parse(&c, "t.cfg", 1, text, strlen(text), e, sizeof(e)), -1);
	ck_assert_str_eq(e, want);
	ck_assert_ptr_null(strchr(e, '\n'));
	xlcfg_free(&c);
}

/* ---- syntax ---- */

START_TEST(scalars_and_comments)
{
	ck_assert_int_eq(parse("# a comment\n"
			       "name = \"guest\"   # trailing comment\n"
			       "\n"
			       "kernel='/boot/vmlinuz'\n"
			       "memory = 512; vcpus=0x4 ; maxvcpus = 010;\n"
			       "\t extra = \"a # not a comment\"\r\n"
			       "empty = ''"),
			 0);
	ck_assert_uint_eq(cfg.n, 7);
	ck_assert_int_eq(get("name")->kind, XLCFG_STRING);
	ck_assert_str_eq(get("name")->text, "guest");
	ck_assert_str_eq(get("kernel")->text, "/boot/vmlinuz");
	ck_assert_int_eq(get("memory")->kind, XLCFG_NUMBER);
	ck_assert_str_eq(get("memory")->text, "512");
	ck_assert_str_eq(get("vcpus")->text, "0x4");
	ck_assert_str_eq(get("extra")->text, "a # not a comment");
	ck_assert_str_eq(get("empty")->text, "");
	ck_assert_uint_eq(get("name")->line, 2);
	ck_assert_uint_eq(get("maxvcpus")->line, 5);
	ck_assert_uint_eq(xlcfg_find(&cfg, "extra")->line, 6);
	ck_assert_str_eq(cfg.settings[0].key, "name"); /* file order kept */
}
END_TEST

START_TEST(escapes)
{
	ck_assert_int_eq(parse("a = \"tab\\there\\n\\\\ \\\"q\\\" \\'s\\'\"\n"
			       "b = 'hex \\x41\\x7a octal \\101\\60\\7'\n"
			       "c = \"\\a\\b\\f\\r\\v\"\n"
			       "d = 'it''s'\n"),
			 -1); /* two strings in a row are not one value */
	ck_assert_str_eq(err, "t.cfg:4: expected a new line or ';' after the value of 'd', not a string");
	xlcfg_free(&cfg);
	ck_assert_int_eq(parse("a = \"tab\\there\\n\\\\ \\\"q\\\" \\'s\\'\"\n"
			       "b = 'hex \\x41\\x7a octal \\101\\60\\7'\n"
			       "c = \"\\a\\b\\f\\r\\v\"\n"),
			 0);
	ck_assert_str_eq(get("a")->text, "tab\there\n\\ \"q\" 's'");
	ck_assert_str_eq(get("b")->text, "hex Az octal A0\a");
	ck_assert_str_eq(get("c")->text, "\a\b\f\r\v");
}
END_TEST

START_TEST(lists)
{
	ck_assert_int_eq(parse("disk = [ 'a', \"b\",\n"
			       "         'c',   # comment inside\n"
			       "]\n"
			       "empty = [ ]\n"
			       "nl = [\n\n]\n"
			       "nested = [ [ 'x', 1 ], [], 'y' ]\n"
			       "mixed = [ 1, 'two', ]\n"),
			 0);
	const struct xlcfg_value *d = get("disk"), *n = get("nested");
	ck_assert_int_eq(d->kind, XLCFG_LIST);
	ck_assert_uint_eq(d->nitems, 3);
	ck_assert_str_eq(d->items[2].text, "c");
	ck_assert_uint_eq(d->items[0].line, 1);
	ck_assert_uint_eq(d->items[2].line, 2);
	ck_assert_uint_eq(get("empty")->nitems, 0);
	ck_assert_uint_eq(get("nl")->nitems, 0);
	ck_assert_uint_eq(n->nitems, 3);
	ck_assert_int_eq(n->items[0].kind, XLCFG_LIST);
	ck_assert_str_eq(n->items[0].items[1].text, "1");
	ck_assert_uint_eq(n->items[1].nitems, 0);
	ck_assert_int_eq(get("mixed")->items[0].kind, XLCFG_NUMBER);
}
END_TEST

START_TEST(continuation)
{
	ck_assert_int_eq(parse("extra = \\\n  \"console=hvc0\"\n"
			       "disk = [ 'a' ] \\\r\n"
			       "\n"
			       "name = 'n'\n"),
			 0);
	ck_assert_str_eq(get("extra")->text, "console=hvc0");
	ck_assert_uint_eq(get("extra")->line, 2);
	ck_assert_uint_eq(xlcfg_find(&cfg, "name")->line, 5);
}
END_TEST

START_TEST(append)
{
	ck_assert_int_eq(parse("extra = 'a'\nextra += ' b'\n"
			       "disk = [ 'x' ]\ndisk += [ 'y', 'z' ]\n"
			       "vif += [ 'v' ]\n"),
			 0);
	ck_assert_str_eq(get("extra")->text, "a b");
	ck_assert_uint_eq(get("disk")->nitems, 3);
	ck_assert_str_eq(get("disk")->items[2].text, "z");
	ck_assert_uint_eq(get("vif")->nitems, 1);
	bad("m = 1\nm += 2\n", "t.cfg:2: m += cannot append a number to a number");
	bad("e = 'x'\ne += [ 'y' ]\n", "t.cfg:2: e += cannot append a list to a string");
}
END_TEST

START_TEST(duplicates)
{
	bad("name = 'a'\nmemory = 1\nname = 'b'\n",
	    "t.cfg:3: duplicate key 'name' (already set at t.cfg:1; use += to append)");
	bad("extra += 'a'\nextra = 'b'\n",
	    "t.cfg:2: duplicate key 'extra' (already set at t.cfg:1; use += to append)");
}
END_TEST

START_TEST(malformed)
{
	bad("name = \"unterminated\nkernel = 'k'\n", "t.cfg:1: unterminated string (no closing \")");
	bad("\n\nname = 'abc", "t.cfg:3: unterminated string (no closing ')");
	bad("disk = [ 'a',\n 'b'\n", "t.cfg:1: unterminated list (no closing ']')");
	bad("disk = [ , ]\n", "t.cfg:1: expected a value (a string, number or list), not ','");
	bad("disk = [ 'a' 'b' ]\n", "t.cfg:1: expected ',' or ']' in a list, not a string");
	bad("disk = [ 'a', ,]\n", "t.cfg:1: expected a value (a string, number or list), not ','");
	bad("disk = 'a' ]\n", "t.cfg:1: expected a new line or ';' after the value of 'disk', not ']'");
	bad("name = guest\n", "t.cfg:1: expected a value, not the bare word 'guest' (quote strings)");
	bad("name 'x'\n", "t.cfg:1: expected '=' after 'name', not a string");
	bad("name =\n'x'\n", "t.cfg:1: expected a value (a string, number or list), not the end of the line");
	bad("name = 'x'\n= 3\n", "t.cfg:2: expected a KEY = VALUE setting, not '='");
	bad("a = 1 b = 2\n", "t.cfg:1: expected a new line or ';' after the value of 'a', not a word");
	bad("memory = 512M\n", "t.cfg:1: bad number '512M' (decimal, 0-prefixed octal or 0x hex; quote strings)");
	bad("memory = 1.5\n", "t.cfg:1: bad number '1.5' (decimal, 0-prefixed octal or 0x hex; quote strings)");
	bad("memory = 09\n", "t.cfg:1: bad number '09' (decimal, 0-prefixed octal or 0x hex; quote strings)");
	bad("x = 1\nname-x = 'a'\n", "t.cfg:2: unexpected '-'");
	bad("@ = 1\n", "t.cfg:1: unexpected '@'");
	bad("a = 1\n\x01", "t.cfg:2: unexpected byte 0x01");
	bad("a = -1\n", "t.cfg:1: unexpected '-'");
	bad("a = 'x' \\ b\n", "t.cfg:1: stray backslash (only one at the very end of a line continues it)");
	bad("a = 'x\\q'\n", "t.cfg:1: invalid escape: backslash then 'q' in a string");
	bad("a = 'x\\x4'\n", "t.cfg:1: \\x needs two hex digits in a string");
	bad("a = 'x\\0'\n", "t.cfg:1: a NUL byte (\\0) cannot be in a string");
	bad("a = 'x\\777'\n", "t.cfg:1: octal escape \\777 is above \\377");
	bad("a = 'x\\\ny'\n", "t.cfg:1: unterminated string");
	bad("a = [[[[[[[[[[[[[[[[[ ]]]]]]]]]]]]]]]]]\n", "t.cfg:1: lists nested more than 16 deep");
}
END_TEST

START_TEST(nul_byte_in_text)
{
	static const char text[] = "name = 'a\0b'\n";
	static const char text2[] = "name = 'a'\n\0";

	ck_assert_int_eq(xlcfg_parse(&cfg, "t.cfg", 1, text, sizeof(text) - 1, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "t.cfg:1: a NUL byte cannot be in a string");
	ck_assert_int_eq(xlcfg_parse(&cfg, "t.cfg", 1, text2, sizeof(text2) - 1, err, sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "t.cfg:2: unexpected byte 0x00");
}
END_TEST

START_TEST(override_replaces_and_appends)
{
	ck_assert_int_eq(parse("memory = 256\nextra = 'a'\ndisk = [ 'x' ]\n"), 0);
	ck_assert_int_eq(xlcfg_override(&cfg, "memory=512", err, sizeof(err)), 0);
	ck_assert_int_eq(xlcfg_override(&cfg, "extra+=' b'", err, sizeof(err)), 0);
	ck_assert_int_eq(xlcfg_override(&cfg, "disk = [ 'y' ]", err, sizeof(err)), 0);
	ck_assert_int_eq(xlcfg_override(&cfg, "name=\"n\"", err, sizeof(err)), 0);
	ck_assert_int_eq(xlcfg_override(&cfg, "memory=1024", err, sizeof(err)), 0);
	ck_assert_str_eq(get("memory")->text, "1024");
	ck_assert_str_eq(get("extra")->text, "a b");
	ck_assert_uint_eq(get("disk")->nitems, 1);
	ck_assert_str_eq(get("disk")->items[0].text, "y");
	ck_assert_str_eq(get("name")->text, "n");

	char where[200];
	ck_assert_str_eq(xlcfg_where(xlcfg_find(&cfg, "memory"), where, sizeof(where)),
			 "command line 'memory=1024'");
	ck_assert_str_eq(xlcfg_where(xlcfg_find(&cfg, "extra"), where, sizeof(where)), "t.cfg:2");

	ck_assert_int_eq(xlcfg_override(&cfg, "name='unterminated", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "command line 'name='unterminated': unterminated string (no closing ')");
	ck_assert_int_eq(xlcfg_override(&cfg, "memory", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "command line 'memory': expected '=' after 'memory', not the end of the file");
}
END_TEST

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/xenkvm-xlcfg-XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

START_TEST(read_file_names_it)
{
	char *path = write_tmp("name = 'ok'\n\n  memory = [ 1,\n");
	char want[600];

	ck_assert_int_eq(xlcfg_read_file(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: unterminated list (no closing ']')", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(xlcfg_read_file(&cfg, "/nonexistent/x.cfg", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/x.cfg: No such file or directory");
	ck_assert_int_eq(xlcfg_read_file(&cfg, "/tmp", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/tmp: not a regular file of at most 1024 KiB");
	unlink(path);
	free(path);
}
END_TEST

/* ---- keys onto struct run_config ---- */

static struct run_config rc;
static char warnings[2048];

static void collect_warning(void *opaque, const char *msg)
{
	(void)opaque;
	snprintf(warnings + strlen(warnings), sizeof(warnings) - strlen(warnings), "%s|", msg);
}

static void map_setup(void)
{
	setup();
	memset(&rc, 0, sizeof(rc));
	rc.memory = DEFAULT_MEMORY;
	rc.vcpus = 1;
	rc.console = "stdio";
	warnings[0] = '\0';
}

static int map(const char *text)
{
	xlcfg_free(&cfg);
	ck_assert_msg(parse(text) == 0, "%s", err);
	return cli_apply_xlcfg(&cfg, &rc, collect_warning, NULL, err, sizeof(err));
}

static void map_bad(const char *text, const char *want)
{
	ck_assert_int_eq(map(text), -1);
	ck_assert_str_eq(err, want);
}

START_TEST(key_basics)
{
	ck_assert_int_eq(map("name = 'web1'\ntype = 'pvh'\nkernel = '/k'\nramdisk = '/i'\n"
			     "memory = 512\nmaxmem = '1024'\nvcpus = 2\nmaxvcpus = 0x8\n"
			     "uuid = '6B2E6A3C-1234-4abc-8def-0123456789AB'\n"),
			 0);
	ck_assert_str_eq(rc.name, "web1");
	ck_assert_str_eq(rc.kernel, "/k");
	ck_assert_str_eq(rc.initrd, "/i");
	ck_assert_uint_eq(rc.memory, 512ULL << 20);
	ck_assert_uint_eq(rc.maxmem, 1024ULL << 20);
	ck_assert_uint_eq(rc.vcpus, 2);
	ck_assert_uint_eq(rc.max_vcpus, 8);
	ck_assert_str_eq(rc.uuid, "6b2e6a3c-1234-4abc-8def-0123456789ab");
	ck_assert_str_eq(warnings, "");
}
END_TEST

START_TEST(key_errors_name_file_line_key)
{
	map_bad("name = 'a/b'\n", "t.cfg:1: name: 'a/b' is not a domain name (1 to 64 characters, no '/')");
	map_bad("\nname = [ 'a' ]\n", "t.cfg:2: name: expected a string, not a list");
	map_bad("memory = 0\n", "t.cfg:1: memory: 0 MiB is out of range (2 to 1048576)");
	map_bad("memory = '512M'\n", "t.cfg:1: memory: '512M' is not a whole number of MiB");
	map_bad("memory = ''\n", "t.cfg:1: memory: '' is not a whole number of MiB");
	map_bad("maxmem = 2097152\n", "t.cfg:1: maxmem: 2097152 MiB is out of range (2 to 1048576)");
	map_bad("vcpus = 0\n", "t.cfg:1: vcpus: 0 vCPUs is out of range (1 to 128)");
	map_bad("maxvcpus = 129\n", "t.cfg:1: maxvcpus: 129 vCPUs is out of range (1 to 128)");
	map_bad("vcpus = '-1'\n", "t.cfg:1: vcpus: '-1' is not a whole number of vCPUs");
	map_bad("kernel = ''\n", "t.cfg:1: kernel: empty path");
	map_bad("uuid = 'not-a-uuid'\n",
		"t.cfg:1: uuid: 'not-a-uuid' is not a UUID (8-4-4-4-12 hex digits, e.g. from uuidgen)");
	map_bad("uuid = '6b2e6a3c-1234-4abc-8def-0123456789ag'\n",
		"t.cfg:1: uuid: '6b2e6a3c-1234-4abc-8def-0123456789ag' is not a UUID (8-4-4-4-12 hex digits, e.g. from uuidgen)");
	map_bad("uuid = '6b2e6a3c12344abc-8def-0123456789ab0'\n",
		"t.cfg:1: uuid: '6b2e6a3c12344abc-8def-0123456789ab0' is not a UUID (8-4-4-4-12 hex digits, e.g. from uuidgen)");
}
END_TEST

START_TEST(key_type)
{
	ck_assert_int_eq(map("type = \"pvh\"\n"), 0);
	map_bad("type = 'pv'\n", "t.cfg:1: type: classic PV guests are not supported yet: xenkvm "
		"runs PVH guests (type = \"pvh\", with a kernel built with CONFIG_XEN_PVH)");
	map_bad("type = 'hvm'\n", "t.cfg:1: type: HVM guests are not supported: xenkvm has no "
		"device model (type = \"pvh\" boots a PVH-capable kernel directly)");
	map_bad("type = 'pvhh'\n", "t.cfg:1: type: unknown guest type 'pvhh' (xenkvm runs type = \"pvh\")");
	map_bad("builder = 'hvm'\n", "t.cfg:1: builder: HVM guests are not supported: xenkvm has no "
		"device model (type = \"pvh\" boots a PVH-capable kernel directly)");
	map_bad("builder = 'generic'\n", "t.cfg:1: builder: classic PV guests are not supported "
		"yet: xenkvm runs PVH guests (type = \"pvh\", with a kernel built with CONFIG_XEN_PVH)");
	ck_assert_int_eq(map("builder = 'generic'\ntype = 'pvh'\n"), 0); /* type wins, as in xl */
}
END_TEST

START_TEST(key_cmdline_rule)
{
	ck_assert_int_eq(map("root = '/dev/xvda1 ro'\nextra = 'console=hvc0'\n"), 0);
	ck_assert_str_eq(rc.cmdline, "root=/dev/xvda1 ro console=hvc0");
	rc.cmdline = NULL;
	ck_assert_int_eq(map("root = '/dev/xvda1'\n"), 0);
	ck_assert_str_eq(rc.cmdline, "root=/dev/xvda1");
	rc.cmdline = NULL;
	ck_assert_int_eq(map("extra = 'quiet'\n"), 0);
	ck_assert_str_eq(rc.cmdline, "quiet");
	rc.cmdline = NULL;
	ck_assert_int_eq(map("cmdline = 'x=1'\n"), 0);
	ck_assert_str_eq(rc.cmdline, "x=1");
	ck_assert_str_eq(warnings, "");
	ck_assert_int_eq(map("extra = 'e'\nroot = 'r'\ncmdline = 'c'\n"), 0);
	ck_assert_str_eq(rc.cmdline, "c");
	ck_assert_str_eq(warnings, "t.cfg:2: ignoring root= and extra= in favour of cmdline=|");
	map_bad("extra = [ 'a' ]\n", "t.cfg:1: extra: expected a string, not a list");
}
END_TEST

START_TEST(key_devices)
{
	ck_assert_int_eq(map("disk = [ 'format=raw, vdev=xvda, access=rw, target=/img/a.img',\n"
			     "         '/img/b.img,raw,xvdb,ro', ]\n"
			     "vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0', '' ]\n"),
			 0);
	ck_assert_uint_eq(rc.ndisks, 2);
	ck_assert_str_eq(rc.disks[0], "format=raw, vdev=xvda, access=rw, target=/img/a.img");
	ck_assert_str_eq(rc.disks[1], "/img/b.img,raw,xvdb,ro");
	ck_assert_uint_eq(rc.nnics, 2);
	ck_assert_str_eq(rc.nics[0], "mac=00:16:3e:00:00:01,bridge=xenbr0");
	ck_assert_str_eq(rc.nics[1], "");
	map_bad("disk = '/img/a.img'\n",
		"t.cfg:1: disk: expected a list of strings, like disk = [ '...', '...' ]");
	map_bad("vif = [ 'a', [ 'b' ] ]\n", "t.cfg:1: vif: entry 2 is a list, expected a string");
	map_bad("vif = [ '1','2','3','4','5','6','7','8','9' ]\n",
		"t.cfg:1: vif: 9 entries; at most 8 are supported");
}
END_TEST

START_TEST(key_actions)
{
	ck_assert_int_eq(map("on_poweroff = 'preserve'\non_reboot = 'destroy'\n"
			     "on_crash = 'restart'\non_watchdog = 'preserve'\n"),
			 0);
	ck_assert_int_eq(rc.on_poweroff, ACTION_PRESERVE);
	ck_assert_int_eq(rc.on_reboot, ACTION_DESTROY);
	ck_assert_int_eq(rc.on_crash, ACTION_RESTART);
	ck_assert_int_eq(rc.on_watchdog, ACTION_PRESERVE);
	ck_assert_int_eq(map("on_crash = 'destroy'\n"), 0);
	ck_assert_int_eq(rc.on_crash, ACTION_DESTROY);
	map_bad("on_crash = 'coredump-destroy'\n", "t.cfg:1: on_crash: 'coredump-destroy': guest "
		"core dumps are not supported yet (use destroy, restart or preserve)");
	map_bad("on_reboot = 'coredump_restart'\n", "t.cfg:1: on_reboot: 'coredump_restart': guest "
		"core dumps are not supported yet (use destroy, restart or preserve)");
	map_bad("on_reboot = 'rename-restart'\n", "t.cfg:1: on_reboot: 'rename-restart': "
		"rename-restart is not supported: one xenkvm process runs one VM under one name "
		"(use restart)");
	map_bad("on_poweroff = 'soft-reset'\n", "t.cfg:1: on_poweroff: 'soft-reset': soft-reset is "
		"not supported as an action (use destroy, restart or preserve)");
	map_bad("on_watchdog = 'explode'\n",
		"t.cfg:1: on_watchdog: 'explode': not an action (destroy, restart or preserve)");
	ck_assert_str_eq(lifecycle_action_name(ACTION_RESTART), "restart");
}
END_TEST

START_TEST(key_serial)
{
	ck_assert_int_eq(map("serial = 'pty'\n"), 0);
	ck_assert_str_eq(rc.console, "pty");
	ck_assert_int_eq(map("serial = [ 'stdio' ]\n"), 0);
	ck_assert_str_eq(rc.console, "stdio");
	ck_assert_int_eq(map("serial = 'file:/tmp/con.log'\n"), 0);
	ck_assert_str_eq(rc.console, "file:/tmp/con.log");
	ck_assert_int_eq(map("serial = 'null'\n"), 0);
	ck_assert_str_eq(rc.console, "file:/dev/null");
	map_bad("serial = 'vc'\n", "t.cfg:1: serial: 'vc' is not supported: a PVH guest has no "
		"emulated serial port and its PV console goes to pty, stdio, file:PATH or null");
	map_bad("serial = [ 'pty', 'pty' ]\n",
		"t.cfg:1: serial: xenkvm gives a PVH guest one console: expected one device");
}
END_TEST

START_TEST(unknown_keys_warn)
{
	ck_assert_int_eq(map("name = 'a'\nvnc = 1\n\nfrobnicate = [ 1 ]\nMemory = 5\n"), 0);
	ck_assert_str_eq(warnings, "t.cfg:2: 'vnc' ignored: there is no graphical console|"
				   "t.cfg:4: unknown key 'frobnicate' ignored|"
				   "t.cfg:5: unknown key 'Memory' ignored|");
	ck_assert_uint_eq(rc.memory, DEFAULT_MEMORY);
}
END_TEST

/* ---- the command line ---- */

/* `xenkvm run ARGS...` into rc; returns cli_parse_run's result. */
static int run_args(const char *first, ...)
{
	va_list ap;
	int r;

	va_start(ap, first);
	r = cli_args_parse(&rc, err, sizeof(err), first, ap);
	va_end(ap);
	return r;
}

static void cli_teardown(void)
{
	cli_args_free(&rc);
}

START_TEST(cli_flags_only_as_before)
{
	ck_assert_int_eq(run_args("--kernel", "/k", "--memory", "64", "--vcpus", "2", NULL), 0);
	ck_assert_str_eq(rc.kernel, "/k");
	ck_assert_uint_eq(rc.memory, 64ULL << 20);
	ck_assert_uint_eq(rc.maxmem, 64ULL << 20);  /* defaults to memory */
	ck_assert_uint_eq(rc.max_vcpus, 2);         /* defaults to vcpus */
	ck_assert_int_eq(rc.on_reboot, ACTION_DESTROY); /* no file: the exit status tells */
	ck_assert_ptr_null(rc.config_file);
	ck_assert_str_eq(rc.uuid, "");
	ck_assert_int_eq(run_args(NULL), 0);
	ck_assert_ptr_null(rc.kernel); /* the embedded guest */
	ck_assert_int_eq(run_args("--help", NULL), 1);
}
END_TEST

START_TEST(cli_hypercall_rate)
{
	uint64_t rate = 7, burst = 7;

	ck_assert_int_eq(run_args(NULL), 0);
	ck_assert_uint_eq(rc.hcall_rate, 0); /* no limit by default */
	ck_assert_int_eq(run_args("--hypercall-rate", "1000", NULL), 0);
	ck_assert_uint_eq(rc.hcall_rate, 1000);
	ck_assert_uint_eq(rc.hcall_burst, 100);
	ck_assert_int_eq(run_args("--hypercall-rate", "5:3", NULL), 0);
	ck_assert_uint_eq(rc.hcall_rate, 5);
	ck_assert_uint_eq(rc.hcall_burst, 3);
	ck_assert_int_eq(run_args("xenkvm_hypercall_rate=\"200:20\"", NULL), 0);
	ck_assert_uint_eq(rc.hcall_rate, 200);
	ck_assert_uint_eq(rc.hcall_burst, 20);
	ck_assert_int_eq(run_args("xenkvm_hypercall_rate=300", "--hypercall-rate", "0", NULL), 0);
	ck_assert_uint_eq(rc.hcall_rate, 0);
	ck_assert_int_eq(run_args("--hypercall-rate", "lots", NULL), -1);
	ck_assert_str_eq(err, "invalid value 'lots' for --hypercall-rate (not a whole number)");
	ck_assert_int_eq(run_args("xenkvm_hypercall_rate=\"10:0\"", NULL), -1);
	ck_assert_ptr_nonnull(strstr(err, "xenkvm_hypercall_rate"));
	ck_assert_ptr_nonnull(strstr(err, "a burst of 0 calls"));
	ck_assert_str_eq(cli_parse_rate("5", &rate, &burst) ?: "", "");
	ck_assert_uint_eq(burst, 1);
	ck_assert_str_eq(cli_parse_rate("-1", &rate, &burst), "not a whole number");
	ck_assert_str_eq(cli_parse_rate("10:", &rate, &burst), "not a whole number");
	ck_assert_str_eq(cli_parse_rate("10:5x", &rate, &burst), "not N or N:BURST");
	ck_assert_str_eq(cli_parse_rate("1e3", &rate, &burst), "not N or N:BURST");
	ck_assert_str_eq(cli_parse_rate("2000000000", &rate, &burst), "more than 1000000000");
	ck_assert_str_eq(cli_parse_rate("99999999999999999999999", &rate, &burst),
			 "more than 1000000000");
	ck_assert_uint_eq(rate, 5); /* refused values leave it alone */
}
END_TEST

START_TEST(cli_new_flags)
{
	ck_assert_int_eq(run_args("--memory", "128", "--maxmem", "1G", "--vcpus", "2",
				  "--maxvcpus", "4", "--uuid", "00000000-0000-0000-0000-0000000000AA",
				  "--on-poweroff", "preserve", "--on-reboot", "restart", "--on-crash",
				  "preserve", "--on-watchdog", "restart", NULL),
			 0);
	ck_assert_uint_eq(rc.maxmem, 1ULL << 30);
	ck_assert_uint_eq(rc.max_vcpus, 4);
	ck_assert_str_eq(rc.uuid, "00000000-0000-0000-0000-0000000000aa");
	ck_assert_int_eq(rc.on_poweroff, ACTION_PRESERVE);
	ck_assert_int_eq(rc.on_reboot, ACTION_RESTART);
	ck_assert_int_eq(rc.on_crash, ACTION_PRESERVE);
	ck_assert_int_eq(rc.on_watchdog, ACTION_RESTART);
	ck_assert_int_eq(run_args("--on-crash", "coredump-destroy", NULL), -1);
	ck_assert_str_eq(err, "invalid value 'coredump-destroy' for --on-crash (guest core dumps "
			      "are not supported yet (use destroy, restart or preserve))");
	ck_assert_int_eq(run_args("--uuid", "xyz", NULL), -1);
	ck_assert_str_eq(err, "invalid value 'xyz' for --uuid (not a UUID (8-4-4-4-12 hex digits, "
			      "e.g. from uuidgen))");
	ck_assert_int_eq(run_args("--memory", "256", "--maxmem", "128", NULL), -1);
	ck_assert_str_eq(err, "maxmem (128 MiB) is below memory (256 MiB)");
	ck_assert_int_eq(run_args("--vcpus", "4", "--maxvcpus", "2", NULL), -1);
	ck_assert_str_eq(err, "maxvcpus (2) is below vcpus (4)");
	ck_assert_int_eq(run_args("--maxvcpus", "0", NULL), -1);
	ck_assert_str_eq(err, "invalid value '0' for --maxvcpus (1 to 128)");
}
END_TEST

START_TEST(cli_file_overrides_flags)
{
	char *path = write_tmp("name = 'fromfile'\ntype = 'pvh'\nkernel = '/k'\nmemory = 256\n"
			       "vcpus = 2\nextra = 'a=1'\ndisk = [ '/d1', '/d2' ]\n"
			       "on_crash = 'preserve'\n");

	ck_assert_int_eq(run_args(path, NULL), 0);
	ck_assert_str_eq(rc.config_file, path);
	ck_assert_str_eq(rc.name, "fromfile");
	ck_assert_uint_eq(rc.memory, 256ULL << 20);
	ck_assert_int_eq(rc.on_reboot, ACTION_RESTART); /* xl's default with a file */
	ck_assert_int_eq(rc.on_crash, ACTION_PRESERVE);
	ck_assert_uint_eq(rc.ndisks, 2);

	/* KEY=VALUE beats the file, flags beat both, wherever they are. */
	ck_assert_int_eq(run_args("--memory", "1024", path, "memory=512", "extra+=' b=2'",
				  "vcpus=3", "name='over'", "--name", "flag", "--disk", "/d3",
				  "--log-level", "error", NULL),
			 0);
	ck_assert_uint_eq(rc.memory, 1024ULL << 20);
	ck_assert_uint_eq(rc.vcpus, 3);
	ck_assert_str_eq(rc.name, "flag");
	ck_assert_str_eq(rc.cmdline, "a=1 b=2");
	ck_assert_uint_eq(rc.ndisks, 1); /* --disk replaces the file's list */
	ck_assert_str_eq(rc.disks[0], "/d3");
	ck_assert_int_eq(rc.log_level, LOG_ERROR);

	ck_assert_int_eq(run_args(path, "memory=lots", NULL), -1);
	ck_assert_str_eq(err, "command line 'memory=lots': expected a value, not the bare word "
			      "'lots' (quote strings)");
	ck_assert_int_eq(run_args(path, "memory='lots'", NULL), -1);
	ck_assert_str_eq(err, "command line 'memory='lots'': memory: 'lots' is not a whole number "
			      "of MiB");
	unlink(path);
	free(path);
}
END_TEST

START_TEST(cli_config_errors)
{
	char *path = write_tmp("name = 'x'\nmemory = 64\n");
	char *bad_path = write_tmp("name = 'x'\ndisk = [ 'a'\n");
	char want[600];

	ck_assert_int_eq(run_args(path, NULL), -1);
	snprintf(want, sizeof(want), "%s: no kernel= (xenkvm boots a PVH kernel directly; "
		 "bootloader= and firmware= are not supported)", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(run_args(path, "kernel='/k'", "--log-level", "error", NULL), 0);
	ck_assert_str_eq(rc.kernel, "/k");
	ck_assert_int_eq(run_args(path, "kernel='/k'", "stray", NULL), -1);
	ck_assert_str_eq(err, "unexpected argument 'stray' (after the configuration file, only "
			      "KEY=VALUE overrides; see xenkvm run --help)");
	ck_assert_int_eq(run_args(bad_path, NULL), -1);
	snprintf(want, sizeof(want), "%s:2: unterminated list (no closing ']')", bad_path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(run_args(path, "kernel='/k'", "maxmem=32", NULL), -1);
	ck_assert_str_eq(err, "maxmem (32 MiB) is below memory (64 MiB)");
	/* Overrides alone, no file: the flags' defaults stay. */
	ck_assert_int_eq(run_args("kernel='/k'", "memory=32", NULL), 0);
	ck_assert_ptr_null(rc.config_file);
	ck_assert_uint_eq(rc.memory, 32ULL << 20);
	ck_assert_int_eq(rc.on_reboot, ACTION_DESTROY);
	unlink(path);
	unlink(bad_path);
	free(path);
	free(bad_path);
}
END_TEST

/* A real-world PVH guest: two disks, a vif, comments, continuation. */
static const char real_world_cfg[] =
	"# /etc/xen/web1.cfg\n"
	"name    = \"web1\"\n"
	"type    = \"pvh\"\n"
	"uuid    = \"3f5c1a0e-9b7d-4c2e-a1f0-5d6e7f8091a2\"\n"
	"kernel  = \"/var/lib/xen/boot/vmlinuz-6.1.0-18-amd64\"\n"
	"ramdisk = \"/var/lib/xen/boot/initrd.img-6.1.0-18-amd64\"\n"
	"root    = \"/dev/xvda1 ro\"\n"
	"extra   = \\\n"
	"          \"console=hvc0 quiet\"\n"
	"memory  = 1024\n"
	"maxmem  = 2048\n"
	"vcpus   = 2\n"
	"maxvcpus = 4\n"
	"disk = [\n"
	"    'format=raw, vdev=xvda, access=rw, target=/srv/xen/web1-root.img',\n"
	"    'format=raw, vdev=xvdb, access=ro, target=/srv/xen/web1-data.img',\n"
	"]\n"
	"vif = [ 'mac=00:16:3e:5a:01:02, bridge=xenbr0, vifname=web1-eth0' ]\n"
	"on_poweroff = 'destroy'\n"
	"on_reboot   = 'restart'\n"
	"on_crash    = 'preserve'\n"
	"serial = 'pty'\n";

START_TEST(real_world)
{
	char *path = write_tmp(real_world_cfg);

	ck_assert_int_eq(run_args(path, NULL), 0);
	ck_assert_str_eq(rc.name, "web1");
	ck_assert_str_eq(rc.uuid, "3f5c1a0e-9b7d-4c2e-a1f0-5d6e7f8091a2");
	ck_assert_str_eq(rc.kernel, "/var/lib/xen/boot/vmlinuz-6.1.0-18-amd64");
	ck_assert_str_eq(rc.initrd, "/var/lib/xen/boot/initrd.img-6.1.0-18-amd64");
	ck_assert_str_eq(rc.cmdline, "root=/dev/xvda1 ro console=hvc0 quiet");
	ck_assert_uint_eq(rc.memory, 1024ULL << 20);
	ck_assert_uint_eq(rc.maxmem, 2048ULL << 20);
	ck_assert_uint_eq(rc.vcpus, 2);
	ck_assert_uint_eq(rc.max_vcpus, 4);
	ck_assert_uint_eq(rc.ndisks, 2);
	ck_assert_str_eq(rc.disks[0], "format=raw, vdev=xvda, access=rw, target=/srv/xen/web1-root.img");
	ck_assert_str_eq(rc.disks[1], "format=raw, vdev=xvdb, access=ro, target=/srv/xen/web1-data.img");
	ck_assert_uint_eq(rc.nnics, 1);
	ck_assert_str_eq(rc.nics[0], "mac=00:16:3e:5a:01:02, bridge=xenbr0, vifname=web1-eth0");
	ck_assert_int_eq(rc.on_poweroff, ACTION_DESTROY);
	ck_assert_int_eq(rc.on_reboot, ACTION_RESTART);
	ck_assert_int_eq(rc.on_crash, ACTION_PRESERVE);
	ck_assert_int_eq(rc.on_watchdog, ACTION_DESTROY);
	ck_assert_str_eq(rc.console, "pty");
	/* --console beats serial=. */
	ck_assert_int_eq(run_args(path, "--console", "stdio", NULL), 0);
	ck_assert_str_eq(rc.console, "stdio");
	unlink(path);
	free(path);
}
END_TEST

static Suite *xlcfg_suite(void)
{
	Suite *s = suite_create("xlcfg");
	TCase *syn = tcase_create("syntax"), *keys = tcase_create("keys"),
	      *cli = tcase_create("cli");

	tcase_add_checked_fixture(syn, setup, teardown);
	tcase_add_test(syn, scalars_and_comments);
	tcase_add_test(syn, escapes);
	tcase_add_test(syn, lists);
	tcase_add_test(syn, continuation);
	tcase_add_test(syn, append);
	tcase_add_test(syn, duplicates);
	tcase_add_test(syn, malformed);
	tcase_add_test(syn, nul_byte_in_text);
	tcase_add_test(syn, override_replaces_and_appends);
	tcase_add_test(syn, read_file_names_it);
	suite_add_tcase(s, syn);

	tcase_add_checked_fixture(keys, map_setup, teardown);
	tcase_add_test(keys, key_basics);
	tcase_add_test(keys, key_errors_name_file_line_key);
	tcase_add_test(keys, key_type);
	tcase_add_test(keys, key_cmdline_rule);
	tcase_add_test(keys, key_devices);
	tcase_add_test(keys, key_actions);
	tcase_add_test(keys, key_serial);
	tcase_add_test(keys, unknown_keys_warn);
	suite_add_tcase(s, keys);

	tcase_add_checked_fixture(cli, NULL, cli_teardown);
	tcase_add_test(cli, cli_flags_only_as_before);
	tcase_add_test(cli, cli_new_flags);
	tcase_add_test(cli, cli_hypercall_rate);
	tcase_add_test(cli, cli_file_overrides_flags);
	tcase_add_test(cli, cli_config_errors);
	tcase_add_test(cli, real_world);
	suite_add_tcase(s, cli);
	return s;
}

int main(void)
{
	return run_suite(xlcfg_suite());
}
