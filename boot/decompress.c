/* Decompress a Linux kernel payload with the same formats the kernel's own
 * decompressor knows, using Debian's libraries. The output is capped so a
 * decompression bomb becomes an error instead of exhausting host memory. */
#include <bzlib.h>
#include <limits.h>
#include <lz4.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "xenkvm/boot.h"

/* liblzma's own memory (dictionary) limit; kernels use at most a few tens of MiB. */
#define LZMA_MEMLIMIT (256ULL << 20)
/* Linux's lz4 legacy frames hold blocks of at most 8 MiB of output. */
#define LZ4_LEGACY_MAGIC 0x184C2102U
#define LZ4_LEGACY_BLOCK (8U << 20)
#define STEP (1U << 20) /* output room asked for per decoder call */

/* A growable output buffer. Decoders may fill it to max + 1 bytes: that
 * one byte too many is how output of exactly max bytes is told from a bomb. */
struct outbuf {
	uint8_t *p;
	size_t len, cap, max;
	int full; /* a decoder wanted more room than max allows */
	int oom;
};

/* Make room for `want` more bytes, growing by doubling up to limit; at the
 * limit any room left is enough. Returns 0, or -1 with full or oom set. */
static int outbuf_reserve(struct outbuf *o, size_t want, size_t limit)
{
	size_t cap = o->cap ? o->cap : want;
	uint8_t *p;

	if (o->cap - o->len >= want)
		return 0;
	if (o->cap >= limit) {
		o->full = o->cap == o->len;
		return o->full ? -1 : 0;
	}
	while (cap - o->len < want && cap < limit)
		cap = cap > limit / 2 ? limit : cap * 2;
	if (cap > limit)
		cap = limit;
	p = realloc(o->p, cap);
	if (!p) {
		o->oom = 1;
		return -1;
	}
	o->p = p;
	o->cap = cap;
	return 0;
}

static int outbuf_room(struct outbuf *o)
{
	return outbuf_reserve(o, STEP, o->max + 1);
}

/* Why a decoder stopped early, when it was the buffer's fault. */
static int outbuf_error(const struct outbuf *o, char *why, size_t whylen)
{
	if (o->oom)
		return boot_err(why, whylen, "out of memory while decompressing");
	return boot_err(why, whylen, "decompressed size exceeds the %zu MiB limit", o->max >> 20);
}

static size_t uint_chunk(size_t n)
{
	return n > UINT_MAX ? UINT_MAX : n;
}

static int gunzip(const uint8_t *in, size_t len, struct outbuf *o, char *why, size_t whylen)
{
	z_stream s = { 0 };
	int rc = Z_OK;

	if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
		return boot_err(why, whylen, "zlib initialisation failed");
	s.next_in = (Bytef *)in;
	while (rc == Z_OK && outbuf_room(o) == 0) {
		s.avail_in = (uInt)uint_chunk(len - (size_t)((const uint8_t *)s.next_in - in));
		s.next_out = o->p + o->len;
		s.avail_out = (uInt)uint_chunk(o->cap - o->len);
		rc = inflate(&s, Z_NO_FLUSH);
		o->len = (size_t)(s.next_out - o->p);
		/* No progress with output room left: the input ended early. */
		if (rc == Z_BUF_ERROR && s.avail_out == 0)
			rc = Z_OK;
	}
	inflateEnd(&s);
	if (rc == Z_STREAM_END)
		return 0;
	if (o->full || o->oom)
		return outbuf_error(o, why, whylen);
	return boot_err(why, whylen, "corrupt or truncated gzip data (%s)",
			s.msg ? s.msg : "unexpected end of input");
}

static int run_lzma(lzma_stream *s, const uint8_t *in, size_t len, struct outbuf *o,
		    const char *fmt, char *why, size_t whylen)
{
	lzma_ret rc = LZMA_OK;

	s->next_in = in;
	s->avail_in = len;
	while (rc == LZMA_OK && outbuf_room(o) == 0) {
		s->next_out = o->p + o->len;
		s->avail_out = o->cap - o->len;
		rc = lzma_code(s, s->avail_in ? LZMA_RUN : LZMA_FINISH);
		o->len = (size_t)(s->next_out - o->p);
	}
	lzma_end(s);
	if (rc == LZMA_STREAM_END)
		return 0;
	if (o->full || o->oom)
		return outbuf_error(o, why, whylen);
	return boot_err(why, whylen, "corrupt or truncated %s data (liblzma error %d)", fmt,
			(int)rc);
}

static int unxz(const uint8_t *in, size_t len, struct outbuf *o, char *why, size_t whylen)
{
	lzma_stream s = LZMA_STREAM_INIT;

	/* Flags 0: one stream, so Linux's trailing size word is not parsed. */
	if (lzma_stream_decoder(&s, LZMA_MEMLIMIT, 0) != LZMA_OK)
		return boot_err(why, whylen, "liblzma initialisation failed");
	return run_lzma(&s, in, len, o, "xz", why, whylen);
}

static int unlzma(const uint8_t *in, size_t len, struct outbuf *o, char *why, size_t whylen)
{
	lzma_stream s = LZMA_STREAM_INIT;

	if (lzma_alone_decoder(&s, LZMA_MEMLIMIT) != LZMA_OK)
		return boot_err(why, whylen, "liblzma initialisation failed");
	return run_lzma(&s, in, len, o, "lzma", why, whylen);
}

static int unzstd(const uint8_t *in, size_t len, struct outbuf *o, char *why, size_t whylen)
{
	ZSTD_DStream *d = ZSTD_createDStream();
	ZSTD_inBuffer ib = { in, len, 0 };
	size_t rc = 1, before;

	if (!d)
		return boot_err(why, whylen, "libzstd initialisation failed");
	/* rc 0: the frame is complete; bytes after it (Linux's size word) are ignored. */
	while (rc != 0 && !ZSTD_isError(rc) && outbuf_room(o) == 0) {
		ZSTD_outBuffer ob = { o->p, o->cap, o->len };
		before = ib.pos + ob.pos;
		rc = ZSTD_decompressStream(d, &ob, &ib);
		o->len = ob.pos;
		if (!ZSTD_isError(rc) && rc != 0 && ib.pos + ob.pos == before)
			break; /* no progress: the input ended inside the frame */
	}
	ZSTD_freeDStream(d);
	if (rc == 0)
		return 0;
	if (ZSTD_isError(rc))
		return boot_err(why, whylen, "corrupt zstd data (%s)", ZSTD_getErrorName(rc));
	if (o->full || o->oom)
		return outbuf_error(o, why, whylen);
	return boot_err(why, whylen, "truncated zstd data");
}

static int unbzip2(const uint8_t *in, size_t len, struct outbuf *o, char *why, size_t whylen)
{
	bz_stream s = { 0 };
	int rc = BZ_OK;
	size_t used, out_before;

	if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
		return boot_err(why, whylen, "libbz2 initialisation failed");
	s.next_in = (char *)in;
	while (rc == BZ_OK && outbuf_room(o) == 0) {
		used = (size_t)((const uint8_t *)s.next_in - in);
		out_before = o->len;
		s.avail_in = (unsigned)uint_chunk(len - used);
		s.next_out = (char *)o->p + o->len;
		s.avail_out = (unsigned)uint_chunk(o->cap - o->len);
		rc = BZ2_bzDecompress(&s);
		o->len = (size_t)((uint8_t *)s.next_out - o->p);
		if (rc == BZ_OK && used == len && o->len == out_before)
			rc = BZ_UNEXPECTED_EOF;
	}
	BZ2_bzDecompressEnd(&s);
	if (rc == BZ_STREAM_END)
		return 0;
	if (o->full || o->oom)
		return outbuf_error(o, why, whylen);
	return boot_err(why, whylen, "corrupt or truncated bzip2 data (libbz2 error %d)", rc);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int unlz4_block(const uint8_t *blk, uint32_t bsz, struct outbuf *o, char *why,
		       size_t whylen)
{
	int n;

	/* Room for a whole block even past max, so a short buffer is never
	 * mistaken for corrupt data; the cap is checked after decoding. */
	if (outbuf_reserve(o, LZ4_LEGACY_BLOCK, o->max + LZ4_LEGACY_BLOCK) < 0)
		return outbuf_error(o, why, whylen);
	n = LZ4_decompress_safe((const char *)blk, (char *)o->p + o->len, (int)bsz,
				LZ4_LEGACY_BLOCK);
	if (n < 0)
		return boot_err(why, whylen, "corrupt lz4 block");
	o->len += (size_t)n;
	if (o->len > o->max) {
		o->full = 1;
		return outbuf_error(o, why, whylen);
	}
	return 0;
}

/* Linux's lz4 legacy frame: magic, then (le32 length, block)*. The stream
 * has no end marker; Linux appends the le32 decompressed size, so exactly
 * four bytes left after a block also end it. */
static int unlz4(const uint8_t *in, size_t len, struct outbuf *o, char *why, size_t whylen)
{
	size_t pos = 4, nblocks = 0;
	uint32_t bsz;

	while (len - pos >= 4) {
		bsz = le32(in + pos);
		if (bsz == LZ4_LEGACY_MAGIC) { /* concatenated frames */
			pos += 4;
			continue;
		}
		if (nblocks > 0 && len - pos == 4)
			break;
		pos += 4;
		if (bsz == 0 || bsz > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK) ||
		    bsz > len - pos)
			return boot_err(why, whylen, "corrupt lz4 block length %u at offset %zu",
					bsz, pos - 4);
		if (unlz4_block(in + pos, bsz, o, why, whylen) < 0)
			return -1;
		pos += bsz;
		nblocks++;
	}
	if (nblocks == 0)
		return boot_err(why, whylen, "empty or truncated lz4 data");
	return 0;
}

typedef int (*decompress_fn)(const uint8_t *, size_t, struct outbuf *, char *, size_t);

static const struct {
	const char *magic;
	size_t magic_len;
	decompress_fn fn;
} formats[] = {
	{ "\x1f\x8b", 2, gunzip },
	{ "\xfd" "7zXZ\0", 6, unxz },
	{ "\x5d\x00\x00", 3, unlzma },
	{ "\x28\xb5\x2f\xfd", 4, unzstd },
	{ "\x02\x21\x4c\x18", 4, unlz4 },
	{ "BZh", 3, unbzip2 },
};

int decompress_any(const uint8_t *in, size_t len, size_t max_out, uint8_t **out,
		   size_t *out_len, char *why, size_t whylen)
{
	struct outbuf o = { .max = max_out < SIZE_MAX / 2 ? max_out : SIZE_MAX / 2 };

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (len < formats[i].magic_len ||
		    memcmp(in, formats[i].magic, formats[i].magic_len) != 0)
			continue;
		if (formats[i].fn(in, len, &o, why, whylen) < 0 ||
		    (o.len > o.max && outbuf_error(&o, why, whylen) < 0)) {
			free(o.p);
			return -1;
		}
		*out = o.p;
		*out_len = o.len;
		return 0;
	}
	return boot_err(why, whylen, "unknown compression format (magic %02x %02x %02x %02x)",
			len > 0 ? in[0] : 0, len > 1 ? in[1] : 0, len > 2 ? in[2] : 0,
			len > 3 ? in[3] : 0);
}
