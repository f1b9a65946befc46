/* The control plane without MPI: the ranks are threads of this one process (-g N); see comm.h.
 *
 * A group (the job, or a part of it from sb_comm_split) is one block shared by its threads; each
 * rank's comm points at it (impl).  Every collective is "publish, meet, read, meet": each rank
 * puts a pointer to its data in its slot, all meet at the barrier, each reads what it needs
 * from the others' slots, and all meet again before any slot may change.  The barrier counts
 * arrivals and generations, and its waiters poll (see meet).  The nonblocking barrier counts,
 * per rank, the ones it started.  The side channel (the watchdog's reports) is a queue under
 * the group's mutex.  sb_comm_abort ends the process. */
#include "comm.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { SPIN = 1 << 14 }; /* hot polls of the generation before yielding (some microseconds) */

struct side_msg {
    struct side_msg *next;
    int from;
    char text[];
};

/* Where sb_comm_split put each rank of the parent: a part and the rank in it (part NULL: none). */
struct split_place {
    struct group *part;
    int rank;
};

struct group {
    int size;
    atomic_int arrived;      /* ranks at the barrier of this generation */
    atomic_uint generation;  /* barriers completed */
    atomic_int refs;         /* ranks still holding the group */
    pthread_mutex_t lock;    /* ibarriers, the side queue, the launch gate */
    pthread_cond_t cond;     /* the launch gate */
    const void **slot;       /* per rank: this collective's data */
    long *ibarriers;         /* per rank: nonblocking barriers started */
    struct split_place *split;
    int split_failed;
    struct side_msg *side_head, *side_tail;
    int gate;                /* sb_comm_run: 0 wait, 1 run, -1 give up */
};

static struct group *group_new(int size)
{
    struct group *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->size = size;
    g->slot = calloc((size_t)size, sizeof *g->slot);
    g->ibarriers = calloc((size_t)size, sizeof *g->ibarriers);
    g->split = calloc((size_t)size, sizeof *g->split);
    int ok = g->slot && g->ibarriers && g->split && pthread_mutex_init(&g->lock, NULL) == 0;
    if (ok && pthread_cond_init(&g->cond, NULL) != 0) {
        pthread_mutex_destroy(&g->lock);
        ok = 0;
    }
    if (!ok) {
        free(g->slot);
        free(g->ibarriers);
        free(g->split);
        free(g);
        return NULL;
    }
    atomic_init(&g->arrived, 0);
    atomic_init(&g->generation, 0);
    atomic_init(&g->refs, size);
    return g;
}

/* Drops one rank's hold; the last one frees the group. */
static void group_release(struct group *g)
{
    if (!g || atomic_fetch_sub(&g->refs, 1) != 1)
        return;
    for (struct side_msg *m = g->side_head, *next; m; m = next) {
        next = m->next;
        free(m);
    }
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
    free(g->slot);
    free(g->ibarriers);
    free(g->split);
    free(g);
}

static struct group *group_of(const struct sb_comm *c) { return c->impl; }

static void describe(struct sb_comm *c, struct group *g, int rank)
{
    *c = (struct sb_comm){.rank = rank, .size = g->size, .local_rank = rank, .local_size = g->size,
                          .node = 0, .nodes = 1, .threads = 1, .in_process = 1, .impl = g};
}

static int past(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* The barrier: 0 once every rank of g arrived, -1 when `deadline` (CLOCK_MONOTONIC, or NULL for
 * none) passed first; the group is then unusable (the job must end).  Waiters poll, as MPI
 * ranks do: hot at first (the ranks usually arrive together, and a wake-up would add its
 * latency to the skew of the ranks leaving the barrier), then yielding the core to the others.
 * So a waiting rank uses the CPU, as under MPI, and the watchdog's busy/idle verdict keeps its
 * meaning: the idle one is the rank stuck elsewhere. */
static int meet(struct group *g, const struct timespec *deadline)
{
    if (g->size == 1)
        return 0;
    unsigned gen = atomic_load_explicit(&g->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&g->arrived, 1, memory_order_acq_rel) == g->size - 1) {
        atomic_store_explicit(&g->arrived, 0, memory_order_relaxed);
        atomic_store_explicit(&g->generation, gen + 1, memory_order_release);
        return 0;
    }
    for (long i = 0; atomic_load_explicit(&g->generation, memory_order_acquire) == gen; i++) {
        if (i < SPIN)
            continue;
        sched_yield();
        if (deadline && i % 256 == 0 && past(deadline))
            return -1;
    }
    return 0;
}

/* This rank's data for the collective, seen by all once every rank has published. */
static void publish(const struct sb_comm *c, const void *mine)
{
    group_of(c)->slot[c->rank] = mine;
    meet(group_of(c), NULL);
}

static const void *slot(const struct sb_comm *c, int rank) { return group_of(c)->slot[rank]; }

/* Everyone has read what it needed: the slots may change again. */
static int finish(const struct sb_comm *c) { return meet(group_of(c), NULL); }

/* ------------------------------------------------------------------ the job */

int sb_comm_in_process(void) { return 1; }

struct rank_start {
    struct group *g;
    int rank, rc;
    sb_comm_rank_fn fn;
    void *arg;
    pthread_t thread;
};

/* 1 once the spawner has started every thread, -1 when it could not. */
static int wait_gate(struct group *g)
{
    pthread_mutex_lock(&g->lock);
    while (g->gate == 0)
        pthread_cond_wait(&g->cond, &g->lock);
    int gate = g->gate;
    pthread_mutex_unlock(&g->lock);
    return gate;
}

static void open_gate(struct group *g, int gate)
{
    pthread_mutex_lock(&g->lock);
    g->gate = gate;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

static void *rank_main(void *arg)
{
    struct rank_start *s = arg;
    if (wait_gate(s->g) != 1) {
        group_release(s->g);
        return NULL;
    }
    struct sb_comm c;
    describe(&c, s->g, s->rank);
    s->rc = s->fn(&c, s->arg);
    sb_comm_finalize(&c);
    return NULL;
}

int sb_comm_run(int ranks, int *argc, char ***argv, int want_threads, sb_comm_rank_fn fn, void *arg, char *err,
                size_t errlen)
{
    (void)argc;
    (void)argv;
    (void)want_threads; /* the threads share everything: the side channel always works */
    if (ranks < 1 || ranks > SB_COMM_THREADS_MAX) {
        snprintf(err, errlen, "%d ranks: one process runs 1 to %d threads", ranks, SB_COMM_THREADS_MAX);
        return 2;
    }
    struct group *g = group_new(ranks);
    struct rank_start *s = calloc((size_t)ranks, sizeof *s);
    if (!g || !s) {
        group_release(g);
        free(s);
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    int started = 0;
    for (; started < ranks; started++) {
        s[started] = (struct rank_start){.g = g, .rank = started, .fn = fn, .arg = arg};
        if (pthread_create(&s[started].thread, NULL, rank_main, &s[started]) != 0)
            break;
    }
    int all = started == ranks;
    open_gate(g, all ? 1 : -1);
    for (int r = started; r < ranks; r++)
        group_release(g); /* the holds of the threads that never started (g may be gone after) */
    int rc = 0;
    for (int r = 0; r < started; r++) {
        pthread_join(s[r].thread, NULL);
        rc = s[r].rc > rc ? s[r].rc : rc;
    }
    free(s);
    if (!all) {
        snprintf(err, errlen, "cannot start thread %d of %d", started, ranks);
        return 2;
    }
    return rc;
}

int sb_comm_init(struct sb_comm *c, int *argc, char ***argv, int want_threads, char *err, size_t errlen)
{
    (void)argc;
    (void)argv;
    (void)want_threads;
    memset(c, 0, sizeof *c);
    struct group *g = group_new(1);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    describe(c, g, 0);
    return 0;
}

void sb_comm_finalize(struct sb_comm *c)
{
    group_release(group_of(c));
    c->impl = NULL;
}

void sb_comm_abort(const struct sb_comm *c, int code)
{
    (void)c;
    fflush(NULL);
    _exit(code); /* every thread at once, without running exit handlers under their feet */
}

/* ------------------------------------------------------------------ parts */

struct split_key {
    int color, key;
};

/* Whether parent rank a comes before b in their part: by key, then by parent rank. */
static int before(const struct split_key *a, int ra, const struct split_key *b, int rb)
{
    return a->key < b->key || (a->key == b->key && ra < rb);
}

/* Parent rank 0: the parts and every rank's place in them; 0, or -1 out of memory. */
static int plan_parts(const struct sb_comm *c)
{
    struct group *g = group_of(c);
    int n = c->size;
    for (int r = 0; r < n; r++)
        g->split[r] = (struct split_place){.part = NULL, .rank = -1};
    for (int r = 0; r < n; r++) {
        const struct split_key *kr = slot(c, r);
        if (kr->color < 0 || g->split[r].rank >= 0)
            continue;
        int members = 0;
        for (int m = r; m < n; m++)
            members += ((const struct split_key *)slot(c, m))->color == kr->color;
        struct group *part = group_new(members);
        if (!part)
            return -1;
        for (int m = r; m < n; m++) {
            const struct split_key *km = slot(c, m);
            if (km->color != kr->color)
                continue;
            int rank = 0;
            for (int o = r; o < n; o++) {
                const struct split_key *ko = slot(c, o);
                rank += ko->color == kr->color && before(ko, o, km, m);
            }
            g->split[m] = (struct split_place){.part = part, .rank = rank};
        }
    }
    return 0;
}

int sb_comm_split(const struct sb_comm *c, int color, int key, struct sb_comm *sub)
{
    memset(sub, 0, sizeof *sub);
    struct group *g = group_of(c);
    struct split_key mine = {.color = color < 0 ? -1 : color, .key = key};
    publish(c, &mine);
    if (c->rank == 0)
        g->split_failed = plan_parts(c) != 0;
    meet(g, NULL);
    struct split_place place = g->split[c->rank];
    int failed = g->split_failed;
    finish(c);
    if (failed) { /* every rank drops its hold on the parts made so far */
        group_release(place.part);
        return -1;
    }
    if (place.part)
        describe(sub, place.part, place.rank);
    return 0;
}

void sb_comm_free(struct sb_comm *sub)
{
    group_release(group_of(sub));
    memset(sub, 0, sizeof *sub);
}

/* ------------------------------------------------------------------ nonblocking barrier */

struct sb_comm_request {
    struct group *g;
    long nth; /* this rank's nth ibarrier: done when every rank has started its nth */
};

int sb_comm_ibarrier(const struct sb_comm *c, struct sb_comm_request **out)
{
    struct group *g = group_of(c);
    *out = malloc(sizeof **out);
    if (!*out)
        return -1;
    pthread_mutex_lock(&g->lock);
    **out = (struct sb_comm_request){.g = g, .nth = ++g->ibarriers[c->rank]};
    pthread_mutex_unlock(&g->lock);
    return 0;
}

int sb_comm_request_done(struct sb_comm_request **req)
{
    if (!*req)
        return 1;
    struct group *g = (*req)->g;
    int done = 1;
    pthread_mutex_lock(&g->lock);
    for (int r = 0; r < g->size && done; r++)
        done = g->ibarriers[r] >= (*req)->nth;
    pthread_mutex_unlock(&g->lock);
    if (done) {
        free(*req);
        *req = NULL;
    }
    return done;
}

/* ------------------------------------------------------------------ collectives */

int sb_comm_barrier(const struct sb_comm *c) { return meet(group_of(c), NULL); }

int sb_comm_reduce_max_sum(const struct sb_comm *c, const double *in, double *max, double *sum, size_t n)
{
    publish(c, in);
    for (size_t i = 0; c->rank == 0 && i < n; i++) {
        double m = in[i], s = 0;
        for (int r = 0; r < c->size; r++) { /* in rank order, every time: the same sum */
            double v = ((const double *)slot(c, r))[i];
            m = v > m ? v : m;
            s += v;
        }
        max[i] = m;
        sum[i] = s;
    }
    return finish(c);
}

int sb_comm_bcast_bytes(const struct sb_comm *c, void *buf, size_t len)
{
    publish(c, buf);
    if (c->rank != 0 && len)
        memcpy(buf, slot(c, 0), len);
    return finish(c);
}

int sb_comm_bcast_int(const struct sb_comm *c, int *v) { return sb_comm_bcast_bytes(c, v, sizeof *v); }

int sb_comm_bcast_double(const struct sb_comm *c, double *v) { return sb_comm_bcast_bytes(c, v, sizeof *v); }

/* The ranks are threads of one process: one clock, nothing to align. */
int sb_comm_clock_offset(const struct sb_comm *c, int rounds, double (*clock)(void), double *offset, double *rtt)
{
    (void)c;
    (void)rounds;
    (void)clock;
    *offset = *rtt = 0;
    return 0;
}

int64_t sb_comm_sum_int64(const struct sb_comm *c, int64_t v)
{
    publish(c, &v);
    uint64_t out = 0; /* wraps instead of overflowing */
    for (int r = 0; r < c->size; r++) {
        const int64_t *v_r = slot(c, r);
        out += (uint64_t)*v_r;
    }
    finish(c);
    return (int64_t)out;
}

int sb_comm_max_int(const struct sb_comm *c, int v)
{
    publish(c, &v);
    int out = v;
    for (int r = 0; r < c->size; r++)
        out = *(const int *)slot(c, r) > out ? *(const int *)slot(c, r) : out;
    finish(c);
    return out;
}

int64_t sb_comm_min_int64(const struct sb_comm *c, int64_t v)
{
    publish(c, &v);
    int64_t out = v;
    for (int r = 0; r < c->size; r++)
        out = *(const int64_t *)slot(c, r) < out ? *(const int64_t *)slot(c, r) : out;
    finish(c);
    return out;
}

int sb_comm_gather_doubles(const struct sb_comm *c, const double *mine, size_t n, double *out)
{
    publish(c, mine);
    for (int r = 0; c->rank == 0 && r < c->size && n; r++)
        memcpy(out + (size_t)r * n, slot(c, r), n * sizeof *out);
    return finish(c);
}

/* As the MPI version sends them: the string cut to len - 1 characters, zeros after it. */
static void copy_string(char *dst, const char *src, size_t len)
{
    if (len == 0)
        return;
    size_t k = strnlen(src, len - 1);
    memcpy(dst, src, k);
    memset(dst + k, 0, len - k);
}

static void collect_strings(const struct sb_comm *c, char *out, size_t len)
{
    for (int r = 0; r < c->size; r++)
        copy_string(out + (size_t)r * len, slot(c, r), len);
}

int sb_comm_allgather_strings(const struct sb_comm *c, const char *mine, char *out, size_t len)
{
    publish(c, mine);
    collect_strings(c, out, len);
    return finish(c);
}

int sb_comm_gather_strings(const struct sb_comm *c, const char *mine, char *out, size_t len)
{
    publish(c, mine);
    if (c->rank == 0)
        collect_strings(c, out, len);
    return finish(c);
}

int sb_comm_gather_strings_deadline(const struct sb_comm *c, const char *mine, char *out, size_t len,
                                    double deadline_s)
{
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    double whole = (double)(time_t)deadline_s;
    end.tv_sec += (time_t)whole;
    end.tv_nsec += (long)((deadline_s - whole) * 1e9);
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    struct group *g = group_of(c);
    g->slot[c->rank] = mine;
    if (meet(g, &end) != 0)
        return -1;
    if (c->rank == 0)
        collect_strings(c, out, len);
    return meet(g, &end);
}

/* Every rank is a thread of this process: all reach each other. */
int sb_comm_preflight(const struct sb_comm *c, double deadline_s, int *heard)
{
    (void)deadline_s;
    for (int r = 0; r < c->size; r++)
        heard[r] = 1;
    return 0;
}

/* ------------------------------------------------------------------ side channel */

int sb_comm_side_open(struct sb_comm *c) { return meet(group_of(c), NULL); }

int sb_comm_side_send(const struct sb_comm *c, const char *text)
{
    struct group *g = group_of(c);
    size_t len = strlen(text) + 1;
    struct side_msg *m = malloc(sizeof *m + len);
    if (!m)
        return -1;
    m->next = NULL;
    m->from = c->rank;
    memcpy(m->text, text, len);
    pthread_mutex_lock(&g->lock);
    if (g->side_tail)
        g->side_tail->next = m;
    else
        g->side_head = m;
    g->side_tail = m;
    pthread_mutex_unlock(&g->lock);
    return 0;
}

int sb_comm_side_poll(const struct sb_comm *c, char *buf, size_t len, int *from)
{
    struct group *g = group_of(c);
    pthread_mutex_lock(&g->lock);
    struct side_msg *m = c->rank == 0 ? g->side_head : NULL; /* messages go to rank 0 */
    if (m) {
        g->side_head = m->next;
        if (!g->side_head)
            g->side_tail = NULL;
    }
    pthread_mutex_unlock(&g->lock);
    if (!m)
        return 0;
    snprintf(buf, len, "%s", m->text);
    *from = m->from;
    free(m);
    return 1;
}

/* Messages still queued go with the group. */
void sb_comm_side_close(struct sb_comm *c) { (void)c; }

void sb_comm_library_version(char *buf, size_t len)
{
    snprintf(buf, len, "none: no MPI, the ranks are threads of one process (-g N)");
}
