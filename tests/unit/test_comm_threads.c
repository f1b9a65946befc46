/* The control plane of the build without MPI (common/comm_threads.c): every function of comm.h
 * on jobs of 1, 2, 3 and 5 threads.  The checks do not depend on timing: they hold whatever
 * order the threads run in.  cmocka's assertions may only run on the main thread, so the ranks
 * count their failures (EXPECT) and sb_comm_run's exit code carries them out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"

#define EXPECT(cond)                                                                              \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "rank %d of %d: line %d: %s\n", c->rank, c->size, __LINE__, #cond);   \
            failures++;                                                                           \
        }                                                                                         \
    } while (0)

enum { MAXN = 8, ROUNDS = 50, STRESS = 1000 };

/* What the ranks of one job share besides the comm: counters the checks read. */
struct shared {
    atomic_int seen[MAXN];
    atomic_int arrived[ROUNDS][MAXN];
    atomic_int started;
};

static int run_job(int n, sb_comm_rank_fn fn, struct shared *sh)
{
    char err[256] = "";
    int rc = sb_comm_run(n, NULL, NULL, 0, fn, sh, err, sizeof err);
    if (err[0])
        fprintf(stderr, "sb_comm_run: %s\n", err);
    return rc;
}

static int ranks_of(void **state) { return *(int *)*state; }

/* ------------------------------------------------------------------ shape and barrier */

static int shape(struct sb_comm *c, void *arg)
{
    struct shared *sh = arg;
    int failures = 0;
    EXPECT(c->rank >= 0 && c->rank < c->size && c->size <= MAXN);
    EXPECT(c->local_rank == c->rank && c->local_size == c->size);
    EXPECT(c->node == 0 && c->nodes == 1 && c->threads == 1 && c->in_process == 1);
    atomic_fetch_add(&sh->seen[c->rank], 1);
    return failures;
}

static void test_shape(void **state)
{
    int n = ranks_of(state);
    struct shared sh = {0};
    assert_int_equal(run_job(n, shape, &sh), 0);
    for (int r = 0; r < n; r++)
        assert_int_equal(atomic_load(&sh.seen[r]), 1); /* each rank exactly once */
    assert_int_equal(sb_comm_in_process(), 1);
}

/* Nobody leaves a barrier before every rank has arrived at it. */
static int barrier_order(struct sb_comm *c, void *arg)
{
    struct shared *sh = arg;
    int failures = 0;
    for (int k = 0; k < ROUNDS; k++) {
        atomic_store(&sh->arrived[k][c->rank], 1);
        EXPECT(sb_comm_barrier(c) == 0);
        for (int r = 0; r < c->size; r++)
            EXPECT(atomic_load(&sh->arrived[k][r]) == 1);
    }
    return failures;
}

static void test_barrier_order(void **state)
{
    struct shared sh = {0};
    assert_int_equal(run_job(ranks_of(state), barrier_order, &sh), 0);
}

/* ------------------------------------------------------------------ reductions, broadcasts */

static int reductions(struct sb_comm *c, void *arg)
{
    (void)arg;
    int failures = 0, n = c->size;
    double in[4], max[4] = {0}, sum[4] = {0};
    for (int i = 0; i < 4; i++)
        in[i] = c->rank * 10.0 + i;
    EXPECT(sb_comm_reduce_max_sum(c, in, c->rank == 0 ? max : NULL, c->rank == 0 ? sum : NULL, 4) == 0);
    for (int i = 0; c->rank == 0 && i < 4; i++) {
        EXPECT(max[i] == (n - 1) * 10.0 + i);
        EXPECT(sum[i] == 10.0 * n * (n - 1) / 2 + (double)n * i);
    }
    EXPECT(sb_comm_sum_int64(c, c->rank + 1) == (int64_t)n * (n + 1) / 2);
    EXPECT(sb_comm_sum_int64(c, (int64_t)c->rank << 40) == ((int64_t)n * (n - 1) / 2) << 40);
    EXPECT(sb_comm_max_int(c, c->rank) == n - 1);
    EXPECT(sb_comm_max_int(c, -c->rank) == 0);
    EXPECT(sb_comm_min_int64(c, c->rank - 7) == -7);
    EXPECT(sb_comm_min_int64(c, INT64_MAX - c->rank) == INT64_MAX - (n - 1));
    return failures;
}

static void test_reductions(void **state) { assert_int_equal(run_job(ranks_of(state), reductions, NULL), 0); }

static int broadcasts(struct sb_comm *c, void *arg)
{
    (void)arg;
    int failures = 0;
    int i = c->rank == 0 ? 42 : -1;
    double d = c->rank == 0 ? 2.5 : -1.0;
    unsigned char bytes[100];
    for (int k = 0; k < 100; k++)
        bytes[k] = c->rank == 0 ? (unsigned char)(k * 7) : 0xff;
    EXPECT(sb_comm_bcast_int(c, &i) == 0 && i == 42);
    EXPECT(sb_comm_bcast_double(c, &d) == 0 && d == 2.5);
    EXPECT(sb_comm_bcast_bytes(c, bytes, sizeof bytes) == 0);
    for (int k = 0; k < 100; k++)
        EXPECT(bytes[k] == (unsigned char)(k * 7));
    EXPECT(sb_comm_bcast_bytes(c, bytes, 0) == 0); /* nothing to send is fine too */
    return failures;
}

static void test_broadcasts(void **state) { assert_int_equal(run_job(ranks_of(state), broadcasts, NULL), 0); }

/* ------------------------------------------------------------------ gathers */

static int gathers(struct sb_comm *c, void *arg)
{
    (void)arg;
    int failures = 0, n = c->size, root = c->rank == 0;
    double mine[3] = {c->rank * 3.0, c->rank * 3.0 + 1, c->rank * 3.0 + 2};
    double *all = root ? calloc((size_t)n * 3, sizeof *all) : NULL;
    EXPECT(sb_comm_gather_doubles(c, mine, 3, all) == 0);
    for (int k = 0; root && k < 3 * n; k++)
        EXPECT(all[k] == k); /* in rank order */
    free(all);

    enum { LEN = 16 };
    char name[64], every[MAXN * LEN], at_root[MAXN * LEN], want[LEN];
    snprintf(name, sizeof name, "rank-%d", c->rank);
    memset(every, 'x', sizeof every);
    EXPECT(sb_comm_allgather_strings(c, name, every, LEN) == 0);
    for (int r = 0; r < n; r++) {
        snprintf(want, sizeof want, "rank-%d", r);
        EXPECT(strcmp(every + r * LEN, want) == 0);
        EXPECT(every[r * LEN + LEN - 1] == '\0'); /* zeros after the string, as MPI sends them */
    }
    char cut[MAXN * 4];
    EXPECT(sb_comm_allgather_strings(c, name, cut, 4) == 0);
    for (int r = 0; r < n; r++)
        EXPECT(strcmp(cut + r * 4, "ran") == 0); /* cut to len - 1 characters */
    memset(at_root, 'x', sizeof at_root);
    EXPECT(sb_comm_gather_strings(c, name, at_root, LEN) == 0);
    for (int r = 0; root && r < n; r++) {
        snprintf(want, sizeof want, "rank-%d", r);
        EXPECT(strcmp(at_root + r * LEN, want) == 0);
    }
    if (!root)
        EXPECT(at_root[0] == 'x'); /* only rank 0 receives */
    memset(at_root, 'x', sizeof at_root);
    EXPECT(sb_comm_gather_strings_deadline(c, name, at_root, LEN, 30.0) == 0);
    for (int r = 0; root && r < n; r++) {
        snprintf(want, sizeof want, "rank-%d", r);
        EXPECT(strcmp(at_root + r * LEN, want) == 0);
    }
    int heard[MAXN];
    memset(heard, 0, sizeof heard);
    EXPECT(sb_comm_preflight(c, 1.0, heard) == 0);
    for (int r = 0; r < n; r++)
        EXPECT(heard[r] == 1);
    return failures;
}

static void test_gathers(void **state) { assert_int_equal(run_job(ranks_of(state), gathers, NULL), 0); }

/* ------------------------------------------------------------------ split */

/* Two parts (even and odd ranks), each in reverse order of the parent ranks (key = -rank); rank
 * 0 also stays out of a second split (color < 0) and the odd part splits again. */
static int split(struct sb_comm *c, void *arg)
{
    (void)arg;
    int failures = 0, n = c->size, color = c->rank % 2;
    struct sb_comm sub;
    EXPECT(sb_comm_split(c, color, -c->rank, &sub) == 0);
    int members = color ? n / 2 : (n + 1) / 2;
    EXPECT(sub.size == members && sub.local_size == members && sub.nodes == 1 && sub.in_process == 1);
    int higher = 0; /* parent ranks of my color above mine come first */
    for (int r = c->rank + 1; r < n; r++)
        higher += r % 2 == color;
    EXPECT(sub.rank == higher && sub.local_rank == higher);
    char me[8], all[MAXN * 8];
    snprintf(me, sizeof me, "%d", c->rank);
    EXPECT(sb_comm_allgather_strings(&sub, me, all, 8) == 0);
    for (int r = 0; r < sub.size; r++)
        EXPECT(atoi(all + r * 8) == (color == 0 ? 2 * (members - 1 - r) : 2 * (members - 1 - r) + 1));
    EXPECT(sb_comm_sum_int64(&sub, 1) == members); /* a reduction over the part only */
    if (color == 1) {
        struct sb_comm one;
        EXPECT(sb_comm_split(&sub, sub.rank, 0, &one) == 0); /* a part of one rank each */
        EXPECT(one.size == 1 && one.rank == 0 && sb_comm_barrier(&one) == 0);
        EXPECT(sb_comm_max_int(&one, 5) == 5);
        sb_comm_free(&one);
    }
    sb_comm_free(&sub);
    EXPECT(sub.size == 0 && sub.impl == NULL);

    struct sb_comm none;
    EXPECT(sb_comm_split(c, c->rank == 0 ? -1 : 0, c->rank, &none) == 0);
    if (c->rank == 0)
        EXPECT(none.size == 0 && none.impl == NULL);
    else
        EXPECT(none.size == n - 1 && none.rank == c->rank - 1);
    sb_comm_free(&none); /* a no-op on the empty one */
    EXPECT(sb_comm_barrier(c) == 0);
    return failures;
}

static void test_split(void **state) { assert_int_equal(run_job(ranks_of(state), split, NULL), 0); }

/* ------------------------------------------------------------------ nonblocking barrier */

/* Polls until done; the cap only turns a bug into a failure instead of a hang. */
static int wait_request(struct sb_comm_request **req)
{
    for (long i = 0; i < 100000000L; i++) {
        if (sb_comm_request_done(req))
            return 1;
        sched_yield();
    }
    return 0;
}

static int ibarrier(struct sb_comm *c, void *arg)
{
    struct shared *sh = arg;
    int failures = 0;
    struct sb_comm_request *first = NULL, *second = NULL;
    atomic_fetch_add(&sh->started, 1);
    EXPECT(sb_comm_ibarrier(c, &first) == 0 && first);
    EXPECT(sb_comm_ibarrier(c, &second) == 0 && second); /* two outstanding at once */
    EXPECT(wait_request(&second));
    EXPECT(atomic_load(&sh->started) == c->size); /* done only once every rank started it */
    EXPECT(second == NULL);
    EXPECT(wait_request(&first));
    EXPECT(sb_comm_request_done(&first) == 1); /* a finished request stays finished */
    /* a rank's request cannot complete while another rank has not started its own */
    EXPECT(sb_comm_barrier(c) == 0);
    struct sb_comm_request *third = NULL;
    if (c->rank != 0)
        EXPECT(sb_comm_ibarrier(c, &third) == 0);
    int early = c->rank != 0 && sb_comm_request_done(&third);
    EXPECT(sb_comm_barrier(c) == 0); /* rank 0 has not started its third one yet */
    EXPECT(!early || c->size == 1);
    if (c->rank == 0)
        EXPECT(sb_comm_ibarrier(c, &third) == 0);
    EXPECT(wait_request(&third));
    return failures;
}

static void test_ibarrier(void **state)
{
    struct shared sh = {0};
    assert_int_equal(run_job(ranks_of(state), ibarrier, &sh), 0);
}

/* ------------------------------------------------------------------ stress */

static int stress(struct sb_comm *c, void *arg)
{
    (void)arg;
    int failures = 0, n = c->size;
    for (int k = 0; k < STRESS; k++) {
        EXPECT(sb_comm_sum_int64(c, c->rank + k) == (int64_t)n * (n - 1) / 2 + (int64_t)n * k);
        int v = c->rank == 0 ? k : -1;
        sb_comm_bcast_int(c, &v);
        EXPECT(v == k);
        EXPECT(sb_comm_max_int(c, c->rank == k % n ? k + 1000 : k) == k + 1000);
        double in = k + c->rank, max = 0, sum = 0;
        sb_comm_reduce_max_sum(c, &in, &max, &sum, 1);
        if (c->rank == 0)
            EXPECT(max == k + n - 1 && sum == (double)n * k + (double)n * (n - 1) / 2);
    }
    return failures;
}

static void test_stress(void **state) { assert_int_equal(run_job(ranks_of(state), stress, NULL), 0); }

/* ------------------------------------------------------------------ side channel, exit codes */

static int side(struct sb_comm *c, void *arg)
{
    (void)arg;
    int failures = 0, n = c->size;
    EXPECT(sb_comm_side_open(c) == 0);
    char text[64], buf[64];
    int from = -1;
    if (c->rank != 0) {
        snprintf(text, sizeof text, "{\"rank\": %d}", c->rank);
        EXPECT(sb_comm_side_send(c, text) == 0);
    }
    sb_comm_barrier(c);
    if (c->rank == 0) {
        int got[MAXN] = {0};
        for (int k = 1; k < n; k++) {
            EXPECT(sb_comm_side_poll(c, buf, sizeof buf, &from) == 1);
            snprintf(text, sizeof text, "{\"rank\": %d}", from);
            EXPECT(from > 0 && from < n && strcmp(buf, text) == 0);
            if (from > 0 && from < n)
                got[from]++;
        }
        for (int r = 1; r < n; r++)
            EXPECT(got[r] == 1);
    }
    EXPECT(sb_comm_side_poll(c, buf, sizeof buf, &from) == 0); /* nothing left (and nothing for others) */
    sb_comm_barrier(c);
    sb_comm_side_close(c);
    return failures;
}

static void test_side_channel(void **state) { assert_int_equal(run_job(ranks_of(state), side, NULL), 0); }

static int rank_is_code(struct sb_comm *c, void *arg)
{
    (void)arg;
    return c->rank;
}

static void test_exit_code_is_the_max(void **state)
{
    int n = ranks_of(state);
    assert_int_equal(run_job(n, rank_is_code, NULL), n - 1);
}

/* ------------------------------------------------------------------ outside a job */

static void test_bad_rank_counts(void **state)
{
    (void)state;
    char err[256] = "";
    assert_int_equal(sb_comm_run(0, NULL, NULL, 0, rank_is_code, NULL, err, sizeof err), 2);
    assert_non_null(strstr(err, "1 to 1024"));
    err[0] = '\0';
    assert_int_equal(sb_comm_run(SB_COMM_THREADS_MAX + 1, NULL, NULL, 0, rank_is_code, NULL, err, sizeof err), 2);
    assert_true(err[0] != '\0');
}

static void test_singleton_init(void **state)
{
    (void)state;
    struct sb_comm c;
    char err[256] = "", version[128];
    assert_int_equal(sb_comm_init(&c, NULL, NULL, 1, err, sizeof err), 0);
    assert_int_equal(c.size, 1);
    assert_int_equal(c.rank, 0);
    assert_int_equal(sb_comm_barrier(&c), 0);
    assert_int_equal(sb_comm_sum_int64(&c, 9), 9);
    double in = 3, max = 0, sum = 0;
    assert_int_equal(sb_comm_reduce_max_sum(&c, &in, &max, &sum, 1), 0);
    assert_true(max == 3 && sum == 3);
    sb_comm_finalize(&c);
    assert_null(c.impl);
    sb_comm_library_version(version, sizeof version);
    assert_non_null(strstr(version, "no MPI"));
}

/* Each test on 1, 2, 3 and 5 ranks, named so. */
#define ON(f, i, name) {#f " on " name, f, NULL, NULL, &ranks[i]}
#define FOR_RANKS(f) ON(f, 0, "1 thread"), ON(f, 1, "2 threads"), ON(f, 2, "3 threads"), ON(f, 3, "5 threads")

int main(void)
{
    static int ranks[] = {1, 2, 3, 5};
    const struct CMUnitTest tests[] = {
        FOR_RANKS(test_shape),        FOR_RANKS(test_barrier_order), FOR_RANKS(test_reductions),
        FOR_RANKS(test_broadcasts),   FOR_RANKS(test_gathers),       FOR_RANKS(test_split),
        FOR_RANKS(test_ibarrier),     FOR_RANKS(test_stress),        FOR_RANKS(test_side_channel),
        FOR_RANKS(test_exit_code_is_the_max),
        cmocka_unit_test(test_bad_rank_counts),
        cmocka_unit_test(test_singleton_init),
    };
    return cmocka_run_group_tests_name("comm_threads", tests, NULL, NULL);
}
