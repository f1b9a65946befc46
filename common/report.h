/* Output: the human table (stdout, or stderr when records go to stdout), JSON Lines and CSV.
 * Only rank 0 reports.  Every record is flushed as soon as it is written. */
#ifndef SB_REPORT_H
#define SB_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "collective.h"
#include "sweep.h"
#include "timing.h"

#define SB_SCHEMA "scalebench/1"

struct sb_report {
    FILE *table; /* human-readable */
    FILE *json;  /* JSON Lines, or NULL */
    FILE *csv;   /* CSV, or NULL */
    bool close_json, close_csv;
    bool keep_samples;
    const char *json_path, *csv_path;
    const char *prog; /* for the stderr line of a failed write */
    char write_error[512]; /* the first failed write ("" while none): a full disk, a closed pipe */
};

/* sb_pairs: which pair a record is. */
struct sb_pair_info {
    const char *level;      /* "node" or "rank" */
    int round, lanes;       /* lanes: ranks per side (node level: the ranks per node) */
    int member, peer_member; /* node or rank indices at that level */
    int rank, peer_rank;    /* world ranks of lane 0 of each side */
    const char *host, *peer_host;
};

/* --background: the same point measured alone, and the traffic it was measured under. */
struct sb_congestion_info {
    const char *background; /* "alltoall" */
    int background_ranks;
    size_t background_bytes;
    long long background_calls; /* completed during the measurement */
    struct sb_stats isolated;   /* time_us of the point with the background idle */
};

/* One measured point. */
struct sb_record {
    const struct sb_collective *coll;
    const char *backend, *memory, *op_impl;
    const char *timing_label; /* what one sample is (the backend says) */
    enum sb_dtype dtype;
    enum sb_op op;
    bool in_place;
    int ranks, nodes, ranks_per_node;
    const struct sb_size *size;
    const struct sb_timing *timing;
    int warmup;
    int64_t wrong;     /* -1: not checked */
    const char *check; /* where wrong was counted: "host" (also when NULL) or "device" */
    const char *error; /* NULL, or why the point failed */
    const double *per_rank; /* --per-rank: ranks x (min, median, p99) in us, or NULL */
    const struct sb_pair_info *pair;             /* sb_pairs, or NULL */
    const struct sb_congestion_info *congestion; /* --background, or NULL */
    const struct sb_timing *batch; /* --timing both: the pipelined batches beside time_us, or NULL */
    const char *batch_label;       /* what a batch sample is, when batches were timed */
    int batch_calls;               /* calls per batch (0: no batches timed) */
    bool batch_graph;              /* the batch was a CUDA graph */
};

/* Opens the outputs; 0, or 2 with err naming the file and the reason. */
int sb_report_open(struct sb_report *r, const char *json_path, const char *csv_path, bool keep_samples,
                   char *err, size_t errlen);
void sb_report_close(struct sb_report *r);
/* The first failed write of --json or --csv (already said on stderr), or NULL. */
const char *sb_report_write_error(const struct sb_report *r);
/* Whether the text table goes to stdout (not moved to stderr by `--json -`). */
int sb_report_table_is_stdout(const struct sb_report *r);

double sb_record_algbw(const struct sb_record *rec);  /* GB/s, G = 1e9 */
double sb_record_algbw_of(const struct sb_record *rec, const struct sb_timing *t); /* of another timing */
double sb_record_busbw(const struct sb_record *rec);
/* sb_pairs: what the pair moved, both directions and all lanes together, per second (GB/s). */
double sb_record_bidir(const struct sb_record *rec);

/* The header: text lines for humans, and the JSON "run" record (the report takes `run`). */
void sb_report_header(struct sb_report *r, const struct sb_collective *coll, json_t *run);
/* Optional columns of the table. */
struct sb_table_columns {
    bool background; /* --background: time alone, impact */
    bool batch;      /* --timing both: the batch's median per call */
};
void sb_report_table_heading(struct sb_report *r, const struct sb_collective *coll, enum sb_dtype t,
                             enum sb_op op, const char *op_impl, struct sb_table_columns cols);
void sb_report_note(struct sb_report *r, const char *text);
void sb_report_record(struct sb_report *r, const struct sb_record *rec);
/* JSON "summary" record (the report takes `summary`) and the closing text lines. */
void sb_report_summary(struct sb_report *r, json_t *summary);
/* JSON "error" record for a failure that ends the run. */
void sb_report_error(struct sb_report *r, const char *message);
/* An error record with fields of its own (schema and type are added); flushed at once. */
void sb_report_error_record(struct sb_report *r, json_t *fields);

json_t *sb_record_json(const struct sb_record *rec, bool keep_samples);

#endif
