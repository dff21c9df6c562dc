#ifndef XENKVM_LOG_H
#define XENKVM_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_threshold;

int log_level_parse(const char *s, enum log_level *out);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Log a warning the first time this call site runs (e.g. one per unimplemented call). */
#define log_once(...)                                                                  \
	do {                                                                           \
		static int logged_;                                                    \
		if (!__atomic_exchange_n(&logged_, 1, __ATOMIC_RELAXED))               \
			log_warn(__VA_ARGS__);                                         \
	} while (0)

#endif
