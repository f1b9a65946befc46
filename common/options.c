#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum long_only {
    OPT_SIZES = 256, OPT_PRECISION, OPT_MAX_TIME, OPT_MIN_ITERS, OPT_MAX_ITERS, OPT_INPLACE,
    OPT_JSON, OPT_CSV, OPT_SAMPLES, OPT_BIND, OPT_MEM_NODE, OPT_PREFLIGHT, OPT_PROGRESS, OPT_PER_RANK, OPT_BACKEND, OPT_MEMORY, OPT_DEVICE,
    OPT_LEVEL, OPT_BACKGROUND, OPT_BACKGROUND_BYTES, OPT_TIMING, OPT_BATCH, OPT_GRAPH, OPT_OFF_CACHE, OPT_SYNC,
};

static const struct option long_options[] = {
    {"minbytes", required_argument, NULL, 'b'},
    {"maxbytes", required_argument, NULL, 'e'},
    {"stepfactor", required_argument, NULL, 'f'},
    {"stepbytes", required_argument, NULL, 'i'},
    {"sizes", required_argument, NULL, OPT_SIZES},
    {"iters", required_argument, NULL, 'n'},
    {"warmup", required_argument, NULL, 'w'},
    {"precision", required_argument, NULL, OPT_PRECISION},
    {"max-time", required_argument, NULL, OPT_MAX_TIME},
    {"min-iters", required_argument, NULL, OPT_MIN_ITERS},
    {"max-iters", required_argument, NULL, OPT_MAX_ITERS},
    {"datatype", required_argument, NULL, 'd'},
    {"op", required_argument, NULL, 'o'},
    {"inplace", required_argument, NULL, OPT_INPLACE},
    {"check", required_argument, NULL, 'c'},
    {"samples", no_argument, NULL, OPT_SAMPLES},
    {"per-rank", no_argument, NULL, OPT_PER_RANK},
    {"json", required_argument, NULL, OPT_JSON},
    {"csv", required_argument, NULL, OPT_CSV},
    {"bind", required_argument, NULL, OPT_BIND},
    {"mem-node", required_argument, NULL, OPT_MEM_NODE},
    {"timeout", required_argument, NULL, 'T'},
    {"preflight", required_argument, NULL, OPT_PREFLIGHT},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"level", required_argument, NULL, OPT_LEVEL},
    {"background", required_argument, NULL, OPT_BACKGROUND},
    {"background-bytes", required_argument, NULL, OPT_BACKGROUND_BYTES},
    {"timing", required_argument, NULL, OPT_TIMING},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"graph", required_argument, NULL, OPT_GRAPH},
    {"off-cache", required_argument, NULL, OPT_OFF_CACHE},
    {"sync", required_argument, NULL, OPT_SYNC},
    {"gpus", required_argument, NULL, 'g'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void set_defaults(struct sb_options *o, const char *backend)
{
    *o = (struct sb_options){
        .min_bytes = 8,
        .max_bytes = 64u << 20,
        .step_factor = 2,
        .warmup = 10,
        .precision = 0.02,
        .max_time = 1.0,
        .min_iters = 10,
        .max_iters = 100000,
        .inplace = SB_BOTH_PLACES,
        .check = true,
        .bind = "auto",
        .mem_node = "local",
        .preflight = -1,
        .progress = -1,
        .backend = backend,
        .device = -1,
        .gpus = 1,
        .background_bytes = 1u << 20,
        .timing_mode = -1,
        .batch = 20,
    };
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return 2;
}

/* The end of the decimal number that starts s ("1.5" of "1.5M"): digits and one point only, so
 * strtod's hexadecimal, exponents, "inf" and leading blanks are not sizes. */
static const char *decimal_end(const char *s)
{
    const char *p = s;
    int points = 0;
    while (isdigit((unsigned char)*p) || (*p == '.' && points++ == 0))
        p++;
    return p;
}

int sb_parse_size(const char *s, size_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (errno || end == s || end != decimal_end(s) || !isfinite(v) || v < 0)
        return -1;
    double scale = 1;
    switch (*end) {
    case 'k': case 'K': scale = 1024.0; end++; break;
    case 'm': case 'M': scale = 1024.0 * 1024; end++; break;
    case 'g': case 'G': scale = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': scale = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (scale > 1 && (*end == 'i' || *end == 'I'))
        end++;
    if (*end == 'b' || *end == 'B')
        end++;
    double bytes = v * scale;
    if (*end != '\0' || bytes != floor(bytes) || bytes > (double)(SIZE_MAX / 4))
        return -1;
    *out = (size_t)bytes;
    return 0;
}

const char *sb_format_size(size_t bytes, char *buf, size_t len)
{
    static const char suffix[] = "KMGT";
    if (bytes < 1024 || bytes % 1024 != 0) {
        snprintf(buf, len, "%zu", bytes);
        return buf;
    }
    double v = (double)bytes;
    int i = -1;
    while (v >= 1024 && fmod(v, 1024) == 0 && i < 3) {
        v /= 1024;
        i++;
    }
    snprintf(buf, len, "%.0f%c", v, suffix[i]);
    return buf;
}

int sb_parse_int(const char *s, long lo, long hi, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

int sb_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* "float", "float,half" or "all" into a flag per dtype (or per op). */
static int parse_list(const char *arg, int (*parse_one)(const char *), bool *flags, int count, bool *all)
{
    char buf[256];
    if (strlen(arg) >= sizeof buf)
        return -1;
    strcpy(buf, arg);
    memset(flags, 0, sizeof(bool) * (size_t)count);
    *all = false;
    char *save = NULL;
    int any = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strcasecmp(tok, "all") == 0) {
            *all = true;
            for (int i = 0; i < count; i++)
                flags[i] = true;
        } else {
            int v = parse_one(tok);
            if (v < 0)
                return -1;
            flags[v] = true;
        }
        any = 1;
    }
    return any ? 0 : -1;
}

static int parse_size_list(struct sb_options *o, const char *arg, char *err, size_t errlen)
{
    char buf[4096];
    if (strlen(arg) >= sizeof buf)
        return fail(err, errlen, "--sizes list too long (at most %zu characters)", sizeof buf - 1);
    strcpy(buf, arg);
    o->n_sizes = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t v;
        if (sb_parse_size(tok, &v) != 0 || v == 0)
            return fail(err, errlen, "invalid size '%s' in --sizes: expected positive byte counts like 8,64K,1M", tok);
        if (o->n_sizes == SB_MAX_SIZES)
            return fail(err, errlen, "--sizes lists more than %d sizes", SB_MAX_SIZES);
        o->sizes[o->n_sizes++] = v;
    }
    if (o->n_sizes == 0)
        return fail(err, errlen, "--sizes is empty: expected byte counts like 8,64K,1M");
    return 0;
}

static int parse_one(struct sb_options *o, int c, const char *arg, bool reduces, char *err, size_t errlen)
{
    size_t sz;
    switch (c) {
    case 'b':
    case 'e':
        if (sb_parse_size(arg, &sz) != 0 || sz == 0)
            return fail(err, errlen, "invalid %s '%s': expected a positive size in bytes like 8, 64K, 1M, 2G",
                        c == 'b' ? "--minbytes" : "--maxbytes", arg);
        *(c == 'b' ? &o->min_bytes : &o->max_bytes) = sz;
        return 0;
    case 'f': {
        int f;
        if (sb_parse_int(arg, 2, 1 << 20, &f) != 0)
            return fail(err, errlen, "invalid --stepfactor '%s': expected an integer >= 2", arg);
        o->step_factor = (size_t)f;
        return 0;
    }
    case 'i':
        if (sb_parse_size(arg, &sz) != 0 || sz == 0)
            return fail(err, errlen, "invalid --stepbytes '%s': expected a positive size in bytes", arg);
        o->step_bytes = sz;
        return 0;
    case OPT_SIZES:
        return parse_size_list(o, arg, err, errlen);
    case 'n':
        if (sb_parse_int(arg, 1, 100000000, &o->iters) != 0)
            return fail(err, errlen, "invalid --iters '%s': expected an integer from 1 to 100000000", arg);
        return 0;
    case 'w':
        if (sb_parse_int(arg, 0, 100000000, &o->warmup) != 0)
            return fail(err, errlen, "invalid --warmup '%s': expected an integer >= 0", arg);
        return 0;
    case OPT_PRECISION:
        if (sb_parse_double(arg, 1e-6, 1.0, &o->precision) != 0)
            return fail(err, errlen, "invalid --precision '%s': expected a fraction in (0, 1], e.g. 0.02", arg);
        return 0;
    case OPT_MAX_TIME:
        if (sb_parse_double(arg, 1e-3, 86400, &o->max_time) != 0)
            return fail(err, errlen, "invalid --max-time '%s': expected seconds in [0.001, 86400]", arg);
        return 0;
    case OPT_MIN_ITERS:
    case OPT_MAX_ITERS:
        if (sb_parse_int(arg, 1, 100000000, c == OPT_MIN_ITERS ? &o->min_iters : &o->max_iters) != 0)
            return fail(err, errlen, "invalid %s '%s': expected a positive integer",
                        c == OPT_MIN_ITERS ? "--min-iters" : "--max-iters", arg);
        return 0;
    case 'd': {
        bool all;
        if (parse_list(arg, sb_dtype_parse, o->dtypes, SB_DTYPE_COUNT, &all) != 0)
            return fail(err, errlen, "invalid --datatype '%s': accepted: %s (or a comma list)", arg, sb_dtype_names());
        return 0;
    }
    case 'o':
        if (!reduces)
            return fail(err, errlen, "--op does not apply to this collective (it reduces nothing)");
        if (parse_list(arg, sb_op_parse, o->ops, SB_OP_COUNT, &o->ops_all) != 0)
            return fail(err, errlen, "invalid --op '%s': accepted: %s (or a comma list)", arg, sb_op_names());
        return 0;
    case OPT_INPLACE: {
        int v;
        if (sb_parse_int(arg, 0, 2, &v) != 0)
            return fail(err, errlen, "invalid --inplace '%s': accepted: 0 (out-of-place), 1 (in-place), 2 (both)", arg);
        o->inplace = (enum sb_inplace_mode)v;
        return 0;
    }
    case 'c': {
        int v;
        if (sb_parse_int(arg, 0, 1, &v) != 0)
            return fail(err, errlen, "invalid --check '%s': accepted: 0 (off), 1 (on)", arg);
        o->check = v;
        return 0;
    }
    case OPT_SAMPLES: o->keep_samples = true; return 0;
    case OPT_PER_RANK: o->per_rank = true; return 0;
    case OPT_JSON:
    case OPT_CSV:
        if (!*arg)
            return fail(err, errlen, "empty file name for %s", c == OPT_JSON ? "--json" : "--csv");
        *(c == OPT_JSON ? &o->json_path : &o->csv_path) = arg;
        return 0;
    case OPT_BIND:
        if (strcmp(arg, "none") && strcmp(arg, "core") && strcmp(arg, "numa") && strcmp(arg, "auto"))
            return fail(err, errlen, "invalid --bind '%s': accepted: none, core, numa, auto", arg);
        o->bind = arg;
        o->bind_explicit = true;
        return 0;
    case OPT_MEM_NODE: {
        int node;
        if (strcmp(arg, "local") && strcmp(arg, "interleave") && sb_parse_int(arg, 0, 4095, &node) != 0)
            return fail(err, errlen, "invalid --mem-node '%s': accepted: local, interleave, or a NUMA node number", arg);
        o->mem_node = arg;
        return 0;
    }
    case 'T':
        if (sb_parse_double(arg, 0, 1e6, &o->timeout) != 0)
            return fail(err, errlen, "invalid --timeout '%s': expected seconds >= 0 (0 = none)", arg);
        return 0;
    case OPT_BACKEND:
        if (strcmp(arg, "mpi") != 0 && strcmp(arg, "nccl") != 0)
            return fail(err, errlen, "invalid --backend '%s': accepted: mpi, nccl", arg);
        o->backend = arg;
        return 0;
    case OPT_MEMORY:
        if (strcmp(arg, "host") != 0 && strcmp(arg, "device") != 0 && strcmp(arg, "pinned") != 0)
            return fail(err, errlen, "invalid --memory '%s': accepted: host, device, pinned", arg);
        o->memory = arg;
        return 0;
    case OPT_DEVICE:
        if (sb_parse_int(arg, 0, 1023, &o->device) != 0)
            return fail(err, errlen, "invalid --device '%s': expected a GPU index 0..1023", arg);
        return 0;
    case 'g':
        if (sb_parse_int(arg, 1, 1024, &o->gpus) != 0)
            return fail(err, errlen, "invalid --gpus '%s': expected a GPU count from 1 to 1024", arg);
        return 0;
    case OPT_LEVEL:
        if (strcmp(arg, "node") != 0 && strcmp(arg, "rank") != 0)
            return fail(err, errlen, "invalid --level '%s': accepted: node, rank", arg);
        o->level = arg;
        return 0;
    case OPT_BACKGROUND:
        if (strcmp(arg, "alltoall") != 0)
            return fail(err, errlen, "invalid --background '%s': accepted: alltoall", arg);
        o->background = arg;
        return 0;
    case OPT_BACKGROUND_BYTES:
        if (sb_parse_size(arg, &sz) != 0 || sz == 0)
            return fail(err, errlen, "invalid --background-bytes '%s': expected a positive size in bytes like 1M", arg);
        o->background_bytes = sz;
        return 0;
    case OPT_TIMING:
        o->timing_given = true;
        if (strcmp(arg, "per-call") == 0)
            o->timing_mode = SB_TIME_PER_CALL;
        else if (strcmp(arg, "batch") == 0)
            o->timing_mode = SB_TIME_BATCH;
        else if (strcmp(arg, "both") == 0)
            o->timing_mode = SB_TIME_BOTH;
        else
            return fail(err, errlen, "invalid --timing '%s': accepted: per-call, batch, both", arg);
        return 0;
    case OPT_BATCH:
    case OPT_GRAPH:
        o->timing_given = true;
        if (sb_parse_int(arg, 1, 100000, c == OPT_BATCH ? &o->batch : &o->graph) != 0)
            return fail(err, errlen, "invalid %s '%s': expected a call count from 1 to 100000",
                        c == OPT_BATCH ? "--batch" : "--graph", arg);
        return 0;
    case OPT_OFF_CACHE:
        o->off_cache = 0;
        o->off_cache_auto = strcmp(arg, "auto") == 0;
        if (!o->off_cache_auto && sb_parse_size(arg, &o->off_cache) != 0)
            return fail(err, errlen, "invalid --off-cache '%s': expected a size in bytes like 256M, auto (twice the "
                                     "last-level cache) or 0 (off)", arg);
        return 0;
    case OPT_SYNC:
        if (strcmp(arg, "barrier") != 0 && strcmp(arg, "window") != 0)
            return fail(err, errlen, "invalid --sync '%s': accepted: barrier, window", arg);
        o->sync_window = strcmp(arg, "window") == 0;
        return 0;
    case OPT_PROGRESS:
        if (sb_parse_int(arg, 0, 1, &o->progress) != 0)
            return fail(err, errlen, "invalid --progress '%s': accepted: 0, 1", arg);
        return 0;
    case OPT_PREFLIGHT:
        if (sb_parse_int(arg, 0, 1, &o->preflight) != 0)
            return fail(err, errlen, "invalid --preflight '%s': accepted: 0, 1", arg);
        return 0;
    case 'h': o->help = true; return 0;
    case 'V': o->version = true; return 0;
    default:
        return fail(err, errlen, "unknown option (see --help)");
    }
}

/* Sizes from -b to -e by -f or -i, counted up to SB_MAX_SWEEP + 1 (sizes are at most SIZE_MAX / 4,
 * so adding a step cannot wrap; multiplying is checked first). */
static size_t sweep_length(const struct sb_options *o)
{
    size_t n = 0;
    for (size_t s = o->min_bytes; s <= o->max_bytes && n <= SB_MAX_SWEEP; n++) {
        if (!o->step_bytes && s > o->max_bytes / o->step_factor)
            return n + 1;
        s = o->step_bytes ? s + o->step_bytes : s * o->step_factor;
    }
    return n;
}

static int validate(struct sb_options *o, char *err, size_t errlen)
{
    if (o->n_sizes == 0) {
        if (o->min_bytes > o->max_bytes)
            return fail(err, errlen, "--minbytes (%zu) is larger than --maxbytes (%zu)", o->min_bytes, o->max_bytes);
        if (sweep_length(o) > SB_MAX_SWEEP)
            return fail(err, errlen, "--minbytes %zu to --maxbytes %zu by %s %zu is more than %d sizes: use a larger step "
                        "or a narrower range", o->min_bytes, o->max_bytes, o->step_bytes ? "--stepbytes" : "--stepfactor",
                        o->step_bytes ? o->step_bytes : o->step_factor, SB_MAX_SWEEP);
    }
    if (o->min_iters > o->max_iters)
        return fail(err, errlen, "--min-iters (%d) is larger than --max-iters (%d)", o->min_iters, o->max_iters);
    if (o->json_path && o->csv_path && strcmp(o->json_path, o->csv_path) == 0)
        return fail(err, errlen, "--json and --csv both name '%s': give them different files", o->json_path);
    return 0;
}

int sb_options_parse(struct sb_options *o, bool reduces, int argc, char **argv, char *err, size_t errlen)
{
    return sb_options_parse_for(o, reduces, "mpi", argc, argv, err, errlen);
}

/* --off-cache and --sync window drive each call from the host: they need buffers the host can
 * address and one call per sample; they make the timing per-call.  0, or 2 with err. */
static int host_clock_per_call(struct sb_options *o, const char *opt, const char *why_host, const char *why_alone,
                               char *err, size_t errlen)
{
    if (strcmp(o->memory, "device") == 0)
        return fail(err, errlen, "%s %s: host or pinned memory, not device memory", opt, why_host);
    if (o->graph > 0 || o->timing_mode == SB_TIME_BATCH || o->timing_mode == SB_TIME_BOTH)
        return fail(err, errlen, "%s %s does not go with --timing batch|both or --graph", opt, why_alone);
    o->timing_mode = SB_TIME_PER_CALL;
    return 0;
}

int sb_options_parse_for(struct sb_options *o, bool reduces, const char *default_backend, int argc, char **argv,
                         char *err, size_t errlen)
{
    set_defaults(o, default_backend);
    bool dtype_given = false, op_given = false, range_given = false, adaptive_given = false, iters_given = false;
    opterr = 0; /* errors are reported once, by rank 0, with our own words */
    optind = 1;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":b:e:f:i:n:w:d:o:c:T:g:hV", long_options, NULL)) != -1) {
        if (c == '?') {
            if (optopt)
                return fail(err, errlen, "unknown option '-%c' (see --help)", optopt);
            return fail(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
        }
        if (c == ':')
            return fail(err, errlen, "option '%s' needs a value (see --help)", argv[optind - 1]);
        if ((rc = parse_one(o, c, optarg, reduces, err, errlen)) != 0)
            return rc;
        dtype_given |= c == 'd';
        op_given |= c == 'o';
        range_given |= c == 'b' || c == 'e' || c == 'f' || c == 'i';
        adaptive_given |= c == OPT_PRECISION || c == OPT_MAX_TIME || c == OPT_MIN_ITERS || c == OPT_MAX_ITERS;
        iters_given |= c == 'n';
    }
    if (range_given && o->n_sizes > 0)
        return fail(err, errlen, "--sizes lists every size: it does not go with -b, -e, -f or -i");
    if (iters_given && adaptive_given)
        return fail(err, errlen, "-n fixes the iteration count: it does not go with --precision, --max-time, "
                                 "--min-iters or --max-iters (the adaptive count)");
    if (optind < argc)
        return fail(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!dtype_given)
        o->dtypes[SB_FLOAT] = true;
    if (!op_given)
        o->ops[SB_SUM] = true;
    if (!o->memory)
        o->memory = strcmp(o->backend, "nccl") == 0 ? "device" : "host";
    if (o->graph > 0) {
        if (o->timing_mode == SB_TIME_PER_CALL)
            return fail(err, errlen, "--graph N times batches of N calls: it does not go with --timing per-call");
        o->batch = o->graph;
    }
    if ((o->off_cache || o->off_cache_auto) &&
        host_clock_per_call(o, "--off-cache", "cycles host-addressable buffers",
                            "gives each timed call the next buffers: it times each call alone and", err, errlen))
        return 2;
    if (o->sync_window && host_clock_per_call(o, "--sync window", "starts calls by the host clock",
                                              "starts each call at its own instant: it", err, errlen))
        return 2;
    if (o->timing_mode < 0) /* GPUs: nccl-tests' pipelined number beside the blocking one */
        o->timing_mode = strcmp(o->memory, "device") == 0 || o->graph > 0 ? SB_TIME_BOTH : SB_TIME_PER_CALL;
    return validate(o, err, errlen);
}

void sb_options_usage(const char *prog, const char *title, bool reduces, bool pairwise, FILE *out)
{
    fprintf(out,
        "Usage: mpirun -np N %s [options]   (one rank per core, or per GPU with --backend nccl)\n"
        "       %s -g N [options]   (a build without MPI: one process driving N GPUs)\n"
        "Measures %s latency and bandwidth per message size, verifying every result exactly.\n\n"
        "Sizes (bytes; K, M, G, T are binary: 1K = 1024):\n"
        "  -b, --minbytes SIZE     smallest size (default 8)\n"
        "  -e, --maxbytes SIZE     largest size (default 64M)\n"
        "  -f, --stepfactor N      multiply the size by N each step (default 2)\n"
        "  -i, --stepbytes SIZE    add SIZE each step instead of multiplying\n"
        "      --sizes LIST        explicit comma list (8,1K,1M) instead of -b/-e\n"
        "Iterations:\n"
        "  -n, --iters N           fixed count per size (default: adaptive)\n"
        "  -w, --warmup N          untimed calls before timing (default 10)\n"
        "      --precision F       adaptive: stop when the median's 95%% interval half-width\n"
        "                          is below F of the median (default 0.02)\n"
        "      --max-time S        adaptive: time budget per size in seconds (default 1)\n"
        "      --min-iters N, --max-iters N   adaptive bounds (default 10, 100000)\n"
        "Data:\n"
        "  -d, --datatype LIST     %s (default float)\n",
        prog, prog, title, sb_dtype_names());
    if (reduces)
        fprintf(out, "  -o, --op LIST           %s (default sum); avg is NCCL's ncclAvg\n"
                     "                          (MPI has none: all means the other four there)\n", sb_op_names());
    if (pairwise)
        fprintf(out,
            "Pairs:\n"
            "      --level node|rank   pair whole nodes (every local rank k with local rank k of the\n"
            "                          peer node) or single ranks (default: node when the job spans\n"
            "                          several nodes, else rank); round-robin, each pair once\n");
    fprintf(out,
        "      --inplace 0|1|2     out-of-place, in-place, both (default 2)\n"
        "  -c, --check 0|1         exact verification after timing (default 1)\n"
        "Output (rank 0 writes; '-' is stdout):\n"
        "      --json FILE         JSON Lines: run header, one record per size, summary\n"
        "      --csv FILE          one CSV row per size\n"
        "      --samples           keep every iteration's time in the JSON records\n"
        "      --per-rank          each rank's own min/median/p99 per point, and the ranks that\n"
        "                          are consistently slower than the others (stragglers)\n"
        "Placement and robustness:\n"
        "      --bind MODE         none, core, numa, auto (default auto)\n"
        "      --mem-node WHERE    local, interleave, or a NUMA node (default local)\n"
        "  -T, --timeout S         abort a call that takes longer than S seconds (default off)\n"
        "      --preflight 0|1     check every rank reaches every other first (default: multi-node)\n"
        "Backend:\n"
        "      --backend mpi|nccl  MPI (default), or NCCL on GPU memory (the only one, and the\n"
        "                          default, in builds without MPI)\n"
        "      --memory WHERE      host, device or pinned (cudaMallocHost); default: host for mpi,\n"
        "                          device for nccl. mpi on device: CUDA-aware MPI, else staged through\n"
        "                          pinned host copies inside the timed call (SB_MPI_CUDA_AWARE=0|1)\n"
        "      --device N          GPU to use (default: local rank modulo the visible GPUs)\n"
        "  -g, --gpus N            builds without MPI: this one process drives N GPUs, one thread\n"
        "                          (rank) per GPU, GPU k for thread k (default 1)\n"
        "      --background alltoall  congestion impact: half of the ranks (the odd ones) run\n"
        "                          all-to-all back to back while the even ones measure, once\n"
        "                          alone and once with that traffic; records carry the ratio\n"
        "      --background-bytes SIZE  the background all-to-all's size per rank (default 1M)\n"
        "      --timing MODE       per-call (each call timed alone), batch (--batch calls back to\n"
        "                          back, one synchronisation, time / calls), or both (default: both\n"
        "                          on device memory, per-call on host memory)\n"
        "      --batch N           calls per batch (default 20, as nccl-tests' -n)\n"
        "      --graph N           NCCL: the batch is N calls captured in a CUDA graph\n"
        "      --off-cache SIZE|auto  each call uses the next slot of a SIZE region of buffers per\n"
        "                          rank, so no call finds its data in a cache the last one warmed\n"
        "                          (IMB's -off_cache); auto = twice the last-level cache; default 0:\n"
        "                          the same buffers every call, as nccl-tests and OSU\n"
        "      --sync barrier|window  how an iteration starts: after a barrier (default), or\n"
        "                          window: clocks aligned to rank 0 by ping-pong, every rank\n"
        "                          starts iteration k at the agreed instant T0 + k x window\n"
        "      --progress 0|1      progress line on stderr (default: when stderr is a terminal;\n"
        "                          mpirun hands ranks a pipe, so say --progress 1 there)\n"
        "  -h, --help, -V, --version\n\n"
        "Timed: per iteration, a barrier then one call on every rank; an iteration's time is the\n"
        "maximum over ranks. Exit: 0 ok, 1 wrong results or failed calls, 2 bad usage.\n");
}
