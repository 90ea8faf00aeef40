// C anchors for the `bpf` benchmark suite: the same kernel work as kmlib's Node code, driven
// through libbpf from C. Objects (programs, maps) are created by the Node side and inherited
// as file descriptors 3, 4, 5. Prints one JSON object on stdout.
//
//   bpf-anchor testrun  REPEAT CALLS       fd3 = XDP program
//   bpf-anchor mapops   N                  fd3 = HASH map u32 -> u64
//   bpf-anchor ringbuf  TOTAL BATCH        fd3 = program, fd4 = RINGBUF map, fd5 = lost counter
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned char pkt[64];

static int testrun(int prog, int repeat, int calls) {
  LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = repeat);
  if (bpf_prog_test_run_opts(prog, &o)) return perror("test_run"), 1;
  unsigned kernel_ns = o.duration;
  LIBBPF_OPTS(bpf_test_run_opts, one, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1);
  double t0 = now_s();
  for (int i = 0; i < calls; i++)
    if (bpf_prog_test_run_opts(prog, &one)) return perror("test_run"), 1;
  double dt = now_s() - t0;
  printf("{\"nsPerRun\": %u, \"callsPerSecond\": %.1f}\n", kernel_ns, calls / dt);
  return 0;
}

static int mapops(int map, int n) {
  double t0 = now_s();
  for (unsigned k = 0; k < (unsigned)n; k++) {
    unsigned long long v = k * 3ull, out = 0;
    if (bpf_map_update_elem(map, &k, &v, BPF_ANY)) return perror("update"), 1;
    if (bpf_map_lookup_elem(map, &k, &out) || out != v) return perror("lookup"), 1;
  }
  double dt = now_s() - t0;
  printf("{\"opsPerSecond\": %.1f}\n", 2.0 * n / dt);
  return 0;
}

struct producer { int prog, total, batch; atomic_long produced; atomic_int done; atomic_long consumed; long size; };

static int on_record(void *ctx, void *data, size_t len) {
  (void)data; (void)len;
  atomic_fetch_add_explicit(&((struct producer *)ctx)->consumed, 1, memory_order_relaxed);
  return 0;
}

static void *produce(void *arg) {
  struct producer *p = arg;
  for (int sent = 0; sent < p->total; sent += p->batch) {
    // Keep at most half the buffer in flight, as the Node side does: zero loss by design.
    while ((atomic_load(&p->produced) - atomic_load(&p->consumed)) * 72 > p->size / 2) ;
    LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = p->batch);
    if (bpf_prog_test_run_opts(p->prog, &o)) { perror("test_run"); exit(1); }
    atomic_fetch_add(&p->produced, p->batch);
  }
  atomic_store(&p->done, 1);
  return NULL;
}

static int ringbuf(int prog, int rbfd, int lostfd, int total, int batch, long size) {
  struct producer p = { .prog = prog, .total = total, .batch = batch, .size = size };
  struct ring_buffer *rb = ring_buffer__new(rbfd, on_record, &p, NULL);
  if (!rb) return perror("ring_buffer__new"), 1;
  pthread_t th;
  double t0 = now_s();
  pthread_create(&th, NULL, produce, &p);
  while (!atomic_load(&p.done) || atomic_load(&p.consumed) < atomic_load(&p.produced)) {
    if (ring_buffer__consume(rb) < 0) return perror("consume"), 1;
  }
  double dt = now_s() - t0;
  pthread_join(th, NULL);
  unsigned key = 0; unsigned long long lost = 0;
  bpf_map_lookup_elem(lostfd, &key, &lost);
  printf("{\"recordsPerSecond\": %.1f, \"records\": %ld, \"lost\": %llu}\n", atomic_load(&p.consumed) / dt, (long)atomic_load(&p.consumed), lost);
  ring_buffer__free(rb);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return fprintf(stderr, "usage: bpf-anchor testrun|mapops|ringbuf ARGS\n"), 2;
  memset(pkt, 0, sizeof(pkt));
  pkt[12] = 0x08; // EtherType IPv4
  if (!strcmp(argv[1], "testrun") && argc == 4) return testrun(3, atoi(argv[2]), atoi(argv[3]));
  if (!strcmp(argv[1], "mapops")) return mapops(3, atoi(argv[2]));
  if (!strcmp(argv[1], "ringbuf") && argc == 4) return ringbuf(3, 4, 5, atoi(argv[2]), atoi(argv[3]), atol(getenv("RB_SIZE") ? getenv("RB_SIZE") : "16777216"));
  return fprintf(stderr, "bad arguments\n"), 2;
}
