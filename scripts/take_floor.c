// take_floor: the least work a bounded-memory `mmnpy take` of rows could do, phase by phase.
//
// Gathers the rows named by an int64 index .npy from a (N, cols) .npy table into a new .npy
// in a tmpfs directory (fsync + rename + directory fsync, like mmnpy), on T threads, and prints
// the time of each phase plus user/sys CPU, minor faults and peak RSS. It is an experiment,
// not a tool: the table must be C order with a v1 header, the indices int64 and in range.
//
//   gcc -O3 -march=native -fopenmp scripts/take_floor.c -o target/take_floor
//   /usr/bin/time -v target/take_floor TABLE.npy IDX.npy /dev/shm/out.npy [options]
//
// Options (defaults first):
//   --threads 2
//   --mode direct|stage|iov|pipe|unsorted
//        direct: the indices are bucketed by (output window, source MiB) with one counting
//                sort; each output window of the file is mapped (MAP_SHARED) and the rows
//                are copied straight into it in source order; the window is released after.
//        stage:  the same walk copies into an anonymous staging buffer of one window,
//                which is then written to the file with pwrite (--writers 1|T threads).
//        iov:    the walk copies into the staging buffer in source order (sequential
//                stores), and pwritev with one iovec per row in output order writes it
//                out (the kernel's copy does the permutation; --writers threads).
//        pipe:   stage mode with two staging buffers of one window each: one thread
//                pwrites window w-1 while the others gather window w (and join the
//                gather when done); groups of --group-kib gathered rows are the tasks.
//        unsorted: numpy's a[idx] order straight into the output mapping, no sort, no
//                release (peak RSS ~ the whole table: the unbounded reference).
//   --window-mib 128     output window (bounds RSS; 256 MB of rows -> 2 windows)
//   --out-prefault none|populate|fallocate   (MADV_POPULATE_WRITE per window, or fallocate
//                        the whole data range before mapping)
//   --src none|populate|willneed  advice on each --release-mib step of the source ahead
//   --release-mib 8      unmap (MADV_DONTNEED) the source behind each thread's walk; 0: never
//   --nt 0|1             non-temporal 32-byte stores for the row copy (rows of 64 B multiples)
//   --huge 0|1           MADV_HUGEPAGE on the staging buffer (stage mode)
//   --writers N          pwrite threads in stage mode (default: --threads)
//   --pf-lines 4 --pf-dist 16   software prefetch of that many 64-byte lines of the row that
//                        many rows ahead (one line leaves the rest of a 256-byte row to
//                        demand misses)
//   --gather 0           skip the row copies: each thread memsets its share of the window
//                        instead (the cost of producing the output alone)
//   --check              compare every output row with the table after the timed part
//   TAKE_FLOOR_SMAPS=1   print Rss / FilePmdMapped after the first window
//
// Findings (2 cores, load ~3, 1M random rows of the 4 GiB (N, 64) float32 bench table, page
// cache re-read in order: FilePmdMapped ~3.9 of 4 GiB; medians of 5-8 alternating runs):
//   best: --mode stage --writers 1: ~0.37-0.45 s CPU, 0.36-0.42 s wall, 167 MiB RSS. Phases:
//     read+check indices 11 ms, bucket sort 15 ms, gather (2 walks) 150-160 ms CPU,
//     pwrite of 256 MB into fresh tmpfs pages 185-220 ms CPU (serial: the inode lock).
//   the output alone (--gather 0): pwrite 0.19-0.22 s CPU with 1 or 2 writers (2 writers
//     contend on the inode lock: same CPU, no gain in wall); fallocate + pwrite 0.12 + 0.11 s;
//     writing through the mapping (faults or MADV_POPULATE_WRITE: alloc + zero per 4 KiB)
//     0.27-0.33 s CPU.
//   direct (scatter into the output mapping): 0.82 s CPU against stage's 0.69 in the same runs.
//   iov (pwritev, one iovec per row): the write costs 2x a plain pwrite.
//   pipe (overlap write and gather, 2 buffers): no gain at load ~3 and each extra window
//     costs a walk of the input (~0.1 s CPU: --window-mib 64 0.94, 32 1.49, 16 2.08 s CPU).
//   --huge 0: 0.76 against 0.65 s CPU; --nt 1, --src populate, --pf-lines 4: within noise
//     (<= 5%); --release-mib 0 saves ~0.1 s but maps the whole table (4.2 GiB RSS).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

// Data offset of a v1/v2 .npy header.
static size_t npy_offset(const uint8_t *h) {
    if (memcmp(h, "\x93NUMPY", 6)) {
        fprintf(stderr, "not an .npy\n");
        exit(1);
    }
    return h[6] == 1 ? 10 + (h[8] | h[9] << 8) : 12 + (h[8] | h[9] << 8 | h[10] << 16 | (size_t)h[11] << 24);
}

static size_t cols_of(const char *h) {
    const char *s = strstr(h, "'shape': (");
    const char *c = s ? strchr(s, ',') : NULL;
    return c ? strtoull(c + 1, NULL, 10) : 0;
}

static void copy_row(uint8_t *dst, const uint8_t *src, size_t rb, int nt) {
    if (nt && rb % 64 == 0 && ((uintptr_t)dst & 31) == 0) {
        for (size_t k = 0; k < rb; k += 32)
            _mm256_stream_si256((__m256i *)(dst + k), _mm256_loadu_si256((const __m256i *)(src + k)));
    } else {
        memcpy(dst, src, rb);
    }
}

struct phase {
    const char *name;
    double seconds, cpu; // wall, and user + sys of all threads
};

static double cpu_now(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}
static struct phase phases[16];
static int nphases;
static double mark_at, mark_cpu;
static void mark(const char *name) {
    double t = now(), c = cpu_now();
    phases[nphases].name = name;
    phases[nphases].cpu = c - mark_cpu;
    phases[nphases++].seconds = t - mark_at;
    mark_at = t;
    mark_cpu = c;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: take_floor TABLE.npy IDX.npy OUT.npy [options] (see the source)\n");
        return 2;
    }
    const char *tpath = argv[1], *ipath = argv[2], *opath = argv[3];
    size_t group_kib = 4096;
    int threads = 2, writers = -1, nt = 0, huge = 1, check = 0, gather = 1, pf_lines = 4, pf_dist = 16;
    size_t window_mib = 128, release_mib = 8;
    const char *mode = "direct", *out_prefault = "none", *src_advice = "none";
    for (int a = 4; a < argc; a++) {
        const char *k = argv[a], *v = a + 1 < argc ? argv[a + 1] : "";
        if (!strcmp(k, "--check")) { check = 1; continue; }
        a++;
        if (!strcmp(k, "--threads")) threads = atoi(v);
        else if (!strcmp(k, "--mode")) mode = v;
        else if (!strcmp(k, "--window-mib")) window_mib = strtoull(v, 0, 10);
        else if (!strcmp(k, "--out-prefault")) out_prefault = v;
        else if (!strcmp(k, "--src")) src_advice = v;
        else if (!strcmp(k, "--release-mib")) release_mib = strtoull(v, 0, 10);
        else if (!strcmp(k, "--nt")) nt = atoi(v);
        else if (!strcmp(k, "--huge")) huge = atoi(v);
        else if (!strcmp(k, "--writers")) writers = atoi(v);
        else if (!strcmp(k, "--gather")) gather = atoi(v);
        else if (!strcmp(k, "--pf-lines")) pf_lines = atoi(v);
        else if (!strcmp(k, "--pf-dist")) pf_dist = atoi(v);
        else if (!strcmp(k, "--group-kib")) group_kib = strtoull(v, 0, 10);
        else { fprintf(stderr, "unknown option %s\n", k); return 2; }
    }
    if (writers < 0) writers = threads;
    omp_set_num_threads(threads);
    mark_at = now();
    mark_cpu = cpu_now();
    double t_start = mark_at;

    // Phase: read the indices (one pread of the whole file).
    int ifd = open(ipath, O_RDONLY);
    if (ifd < 0) die("open indices");
    struct stat ist;
    fstat(ifd, &ist);
    uint8_t *ibuf = malloc(ist.st_size);
    if (pread(ifd, ibuf, ist.st_size, 0) != ist.st_size) die("read indices");
    close(ifd);
    size_t ioff = npy_offset(ibuf);
    size_t n = (ist.st_size - ioff) / 8;
    const int64_t *idx = (const int64_t *)(ibuf + ioff);

    // Open and map the table read-only (fresh mapping of the warm page cache).
    int tfd = open(tpath, O_RDONLY);
    if (tfd < 0) die("open table");
    struct stat tst;
    fstat(tfd, &tst);
    char thead[4096] = {0};
    if (pread(tfd, thead, sizeof thead - 1, 0) < 16) die("read header");
    size_t toff = npy_offset((uint8_t *)thead);
    size_t cols = cols_of(thead + 10);
    size_t rb = cols * 4; // float32 rows
    size_t rows = (tst.st_size - toff) / rb;
    const uint8_t *map = mmap(NULL, tst.st_size, PROT_READ, MAP_SHARED, tfd, 0);
    if (map == MAP_FAILED) die("mmap table");
    const uint8_t *src = map + toff;
    for (size_t k = 0; k < n; k++)
        if (idx[k] < 0 || (size_t)idx[k] >= rows) { fprintf(stderr, "index out of range\n"); return 1; }
    mark("read+check indices");

    // Output: a header like numpy's for (n, cols) <f4, then the data, in a temp file.
    char header[128];
    int hl = snprintf(header, sizeof header, "\x93NUMPY\x01%c%c{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }", 118, 0, n, cols);
    memset(header + hl, ' ', 127 - hl);
    header[127] = '\n';
    size_t ooff = 128, obytes = n * rb;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", opath, getpid());
    int ofd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (ofd < 0) die("create output");
    if (pwrite(ofd, header, 128, 0) != 128) die("write header");
    if (ftruncate(ofd, ooff + obytes)) die("ftruncate");
    if (!strcmp(out_prefault, "fallocate") && fallocate(ofd, 0, 0, ooff + obytes)) die("fallocate");
    mark("create output");

    size_t win_rows = window_mib * (1 << 20) / rb;
    if (win_rows > n) win_rows = n;
    size_t windows = (n + win_rows - 1) / win_rows;
    uint64_t *order = NULL; // (source << 32 | output row) grouped by window, then source MiB
    size_t *wstart = calloc(windows + 1, sizeof *wstart);
    int unsorted = !strcmp(mode, "unsorted");
    int shift = 0;
    while ((rb << shift) < (1 << 20)) shift++;
    if (!unsorted) {
        // One counting sort by (window, source >> shift): within a bucket the rows stay in
        // output order, which is fine, a bucket spans 1 MiB of the source (in L2).
        size_t per_window = (rows >> shift) + 1;
        size_t nb = windows * per_window;
        size_t *count = calloc(nb + 1, sizeof *count);
        for (size_t k = 0; k < n; k++) count[(k / win_rows) * per_window + ((size_t)idx[k] >> shift) + 1]++;
        for (size_t b = 0; b < nb; b++) count[b + 1] += count[b];
        for (size_t w = 0; w <= windows; w++) wstart[w] = count[w * per_window < nb ? w * per_window : nb];
        wstart[windows] = n;
        order = malloc(n * sizeof *order);
        for (size_t k = 0; k < n; k++)
            order[count[(k / win_rows) * per_window + ((size_t)idx[k] >> shift)]++] = (uint64_t)idx[k] << 32 | k;
        free(count);
        mark("bucket sort");
    }

    size_t release = release_mib << 20;
    uint8_t *stage = NULL;
    int iov = !strcmp(mode, "iov"), pipe = !strcmp(mode, "pipe");
    uint32_t *pos = iov ? malloc(win_rows * sizeof *pos) : NULL; // staging slot of output row
    if (!strcmp(mode, "stage") || iov || pipe) {
        stage = mmap(NULL, (pipe ? 2 : 1) * win_rows * rb, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (stage == MAP_FAILED) die("mmap stage");
        if (huge) madvise(stage, (pipe ? 2 : 1) * win_rows * rb, MADV_HUGEPAGE);
    }
    double t_pre = 0, t_gather = 0, t_out = 0, t_rel = 0, c_pre = 0, c_gather = 0, c_out = 0;
    uint8_t *omap = NULL;
    if (!stage) {
        omap = mmap(NULL, ooff + obytes, PROT_READ | PROT_WRITE, MAP_SHARED, ofd, 0);
        if (omap == MAP_FAILED) die("mmap output");
    }
    if (unsorted) {
        double t0 = now();
#pragma omp parallel for schedule(static)
        for (size_t k = 0; k < n; k++) {
            if (k + pf_dist < n)
                for (int l = 0; l < pf_lines; l++) __builtin_prefetch(src + idx[k + pf_dist] * rb + 64 * l);
            copy_row(omap + ooff + k * rb, src + idx[k] * rb, rb, nt);
        }
        t_gather = now() - t0;
    }
    if (pipe) {
        double t0 = now(), c0 = cpu_now();
        size_t group = group_kib * 1024 / rb;
        for (size_t w = 0; w <= windows; w++) {
            size_t lo = w * win_rows;
            uint8_t *buf = stage + (w % 2) * win_rows * rb - lo * rb; // indexed by output row
            const uint64_t *ord = w < windows ? order + wstart[w] : NULL;
            size_t m = w < windows ? wstart[w + 1] - wstart[w] : 0, groups = (m + group - 1) / group;
#pragma omp parallel
            {
#pragma omp single nowait
                if (w > 0) {
                    // Write window w - 1 from the other buffer.
                    size_t plo = (w - 1) * win_rows, phi = plo + win_rows < n ? plo + win_rows : n;
                    const uint8_t *prev = stage + ((w - 1) % 2) * win_rows * rb;
                    for (size_t at = 0; at < (phi - plo) * rb;) {
                        size_t len = (phi - plo) * rb - at < (1 << 20) ? (phi - plo) * rb - at : (1 << 20);
                        if (pwrite(ofd, prev + at, len, ooff + plo * rb + at) != (ssize_t)len) die("pwrite");
                        at += len;
                    }
                }
#pragma omp for schedule(dynamic, 1)
                for (size_t g = 0; g < groups; g++) {
                    size_t a = g * group, b = a + group < m ? a + group : m;
                    size_t released = ((ord[a] >> 32) * rb + toff) & ~((size_t)(2 << 20) - 1);
                    for (size_t k = a; k < b; k++) {
                        size_t s = ord[k] >> 32, o = (uint32_t)ord[k], at = s * rb + toff;
                        if (k + pf_dist < b)
                            for (int l = 0; l < pf_lines; l++) __builtin_prefetch(map + (ord[k + pf_dist] >> 32) * rb + toff + 64 * l);
                        if (release && at >= released + release + (2 << 20)) {
                            size_t behind = (((s >> shift) << shift) * rb + toff) & ~((size_t)(2 << 20) - 1);
                            madvise((void *)(map + released), behind - released, MADV_DONTNEED);
                            released = behind;
                        }
                        copy_row(buf + o * rb, src + s * rb, rb, nt);
                    }
                    size_t end = ((ord[b - 1] >> 32) + 1) * rb + toff;
                    if (release) madvise((void *)(map + released), end - released, MADV_DONTNEED);
                }
            }
            if (nt) _mm_sfence();
        }
        t_gather = now() - t0;
        c_gather = cpu_now() - c0;
    }
    for (size_t w = 0; !unsorted && !pipe && w < windows; w++) {
        size_t lo = w * win_rows, hi = lo + win_rows < n ? lo + win_rows : n;
        uint8_t *dst = stage ? stage - lo * rb : omap + ooff;
        double t0 = now(), c0 = cpu_now();
        if (!stage && !strcmp(out_prefault, "populate")) {
#pragma omp parallel
            {
                int t = omp_get_thread_num(), T = omp_get_num_threads();
                // Whole pages of this window, split among threads.
                uintptr_t a = ((uintptr_t)(dst + lo * rb)) & ~4095ul, b = (uintptr_t)(dst + hi * rb);
                size_t pages = (b - a + 4095) / 4096, p0 = pages * t / T, p1 = pages * (t + 1) / T;
                if (p1 > p0 && madvise((void *)(a + p0 * 4096), (p1 - p0) * 4096, MADV_POPULATE_WRITE)) perror("populate write");
            }
        }
        double t1 = now(), c1 = cpu_now();
        t_pre += t1 - t0;
        c_pre += c1 - c0;
        const uint64_t *ord = order + wstart[w];
        size_t m = wstart[w + 1] - wstart[w];
        double rel_time[64] = {0};
#pragma omp parallel
        {
            int t = omp_get_thread_num(), T = omp_get_num_threads();
            size_t a = m * t / T, b = m * (t + 1) / T;
            if (!gather) {
                size_t from = lo + (hi - lo) * t / T, to = lo + (hi - lo) * (t + 1) / T;
                memset(dst + from * rb, 1, (to - from) * rb);
                a = b; // no rows
            }
            size_t released = a < b ? ((ord[a] >> 32) * rb + toff) & ~((size_t)(2 << 20) - 1) : 0;
            size_t advised = released;
            for (size_t k = a; k < b; k++) {
                size_t s = ord[k] >> 32, o = (uint32_t)ord[k];
                size_t at = s * rb + toff; // offset in the mapping
                if (k + pf_dist < b)
                    for (int l = 0; l < pf_lines; l++) __builtin_prefetch(map + (ord[k + pf_dist] >> 32) * rb + toff + 64 * l);
                if (release && at >= advised && strcmp(src_advice, "none")) {
                    size_t end = at + release < (size_t)tst.st_size ? at + release : tst.st_size;
                    madvise((void *)(map + (at & ~4095ul)), end - (at & ~4095ul),
                            !strcmp(src_advice, "populate") ? MADV_POPULATE_READ : MADV_WILLNEED);
                    advised = end;
                }
                if (release && at >= released + release + (2 << 20)) {
                    double r0 = now();
                    // Behind the start of this row's bucket (rows in a bucket are unsorted).
                    size_t behind = ((s >> shift) << shift) * rb + toff;
                    behind &= ~((size_t)(2 << 20) - 1);
                    madvise((void *)(map + released), behind - released, MADV_DONTNEED);
                    released = behind;
                    rel_time[t] += now() - r0;
                }
                if (iov) {
                    pos[o - lo] = k;
                    copy_row(stage + k * rb, src + s * rb, rb, nt);
                } else {
                    copy_row(dst + o * rb, src + s * rb, rb, nt);
                }
            }
            if (release && a < b) {
                double r0 = now();
                size_t end = ((ord[b - 1] >> 32) + 1) * rb + toff;
                madvise((void *)(map + released), end - released, MADV_DONTNEED);
                rel_time[t] += now() - r0;
            }
        }
        double t2 = now(), c2 = cpu_now();
        t_gather += t2 - t1;
        c_gather += c2 - c1;
        for (int t = 0; t < threads; t++) t_rel += rel_time[t] / threads;
        if (nt) _mm_sfence();
        if (iov) {
#pragma omp parallel num_threads(writers)
            {
                int t = omp_get_thread_num(), T = omp_get_num_threads();
                size_t a = lo + (hi - lo) * t / T, b = lo + (hi - lo) * (t + 1) / T;
                struct iovec v[1024];
                for (size_t r = a; r < b;) {
                    size_t cnt = b - r < 1024 ? b - r : 1024;
                    for (size_t j = 0; j < cnt; j++) {
                        v[j].iov_base = stage + (size_t)pos[r + j - lo] * rb;
                        v[j].iov_len = rb;
                    }
                    if (pwritev(ofd, v, cnt, ooff + r * rb) != (ssize_t)(cnt * rb)) die("pwritev");
                    r += cnt;
                }
            }
        } else if (stage) {
            size_t bytes = (hi - lo) * rb;
#pragma omp parallel num_threads(writers)
            {
                int t = omp_get_thread_num(), T = omp_get_num_threads();
                size_t a = bytes * t / T / 4096 * 4096, b = t + 1 == T ? bytes : bytes * (t + 1) / T / 4096 * 4096;
                for (size_t at = a; at < b;) {
                    size_t len = b - at < (1 << 20) ? b - at : (1 << 20);
                    if (pwrite(ofd, stage + at, len, ooff + lo * rb + at) != (ssize_t)len) die("pwrite");
                    at += len;
                }
            }
        } else {
            // Release the finished window of the output mapping (the pages stay in the file).
            uintptr_t a = ((uintptr_t)(omap + ooff + lo * rb)) & ~4095ul;
            uintptr_t b = ((uintptr_t)(omap + ooff + hi * rb)) & ~4095ul;
            if (w + 1 == windows) b = (uintptr_t)(omap + ooff + obytes);
            madvise((void *)a, b - a, MADV_DONTNEED);
        }
        t_out += now() - t2;
        c_out += cpu_now() - c2;
        if (getenv("TAKE_FLOOR_SMAPS") && w == 0) {
            // Debug: how the mappings are backed after one window (PMD or PTE mapped).
            char line[256];
            FILE *f = fopen("/proc/self/smaps_rollup", "r");
            while (f && fgets(line, sizeof line, f))
                if (strstr(line, "Pmd") || !strncmp(line, "Rss", 3)) fputs(line, stdout);
            if (f) fclose(f);
        }
    }
    if (unsorted) c_gather = cpu_now() - mark_cpu;
    phases[nphases++] = (struct phase){"  output prefault", t_pre, c_pre};
    phases[nphases++] = (struct phase){"  gather (incl. source release)", t_gather, c_gather};
    phases[nphases++] = (struct phase){"    of which source release/thread", t_rel, 0};
    phases[nphases++] = (struct phase){"  write out / release out", t_out, c_out};
    mark("gather total");

    if (omap) munmap(omap, ooff + obytes);
    munmap((void *)map, tst.st_size);
    if (stage) munmap(stage, (pipe ? 2 : 1) * win_rows * rb);
    mark("unmap");
    if (fsync(ofd)) die("fsync");
    if (rename(tmp, opath)) die("rename");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", opath);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0; else strcpy(dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) { fsync(dfd); close(dfd); }
    close(ofd);
    mark("fsync+rename");
    double total = now() - t_start;

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("mode=%s threads=%d window=%zuMiB out-prefault=%s src=%s release=%zuMiB nt=%d huge=%d writers=%d pf=%dx%d\n",
           mode, threads, window_mib, out_prefault, src_advice, release_mib, nt, huge, writers, pf_lines, pf_dist);
    for (int p = 0; p < nphases; p++)
        printf("  %-36s %7.1f ms  cpu %6.1f ms\n", phases[p].name, phases[p].seconds * 1e3, phases[p].cpu * 1e3);
    printf("  %-36s %7.1f ms   user %.3f s sys %.3f s minflt %ld maxrss %ld MiB\n", "TOTAL (in process)", total * 1e3,
           ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6,
           ru.ru_minflt, ru.ru_maxrss >> 10);

    if (check) {
        int cfd = open(opath, O_RDONLY);
        const uint8_t *out = mmap(NULL, ooff + obytes, PROT_READ, MAP_SHARED, cfd, 0);
        const uint8_t *tab = mmap(NULL, tst.st_size, PROT_READ, MAP_SHARED, tfd, 0);
        size_t bad = 0;
        for (size_t k = 0; k < n; k++) bad += memcmp(out + ooff + k * rb, tab + toff + idx[k] * rb, rb) != 0;
        printf("check: %zu bad rows of %zu\n", bad, n);
        return bad != 0;
    }
    return 0;
}
