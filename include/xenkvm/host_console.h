/* Where the guest console meets the host: stdio (raw when it is a
 * terminal, with an escape key), a pty, or a log file. */
#ifndef XENKVM_HOST_CONSOLE_H
#define XENKVM_HOST_CONSOLE_H

#include <stddef.h>
#include <termios.h>

#define HOST_CONSOLE_ESCAPE 0x1d /* Ctrl-], as xl console */

enum host_console_action { HC_NONE, HC_DESTROY, HC_SHUTDOWN };

struct host_console {
	int in_fd, out_fd; /* in_fd -1: no input */
	int raw;           /* a terminal we put in raw mode */
	struct termios saved;
	int escaped;       /* the escape key was the last byte */
	char pty_name[64];
};

/* spec: "stdio", "pty" or "file:PATH". Returns 0 or -1 with a reason in err. */
int host_console_open(struct host_console *h, const char *spec, char *err, size_t errlen);
void host_console_close(struct host_console *h);
/* Pass typed bytes through the escape handling: what goes to the guest is
 * copied to out (*out_len), and an escape command is returned. */
enum host_console_action host_console_filter(struct host_console *h, const char *in, size_t len,
					     char *out, size_t *out_len);

#endif
