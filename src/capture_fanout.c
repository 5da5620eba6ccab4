/*
 * capture_fanout.c - the fanout program and group of capture_fanout.h.
 *
 * The program, A and X the accumulator and index registers, M[0] scratch:
 *   A = byte 0 >> 4 (the IP version); 4 or 6, else return 0
 *   x = XOR of the address words (IPv4: offsets 12, 16; IPv6: 8..36 by 4)
 *   A = x * 0x9E3779B1; A ^= A >> 16; A %= n; return A
 * Word loads are big-endian, as pairhash.c reads the addresses. Its length
 * checks are the interpreter's: a load past the packet's end returns 0 (the
 * packet goes to worker 0), where pairhash_packet() refuses a packet too short.
 */
#include "capture_fanout.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "pairhash.h"

#define INSN(c, t, f, k_) ((struct sock_filter){ .code = (c), .jt = (t), .jf = (f), .k = (uint32_t)(k_) })

/* A ^= the word at base + off, through X (A holds the running XOR). */
static size_t fanout_xor_word(struct sock_filter *p, int32_t base, uint32_t off)
{
	p[0] = INSN(BPF_MISC | BPF_TAX, 0, 0, 0);
	p[1] = INSN(BPF_LD | BPF_W | BPF_ABS, 0, 0, base + (int32_t)off);
	p[2] = INSN(BPF_ALU | BPF_XOR | BPF_X, 0, 0, 0);
	return 3;
}

size_t capture_fanout_prog(struct sock_filter out[CAPTURE_FANOUT_PROG_MAX], unsigned n, int32_t base)
{
	size_t i = 0;
	out[i++] = INSN(BPF_LD | BPF_B | BPF_ABS, 0, 0, base);
	out[i++] = INSN(BPF_ALU | BPF_RSH | BPF_K, 0, 0, 4);
	out[i++] = INSN(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 4);      /* IPv4: to v4 */
	out[i++] = INSN(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 6);      /* IPv6: to v6 */
	out[i++] = INSN(BPF_RET | BPF_K, 0, 0, 0);                /* neither: worker 0 */
	/* v4: A = w12; A ^= w16 */
	out[i++] = INSN(BPF_LD | BPF_W | BPF_ABS, 0, 0, base + 12);
	i += fanout_xor_word(out + i, base, 16);
	out[i++] = INSN(BPF_JMP | BPF_JA, 0, 0, 22);              /* to hash */
	/* v6: A = w8; A ^= w12 .. w36 */
	out[i++] = INSN(BPF_LD | BPF_W | BPF_ABS, 0, 0, base + 8);
	for (uint32_t off = 12; off <= 36; off += 4)
		i += fanout_xor_word(out + i, base, off);
	/* hash: */
	out[i++] = INSN(BPF_ALU | BPF_MUL | BPF_K, 0, 0, PAIRHASH_MUL);
	out[i++] = INSN(BPF_MISC | BPF_TAX, 0, 0, 0);
	out[i++] = INSN(BPF_ALU | BPF_RSH | BPF_K, 0, 0, 16);
	out[i++] = INSN(BPF_ALU | BPF_XOR | BPF_X, 0, 0, 0);
	out[i++] = INSN(BPF_ALU | BPF_MOD | BPF_K, 0, 0, n ? n : 1);
	out[i++] = INSN(BPF_RET | BPF_A, 0, 0, 0);
	return i;
}

bool capture_fanout_join(int fd, uint16_t group, unsigned n, char *err, size_t errlen)
{
	uint32_t mode = PACKET_FANOUT_CBPF | PACKET_FANOUT_FLAG_DEFRAG;
	int arg = (int)(group | mode << 16);
	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) != 0) {
		snprintf(err, errlen, "cannot join the kernel's fanout group %u: %s", group, strerror(errno));
		return false;
	}
	struct sock_filter prog[CAPTURE_FANOUT_PROG_MAX];
	struct sock_fprog fp = { .len = (unsigned short)capture_fanout_prog(prog, n, SKF_NET_OFF),
				 .filter = prog };
	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, &fp, sizeof(fp)) != 0) {
		snprintf(err, errlen, "cannot give the fanout group its program: %s", strerror(errno));
		return false;
	}
	return true;
}
