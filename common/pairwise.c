/* sb_pairs: the sweep over the rounds of a round-robin schedule.  In each round every member
 * (node or rank) is in at most one pair; each pair gets a communicator (and backend) of its own,
 * so its barrier, its timing and its adaptive iteration count are the pair's alone while the
 * round's other pairs run at the same time.  After each point every rank's result is gathered
 * to rank 0, which writes one record per pair. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pairs.h"
#include "run.h"
#include "schedule.h"

/* Who pairs with whom: nodes (every local rank k with local rank k of the peer node: all the
 * node's ranks, so all its NICs, at once) or single ranks. */
struct level {
    bool by_node;
    int members, member; /* how many, and which one this rank belongs to */
    int lanes, lane;     /* ranks per member, and this rank's place among them */
};

static struct level level_of(const struct run *run)
{
    bool by_node = run->opt.level ? strcmp(run->opt.level, "node") == 0 : run->comm.nodes > 1;
    if (by_node)
        return (struct level){true, run->comm.nodes, run->comm.node, run->comm.local_size, run->comm.local_rank};
    return (struct level){false, run->comm.size, run->comm.rank, 1, 0};
}

long sb_pairwise_pairs(const struct run *run)
{
    struct level lv = level_of(run);
    return (long)lv.members * (lv.members - 1) / 2;
}

int sb_pairwise_check(const struct run *run, char *err, size_t len)
{
    struct level lv = level_of(run);
    int most = sb_comm_max_int(&run->comm, run->comm.local_size);
    int fewest = -sb_comm_max_int(&run->comm, -run->comm.local_size);
    if (!run->be.exchange || !run->be.split)
        snprintf(err, len, "sb_pairs needs a backend that can pair ranks: --backend mpi on host memory, or "
                 "--backend nccl with NCCL 2.18 or later (ncclCommSplit)");
    else if (lv.by_node && run->comm.nodes < 2)
        snprintf(err, len, "--level node needs ranks on 2 or more nodes (this job has 1): use --level rank, or "
                 "spread the ranks over several nodes");
    else if (lv.by_node && most != fewest)
        snprintf(err, len, "--level node needs the same number of ranks on every node (%d to %d here: each rank "
                 "pairs with the rank of its local index on the peer node); use --level rank", fewest, most);
    else if (lv.members < 2)
        snprintf(err, len, "sb_pairs needs at least 2 ranks (got %d)", run->comm.size);
    else
        return 0;
    return 2;
}

/* Rank 0: the members' names (host names; "r3@host" at rank level), from every rank's node. */
static int name_members(struct run *run, const struct level *lv)
{
    double mine = run->comm.node, *nodes = run->comm.rank == 0 ? malloc((size_t)run->comm.size * sizeof *nodes) : NULL;
    int bad = sb_comm_max_int(&run->comm, run->comm.rank == 0 && !nodes);
    if (!bad)
        sb_comm_gather_doubles(&run->comm, &mine, 1, nodes);
    struct sb_pairs_log *log = &run->pairs_log;
    if (!bad && run->comm.rank == 0 && !log->names) {
        log->level = lv->by_node ? "node" : "rank";
        log->members = lv->members;
        log->names = calloc((size_t)lv->members, sizeof *log->names);
        for (int r = run->comm.size - 1; log->names && r >= 0; r--) { /* lowest rank of a node names it */
            const char *host = json_string_value(json_array_get(run->rank_hosts, (size_t)r));
            if (lv->by_node)
                snprintf(log->names[(int)nodes[r]], sizeof log->names[0], "%s", host ? host : "?");
            else
                snprintf(log->names[r], sizeof log->names[0], "r%d@%s", r, host ? host : "?");
        }
    }
    free(nodes);
    return bad ? -1 : 0;
}

/* One rank's result of a point, gathered to rank 0 as doubles. */
enum { F_ROOT, F_MEMBER, F_PARTNER, F_PAIR_RANK, F_N, F_PRECISION, F_WRONG, F_MAX, F_MEAN = F_MAX + 8,
       F_LEN = F_MEAN + 8 };

static void pack_stats(double *v, const struct sb_stats *s)
{
    double f[8] = {s->min, s->median, s->mean, s->p99, s->max, s->stddev, s->median_ci_lo, s->median_ci_hi};
    memcpy(v, f, sizeof f);
}

static void unpack_stats(const double *v, size_t n, struct sb_stats *s)
{
    *s = (struct sb_stats){.n = n, .min = v[0], .median = v[1], .mean = v[2], .p99 = v[3], .max = v[4],
                           .stddev = v[5], .median_ci_lo = v[6], .median_ci_hi = v[7]};
}

struct round {
    int number, partner; /* partner: -1 for a bye */
    struct level lv;
    const struct sb_backend *be; /* the pair's backend (in no pair: holds nothing) */
};

/* Times and checks this rank's pair at one point; fills `mine` (the pair's root also its
 * statistics) and `error`. */
static void measure_mine(struct run *run, const struct round *rd, const struct sb_size *size, enum sb_dtype t,
                         bool in_place, double *mine, char *error, size_t len)
{
    const struct sb_backend *be = rd->be;
    struct sb_pattern pat = {.ranks = be->comm->size, .dtype = t, .op = SB_SUM, .layout = size->layout};
    struct sb_call call = {.send = in_place ? run->recv : run->send, .recv = run->recv, .in_place = in_place,
                           .dtype = t, .op = SB_SUM, .layout = size->layout,
                           .peer = sb_pair_peer(be->comm->rank, be->comm->size)};
    char what[256];
    sb_run_describe_point(run, size->bytes, t, SB_SUM, in_place, what, sizeof what);
    sb_watchdog_arm(run->watchdog, what, size->bytes);
    struct sb_timing timing;
    sb_run_time_point(run, be, &pat, &call, 1, &timing, error, len);
    int64_t wrong = (run->opt.check && !error[0]) ? sb_run_verify(run, be, &call, &pat, error, len) : -1;
    sb_watchdog_disarm(run->watchdog);
    mine[F_ROOT] = be->comm->rank == 0;
    mine[F_PAIR_RANK] = be->comm->rank;
    mine[F_N] = (double)timing.n;
    mine[F_PRECISION] = timing.precision_reached;
    mine[F_WRONG] = (double)wrong;
    pack_stats(mine + F_MAX, &timing.max);
    pack_stats(mine + F_MEAN, &timing.mean);
    sb_timing_free(&timing);
}

static void log_pair(struct sb_pairs_log *log, const struct sb_record *rec)
{
    if (log->n == log->cap) {
        size_t cap = log->cap ? 2 * log->cap : 64;
        struct sb_pair_result *v = realloc(log->v, cap * sizeof *v);
        if (!v)
            return; /* the verdict then misses this pair; the record is written all the same */
        log->v = v;
        log->cap = cap;
    }
    log->v[log->n++] = (struct sb_pair_result){rec->pair->member, rec->pair->peer_member, rec->size->bytes,
                                               sb_record_bidir(rec), rec->timing->max.median};
}

/* Rank 0: the world rank of lane 0 on the far side of the pair rooted at `root`. */
static int far_rank(const double *all, int ranks, int root, int lanes)
{
    for (int r = 0; r < ranks; r++)
        if (all[r * F_LEN + F_MEMBER] == all[root * F_LEN + F_PARTNER] && all[r * F_LEN + F_PAIR_RANK] == lanes &&
            all[r * F_LEN + F_PARTNER] == all[root * F_LEN + F_MEMBER])
            return r;
    return -1;
}

/* Rank 0: one record per pair of the round. */
static void record_pairs(struct run *run, const struct round *rd, const struct sb_size *size, enum sb_dtype t,
                         bool in_place, const char *impl, const double *all, const char *errors)
{
    for (int r = 0; r < run->comm.size; r++) {
        const double *f = all + (size_t)r * F_LEN;
        if (f[F_ROOT] != 1.0)
            continue;
        int peer = far_rank(all, run->comm.size, r, rd->lv.lanes);
        const char *host = json_string_value(json_array_get(run->rank_hosts, (size_t)r));
        const char *peer_host = peer >= 0 ? json_string_value(json_array_get(run->rank_hosts, (size_t)peer)) : NULL;
        struct sb_pair_info info = {.level = rd->lv.by_node ? "node" : "rank", .round = rd->number + 1,
                                    .lanes = rd->lv.lanes, .member = (int)f[F_MEMBER],
                                    .peer_member = (int)f[F_PARTNER], .rank = r, .peer_rank = peer, .host = host,
                                    .peer_host = peer_host};
        struct sb_timing timing = {.n = (size_t)f[F_N], .precision_reached = f[F_PRECISION] != 0,
                                   .buffers = in_place ? 1 : 2};
        timing.slots = sb_run_off_cache_slots(run, &size->layout, t, in_place, &timing.slot_stride);
        unpack_stats(f + F_MAX, timing.n, &timing.max);
        unpack_stats(f + F_MEAN, timing.n, &timing.mean);
        bool same_host = host && peer_host && strcmp(host, peer_host) == 0;
        const char *error = errors + (size_t)r * ERRLEN;
        struct sb_record rec = {.coll = run->coll, .backend = run->be.name, .memory = run->be.memory,
                                .op_impl = impl, .dtype = t, .op = SB_SUM, .in_place = in_place,
                                .timing_label = "per-call: barrier of the pair, then the exchange (both ways at once); "
                                                "max over the pair's ranks per iteration; the round's other pairs "
                                                "run at the same time",
                                .ranks = 2 * rd->lv.lanes, .nodes = same_host ? 1 : 2,
                                .ranks_per_node = same_host ? 2 * rd->lv.lanes : rd->lv.lanes, .size = size,
                                .timing = &timing, .warmup = run->opt.warmup, .wrong = (int64_t)f[F_WRONG],
                                .error = error[0] ? error : NULL, .pair = &info,
                                .check = sb_run_check_where(run, &run->be)};
        char what[256];
        sb_run_describe_point(run, size->bytes, t, SB_SUM, in_place, what, sizeof what);
        sb_run_record(run, &rec, what);
        if (!rec.error)
            log_pair(&run->pairs_log, &rec);
    }
}

static void pair_point(struct run *run, const struct round *rd, const struct sb_size *size, enum sb_dtype t,
                       bool in_place, const char *impl)
{
    double mine[F_LEN] = {0};
    char error[ERRLEN] = "";
    mine[F_MEMBER] = rd->lv.member;
    mine[F_PARTNER] = rd->partner;
    mine[F_PAIR_RANK] = -1;
    if (rd->partner >= 0)
        measure_mine(run, rd, size, t, in_place, mine, error, sizeof error);
    bool root = run->comm.rank == 0;
    double *all = root ? malloc((size_t)run->comm.size * F_LEN * sizeof *all) : NULL;
    char *errors = root ? malloc((size_t)run->comm.size * ERRLEN) : NULL;
    if (sb_comm_max_int(&run->comm, root && (!all || !errors))) {
        if (root) {
            char note[160];
            snprintf(note, sizeof note, "out of memory on rank 0: the records of round %d at %zu bytes are lost",
                     rd->number + 1, size->bytes);
            sb_report_note(&run->report, note);
            run->failed_points++; /* the run must not pass with records missing */
        }
        free(all);
        free(errors);
        return;
    }
    sb_comm_gather_doubles(&run->comm, mine, F_LEN, all);
    sb_comm_gather_strings(&run->comm, error, errors, ERRLEN);
    if (root)
        record_pairs(run, rd, size, t, in_place, impl, all, errors);
    free(all);
    free(errors);
}

/* One round: the pairs' communicators, every size, then released.  0, or 2 when the
 * communicators could not be made. */
static int run_round(struct run *run, const struct level *lv, int number, enum sb_dtype t, const char *impl,
                     const struct sb_size *sizes, size_t n, bool out_of_place, bool in_place)
{
    int partner = sb_schedule_partner(lv->members, number, lv->member);
    int color = partner < 0 ? -1 : (lv->member < partner ? lv->member : partner);
    int key = (partner >= 0 && lv->member > partner) * lv->lanes + lv->lane; /* side, then lane */
    struct sb_comm sub;
    struct sb_backend pair_be;
    int rc = sb_comm_split(&run->comm, color, key, &sub);
    int brc = run->be.split(&run->be, &sub, color, key, &pair_be);
    if (sb_comm_max_int(&run->comm, rc != 0 || brc != 0)) {
        char msg[128];
        snprintf(msg, sizeof msg, "cannot make the pairs' communicators of round %d", number + 1);
        sb_run_complain(run, msg);
        if (brc == 0)
            pair_be.finalize(&pair_be);
        sb_comm_free(&sub);
        return 2;
    }
    struct round rd = {.number = number, .partner = partner, .lv = *lv, .be = &pair_be};
    for (size_t i = 0; i < n; i++) {
        if (out_of_place)
            pair_point(run, &rd, &sizes[i], t, false, impl);
        if (in_place)
            pair_point(run, &rd, &sizes[i], t, true, impl);
    }
    pair_be.finalize(&pair_be);
    sb_comm_free(&sub);
    return 0;
}

int sb_pairwise_sweep(struct run *run, enum sb_dtype t, const char *impl, const struct sb_size *sizes, size_t n,
                      bool out_of_place, bool in_place)
{
    struct level lv = level_of(run);
    if (name_members(run, &lv) != 0) {
        sb_run_complain(run, "out of memory for the members' names");
        return 2;
    }
    int rounds = sb_schedule_rounds(lv.members), rc = 0;
    if (run->comm.rank == 0) {
        char note[256];
        snprintf(note, sizeof note, "%d %ss, %d rounds of up to %d pairs at once (round-robin: every pair once)%s",
                 lv.members, lv.by_node ? "node" : "rank", rounds, lv.members / 2,
                 lv.by_node && lv.lanes > 1 ? "; each rank pairs with the same local rank of the peer node" : "");
        sb_report_note(&run->report, note);
    }
    for (int k = 0; k < rounds && rc == 0; k++)
        rc = run_round(run, &lv, k, t, impl, sizes, n, out_of_place, in_place);
    return rc;
}

/* Rank 0: the matrices of the logged pairs: bandwidth at the largest size, latency at the
 * smallest, and the verdict. */
json_t *sb_pairwise_verdict(struct run *run)
{
    struct sb_pairs_log *log = &run->pairs_log;
    struct sbm_pairs_matrix m;
    if (!log->names || log->n == 0 || sbm_pairs_matrix_init(&m, log->members) != 0)
        return json_null();
    size_t smallest = SIZE_MAX, largest = 0;
    for (size_t k = 0; k < log->n; k++) {
        smallest = log->v[k].bytes < smallest ? log->v[k].bytes : smallest;
        largest = log->v[k].bytes > largest ? log->v[k].bytes : largest;
    }
    for (int i = 0; i < m.n; i++)
        snprintf(m.names[i], sizeof m.names[i], "%s", log->names[i]);
    for (size_t k = 0; k < log->n; k++) {
        const struct sb_pair_result *p = &log->v[k];
        sbm_pairs_matrix_put(&m, p->a, p->b, p->bytes == largest ? p->bidir_gbps : NAN,
                             p->bytes == smallest ? p->median_us : NAN);
    }
    struct sbm_pairs_rule rule = {SBM_PAIRS_BW_DROP, SBM_PAIRS_LAT_RISE};
    struct sbm_pairs_verdict v;
    json_t *out = json_null();
    if (sbm_pairs_judge(&m, &rule, &v) == 0) {
        out = sbm_pairs_verdict_json(&m, &rule, &v);
        json_object_set_new(out, "level", json_string(log->level));
        json_object_set_new(out, "bandwidth_bytes", json_integer((json_int_t)largest));
        json_object_set_new(out, "latency_bytes", json_integer((json_int_t)smallest));
        fprintf(run->report.table, "#\n# pairs verdict (bandwidth at %zu bytes, latency at %zu bytes; the full "
                                   "matrices: sb_model pairs FILE):\n", largest, smallest);
        sbm_pairs_verdict_print(&m, &rule, &v, "# ", run->report.table);
        fflush(run->report.table);
        sbm_pairs_verdict_free(&v);
    }
    sbm_pairs_matrix_free(&m);
    return out;
}
