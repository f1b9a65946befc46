#include "report.h"

#include <errno.h>
#include <string.h>

#include "gpuinfo.h"
#include "options.h"
#include "sysinfo.h"

static int open_one(const char *path, const char *flag, FILE **f, bool *close_it, char *err, size_t errlen)
{
    *f = NULL;
    *close_it = false;
    if (!path)
        return 0;
    if (strcmp(path, "-") == 0) {
        *f = stdout;
        return 0;
    }
    *f = fopen(path, "w");
    if (!*f) {
        snprintf(err, errlen, "cannot write %s '%s': %s", flag, path, strerror(errno));
        return 2;
    }
    *close_it = true;
    return 0;
}

/* Remembers the first write that failed: records are flushed one by one so that a crash loses
 * nothing, and a full disk must not pass for a complete file. */
static void note_write(struct sb_report *r, FILE *f, int failed)
{
    if (!failed || r->write_error[0])
        return;
    int e = errno ? errno : EIO;
    const char *flag = f == r->json ? "--json" : "--csv";
    const char *path = f == r->json ? r->json_path : r->csv_path;
    snprintf(r->write_error, sizeof r->write_error, "cannot write %s '%s': %s (the records from here on are lost)",
             flag, path ? path : "-", strerror(e));
    fprintf(stderr, "%s: %s\n", r->prog ? r->prog : "scalebench", r->write_error);
}

int sb_report_open(struct sb_report *r, const char *json_path, const char *csv_path, bool keep_samples,
                   char *err, size_t errlen)
{
    const char *prog = r->prog; /* set by the caller: it names the program in a write error */
    memset(r, 0, sizeof *r);
    r->prog = prog;
    r->keep_samples = keep_samples;
    r->json_path = json_path;
    r->csv_path = csv_path;
    int rc = open_one(json_path, "--json", &r->json, &r->close_json, err, errlen);
    if (rc == 0)
        rc = open_one(csv_path, "--csv", &r->csv, &r->close_csv, err, errlen);
    if (rc) {
        sb_report_close(r);
        return rc;
    }
    r->table = (r->json == stdout || r->csv == stdout) ? stderr : stdout;
    if (r->csv) {
        fprintf(r->csv, "collective,backend,memory,dtype,op,in_place,ranks,nodes,bytes,bytes_per_peer,count,"
                        "iterations,min_us,median_us,mean_us,p99_us,max_us,stddev_us,rank_mean_median_us,"
                        "algbw_gbps,busbw_gbps,wrong,error\n");
        note_write(r, r->csv, fflush(r->csv) != 0);
    }
    return 0;
}

void sb_report_close(struct sb_report *r)
{
    /* note_write only compares the pointer: the FILE is gone after fclose */
    if (r->close_json && r->json)
        note_write(r, r->json, fclose(r->json) != 0);
    if (r->close_csv && r->csv)
        note_write(r, r->csv, fclose(r->csv) != 0);
    r->json = r->csv = NULL;
}

const char *sb_report_write_error(const struct sb_report *r) { return r->write_error[0] ? r->write_error : NULL; }

double sb_record_algbw_of(const struct sb_record *rec, const struct sb_timing *t)
{
    double median = t->max.median;
    return median > 0 ? (double)rec->size->bytes / (median * 1e-6) / 1e9 : 0.0;
}

double sb_record_algbw(const struct sb_record *rec) { return sb_record_algbw_of(rec, rec->timing); }

double sb_record_busbw(const struct sb_record *rec)
{
    return sb_record_algbw(rec) * rec->coll->busbw_factor(rec->ranks);
}

double sb_record_bidir(const struct sb_record *rec)
{
    return rec->pair ? 2.0 * rec->pair->lanes * sb_record_algbw(rec) : 0.0;
}

static void write_json_line(struct sb_report *r, json_t *obj)
{
    if (r->json) {
        errno = 0;
        int failed = json_dumpf(obj, r->json, JSON_COMPACT | JSON_REAL_PRECISION(9)) != 0;
        failed |= fputc('\n', r->json) == EOF;
        failed |= fflush(r->json) != 0;
        note_write(r, r->json, failed);
    }
}

int sb_report_table_is_stdout(const struct sb_report *r) { return r->table == stdout; }

static const char *busbw_factor_text(const struct sb_collective *coll)
{
    if (coll->busbw_factor(2) == 1.0 && coll->busbw_factor(8) == 1.0)
        return "1";
    return strcmp(coll->name, "allreduce") == 0 ? "2(n-1)/n" : "(n-1)/n";
}

void sb_report_header(struct sb_report *r, const struct sb_collective *coll, json_t *run)
{
    FILE *t = r->table;
    json_t *hosts = json_object_get(run, "hosts");
    fprintf(t, "# scalebench %s %s: %s, backend %s, %s memory\n", json_string_value(json_object_get(run, "version")),
            json_string_value(json_object_get(run, "benchmark")), coll->title,
            json_string_value(json_object_get(run, "backend")), json_string_value(json_object_get(run, "memory")));
    fprintf(t, "# %d ranks on %d node(s) (%d per node); hosts:", (int)json_integer_value(json_object_get(run, "ranks")),
            (int)json_integer_value(json_object_get(run, "nodes")),
            (int)json_integer_value(json_object_get(run, "ranks_per_node")));
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h) fprintf(t, " %s", json_string_value(h));
    fprintf(t, "\n# CPU: %s; MPI: %s; hwloc %s\n", json_string_value(json_object_get(run, "cpu_model")),
            json_string_value(json_object_get(run, "mpi_library")),
            json_string_value(json_object_get(run, "hwloc_version")));
    json_t *ranks = json_object_get(run, "rank_placement");
    json_array_foreach(ranks, i, h) fprintf(t, "#   %s\n", json_string_value(json_object_get(h, "summary")));
    if (json_object_get(run, "gpus")) {
        char gpus[1024];
        sb_gpuinfo_summary(json_object_get(run, "gpus"), gpus, sizeof gpus);
        fprintf(t, "# GPUs (rank 0's node): %s\n", gpus);
    }
    char job[512];
    sb_batch_job_summary(json_object_get(run, "batch_job"), job, sizeof job);
    if (job[0])
        fprintf(t, "# Batch job: %s\n", job);
    json_t *env = json_object_get(run, "environment");
    if (json_object_size(env) > 0) {
        char line[2048];
        sb_environment_summary(env, line, sizeof line);
        fprintf(t, "# Environment (rank 0): %s\n", line);
    }
    if (coll->pairwise)
        fprintf(t, "# Timed: per iteration and pair, a barrier of the pair, then one exchange (MPI_Sendrecv: both\n"
                   "#   ways at once) on its ranks (CLOCK_MONOTONIC); the pairs of a round run at the same time;\n"
                   "#   an iteration's time is the MAXIMUM over the pair's ranks.\n");
    else if (strcmp(json_string_value(json_object_get(run, "sync")), "window") == 0)
        fprintf(t, "# Timed (--sync window): clocks aligned to rank 0 by ping-pong before every chunk of 16; every\n"
                   "#   rank starts iteration k at the same instant T0 + k x window (no barrier), one %s call,\n"
                   "#   time = end - that start (CLOCK_MONOTONIC); an iteration's time is the MAXIMUM over\n"
                   "#   ranks. Iterations a rank started late are dropped (the record counts them).\n",
                coll->title);
    else
        fprintf(t, "# Timed: per iteration, a barrier, then one %s call on every rank (CLOCK_MONOTONIC);\n"
                   "#   an iteration's time is the MAXIMUM over ranks (done when the slowest rank is).\n", coll->title);
    const char *mode = json_string_value(json_object_get(run, "timing_mode"));
    if (mode && strcmp(mode, "per-call") != 0)
        fprintf(t, "# Timing %s: %s%s\n", mode, json_string_value(json_object_get(run, "timing_batch")),
                strcmp(mode, "both") == 0 ? " (batch_us, b_busbw; time_us is each call alone)" : " (time_us)");
    fprintf(t,
               "#   min/median/mean/p99/max are over iterations; rank_mean = the per-iteration mean over ranks\n"
               "#   (what OSU and IMB report); at small sizes it is lower by the barrier's exit skew.\n");
    json_int_t off = json_integer_value(json_object_get(run, "off_cache_bytes"));
    if (off > 0)
        fprintf(t, "# Buffers: --off-cache: each call runs on the next slot of a %.4g MiB region per rank, so no\n"
                   "#   call finds its data in a cache the previous calls warmed (IMB's -off_cache).\n",
                (double)off / 1048576.0);
    else
        fprintf(t, "# Buffers: the same every call (as nccl-tests and OSU): sizes that fit in a cache are timed\n"
                   "#   from it (--off-cache cycles them through a region larger than the cache).\n");
    fprintf(t, "# algbw = bytes / median time (GB/s, G = 1e9); busbw = algbw x %s (nccl-tests' factor:\n"
               "#   comparable with the per-rank link bandwidth). bytes = %s.\n",
            busbw_factor_text(coll), coll->bytes_is);
    fprintf(t, "# wrong = elements that differ from the exact expected value, summed over ranks\n"
               "#   (checked in an untimed call after timing; '-' = not checked). Any wrong or failed\n"
               "#   point makes the exit code 1.\n");
    fflush(t);
    write_json_line(r, run);
    json_decref(run);
}

void sb_report_table_heading(struct sb_report *r, const struct sb_collective *coll, enum sb_dtype t,
                             enum sb_op op, const char *op_impl, struct sb_table_columns cols)
{
    if (coll->reduces)
        fprintf(r->table, "#\n# dtype %s, op %s (%s)\n", sb_dtype_name(t), sb_op_name(op), op_impl);
    else
        fprintf(r->table, "#\n# dtype %s\n", sb_dtype_name(t));
    fprintf(r->table, "#");
    if (coll->pairwise)
        fprintf(r->table, " %2s %-14s %-14s", "rd", "member", "peer");
    fprintf(r->table, " %10s %10s %5s %6s %8s %9s %9s %9s %9s %9s %10s %9s %9s %6s", "size(B)", "count", "place",
            "iters", "min_us", "median_us", "mean_us", "p99_us", "max_us", "rmean_us", "ci95%", "algbw", "busbw",
            "wrong");
    if (coll->pairwise)
        fprintf(r->table, " %9s", "bidir");
    if (cols.background)
        fprintf(r->table, " %9s %8s", "alone_us", "impact");
    if (cols.batch)
        fprintf(r->table, " %9s %9s", "batch_us", "b_busbw");
    fputc('\n', r->table);
    fflush(r->table);
}

void sb_report_note(struct sb_report *r, const char *text)
{
    fprintf(r->table, "# note: %s\n", text);
    fflush(r->table);
}

static json_t *stats_json(const struct sb_stats *s)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "min", s->min, "median", s->median, "mean", s->mean,
                     "p99", s->p99, "max", s->max, "stddev", s->stddev, "median_ci_lo", s->median_ci_lo,
                     "median_ci_hi", s->median_ci_hi);
}

static json_t *samples_json(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

/* Pipelined batches: how many calls one sample was and, beside a per-call time_us, the
 * batches' own statistics (per call) and bandwidths. */
static void add_batch_fields(json_t *o, const struct sb_record *rec)
{
    json_object_set_new(o, "batch_calls", json_integer(rec->batch_calls));
    json_object_set_new(o, "batch_graph", json_boolean(rec->batch_graph));
    if (!rec->batch)
        return; /* time_us is the batch's itself (--timing batch) */
    double algbw = sb_record_algbw_of(rec, rec->batch);
    json_object_set_new(o, "time_us_batch", stats_json(&rec->batch->max));
    json_object_set_new(o, "time_us_batch_rank_mean", stats_json(&rec->batch->mean));
    json_object_set_new(o, "iterations_batch", json_integer((json_int_t)rec->batch->n));
    json_object_set_new(o, "precision_reached_batch", json_boolean(rec->batch->precision_reached));
    json_object_set_new(o, "algbw_gbps_batch", json_real(algbw));
    json_object_set_new(o, "busbw_gbps_batch", json_real(algbw * rec->coll->busbw_factor(rec->ranks)));
    json_object_set_new(o, "timing_batch", json_string(rec->batch_label));
}

/* sb_pairs: who the pair is, and its bandwidth both ways together. */
static void add_pair_fields(json_t *o, const struct sb_record *rec)
{
    const struct sb_pair_info *p = rec->pair;
    json_object_set_new(o, "level", json_string(p->level));
    json_object_set_new(o, "round", json_integer(p->round));
    json_object_set_new(o, "lanes", json_integer(p->lanes));
    json_object_set_new(o, "member", json_integer(p->member));
    json_object_set_new(o, "peer_member", json_integer(p->peer_member));
    json_object_set_new(o, "rank", json_integer(p->rank));
    json_object_set_new(o, "peer_rank", json_integer(p->peer_rank));
    json_object_set_new(o, "host", json_string(p->host ? p->host : "?"));
    json_object_set_new(o, "peer_host", json_string(p->peer_host ? p->peer_host : "?"));
    json_object_set_new(o, "bidir_gbps", json_real(sb_record_bidir(rec)));
}

/* --background: the isolated time and the ratio (GPCNeT's congestion impact factor). */
static json_t *congestion_json(const struct sb_record *rec)
{
    const struct sb_congestion_info *c = rec->congestion;
    double impact = c->isolated.median > 0 ? rec->timing->max.median / c->isolated.median : 0.0;
    return json_pack("{s:s, s:i, s:I, s:I, s:o, s:f}", "background", c->background, "background_ranks",
                     c->background_ranks, "background_bytes", (json_int_t)c->background_bytes, "background_calls",
                     (json_int_t)c->background_calls, "isolated_time_us", stats_json(&c->isolated), "impact", impact);
}

/* --off-cache: the slots the point's calls cycled through, or null when every call used the
 * same buffers.  region_bytes = slots x slot_bytes x buffers (send and receive, or one in place). */
static json_t *off_cache_json(const struct sb_timing *t)
{
    if (t->slots == 0)
        return json_null();
    return json_pack("{s:I, s:I, s:i, s:I}", "slots", (json_int_t)t->slots, "slot_bytes", (json_int_t)t->slot_stride,
                     "buffers", t->buffers, "region_bytes", (json_int_t)(t->slots * t->slot_stride * (size_t)t->buffers));
}

json_t *sb_record_json(const struct sb_record *rec, bool keep_samples)
{
    const struct sb_timing *t = rec->timing;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                          "schema", SB_SCHEMA, "type", "result", "collective", rec->coll->name, "backend",
                          rec->backend, "memory", rec->memory, "dtype", sb_dtype_name(rec->dtype), "op",
                          rec->coll->reduces ? sb_op_name(rec->op) : "none", "in_place", rec->in_place, "ranks",
                          rec->ranks, "nodes", rec->nodes, "ranks_per_node", rec->ranks_per_node, "bytes",
                          (json_int_t)rec->size->bytes, "bytes_requested", (json_int_t)rec->size->requested,
                          "bytes_per_peer", (json_int_t)(rec->size->layout.count_per_peer * sb_dtype_size(rec->dtype)),
                          "count", (json_int_t)rec->size->layout.count, "count_per_peer",
                          (json_int_t)rec->size->layout.count_per_peer, "iterations", (json_int_t)t->n, "warmup",
                          (json_int_t)rec->warmup);
    json_object_set_new(o, "op_impl", json_string(rec->op_impl));
    json_object_set_new(o, "precision_reached", json_boolean(t->precision_reached));
    json_object_set_new(o, "time_us", stats_json(&t->max));
    json_object_set_new(o, "time_us_rank_mean", stats_json(&t->mean));
    json_object_set_new(o, "algbw_gbps", json_real(sb_record_algbw(rec)));
    json_object_set_new(o, "busbw_gbps", json_real(sb_record_busbw(rec)));
    json_object_set_new(o, "busbw_factor", json_real(rec->coll->busbw_factor(rec->ranks)));
    json_object_set_new(o, "wrong", rec->wrong < 0 ? json_null() : json_integer(rec->wrong));
    json_object_set_new(o, "check", rec->wrong < 0 ? json_null() : json_string(rec->check ? rec->check : "host"));
    json_object_set_new(o, "timing", json_string(rec->timing_label));
    json_object_set_new(o, "error", rec->error ? json_string(rec->error) : json_null());
    json_object_set_new(o, "off_cache", off_cache_json(t));
    json_object_set_new(o, "sync", json_string(t->window ? "window" : "barrier"));
    if (t->window)
        json_object_set_new(o, "window", json_pack("{s:f, s:I, s:f}", "window_us", t->window_us, "late_iterations",
                                                   (json_int_t)t->late_iterations, "clock_rtt_max_us",
                                                   t->clock_rtt_max_us));
    if (rec->per_rank) {
        json_t *a = json_array();
        for (int r = 0; r < rec->ranks; r++)
            json_array_append_new(a, json_pack("{s:i, s:f, s:f, s:f}", "rank", r, "min", rec->per_rank[3 * r],
                                               "median", rec->per_rank[3 * r + 1], "p99", rec->per_rank[3 * r + 2]));
        json_object_set_new(o, "time_us_per_rank", a);
    }
    if (rec->batch_calls > 0)
        add_batch_fields(o, rec);
    if (rec->pair)
        add_pair_fields(o, rec);
    if (rec->congestion)
        json_object_set_new(o, "congestion", congestion_json(rec));
    if (keep_samples && t->max_us) {
        json_object_set_new(o, "samples_us", samples_json(t->max_us, t->n));
        json_object_set_new(o, "samples_us_rank_mean", samples_json(t->mean_us, t->n));
    }
    return o;
}

static void write_csv(struct sb_report *r, const struct sb_record *rec)
{
    const struct sb_stats *s = &rec->timing->max;
    char wrong[32];
    snprintf(wrong, sizeof wrong, "%lld", (long long)rec->wrong);
    fprintf(r->csv, "%s,%s,%s,%s,%s,%d,%d,%d,%zu,%zu,%zu,%zu,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.6g,%.6g,%s,%s\n",
            rec->coll->name, rec->backend, rec->memory, sb_dtype_name(rec->dtype),
            rec->coll->reduces ? sb_op_name(rec->op) : "none", rec->in_place, rec->ranks, rec->nodes, rec->size->bytes,
            rec->size->layout.count_per_peer * sb_dtype_size(rec->dtype), rec->size->layout.count, rec->timing->n,
            s->min, s->median, s->mean, s->p99, s->max, s->stddev, rec->timing->mean.median, sb_record_algbw(rec),
            sb_record_busbw(rec), rec->wrong < 0 ? "" : wrong, rec->error ? "failed" : "");
    note_write(r, r->csv, fflush(r->csv) != 0 || ferror(r->csv));
}

/* A pair's side for the table: the host (node level), "r3@host" (rank level). */
static const char *pair_name(const struct sb_pair_info *p, int side, char *buf, size_t len)
{
    const char *host = side ? p->peer_host : p->host;
    if (strcmp(p->level, "node") == 0)
        snprintf(buf, len, "%s", host ? host : "?");
    else
        snprintf(buf, len, "r%d@%s", side ? p->peer_rank : p->rank, host ? host : "?");
    return buf;
}

void sb_report_record(struct sb_report *r, const struct sb_record *rec)
{
    const struct sb_stats *s = &rec->timing->max;
    char wrong[32], name_a[96], name_b[96];
    if (rec->error)
        snprintf(wrong, sizeof wrong, "FAILED");
    else if (rec->wrong < 0)
        snprintf(wrong, sizeof wrong, "-");
    else
        snprintf(wrong, sizeof wrong, "%lld", (long long)rec->wrong);
    if (rec->pair)
        fprintf(r->table, "  %2d %-14s %-14s", rec->pair->round, pair_name(rec->pair, 0, name_a, sizeof name_a),
                pair_name(rec->pair, 1, name_b, sizeof name_b));
    fprintf(r->table, "  %10zu %10zu %5s %6zu %8.2f %9.2f %9.2f %9.2f %9.2f %9.2f %10.1f %9.3f %9.3f %6s",
            rec->size->bytes, rec->size->layout.count, rec->in_place ? "in" : "out", rec->timing->n, s->min, s->median,
            s->mean, s->p99, s->max, rec->timing->mean.median, 100.0 * sb_stats_relative_ci(s), sb_record_algbw(rec),
            sb_record_busbw(rec), wrong);
    if (rec->pair)
        fprintf(r->table, " %9.3f", sb_record_bidir(rec));
    if (rec->congestion)
        fprintf(r->table, " %9.2f %7.2fx", rec->congestion->isolated.median,
                rec->congestion->isolated.median > 0 ? s->median / rec->congestion->isolated.median : 0.0);
    if (rec->batch)
        fprintf(r->table, " %9.2f %9.3f", rec->batch->max.median,
                sb_record_algbw_of(rec, rec->batch) * rec->coll->busbw_factor(rec->ranks));
    fputc('\n', r->table);
    if (rec->error)
        fprintf(r->table, "# error: %s\n", rec->error);
    fflush(r->table);
    if (r->json) {
        json_t *o = sb_record_json(rec, r->keep_samples);
        write_json_line(r, o);
        json_decref(o);
    }
    if (r->csv)
        write_csv(r, rec);
}

/* "# stragglers (--per-rank): rank 2 (node7) slow at 9 of 10 points, 1.80x the others' median" */
static void print_stragglers(FILE *t, json_t *s)
{
    if (!s)
        return;
    json_t *ranks = json_object_get(s, "ranks"), *r;
    size_t i;
    if (json_array_size(ranks) == 0)
        fprintf(t, "# stragglers (--per-rank): none (%s)\n", json_string_value(json_object_get(s, "rule")));
    json_array_foreach(json_object_get(s, "late_ranks"), i, r) {
        fprintf(t, "# late arrival (--per-rank): rank %lld (%s) timed at %.2fx the others' median at %lld of %lld "
                   "points: it reaches the call late and the others wait for it\n",
                json_integer_value(json_object_get(r, "rank")),
                json_is_string(json_object_get(r, "host")) ? json_string_value(json_object_get(r, "host")) : "?",
                json_real_value(json_object_get(r, "mean_ratio")), json_integer_value(json_object_get(r, "late_points")),
                json_integer_value(json_object_get(r, "points")));
    }
    json_array_foreach(ranks, i, r) {
        fprintf(t, "# straggler (--per-rank): rank %lld (%s) slow at %lld of %lld points, %.2fx the others' median\n",
                json_integer_value(json_object_get(r, "rank")),
                json_is_string(json_object_get(r, "host")) ? json_string_value(json_object_get(r, "host")) : "?",
                json_integer_value(json_object_get(r, "slow_points")), json_integer_value(json_object_get(r, "points")),
                json_real_value(json_object_get(r, "mean_ratio")));
    }
}

void sb_report_summary(struct sb_report *r, json_t *summary)
{
    json_t *wrong = json_object_get(summary, "wrong_total");
    char wrong_text[48] = "not checked (-c 0)";
    if (json_is_integer(wrong))
        snprintf(wrong_text, sizeof wrong_text, "%lld", (long long)json_integer_value(wrong));
    fprintf(r->table, "#\n# points: %lld, wrong elements: %s, failed points: %lld\n",
            (long long)json_integer_value(json_object_get(summary, "points")), wrong_text,
            (long long)json_integer_value(json_object_get(summary, "failed_points")));
    fprintf(r->table, "# Avg bus bandwidth: %.4f GB/s (mean of busbw over all points, as nccl-tests)\n",
            json_real_value(json_object_get(summary, "avg_busbw_gbps")));
    print_stragglers(r->table, json_object_get(summary, "stragglers"));
    fprintf(r->table, "# result: %s%s\n", json_string_value(json_object_get(summary, "result")),
            json_is_false(json_object_get(summary, "checked")) ? " (results not checked: -c 0)" : "");
    fflush(r->table);
    write_json_line(r, summary);
    json_decref(summary);
}

void sb_report_error_record(struct sb_report *r, json_t *fields)
{
    json_t *o = json_pack("{s:s, s:s}", "schema", SB_SCHEMA, "type", "error");
    json_object_update(o, fields);
    write_json_line(r, o);
    json_decref(o);
}

void sb_report_error(struct sb_report *r, const char *message)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "schema", SB_SCHEMA, "type", "error", "message", message);
    write_json_line(r, o);
    json_decref(o);
}
