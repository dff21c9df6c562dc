/*
 * The few libc pieces the guests need. Plain byte loops: guest CPL0 code is
 * interpreted on the PVM host, so the code is kept short rather than fast,
 * and nothing here may emit SSE/x87/popcnt/BMI instructions.
 */
#include "kit.h"
#include <xen/xen.h>

void *memset(void *s, int c, size_t n)
{
    unsigned char *p = s;

    while (n--)
        *p++ = (unsigned char)c;
    return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;

    while (n--)
        *dp++ = *sp++;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *pa = a, *pb = b;

    for (; n; n--, pa++, pb++)
        if (*pa != *pb)
            return *pa - *pb;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            break;
    }
    return 0;
}

char *strstr(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay; hay++)
        if (!strncmp(hay, needle, n))
            return (char *)hay;
    return n ? NULL : (char *)hay;
}

/* ---- formatting -------------------------------------------------------- */

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

uint64_t kit_udiv64(uint64_t n, uint32_t d, uint32_t *rem)
{
#ifdef __x86_64__
    if (rem)
        *rem = (uint32_t)(n % d);
    return n / d;
#else
    uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n, qlo, r;

    r = hi % d;
    hi /= d;
    /* r < d, so dividing r:lo by d cannot overflow. */
    __asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
    if (rem)
        *rem = r;
    return ((uint64_t)hi << 32) | qlo;
#endif
}

static unsigned int divmod10(uint64_t *n)
{
    uint32_t r;

    *n = kit_udiv64(*n, 10, &r);
    return r;
}

static void put_number(struct out *o, uint64_t v, int base, int neg, int width, char pad,
                       int alt)
{
    char tmp[24];
    int n = 0;

    do {
        unsigned int digit;

        if (base == 16) {
            digit = v & 15;
            v >>= 4;
        } else {
            digit = divmod10(&v);
        }
        tmp[n++] = "0123456789abcdef"[digit];
    } while (v);
    if (alt)
        width -= 2;
    if (neg)
        width--;
    if (pad == '0') {
        if (neg)
            put(o, '-');
        if (alt)
            put(o, '0'), put(o, 'x');
    }
    for (; width > n; width--)
        put(o, pad);
    if (pad != '0') {
        if (neg)
            put(o, '-');
        if (alt)
            put(o, '0'), put(o, 'x');
    }
    while (n)
        put(o, tmp[--n]);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (; *fmt; fmt++) {
        int width = 0, longs = 0, alt = 0;
        char pad = ' ';
        uint64_t v;
        const char *s;

        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        if (*fmt == '#')
            alt = 1, fmt++;
        if (*fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            longs++, fmt++;
        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t sv = longs >= 2 ? va_arg(ap, long long)
                         : longs   ? va_arg(ap, long)
                                   : va_arg(ap, int);

            v = sv < 0 ? -(uint64_t)sv : (uint64_t)sv;
            put_number(&o, v, 10, sv < 0, width, pad, 0);
            break;
        }
        case 'u':
        case 'x':
            v = longs >= 2 ? va_arg(ap, unsigned long long)
                : longs    ? va_arg(ap, unsigned long)
                           : va_arg(ap, unsigned int);
            put_number(&o, v, *fmt == 'x' ? 16 : 10, 0, width, pad, alt && *fmt == 'x');
            break;
        case 'p':
            put_number(&o, (unsigned long)va_arg(ap, void *), 16, 0, width, pad, 1);
            break;
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case 's':
            s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            for (width -= (int)strlen(s); width > 0; width--)
                put(&o, ' ');
            while (*s)
                put(&o, *s++);
            break;
        case '%':
            put(&o, '%');
            break;
        default: /* unknown conversion: show it rather than guess */
            put(&o, '%');
            if (!*fmt)
                goto done;
            put(&o, *fmt);
            break;
        }
    }
done:
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int printf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 1) {
        /* Cut, but keep the line structure the runner parses. */
        n = sizeof(buf) - 1;
        buf[n - 1] = '\n';
    }
    HYPERVISOR_console_io(CONSOLEIO_write, (unsigned int)n, buf);
    return n;
}
