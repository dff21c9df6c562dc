/* The per-VM control socket: one JSON object per line each way, used by the
 * xl-like verbs (xenkvm list, info, shutdown, destroy, console, ...).
 *   request:  {"cmd": "info"}            reply: {"ok": true, ...}
 *   request:  {"cmd": "shutdown", "reason": "poweroff"}
 *   error:    {"ok": false, "error": "why"}
 * After {"cmd": "console"} is answered, the connection carries the raw
 * console both ways until either side closes it. */
#ifndef XENKVM_CONTROL_H
#define XENKVM_CONTROL_H

#include <stddef.h>

#include <jansson.h>

struct evloop;
struct console;
struct control;

/* Fill reply for req (both JSON objects); return 0, or -1 with reply's
 * "error" set. Returning CONTROL_CONSOLE turns the connection into a console. */
#define CONTROL_CONSOLE 1
typedef int (*control_handler_fn)(void *opaque, const char *cmd, json_t *req, json_t *reply);

/* The directory control sockets live in: $XDG_RUNTIME_DIR/xenkvm, or
 * /run/xenkvm (created 0700). Returns 0 or -errno. */
int control_dir(char *buf, size_t len);
/* Listen on <dir>/<name>.sock. A live VM of that name is an error; a
 * socket left by a dead one is removed. 0, or -1 with a reason. */
struct control *control_start(struct evloop *loop, const char *name, struct console *con,
			      control_handler_fn fn, void *opaque, char *err, size_t errlen);
const char *control_path(const struct control *c);
void control_stop(struct control *c);

/* Client side: send one request, get one reply (NULL with a reason). */
json_t *control_call(const char *name, json_t *req, char *err, size_t errlen);
/* Connect to a VM's socket (the fd, or -1 with a reason). */
int control_connect(const char *name, char *err, size_t errlen);

#endif
