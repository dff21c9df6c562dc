#!/usr/bin/env python3
"""Write the seed corpora of the fuzz harnesses (tests/fuzz/corpus/<target>/).
Each seed is a small, valid use of its interface in the harness's input
format (see the comment at the top of each fuzz_<target>.c), so the fuzzer
starts from calls that get past the first checks. Run from anywhere:
    tests/fuzz/mkseeds.py [GUEST_DIR]
GUEST_DIR (default build/guests) provides test-guest ELFs as boot seeds."""
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- hypercall: values, steps ----
def small(v): return bytes([0, v])
def u32v(v): return bytes([2]) + struct.pack("<I", v)
def u64v(v): return bytes([3]) + struct.pack("<Q", v)
def dptr(off): return bytes([4]) + struct.pack("<H", off)
def edge(i): return bytes([5, i])
def ramend(k): return bytes([7]) + struct.pack("<H", k)


def write(off, data, target=0):
    out = b""
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        out += bytes([0, target]) + struct.pack("<I", off + i) + bytes([len(chunk)]) + chunk
    return out


def put64(off, value):
    return bytes([1]) + struct.pack("<I", off) + value


def call(nr, *args, vcpu=0):
    args = list(args) + [small(0)] * (6 - len(args))
    return bytes([2 | (vcpu << 4), nr]) + b"".join(args)


def host(action, *rest):
    return bytes([3, action]) + bytes(rest)


HC = {"memory_op": 12, "multicall": 13, "set_timer_op": 15, "xen_version": 17,
      "console_io": 18, "grant_table_op": 20, "vcpu_op": 24, "sched_op": 29,
      "event_channel_op": 32, "hvm_op": 34}
IDENTITY64 = bytes([0x03]) + struct.pack("<I", 0)
FLAT32 = bytes([0x00]) + struct.pack("<I", 0)
# The harness's data window starts at RAM_SIZE - 64 KiB = 0x1f0000 (gfn 0x1f0).
DATA_GFN = 0x1f0


# ---- xenbus: the block backend's handshake ----
XB = {"node": 0, "rm": 1, "state": 2, "back": 3, "grant": 4, "port": 5, "poke": 6, "loop": 7}
XB_NODES = ["ring-ref", "ring-ref0", "ring-ref1", "ring-ref2", "ring-ref3", "ring-page-order",
            "event-channel", "protocol", "multi-queue-num-queues", "feature-persistent",
            "queue-0/ring-ref", "queue-0/event-channel", "queue-0/ring-page-order",
            "queue-0/ring-ref0", "queue-0/ring-ref1", "queue-1/ring-ref", "queue-1/event-channel"]


def xb_node(name, v): return bytes([XB["node"], XB_NODES.index(name)]) + v
def xb_small(n): return bytes([0, n])
def xb_proto(i): return bytes([2, i])
def xb_state(s): return bytes([XB["state"], s])
def xb_grant(ref, page): return bytes([XB["grant"]]) + struct.pack("<H", ref) + bytes([0, page])
LOOP = bytes([XB["loop"]])
PORT = bytes([XB["port"]])


def xenbus_seeds():
    # The first port the frontend allocates is 3 (1 and 2: console, store).
    one = xb_grant(8, 0) + PORT + xb_node("ring-ref", xb_small(8)) + \
        xb_node("event-channel", xb_small(3)) + xb_node("protocol", xb_proto(0))
    put("xenbus", "connect", bytes([0]) + one + xb_state(3) + LOOP + xb_state(4) + LOOP +
        xb_state(5) + LOOP + xb_state(6) + LOOP + xb_state(1) + LOOP + xb_state(3) + LOOP)
    # Two queues, persistent grants; then the toolstack
    # takes the disk away (online 0).
    two = xb_grant(8, 0) + xb_grant(9, 1) + PORT + PORT + \
        xb_node("multi-queue-num-queues", xb_small(2)) + xb_node("feature-persistent", xb_small(1)) + \
        xb_node("queue-0/ring-ref", xb_small(8)) + xb_node("queue-0/event-channel", xb_small(3)) + \
        xb_node("queue-1/ring-ref", xb_small(9)) + xb_node("queue-1/event-channel", xb_small(4))
    put("xenbus", "multiqueue", bytes([1]) + two + xb_state(3) + LOOP +
        bytes([XB["back"], 0, 0, 0]) + LOOP + xb_state(6) + LOOP)


def hypercall_seeds():
    seeds = {}
    for abi, cfg in (("64", IDENTITY64), ("32", FLAT32)):
        w64 = abi == "64"
        seeds["version-" + abi] = cfg + b"".join(call(HC["xen_version"], small(op), dptr(0x100))
                                                 for op in range(12))
        seeds["console-" + abi] = cfg + write(0x100, b"hello, xen\n") + \
            call(HC["console_io"], small(0), small(11), dptr(0x100)) + \
            host(3, 4) + b"abcd" + call(HC["console_io"], small(1), small(16), dptr(0x200))
        # XENMEM_memory_map: {nr_entries, buffer}
        mm = struct.pack("<IIQ", 8, 0, 0x1f0200) if w64 else struct.pack("<II", 8, 0x1f0200)
        seeds["memmap-" + abi] = cfg + write(0, mm) + call(HC["memory_op"], small(9), dptr(0))
        # add_to_physmap shared_info at a RAM frame, then a hole frame
        def atp(space, idx, gpfn):
            return struct.pack("<HHIQQ", 1, 0, space, idx, gpfn) if w64 else \
                struct.pack("<HHIII", 1, 0, space, idx, gpfn)
        seeds["physmap-" + abi] = cfg + write(0, atp(0, 0, DATA_GFN + 4)) + \
            call(HC["memory_op"], small(7), dptr(0)) + write(0x40, atp(0, 0, 0x500)) + \
            call(HC["memory_op"], small(7), dptr(0x40)) + write(0x80, atp(1, 0, 0x501)) + \
            call(HC["memory_op"], small(7), dptr(0x80))
        # event channels: alloc_unbound {dom, remote_dom, port}, bind_virq, send, close, status
        ev = write(0, struct.pack("<HHI", 0x7ff0, 0x7ff0, 0)) + \
            call(HC["event_channel_op"], small(6), dptr(0)) + \
            write(0x20, struct.pack("<III", 0, 0, 0)) + \
            call(HC["event_channel_op"], small(1), dptr(0x20)) + \
            write(0x40, struct.pack("<I", 3)) + call(HC["event_channel_op"], small(4), dptr(0x40)) + \
            write(0x60, struct.pack("<HxxI", 0x7ff0, 3) + bytes(16)) + \
            call(HC["event_channel_op"], small(5), dptr(0x60)) + \
            host(0, 0, 0) + write(0x80, struct.pack("<I", 3)) + \
            call(HC["event_channel_op"], small(3), dptr(0x80))
        seeds["evtchn-" + abi] = cfg + ev
        # FIFO: init_control {control_gfn u64, offset u32, vcpu u32, link_bits u32}
        seeds["fifo-" + abi] = cfg + write(0, struct.pack("<QIII", DATA_GFN + 8, 0, 0, 0)) + \
            call(HC["event_channel_op"], small(11), dptr(0)) + \
            write(0x20, struct.pack("<Q", DATA_GFN + 9)) + \
            call(HC["event_channel_op"], small(12), dptr(0x20)) + \
            write(0x40, struct.pack("<III", 0, 0, 0)) + call(HC["event_channel_op"], small(2), dptr(0x40)) + \
            host(0, 0, 0)
        # grant tables: setup_table, set_version 2, query_size, copy
        st = struct.pack("<HxxIh6xQ", 0x7ff0, 2, 0, 0x1f0300) if w64 else \
            struct.pack("<HxxIhxxI", 0x7ff0, 2, 0, 0x1f0300)
        copy = struct.pack("<QHH4xQHH4xHHh", DATA_GFN + 2, 0x7ff0, 0, DATA_GFN + 3, 0x7ff0, 0, 64, 0, 0) \
            if w64 else struct.pack("<IHHIHHHHh", DATA_GFN + 2, 0x7ff0, 0, DATA_GFN + 3, 0x7ff0, 0, 64, 0, 0)
        seeds["gnttab-" + abi] = cfg + write(0, st) + call(HC["grant_table_op"], small(2), dptr(0), small(1)) + \
            write(0x40, copy + bytes(8)) + call(HC["grant_table_op"], small(5), dptr(0x40), small(1)) + \
            write(0x80, struct.pack("<I", 2)) + call(HC["grant_table_op"], small(8), dptr(0x80), small(1)) + \
            write(0xa0, struct.pack("<HxxIIh", 0x7ff0, 0, 0, 0)) + call(HC["grant_table_op"], small(6), dptr(0xa0), small(1))
        # vCPU: register_vcpu_info {mfn u64, offset u32}, time area, singleshot timer
        seeds["vcpu-" + abi] = cfg + write(0, struct.pack("<QII", DATA_GFN + 5, 64, 0)) + \
            call(HC["vcpu_op"], small(10), small(0), dptr(0)) + \
            write(0x20, struct.pack("<Q", 0x1f0800)) + call(HC["vcpu_op"], small(13), small(0), dptr(0x20)) + \
            write(0x40, struct.pack("<Q", 0x1f0900)) + call(HC["vcpu_op"], small(5), small(0), dptr(0x40)) + \
            write(0x60, struct.pack("<QI", 10**9, 0)) + call(HC["vcpu_op"], small(8), small(0), dptr(0x60)) + \
            call(HC["vcpu_op"], small(4), small(0), dptr(0x80))
        # hvm_op: set/get param {domid u16, pad, index u32, value u64}, get_time
        seeds["hvm-" + abi] = cfg + write(0, struct.pack("<HxxIQ", 0x7ff0, 0, (2 << 56) | 0xf3)) + \
            call(HC["hvm_op"], small(0), dptr(0)) + write(0x20, struct.pack("<HxxIQ", 0x7ff0, 1, 0)) + \
            call(HC["hvm_op"], small(1), dptr(0x20)) + call(HC["hvm_op"], small(10), dptr(0x40)) + \
            write(0x60, struct.pack("<II", 0, 0xf4)) + call(HC["hvm_op"], small(23), dptr(0x60))
        # sched_op: yield, poll {ports, nr, timeout}, shutdown_code, shutdown
        poll = struct.pack("<QIxxxxQ", 0x1f0100, 1, 1) if w64 else struct.pack("<IIQ", 0x1f0100, 1, 1)
        seeds["sched-" + abi] = cfg + call(HC["sched_op"], small(0), small(0)) + \
            write(0x100, struct.pack("<I", 1)) + write(0, poll) + call(HC["sched_op"], small(3), dptr(0)) + \
            call(HC["sched_op"], small(1), small(0)) + write(0x40, struct.pack("<I", 0)) + \
            call(HC["sched_op"], small(2), dptr(0x40)) + call(HC["set_timer_op"], u64v(1 << 40))
        # multicall: two xen_version entries {op, result, args[6]}
        if w64:
            ent = struct.pack("<QQ6Q", 17, 0, 0, 0, 0, 0, 0, 0) + struct.pack("<QQ6Q", 18, 0, 0, 5, 0x1f0100, 0, 0, 0)
        else:
            ent = struct.pack("<II6I", 17, 0, 0, 0, 0, 0, 0, 0) + struct.pack("<II6I", 18, 0, 0, 5, 0x1f0100, 0, 0, 0)
        seeds["multicall-" + abi] = cfg + write(0x100, b"multi") + write(0x400, ent) + \
            call(HC["multicall"], dptr(0x400), small(2))
        # the store ring: a READ request, then a kick through the store port
        req = struct.pack("<IIII", 2, 1, 0, 16) + b"/local/domain/1\0"
        seeds["store-" + abi] = cfg + write(0, req, target=2) + \
            write(2052, struct.pack("<I", len(req)), target=2) + \
            write(0x20, struct.pack("<I", 2)) + call(HC["event_channel_op"], small(4), dptr(0x20))
        # the console ring with lying indices, then the console port
        seeds["conring-" + abi] = cfg + write(0x400, b"hi") + \
            write(3080, struct.pack("<II", 0, 0xfffff000), target=1) + \
            write(0x20, struct.pack("<I", 1)) + call(HC["event_channel_op"], small(4), dptr(0x20))
    # the hypercall policy (config bit 6): denied families and sub-ops, one
    # behind memory_op's continuation bits, one inside a multicall
    ent = struct.pack("<QQ6Q", 15, 0, 1, 0, 0, 0, 0, 0) + struct.pack("<QQ6Q", 17, 0, 0, 0, 0, 0, 0, 0)
    seeds["policy-64"] = bytes([IDENTITY64[0] | 0x40]) + IDENTITY64[1:] + \
        call(HC["set_timer_op"], u64v(1 << 40)) + \
        call(HC["memory_op"], u64v((3 << 6) | 1), dptr(0)) + \
        write(0x400, ent) + call(HC["multicall"], dptr(0x400), small(2))
    for name, data in seeds.items():
        put("hypercall", name, data)


# ---- xenstore (wire) ----
def xs_msg(client, typ, payload, tx=0):
    return bytes([0 | (client << 4), typ, tx]) + struct.pack("<H", len(payload)) + payload


def xenstore_seeds():
    GUEST, DOM0 = 1, 0
    s = {}
    s["read-write"] = bytes([1]) + xs_msg(GUEST, 11, b"data/x\0hello") + xs_msg(GUEST, 2, b"data/x\0") + \
        xs_msg(GUEST, 1, b"data\0") + xs_msg(GUEST, 3, b"data/x\0") + xs_msg(GUEST, 13, b"data/x\0")
    s["txn"] = bytes([1]) + xs_msg(GUEST, 6, b"\0") + xs_msg(GUEST, 11, b"data/t\0v", tx=1) + \
        xs_msg(GUEST, 7, b"T\0", tx=1) + xs_msg(GUEST, 6, b"\0") + xs_msg(GUEST, 7, b"F\0", tx=2)
    s["watch"] = bytes([1]) + xs_msg(GUEST, 4, b"data\0tok\0") + xs_msg(DOM0, 11, b"/local/domain/1/data/w\0z") + \
        xs_msg(GUEST, 4, b"@releaseDomain\0r\0") + xs_msg(GUEST, 5, b"data\0tok\0")
    s["perms"] = bytes([1]) + xs_msg(DOM0, 11, b"/p\0v") + xs_msg(DOM0, 10, b"/p\0n0\0r1\0") + \
        xs_msg(GUEST, 9, b"/p\0") + xs_msg(2, 2, b"/p\0") + xs_msg(GUEST, 11, b"/p\0no")
    s["control"] = bytes([0]) + xs_msg(DOM0, 0, b"print\0hi\0") + xs_msg(DOM0, 8, b"1\0" + b"1\0" + b"2\0") + \
        xs_msg(DOM0, 14, b"1\0") + xs_msg(DOM0, 12, b"1\0") + xs_msg(GUEST, 15, b"1\0")
    s["quota"] = bytes([3]) + b"".join(xs_msg(GUEST, 11, b"data/%d\0v" % i) for i in range(12))
    s["api"] = bytes([1]) + bytes([3, 0, 14]) + b"/local/a\0value" + bytes([3, 7, 8]) + b"/local/\0" + \
        bytes([3 | 0x10]) + bytes([2 | 0x10]) + bytes([4 | 0x10])
    for name, data in s.items():
        put("xenstore", name, data)


def xenstore_ring_seeds():
    def req(typ, payload):
        return bytes([0, typ, 0]) + struct.pack("<H", len(payload)) + payload
    zero = struct.pack("<II", 0, 0)
    s = {}
    s["read"] = zero + req(2, b"/local/domain/1\0") + bytes([3])
    s["watch-events"] = zero + req(4, b"/local/domain/1\0t\0") + bytes([3]) + \
        bytes([5, 3]) + b"abc" + bytes([3, 4, 3])
    s["lying-index"] = zero + req(2, b"x\0") + bytes([2, 0]) + struct.pack("<I", 0x10000) + bytes([3]) + \
        bytes([2, 3]) + struct.pack("<I", 1) + bytes([3])
    s["wrap"] = struct.pack("<II", 0xfffffff0, 0xfffffff0) + req(11, b"/local/domain/1/a\0" + b"v" * 100) + \
        bytes([3, 4]) + req(2, b"/local/domain/1/a\0") + bytes([3])
    for name, data in s.items():
        put("xenstore_ring", name, data)


def console_seeds():
    s = {}
    s["out"] = bytes([2, 5]) + b"hello" + bytes([3])
    s["in"] = bytes([5, 6, 4]) + b"abcd" + bytes([4, 7, 2, 8, 2])
    s["lying"] = bytes([1, 3]) + struct.pack("<I", 0x80000000) + bytes([3, 1, 1]) + struct.pack("<I", 5000) + \
        bytes([5, 6, 3]) + b"xyz" + bytes([4])
    for name, data in s.items():
        put("console", name, data)


def boot_seeds(guest_dir):
    """Stripped test guests (the notes stay; the debug info would be 90%)."""
    for name in ("version-32.elf", "version-64.elf"):
        p = os.path.join(guest_dir, name)
        if not os.path.exists(p):
            continue
        with tempfile.NamedTemporaryFile() as t:
            subprocess.run(["objcopy", "--strip-all", p, t.name], check=True)
            put("boot", name, bytes([0x02]) + struct.pack("<H", 2) + t.read())
    put("boot", "bzimage-header", bytes([0]) + struct.pack("<H", 1) + bytes(0x202) + b"HdrS" +
        struct.pack("<H", 0x20f) + bytes(64))


def cli_seeds():
    s = {"basic": b"--kernel\0/k\0--memory\0512\0--vcpus\x004",
         "sizes": b"--memory\x001G\0--timeout\x001.5\0--shutdown-grace\x002",
         "all": b"--hypercall\0page\0--log-level\0debug\0--name\0vm\0--console\0file:/tmp/x\0--disk\0/d,ro",
         "bad": b"-x\0--memory=\0--vcpus\0-1\0extra",
         "policy": b"xenkvm_hypercall_policy=['deny=console_io']\0--hypercall-policy\0"
                   b"default=deny,allow=memory_op,deny=memory_op:1\0--time-granularity\x0010us"}
    for name, data in s.items():
        put("cli", name, data)

# ---- blkif: config, rsp_prod, steps (see fuzz_blkif.c) ----
B_REQ, B_SEGS, B_POKE, B_IDX, B_GRANT, B_KICK, B_RECONNECT = range(7)
B_READ, B_WRITE, B_FLUSH, B_BARRIER, B_DISCARD, B_INDIRECT = range(6)


def b_rw(op, rid, sector, segs):
    """segs: (data page, first, last) triples."""
    return bytes([B_REQ, op, rid, sector, len(segs)]) + \
        b"".join(bytes([p, f | l << 4]) for p, f, l in segs)


def b_discard(rid, sector, n):
    return bytes([B_REQ, B_DISCARD, rid, sector, n])


def b_indirect(op, rid, sector, nsegs, pages):
    return bytes([B_REQ, B_INDIRECT, rid, sector, op]) + struct.pack("<H", nsegs) + \
        bytes([len(pages)]) + bytes(pages)


def b_segs(page, at, segs):
    return bytes([B_SEGS, page]) + struct.pack("<HB", at, len(segs)) + \
        b"".join(bytes([p, f | l << 4]) for p, f, l in segs)


def blkif_seeds():
    rw = b_rw(B_WRITE, 1, 0, [(0, 0, 7), (1, 0, 7)]) + b_rw(B_READ, 2, 0, [(2, 0, 7)]) + \
        b_rw(B_READ, 3, 100, [(3, 2, 5), (4, 0, 0), (5, 7, 7)]) + bytes([B_KICK])
    s = {"rw-64": bytes([0x00]) + struct.pack("<I", 0) + rw,
         "rw-32": bytes([0x01]) + struct.pack("<I", 0) + rw,
         "flush": bytes([0x00]) + struct.pack("<I", 7) +
         bytes([B_REQ, B_FLUSH, 1, 0, 0]) + b_rw(B_BARRIER, 2, 8, [(6, 0, 7)]) +
         b_rw(B_FLUSH, 3, 16, [(7, 0, 7)]) + bytes([B_KICK]),
         "discard": bytes([0x00]) + struct.pack("<I", 0) + b_discard(1, 8, 16) +
         b_discard(2, 0, 0) + bytes([B_KICK]),
         "readonly": bytes([0x20]) + struct.pack("<I", 0) + b_rw(B_WRITE, 1, 0, [(0, 0, 7)]) +
         b_rw(B_READ, 2, 0, [(64, 0, 7)]) + b_discard(3, 0, 8) + bytes([B_KICK]),
         "indirect": bytes([0x00]) + struct.pack("<I", 0) +
         b_segs(10, 0, [(k, 0, 7) for k in range(20)]) + b_indirect(B_READ, 1, 0, 20, [10]) +
         b_indirect(B_WRITE, 2, 8, 20, [10]) + bytes([B_KICK]),
         "indirect-32": bytes([0x01]) + struct.pack("<I", 0) +
         b_segs(11, 0, [(k, 1, 6) for k in range(12)]) + b_indirect(B_WRITE, 1, 64, 12, [11]) +
         bytes([B_KICK]),
         # 16 pages: 512 entries, more than the engine's depth
         "big-ring": bytes([4 << 1]) + struct.pack("<I", 0) +
         b"".join(b_rw(B_READ, i, i, [(i % 64, 0, 0)]) for i in range(40)) + bytes([B_KICK]),
         "persistent": bytes([0x10]) + struct.pack("<I", 0) + b_rw(B_READ, 1, 0, [(0, 0, 7)]) +
         bytes([B_KICK]) + b_rw(B_WRITE, 2, 0, [(0, 0, 7)]) + bytes([B_KICK]),
         "wrap": bytes([0x00]) + struct.pack("<I", 0xfffffff0) +
         b"".join(b_rw(B_READ, i, 0, [(1, 0, 0)]) for i in range(24)) + bytes([B_KICK]),
         "lying": bytes([0x00]) + struct.pack("<I", 0) + b_rw(B_READ, 1, 0, [(1, 0, 0)]) +
         bytes([B_IDX, 1]) + struct.pack("<I", 40) + bytes([B_KICK, B_RECONNECT, B_IDX, 2]) +
         struct.pack("<I", 0) + b_rw(B_READ, 2, 0, [(1, 0, 0)]) + bytes([B_KICK]),
         "revoked": bytes([0x00]) + struct.pack("<I", 0) +
         bytes([B_GRANT]) + struct.pack("<H", 33) + bytes([2, 17]) +
         b_rw(B_READ, 1, 0, [(1, 0, 7)]) + bytes([B_KICK])}
    for name, data in s.items():
        put("blkif", name, data)

# ---- netif: config, TX and RX rsp_prod, steps (see fuzz_netif.c) ----
(N_TX, N_EXTRA, N_RX, N_PKT, N_CTRL, N_POKE, N_IDX, N_GRANT, N_TXKICK, N_RXKICK,
 N_CTRLKICK, N_RECONNECT) = range(12)
NETTXF_CSUM_BLANK, NETTXF_DATA_VALIDATED, NETTXF_MORE_DATA, NETTXF_EXTRA_INFO = 1, 2, 4, 8


def n_tx(flags, page, offset, size, rid):
    return bytes([N_TX, flags, page]) + struct.pack("<HHB", offset, size, rid)


def n_gso(size, gtype, more=0):
    return bytes([N_EXTRA, 1, more]) + struct.pack("<HB", size, gtype)


def n_rx(rid, page):
    return bytes([N_RX, rid, page])


def n_pkt(flags, gso_type, gso_size, csum_start, csum_off, tmpl, length, data=b""):
    return bytes([N_PKT, flags, gso_type]) + struct.pack("<HHHBHB", gso_size, csum_start,
                                                         csum_off, tmpl, length, len(data)) + data


def netif_seeds():
    hdr = bytes([0x3f]) + struct.pack("<II", 0, 0)
    s = {"tx": hdr + n_tx(0, 0, 0, 54, 1) + n_tx(NETTXF_CSUM_BLANK, 1, 0, 74, 2) +
         bytes([N_TXKICK]),
         "tx-frags": hdr + n_tx(NETTXF_MORE_DATA | NETTXF_DATA_VALIDATED, 0, 0, 3000, 1) +
         n_tx(NETTXF_MORE_DATA, 2, 0, 2000, 2) + n_tx(0, 3, 100, 900, 3) + bytes([N_TXKICK]),
         "tx-gso": hdr + n_tx(NETTXF_EXTRA_INFO | NETTXF_CSUM_BLANK | NETTXF_MORE_DATA, 0, 0,
                               5000, 1) + n_gso(1448, 1) + n_tx(0, 2, 0, 4000, 2) +
         bytes([N_TXKICK]),
         "tx-bad": hdr + n_tx(0, 0, 4000, 200, 1) + n_tx(0, 64, 0, 60, 2) +
         n_tx(0, 0, 0, 10, 3) + bytes([N_TXKICK]),
         "rx": hdr + b"".join(n_rx(i, 4 + i) for i in range(4)) +
         n_pkt(0, 0, 0, 0, 0, 1, 60) + n_pkt(1, 0, 0, 34, 16, 1, 54) +
         n_pkt(1, 0, 0, 58, 6, 2, 70) + bytes([N_RXKICK]),
         "rx-gso": hdr + b"".join(n_rx(i, 4 + i) for i in range(8)) +
         n_pkt(1, 1, 1448, 34, 16, 1, 9000) + bytes([N_RXKICK]),
         "rx-wait": hdr + n_pkt(0, 0, 0, 0, 0, 1, 6000) + bytes([N_RXKICK]) + n_rx(1, 5) +
         n_rx(2, 6) + bytes([N_RXKICK]),
         "ctrl": hdr + bytes([N_CTRL, 1]) + struct.pack("<I", 0) + bytes([N_CTRL, 2]) +
         struct.pack("<I", 1) + bytes([N_CTRL, 7]) + struct.pack("<I", 0) + bytes([N_CTRL, 9]) +
         struct.pack("<I", 0) + bytes([N_CTRLKICK]),
         "lying": bytes([0x01]) + struct.pack("<II", 0xfffffff0, 5) + n_tx(0, 0, 0, 54, 1) +
         bytes([N_IDX, 1]) + struct.pack("<I", 300) + bytes([N_TXKICK, N_RECONNECT]) +
         bytes([N_IDX, 0]) + struct.pack("<I", 0xfffffff0) + n_tx(0, 0, 0, 54, 2) +
         bytes([N_TXKICK])}
    for name, data in s.items():
        put("netif", name, data)


if __name__ == "__main__":
    hypercall_seeds()
    xenbus_seeds()
    xenstore_seeds()
    xenstore_ring_seeds()
    console_seeds()
    boot_seeds(sys.argv[1] if len(sys.argv) > 1 else "build/guests")
    cli_seeds()
    blkif_seeds()
    netif_seeds()
