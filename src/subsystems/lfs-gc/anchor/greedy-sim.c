/*
 * greedy-sim.c: the benchmark anchor for kmlib's lfs-gc simulator. The same algorithm as
 * store.ts with the greedy policy and a uniform workload, written plainly in C: the same
 * xoshiro128** stream, the same free-segment stack, valid-count buckets, reserve and GC
 * trigger, so both must report the very same write amplification.
 *
 * usage: greedy-sim LOGICAL_BLOCKS BLOCKS_PER_SEGMENT SPARE_FACTOR WARMUP MEASURE SEED
 * prints one JSON line: {"hostWrites":..,"gcWrites":..,"seconds":..,"cpuSeconds":..} (warm-up
 * and measured writes; the fill is not timed)
 * build: gcc -O2 -o greedy-sim greedy-sim.c
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NONE (-1)
#define BATCH (1 << 14)

static uint32_t s0, s1, s2, s3;
static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
static uint32_t mix_state;
static uint32_t mix(void) {
	mix_state += 0x9e3779b9u;
	uint32_t z = mix_state;
	z = (z ^ (z >> 16)) * 0x85ebca6bu;
	z = (z ^ (z >> 13)) * 0xc2b2ae35u;
	return z ^ (z >> 16);
}
static void seed_rng(uint32_t seed) {
	mix_state = seed;
	s0 = mix(); s1 = mix(); s2 = mix(); s3 = mix();
	if ((s0 | s1 | s2 | s3) == 0) s0 = 1;
}
static uint32_t next_u32(void) {
	uint32_t result = rotl(s1 * 5, 7) * 9;
	uint32_t t = s1 << 9;
	s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
	return result;
}
static uint32_t below(uint32_t n) { return (uint32_t)(((uint64_t)next_u32() * n) >> 32); }

static int32_t b, nseg, reserved, nfree, active = NONE, active_off, min_bucket;
static int32_t *seg_valid, *p2l, *l2p, *free_stack, *bucket_head, *bucket_next, *bucket_prev;
static uint8_t *sealed;
static uint64_t host_writes, gc_writes;

static void link_seg(int32_t seg, int32_t v) {
	int32_t head = bucket_head[v];
	bucket_next[seg] = head;
	bucket_prev[seg] = NONE;
	if (head != NONE) bucket_prev[head] = seg;
	bucket_head[v] = seg;
	if (v < min_bucket) min_bucket = v;
}
static void unlink_seg(int32_t seg, int32_t v) {
	int32_t next = bucket_next[seg], prev = bucket_prev[seg];
	if (prev == NONE) bucket_head[v] = next; else bucket_next[prev] = next;
	if (next != NONE) bucket_prev[next] = prev;
}
static int32_t min_valid_segment(void) {
	for (int32_t v = min_bucket; v <= b; v++)
		if (bucket_head[v] != NONE) { min_bucket = v; return bucket_head[v]; }
	min_bucket = b + 1;
	return NONE;
}
static void open_seg(void) {
	if (nfree == 0) { fprintf(stderr, "no free segment\n"); exit(1); }
	int32_t seg = free_stack[--nfree];
	seg_valid[seg] = 0;
	active = seg;
	active_off = 0;
}
static void append(int32_t lba);
static void collect_one(void) {
	int32_t victim = min_valid_segment();
	if (victim == NONE) { fprintf(stderr, "nothing sealed\n"); exit(1); }
	unlink_seg(victim, seg_valid[victim]);
	sealed[victim] = 0;
	int32_t base = victim * b;
	for (int32_t off = 0; off < b && seg_valid[victim] > 0; off++) {
		int32_t lba = p2l[base + off];
		if (lba == NONE) continue;
		p2l[base + off] = NONE;
		seg_valid[victim]--;
		gc_writes++;
		if (active_off == b) open_seg();
		append(lba);
	}
	free_stack[nfree++] = victim;
}
static void open_for_host(void) {
	while (active_off == b) {
		if (nfree > reserved) { open_seg(); return; }
		collect_one();
	}
}
static void append(int32_t lba) {
	if (active_off == b) open_for_host();
	int32_t seg = active, p = seg * b + active_off;
	l2p[lba] = p;
	p2l[p] = lba;
	seg_valid[seg]++;
	if (++active_off == b) { sealed[seg] = 1; link_seg(seg, seg_valid[seg]); }
}
static void write_block(int32_t lba) {
	int32_t old = l2p[lba];
	if (old != NONE) {
		int32_t seg = old / b;
		p2l[old] = NONE;
		int32_t v = seg_valid[seg]--;
		if (sealed[seg]) { unlink_seg(seg, v); link_seg(seg, v - 1); }
	}
	host_writes++;
	append(lba);
}

int main(int argc, char **argv) {
	if (argc != 7) { fprintf(stderr, "usage: %s U Np Sf WARMUP MEASURE SEED\n", argv[0]); return 2; }
	int32_t u = atoi(argv[1]);
	b = atoi(argv[2]);
	double sf = atof(argv[3]);
	long long warmup = atoll(argv[4]), measure = atoll(argv[5]);
	seed_rng((uint32_t)strtoul(argv[6], NULL, 10));
	int32_t data = (int32_t)llround(u / (b * (1 - sf)));
	reserved = 2; /* logs + 1, one log */
	nseg = data + reserved;
	seg_valid = calloc(nseg, 4); p2l = malloc((size_t)nseg * b * 4); l2p = malloc((size_t)u * 4);
	free_stack = malloc(nseg * 4); bucket_head = malloc((b + 1) * 4); bucket_next = malloc(nseg * 4);
	bucket_prev = malloc(nseg * 4); sealed = calloc(nseg, 1);
	int32_t *buf = malloc(BATCH * 4);
	for (long i = 0; i < (long)nseg * b; i++) p2l[i] = NONE;
	for (int32_t i = 0; i < u; i++) l2p[i] = NONE;
	for (int32_t i = 0; i <= b; i++) bucket_head[i] = NONE;
	for (int32_t i = 0; i < nseg; i++) free_stack[i] = nseg - 1 - i;
	nfree = nseg;
	active_off = b;
	min_bucket = b + 1;
	for (int32_t i = 0; i < u; i++) write_block(i);
	struct timespec t0, t1, c0, c1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	for (int phase = 0; phase < 2; phase++) {
		long long n = phase == 0 ? warmup : measure;
		if (phase == 1) host_writes = gc_writes = 0;
		while (n > 0) {
			int k = n < BATCH ? (int)n : BATCH;
			for (int i = 0; i < k; i++) buf[i] = (int32_t)below((uint32_t)u);
			for (int i = 0; i < k; i++) write_block(buf[i]);
			n -= k;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	double cpu = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
	printf("{\"hostWrites\":%llu,\"gcWrites\":%llu,\"seconds\":%.6f,\"cpuSeconds\":%.6f}\n", (unsigned long long)host_writes, (unsigned long long)gc_writes, secs, cpu);
	return 0;
}
