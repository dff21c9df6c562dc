/* Just enough header parsing for checksum and GSO offload: where the TCP or
 * UDP header of a frame starts, and a software checksum for frontends that
 * cannot take a partial one. Every read is bounds-checked: frames come from
 * the guest or the host network. */
#include <netinet/in.h>

#include "xenkvm/netback_ring.h"

#define NB_ETH_P_IPV4 0x0800
#define NB_ETH_P_IPV6 0x86dd
#define NB_ETH_P_VLAN 0x8100
#define IPV6_HLEN 40
#define IPV6_NEXTHDR_HOP 0
#define IPV6_NEXTHDR_ROUTING 43
#define IPV6_NEXTHDR_FRAGMENT 44
#define IPV6_NEXTHDR_DEST 60

static unsigned be16_at(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* The L3 protocol and where its header starts, past one VLAN tag. */
static int parse_eth(const uint8_t *pkt, size_t len, unsigned *proto, unsigned *off)
{
	if (len < NB_ETH_HLEN)
		return -1;
	*proto = be16_at(pkt + 12);
	*off = NB_ETH_HLEN;
	if (*proto == NB_ETH_P_VLAN) {
		if (len < NB_ETH_HLEN + 4)
			return -1;
		*proto = be16_at(pkt + 16);
		*off += 4;
	}
	return 0;
}

static int parse_ipv4(const uint8_t *pkt, size_t len, unsigned off, struct nb_l4 *out)
{
	const uint8_t *ip = pkt + off;
	unsigned ihl;

	if (len < off + 20 || (ip[0] >> 4) != 4)
		return -1;
	ihl = (ip[0] & 0xfu) * 4;
	/* A later fragment carries no L4 header. */
	if (ihl < 20 || len < off + ihl || (be16_at(ip + 6) & 0x1fff))
		return -1;
	out->ip_version = 4;
	out->l3_off = off;
	out->l4_proto = ip[9];
	out->l4_off = off + ihl;
	return 0;
}

static int parse_ipv6(const uint8_t *pkt, size_t len, unsigned off, struct nb_l4 *out)
{
	unsigned next;

	if (len < off + IPV6_HLEN || (pkt[off] >> 4) != 6)
		return -1;
	out->l3_off = off;
	next = pkt[off + 6];
	off += IPV6_HLEN;
	for (;;) {
		if (next == IPV6_NEXTHDR_HOP || next == IPV6_NEXTHDR_ROUTING ||
		    next == IPV6_NEXTHDR_DEST) {
			if (len < off + 8)
				return -1;
			next = pkt[off];
			off += (pkt[off + 1] + 1u) * 8;
		} else if (next == IPV6_NEXTHDR_FRAGMENT) {
			if (len < off + 8 || (be16_at(pkt + off + 2) & 0xfff8))
				return -1;
			next = pkt[off];
			off += 8;
		} else {
			break;
		}
	}
	out->ip_version = 6;
	out->l4_proto = next;
	out->l4_off = off;
	return 0;
}

static int parse_l4_header(const uint8_t *pkt, size_t len, struct nb_l4 *out)
{
	if (out->l4_proto == IPPROTO_TCP) {
		if (len < out->l4_off + 20)
			return -1;
		out->l4_hdr_len = (pkt[out->l4_off + 12] >> 4) * 4u;
		return out->l4_hdr_len >= 20 && len >= out->l4_off + out->l4_hdr_len ? 0 : -1;
	}
	if (out->l4_proto == IPPROTO_UDP) {
		out->l4_hdr_len = 8;
		return len >= out->l4_off + 8 ? 0 : -1;
	}
	return -1;
}

int nb_parse_l4(const uint8_t *pkt, size_t len, struct nb_l4 *out)
{
	unsigned proto, off;
	int rc;

	if (parse_eth(pkt, len, &proto, &off) < 0)
		return -1;
	if (proto == NB_ETH_P_IPV4)
		rc = parse_ipv4(pkt, len, off, out);
	else if (proto == NB_ETH_P_IPV6)
		rc = parse_ipv6(pkt, len, off, out);
	else
		rc = -1;
	return rc < 0 ? -1 : parse_l4_header(pkt, len, out);
}

void nb_csum_complete(uint8_t *pkt, size_t len, unsigned start, unsigned offset)
{
	uint32_t sum = 0;
	uint16_t csum;
	size_t i;

	if (start >= len || offset + 2 > len - start)
		return;
	for (i = start; i + 1 < len; i += 2)
		sum += be16_at(pkt + i);
	if (i < len)
		sum += (uint32_t)pkt[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	csum = (uint16_t)~sum;
	/* In UDP a zero checksum means "none": Linux sends its complement. */
	if (csum == 0 && offset == 6)
		csum = 0xffff;
	pkt[start + offset] = (uint8_t)(csum >> 8);
	pkt[start + offset + 1] = (uint8_t)csum;
}
