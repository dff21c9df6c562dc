/* The host end of the guest console. On a terminal, keys go to the guest
 * raw (Ctrl-C included); Ctrl-] starts an escape: q destroys, s asks the
 * guest to shut down, Ctrl-] sends a literal Ctrl-]. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xenkvm/host_console.h"

static int open_pty(struct host_console *h, char *err, size_t errlen)
{
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios t;

	if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0 || !ptsname(fd)) {
		snprintf(err, errlen, "--console pty: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(h->pty_name, sizeof(h->pty_name), "%s", ptsname(fd));
	/* The guest sees a raw line: whoever attaches decides how to echo. */
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	h->in_fd = h->out_fd = fd;
	return 0;
}

static void make_raw(struct host_console *h)
{
	struct termios t;

	if (!isatty(h->in_fd) || tcgetattr(h->in_fd, &h->saved) < 0)
		return;
	t = h->saved;
	cfmakeraw(&t);
	t.c_oflag |= OPOST; /* keep "\n" -> "\r\n" for what the guest prints */
	if (tcsetattr(h->in_fd, TCSANOW, &t) == 0)
		h->raw = 1;
}

int host_console_open(struct host_console *h, const char *spec, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	h->in_fd = STDIN_FILENO;
	h->out_fd = STDOUT_FILENO;
	if (strcmp(spec, "pty") == 0)
		return open_pty(h, err, errlen);
	if (strncmp(spec, "file:", 5) == 0) {
		h->in_fd = -1;
		h->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (h->out_fd < 0) {
			snprintf(err, errlen, "%s: %s", spec + 5, strerror(errno));
			return -1;
		}
		return 0;
	}
	make_raw(h);
	return 0;
}

void host_console_close(struct host_console *h)
{
	if (h->raw)
		tcsetattr(h->in_fd, TCSANOW, &h->saved);
	h->raw = 0;
	if (h->out_fd > STDERR_FILENO)
		close(h->out_fd);
	h->in_fd = h->out_fd = -1;
}

enum host_console_action host_console_filter(struct host_console *h, const char *in, size_t len,
					     char *out, size_t *out_len)
{
	enum host_console_action act = HC_NONE;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = in[i];
		if (!h->raw) {
			out[n++] = ch; /* a pipe or file: everything is data */
		} else if (h->escaped) {
			h->escaped = 0;
			if (ch == 'q' || ch == 'Q')
				act = HC_DESTROY;
			else if (ch == 's' || ch == 'S')
				act = HC_SHUTDOWN;
			else if (ch == HOST_CONSOLE_ESCAPE)
				out[n++] = ch;
		} else if (ch == HOST_CONSOLE_ESCAPE) {
			h->escaped = 1;
		} else {
			out[n++] = ch;
		}
	}
	*out_len = n;
	return act;
}
