/*
 * The kit's XenBus client: XenStore over the shared ring, v1 grant entries,
 * event channels. No interrupts: waits poll with SCHEDOP_yield.
 */
#include "xenbus.h"
#include <xen/sched.h>
#include <xen/memory.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/io/xs_wire.h>

#define XB_MAX_FRAMES 16
#define XB_ENTRIES_PER_FRAME (4096 / sizeof(grant_entry_v1_t))
#define XB_MAX_ENTRIES (XB_MAX_FRAMES * XB_ENTRIES_PER_FRAME)

volatile grant_entry_v1_t *xb_grant_entries;
static unsigned int grant_frames;
/* Refs in use; the reserved ones (console, XenStore, ...) stay set. */
static uint32_t grant_used[XB_MAX_ENTRIES / 32];

static volatile struct xenstore_domain_interface *store;
static evtchn_port_t store_port;
static uint32_t store_req_id;
static unsigned long store_yields; /* in the current request */

/* ---- scheduling and event channels ------------------------------------ */

void xb_yield(void)
{
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

static long event_channel_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_event_channel_op, cmd, arg);
}

long xb_evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = remote };
    long rc = event_channel_op(EVTCHNOP_alloc_unbound, &a);

    if (rc == 0)
        *port = a.port;
    return rc;
}

long xb_evtchn_send(evtchn_port_t port)
{
    struct evtchn_send s = { .port = port };

    return event_channel_op(EVTCHNOP_send, &s);
}

long xb_evtchn_close(evtchn_port_t port)
{
    struct evtchn_close c = { .port = port };

    return event_channel_op(EVTCHNOP_close, &c);
}

/* ---- grant table ---------------------------------------------------------- */

static long map_grant_frame(unsigned long idx, uint64_t gpa)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table, .idx = idx,
        .gpfn = (xen_pfn_t)(gpa >> 12),
    };

    return HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
}

long xb_gnttab_init(unsigned int nr_frames)
{
    static struct e820_entry map[64];
    unsigned int n = ARRAY_SIZE(map);
    uint64_t hole;
    long rc;

    if (nr_frames < 1 || nr_frames > XB_MAX_FRAMES)
        return -XEN_EINVAL;
    rc = kit_memory_map(map, &n);
    hole = rc ? 0 : kit_e820_hole(map, n);
    if (!hole)
        return rc ? rc : -XEN_ENOMEM;
    for (unsigned int i = 0; i < nr_frames; i++)
        if ((rc = map_grant_frame(i, hole + i * 4096ull)) != 0)
            return rc;
    xb_grant_entries = (volatile grant_entry_v1_t *)(unsigned long)hole;
    grant_frames = nr_frames;
    for (unsigned int r = 0; r < GNTTAB_NR_RESERVED_ENTRIES; r++)
        grant_used[r / 32] |= 1u << (r % 32);
    return 0;
}

unsigned int xb_grant_nr_entries(void)
{
    return grant_frames * XB_ENTRIES_PER_FRAME;
}

static grant_ref_t alloc_ref(void)
{
    for (unsigned int w = 0; w < xb_grant_nr_entries() / 32; w++) {
        if (grant_used[w] == 0xffffffffu)
            continue;
        for (unsigned int b = 0; b < 32; b++)
            if (!(grant_used[w] & (1u << b))) {
                grant_used[w] |= 1u << b;
                return w * 32 + b;
            }
    }
    return 0;
}

grant_ref_t xb_grant_page(const void *page, domid_t dom, int readonly)
{
    grant_ref_t ref = xb_grant_entries ? alloc_ref() : 0;
    volatile grant_entry_v1_t *e;

    if (!ref)
        return 0;
    e = &xb_grant_entries[ref];
    e->domid = dom;
    e->frame = (uint32_t)((unsigned long)page >> 12);
    /* The backend may look at the entry as soon as flags permit access. */
    xb_barrier();
    e->flags = GTF_permit_access | (readonly ? GTF_readonly : 0);
    return ref;
}

long xb_grant_end(grant_ref_t ref)
{
    volatile grant_entry_v1_t *e;
    uint16_t flags;

    if (ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= xb_grant_nr_entries())
        return -XEN_EINVAL;
    e = &xb_grant_entries[ref];
    /* Xen's gnttab_end_foreign_access_ref: clear flags only while unpinned. */
    do {
        flags = e->flags;
        if (flags & (GTF_reading | GTF_writing))
            return -XEN_EBUSY;
    } while (!__atomic_compare_exchange_n(&e->flags, &flags, 0, 0, __ATOMIC_SEQ_CST,
                                          __ATOMIC_SEQ_CST));
    grant_used[ref / 32] &= ~(1u << (ref % 32));
    return 0;
}

/* ---- XenStore ring ---------------------------------------------------------- */

static long hvm_param(uint32_t index, uint64_t *value)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
    long rc = HYPERVISOR_hvm_op(HVMOP_get_param, &p);

    *value = p.value;
    return rc;
}

long xb_init(void)
{
    uint64_t pfn, port;
    long rc;

    if ((rc = hvm_param(HVM_PARAM_STORE_PFN, &pfn)) || (rc = hvm_param(HVM_PARAM_STORE_EVTCHN, &port)))
        return rc;
    store = (volatile struct xenstore_domain_interface *)(unsigned long)(pfn << 12);
    store_port = (evtchn_port_t)port;
    return xb_grant_entries ? 0 : xb_gnttab_init(1);
}

/* Wait for the server to move an index; aborts the run when it never does. */
static void store_wait(void)
{
    xb_evtchn_send(store_port);
    xb_yield();
    if (++store_yields > XB_WAIT_DEFAULT)
        kit_abort("XenStore: the server stopped answering");
}

static void store_put(const void *data, size_t len)
{
    const char *p = data;

    while (len) {
        XENSTORE_RING_IDX cons = store->req_cons, prod = store->req_prod;
        size_t off = MASK_XENSTORE_IDX(prod), room = XENSTORE_RING_SIZE - (prod - cons), n;

        xb_mb();
        if (room == 0) {
            store_wait();
            continue;
        }
        n = XENSTORE_RING_SIZE - off;
        n = n < room ? n : room;
        n = n < len ? n : len;
        memcpy((char *)store->req + off, p, n);
        /* The bytes are in the ring before the index says so. */
        xb_barrier();
        store->req_prod = prod + (XENSTORE_RING_IDX)n;
        p += n;
        len -= n;
    }
}

static void store_get(void *data, size_t len)
{
    char *p = data;

    while (len) {
        XENSTORE_RING_IDX cons = store->rsp_cons, prod = store->rsp_prod;
        size_t off = MASK_XENSTORE_IDX(cons), avail = prod - cons, n;

        xb_mb();
        if (avail == 0) {
            store_wait();
            continue;
        }
        n = XENSTORE_RING_SIZE - off;
        n = n < avail ? n : avail;
        n = n < len ? n : len;
        if (p)
            memcpy(p, (const char *)store->rsp + off, n);
        xb_mb();
        store->rsp_cons = cons + (XENSTORE_RING_IDX)n;
        if (p)
            p += n;
        len -= n;
    }
}

static const struct {
    const char *name;
    int err;
} store_errors[] = {
    { "ENOENT", XEN_ENOENT }, { "EACCES", XEN_EACCES }, { "EINVAL", XEN_EINVAL },
    { "EEXIST", XEN_EEXIST }, { "E2BIG", XEN_E2BIG },   { "ENOSPC", XEN_ENOSPC },
    { "EAGAIN", XEN_EAGAIN }, { "EPERM", XEN_EPERM },   { "EISDIR", XEN_EISDIR },
    { "ENOMEM", XEN_ENOMEM }, { "EBUSY", XEN_EBUSY },   { "EROFS", XEN_EROFS },
};

static long store_error(const char *name)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(store_errors); i++)
        if (!strcmp(name, store_errors[i].name))
            return -store_errors[i].err;
    return -XEN_EIO;
}

/*
 * One request (payload = a then b, b may be NULL) and its reply into
 * reply (NUL-terminated, cut to len-1). Watch events in between are
 * dropped: the kit never sets watches. Reply length or -errno.
 */
static long store_request(uint32_t type, const char *a, size_t alen, const char *b, size_t blen,
                          char *reply, size_t len)
{
    static char payload[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_sockmsg msg = { .type = type, .req_id = ++store_req_id,
                               .len = (uint32_t)(alen + blen) };

    if (!store || alen + blen > XENSTORE_PAYLOAD_MAX)
        return -XEN_EINVAL;
    store_yields = 0;
    store_put(&msg, sizeof(msg));
    store_put(a, alen);
    if (b)
        store_put(b, blen);
    xb_evtchn_send(store_port);
    for (;;) {
        store_get(&msg, sizeof(msg));
        if (msg.len > XENSTORE_PAYLOAD_MAX)
            kit_abort("XenStore: reply longer than XENSTORE_PAYLOAD_MAX");
        store_get(payload, msg.len);
        payload[msg.len] = '\0';
        xb_evtchn_send(store_port); /* there is room in the reply ring again */
        if (msg.type != XS_WATCH_EVENT && msg.req_id == store_req_id)
            break;
    }
    if (msg.type == XS_ERROR)
        return store_error(payload);
    if (reply && len) {
        size_t n = msg.len < len - 1 ? msg.len : len - 1;

        memcpy(reply, payload, n);
        reply[n] = '\0';
    }
    return msg.len;
}

long xb_read(const char *path, char *buf, size_t len)
{
    return store_request(XS_READ, path, strlen(path) + 1, NULL, 0, buf, len);
}

long xb_write(const char *path, const char *value)
{
    long rc = store_request(XS_WRITE, path, strlen(path) + 1, value, strlen(value), NULL, 0);

    return rc < 0 ? rc : 0;
}

long xb_printf(const char *path, const char *fmt, ...)
{
    char value[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    return xb_write(path, value);
}

long xb_rm(const char *path)
{
    long rc = store_request(XS_RM, path, strlen(path) + 1, NULL, 0, NULL, 0);

    return rc < 0 ? rc : 0;
}

long xb_directory(const char *path, char *buf, size_t len)
{
    long rc = store_request(XS_DIRECTORY, path, strlen(path) + 1, NULL, 0, buf, len);

    return rc < 0 ? rc : (long)(rc < (long)len ? rc : (long)len - 1);
}

unsigned long xb_read_ulong(const char *path, unsigned long def)
{
    char buf[32];
    unsigned long v = 0;
    long n = xb_read(path, buf, sizeof(buf));

    if (n <= 0)
        return def;
    for (const char *p = buf; *p; p++) {
        if (*p < '0' || *p > '9')
            return def;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    return v;
}

/* ---- XenBus states -------------------------------------------------------- */

int xb_state(const char *dir)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/state", dir);
    return (int)xb_read_ulong(path, XenbusStateUnknown);
}

long xb_switch_state(const char *dir, int state)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/state", dir);
    return xb_printf(path, "%d", state);
}

static int wait_state(const char *dir, int state, int until_equal, unsigned long max_yields)
{
    int now = xb_state(dir);

    for (unsigned long i = 0; (now == state) != until_equal && i < max_yields; i++) {
        xb_yield();
        now = xb_state(dir);
    }
    return now;
}

int xb_wait_state(const char *dir, int state, unsigned long max_yields)
{
    return wait_state(dir, state, 1, max_yields);
}

int xb_wait_state_not(const char *dir, int state, unsigned long max_yields)
{
    return wait_state(dir, state, 0, max_yields);
}
