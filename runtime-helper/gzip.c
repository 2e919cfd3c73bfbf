/*
 * tsbuild-gzip LEVEL THREADS: gzip stdin to stdout, in parallel and deterministically.
 *
 * The input is cut into fixed 1 MiB chunks and each chunk becomes one gzip member
 * (RFC 1952 §2.2: a gzip file is a series of members; gzip(1), zlib, Go's compress/gzip,
 * containerd and skopeo read them all, as they read eStargz layers). A member depends only on
 * its chunk and the level, so the output is the same bytes for any THREADS and any machine
 * with the same libdeflate; an empty input is one empty member. libdeflate compresses a
 * whole buffer about twice as fast as zlib at the same level, with smaller output.
 *
 * Three roles share a ring of slots: this thread reads chunks into free slots, THREADS
 * workers compress filled ones, one writer thread writes them out in order and frees them.
 * Reading, compressing and writing overlap, so the producer of stdin never waits long.
 */
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_BYTES (1u << 20)
#define MAX_THREADS 64

enum state { FREE, FILLED, COMPRESSING, DONE };

struct slot {
    enum state state;
    unsigned char *in;
    size_t in_len;
    unsigned char *out;
    size_t out_len;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct slot *slots;
    size_t nslots;
    unsigned long filled;   /* chunks read so far */
    unsigned long next_job; /* next chunk a worker takes */
    int input_done;
    int level;
    size_t out_bound; /* libdeflate's worst case for one chunk: every slot's out is this big */
} ring = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

static void die(const char *what, int err) {
    fprintf(stderr, "tsbuild-gzip: %s: %s\n", what, strerror(err));
    exit(1);
}

static struct slot *slot_of(unsigned long seq) { return &ring.slots[seq % ring.nslots]; }

static void *worker(void *arg) {
    (void)arg;
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(ring.level);
    if (!c) die("libdeflate_alloc_compressor", ENOMEM);
    pthread_mutex_lock(&ring.lock);
    for (;;) {
        while (ring.next_job == ring.filled && !ring.input_done) pthread_cond_wait(&ring.changed, &ring.lock);
        if (ring.next_job == ring.filled) break; /* input done, nothing left */
        struct slot *s = slot_of(ring.next_job++);
        s->state = COMPRESSING;
        pthread_mutex_unlock(&ring.lock);
        s->out_len = libdeflate_gzip_compress(c, s->in, s->in_len, s->out, ring.out_bound);
        if (s->out_len == 0) die("libdeflate_gzip_compress", ENOSPC); /* cannot happen within the bound */
        pthread_mutex_lock(&ring.lock);
        s->state = DONE;
        pthread_cond_broadcast(&ring.changed);
    }
    pthread_mutex_unlock(&ring.lock);
    libdeflate_free_compressor(c);
    return NULL;
}

static void write_all(const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) die("write", errno);
        p += w;
        n -= (size_t)w;
    }
}

static void *writer(void *arg) {
    (void)arg;
    pthread_mutex_lock(&ring.lock);
    for (unsigned long seq = 0;; seq++) {
        struct slot *s = slot_of(seq);
        while (!(seq < ring.filled && s->state == DONE) && !(ring.input_done && seq == ring.filled))
            pthread_cond_wait(&ring.changed, &ring.lock);
        if (seq == ring.filled) break; /* every chunk written */
        pthread_mutex_unlock(&ring.lock);
        write_all(s->out, s->out_len);
        pthread_mutex_lock(&ring.lock);
        s->state = FREE;
        pthread_cond_broadcast(&ring.changed);
    }
    pthread_mutex_unlock(&ring.lock);
    return NULL;
}

/* Fill `buf` with up to CHUNK_BYTES from stdin: short only at end of input. */
static size_t read_chunk(unsigned char *buf) {
    size_t got = 0;
    while (got < CHUNK_BYTES) {
        ssize_t r = read(0, buf + got, CHUNK_BYTES - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) die("read", errno);
        if (r == 0) break;
        got += (size_t)r;
    }
    return got;
}

/* A decimal number in [lo, hi], or -1. */
static long number(const char *s, long lo, long hi) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || end == s || *end || v < lo || v > hi ? -1 : v;
}

int main(int argc, char **argv) {
    long level = argc == 3 ? number(argv[1], 0, 12) : -1;
    long threads = argc == 3 ? number(argv[2], 1, MAX_THREADS) : -1;
    if (level < 0 || threads < 0) {
        fprintf(stderr, "usage: tsbuild-gzip LEVEL(0-12) THREADS(1-%d) <in >out.gz\n", MAX_THREADS);
        return 2;
    }
    ring.level = (int)level;
    /* Larger pipes: fewer wake-ups for this program and the one that feeds or reads it. */
    fcntl(0, F_SETPIPE_SZ, CHUNK_BYTES);
    fcntl(1, F_SETPIPE_SZ, CHUNK_BYTES);
    ring.nslots = 2 * (size_t)threads + 1;
    ring.slots = calloc(ring.nslots, sizeof *ring.slots);
    if (!ring.slots) die("calloc", ENOMEM);
    struct libdeflate_compressor *probe = libdeflate_alloc_compressor((int)level);
    if (!probe) die("libdeflate_alloc_compressor", ENOMEM);
    ring.out_bound = libdeflate_gzip_compress_bound(probe, CHUNK_BYTES);
    libdeflate_free_compressor(probe);
    for (size_t i = 0; i < ring.nslots; i++) {
        ring.slots[i].in = malloc(CHUNK_BYTES);
        ring.slots[i].out = malloc(ring.out_bound);
        if (!ring.slots[i].in || !ring.slots[i].out) die("malloc", ENOMEM);
    }

    pthread_t workers[MAX_THREADS], out;
    for (long i = 0; i < threads; i++)
        if ((errno = pthread_create(&workers[i], NULL, worker, NULL))) die("pthread_create", errno);
    if ((errno = pthread_create(&out, NULL, writer, NULL))) die("pthread_create", errno);

    for (unsigned long seq = 0;; seq++) {
        struct slot *s = slot_of(seq);
        pthread_mutex_lock(&ring.lock);
        while (s->state != FREE) pthread_cond_wait(&ring.changed, &ring.lock);
        pthread_mutex_unlock(&ring.lock);
        size_t n = read_chunk(s->in);
        pthread_mutex_lock(&ring.lock);
        /* The last chunk is the short one; an empty input still makes one (empty) member. */
        if (n > 0 || seq == 0) {
            s->in_len = n;
            s->state = FILLED;
            ring.filled++;
        }
        if (n < CHUNK_BYTES) ring.input_done = 1;
        pthread_cond_broadcast(&ring.changed);
        int done = ring.input_done;
        pthread_mutex_unlock(&ring.lock);
        if (done) break;
    }
    for (long i = 0; i < threads; i++) pthread_join(workers[i], NULL);
    pthread_join(out, NULL);
    return 0;
}
