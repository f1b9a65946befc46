/* Command-line options of every benchmark: one struct, filled and validated from argv. */
#ifndef SB_OPTIONS_H
#define SB_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dtype.h"

enum sb_inplace_mode { SB_OUT_OF_PLACE = 0, SB_IN_PLACE = 1, SB_BOTH_PLACES = 2 };

#define SB_MAX_SIZES 256
/* The most sizes one -b/-e sweep may have (longer ones are refused, not cut short). */
#define SB_MAX_SWEEP (SB_MAX_SIZES * 4)

struct sb_options {
    /* sweep: -b/-e with -f (multiplicative) or -i (additive), or an explicit --sizes list */
    size_t min_bytes, max_bytes;
    size_t step_factor;
    size_t step_bytes;
    size_t sizes[SB_MAX_SIZES];
    size_t n_sizes;          /* > 0 when --sizes was given */

    /* iterations: fixed (-n) or adaptive to a precision and a time budget */
    int iters;               /* 0 = adaptive */
    int warmup;
    double precision;        /* target relative half-width of the median's 95% interval */
    double max_time;         /* seconds of timed iterations per size (adaptive) */
    int min_iters, max_iters;

    bool dtypes[SB_DTYPE_COUNT];
    bool ops[SB_OP_COUNT];
    bool ops_all;            /* --op all: the ops the backend has (avg only on NCCL) */
    enum sb_inplace_mode inplace;
    bool check;
    bool keep_samples;       /* --samples: per-iteration times in each record */
    bool per_rank;           /* --per-rank: each rank's own statistics, and the stragglers */

    const char *backend;     /* mpi|nccl (default: the build's, sb_backend_default) */
    const char *memory;      /* host|device|pinned (default: host for mpi, device for nccl) */
    int device;              /* --device N, or -1: local rank modulo the visible GPUs */
    int gpus;                /* -g N: ranks as threads of this process (builds without MPI), 1 */

    const char *json_path;   /* NULL, "-" (stdout) or a file */
    const char *csv_path;

    /* placement and robustness (topology work) */
    const char *bind;        /* none|core|numa|auto */
    bool bind_explicit;
    const char *mem_node;    /* local|N|interleave */
    double timeout;          /* seconds per collective call, 0 = none */
    int preflight;           /* -1 = auto (multi-node), 0 off, 1 on */
    int progress;            /* -1 = auto (stderr is a terminal), 0 off, 1 on */

    /* sb_pairs: which members pair up, "node" or "rank" (NULL: node when the job spans
     * several nodes, else rank) */
    const char *level;
    /* congestion impact: NULL, or the traffic ("alltoall") half of the ranks run while the
     * other half measures; background_bytes is that all-to-all's size per rank */
    const char *background;
    size_t background_bytes;

    /* what is timed: each call on its own, pipelined batches of `batch` calls, or both
     * (-1: both on GPU memory, per-call on host memory); `graph` > 0: the batch is that many
     * calls captured in a CUDA graph (NCCL) */
    int timing_mode;
    bool timing_given; /* --timing, --batch or --graph on the command line */
    /* --off-cache: each call's buffers are the next slot of a region of off_cache bytes per
     * rank (0: the same buffers every call); off_cache_auto: twice the last-level cache, found
     * at run time */
    size_t off_cache;
    bool off_cache_auto;
    /* --sync window: clocks aligned to rank 0 and every iteration started at an agreed instant,
     * instead of after a barrier (false) */
    bool sync_window;
    int batch;
    int graph;

    bool help, version;
};

enum sb_timing_mode { SB_TIME_PER_CALL = 1, SB_TIME_BATCH = 2, SB_TIME_BOTH = 3 };

/* Fills o from argv.  Returns 0, or 2 with one line in err naming the bad value and what is
 * accepted.  `reduces` says whether -o/--op applies to this collective. */
int sb_options_parse(struct sb_options *o, bool reduces, int argc, char **argv, char *err, size_t errlen);
/* The same with another default for --backend (the build's: "nccl" where there is no MPI). */
int sb_options_parse_for(struct sb_options *o, bool reduces, const char *default_backend, int argc, char **argv,
                         char *err, size_t errlen);

/* Parses "64", "64K", "1M", "2GiB" (binary suffixes); 0 on success, -1 if malformed. */
int sb_parse_size(const char *s, size_t *out);
/* A whole decimal integer / a finite number in [lo, hi]; 0, or -1 when malformed or out of range. */
int sb_parse_int(const char *s, long lo, long hi, int *out);
int sb_parse_double(const char *s, double lo, double hi, double *out);

/* Formats bytes compactly ("8", "64K", "1M", "1.5G") into buf. */
const char *sb_format_size(size_t bytes, char *buf, size_t len);

/* The --help text (pairwise: sb_pairs' own options too). */
void sb_options_usage(const char *prog, const char *title, bool reduces, bool pairwise, FILE *out);

#endif
