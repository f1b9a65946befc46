/* sb_topo: the machine as scalebench sees it -- packages, NUMA nodes, cores, GPUs and NICs with
 * their locality, the GPU-NIC affinity matrix -- and, under mpirun, where every rank is bound
 * and where its memory lands.  Rank 0 prints; exit 0, or 2 with one line on stderr. */
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "memory.h"
#include "options.h"
#include "revision.h"
#include "sysinfo.h"
#include "stdout_status.h"
#include "topo.h"

#define ERRLEN 512
#define RANK_JSON_LEN 16384 /* one rank's record, gathered to rank 0 */
#define CHECK_OUT_LEN 2048

struct topo_opts {
    int json, gpus, help, version;
    enum sb_bind_mode bind;
    int bind_given;
    int mem_given;
    struct sb_mem_policy mem;
    size_t mem_bytes;
    const char *exec_check;
    const char *input;
    int plan; /* ranks to plan for (0: apply to the real ranks) */
};

static void usage(FILE *out)
{
    fputs("Usage: sb_topo [options]                (or: mpirun -np N sb_topo [options])\n"
          "Prints the machine as scalebench sees it: packages, NUMA nodes, cores, GPUs and NICs\n"
          "with their locality, the GPU-NIC affinity matrix (PCIe paths, as nvidia-smi topo -m),\n"
          "and one line per rank: the cores, NUMA node and devices it runs on.\n"
          "\n"
          "  --bind MODE         auto (default), core, numa or none; see below\n"
          "  --gpus              ranks drive GPUs (local rank i -> GPU i mod GPUs): bind near them\n"
          "  --mem-node POLICY   allocate a buffer per rank: local, interleave or a NUMA node\n"
          "                      number, and report where its pages really are\n"
          "  --mem-bytes SIZE    size of that buffer (default 64M; K, M, G suffixes)\n"
          "  --plan N            show the binding N ranks on this node would get; bind nothing\n"
          "  --input FILE.xml    describe a saved hwloc topology (lstopo --of xml) instead of this\n"
          "                      machine; implies --plan (default 1 rank)\n"
          "  --exec-check CMD    diagnostic: each rank runs CMD (sh -c) once bound and allocated\n"
          "                      and reports its output; $PPID in CMD is the rank's process id\n"
          "                      (for example 'hwloc-bind --get' or 'grep N0= /proc/$PPID/numa_maps')\n"
          "  --json              print one JSON object instead of text\n"
          "  -h, --help          this text;  -V, --version  the version\n"
          "\n"
          "Binding (--bind):\n"
          "  auto  one core per rank, ranks spread round-robin over NUMA nodes, the nodes taken\n"
          "        in turn from each package; with --gpus, the cores local to the rank's GPU.\n"
          "        A binding the launcher already applied (mpirun --bind-to, srun --cpu-bind,\n"
          "        taskset) is kept unless --bind is given explicitly.\n"
          "  core  one core per rank, in order;   numa  a whole NUMA node per rank, in order;\n"
          "  none  no binding by scalebench.\n",
          out);
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return 2;
}

static int parse_flag(struct topo_opts *o, int c)
{
    switch (c) {
    case 'j': o->json = 1; return 1;
    case 'g': o->gpus = 1; return 1;
    case 'h': o->help = 1; return 1;
    case 'V': o->version = 1; return 1;
    default: return 0;
    }
}

static int parse_value(struct topo_opts *o, int c, const char *arg, char *err, size_t errlen)
{
    switch (c) {
    case 'b':
        if ((int)(o->bind = (enum sb_bind_mode)sb_bind_mode_parse(arg)) < 0)
            return fail(err, errlen, "invalid --bind '%s' (expected auto, core, numa or none)", arg);
        o->bind_given = 1;
        return 0;
    case 'm':
        o->mem_given = 1;
        return sb_mem_policy_parse(arg, &o->mem, err, errlen);
    case 's':
        if (sb_parse_size(arg, &o->mem_bytes) != 0 || o->mem_bytes == 0)
            return fail(err, errlen, "invalid --mem-bytes '%s' (expected a size such as 64M)", arg);
        return 0;
    case 'p': {
        char *end = NULL;
        long n = strtol(arg, &end, 10);
        if (!*arg || *end || n < 1 || n > 65536)
            return fail(err, errlen, "invalid --plan '%s' (expected a rank count from 1 to 65536)", arg);
        o->plan = (int)n;
        return 0;
    }
    case 'x': o->exec_check = arg; return 0;
    case 'i': o->input = arg; return 0;
    default: return fail(err, errlen, "unknown option (see --help)");
    }
}

static int parse_options(struct topo_opts *o, int argc, char **argv, char *err, size_t errlen)
{
    static const struct option longs[] = {
        {"bind", required_argument, NULL, 'b'},   {"gpus", no_argument, NULL, 'g'},
        {"mem-node", required_argument, NULL, 'm'}, {"mem-bytes", required_argument, NULL, 's'},
        {"plan", required_argument, NULL, 'p'},   {"input", required_argument, NULL, 'i'},
        {"exec-check", required_argument, NULL, 'x'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->mem_bytes = 64 << 20;
    opterr = 0; /* errors are reported once, by rank 0, in our words */
    optind = 1;
    for (int c, rc; (c = getopt_long(argc, argv, ":hV", longs, NULL)) != -1;) {
        if (c == '?' && optopt)
            return fail(err, errlen, "unknown option '-%c' (see --help)", optopt);
        if (c == '?')
            return fail(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
        if (c == ':')
            return fail(err, errlen, "option '%s' needs a value (see --help)", argv[optind - 1]);
        if (!parse_flag(o, c) && (rc = parse_value(o, c, optarg, err, errlen)))
            return rc;
    }
    if (optind < argc)
        return fail(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
    if (o->input && !o->plan)
        o->plan = 1;
    if (o->plan && (o->mem_given || o->exec_check))
        return fail(err, errlen, "%s needs real ranks: it cannot be combined with --plan or --input",
                    o->mem_given ? "--mem-node" : "--exec-check");
    return 0;
}

/* ------------------------------------------------------------------ text output (rank 0) */

static const char *plural(long long n) { return n == 1 ? "" : "s"; }

/* "0,1" from a JSON array of integers. */
static void int_list(json_t *a, char *buf, size_t len)
{
    size_t i, used = 0;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(a, i, v) if (used < len) used += (size_t)snprintf(buf + used, len - used, "%s%lld",
                                                                         i ? "," : "", json_integer_value(v));
}

static long long count_of(json_t *m, const char *key) { return json_integer_value(json_object_get(m, key)); }

static void print_machine(json_t *m)
{
    char hwloc[64], nodes[256];
    sb_hwloc_version(hwloc, sizeof hwloc);
    printf("# scalebench %s sb_topo: %s (hwloc %s)\n", PACKAGE_VERSION,
           json_string_value(json_object_get(m, "host")), hwloc);
    long long np = count_of(m, "package_count"), nn = count_of(m, "numa_node_count");
    long long nc = count_of(m, "core_count"), nu = count_of(m, "pu_count");
    printf("Machine: %lld package%s, %lld NUMA node%s, %lld core%s, %lld PU%s (allowed PUs %s)\n", np, plural(np),
           nn, plural(nn), nc, plural(nc), nu, plural(nu), json_string_value(json_object_get(m, "allowed_pus")));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(m, "packages"), i, p) {
        const char *model = json_string_value(json_object_get(p, "model"));
        int_list(json_object_get(p, "numa_nodes"), nodes, sizeof nodes);
        printf("  package %lld: NUMA nodes %s; cores %s; PUs %s%s%s\n", count_of(p, "index"), nodes,
               json_string_value(json_object_get(p, "cores")), json_string_value(json_object_get(p, "pus")),
               model && *model ? "; " : "", model ? model : "");
    }
    json_array_foreach(json_object_get(m, "numa_nodes"), i, p) {
        json_t *pkg = json_object_get(p, "package");
        char where[32] = "-";
        if (!json_is_null(pkg))
            snprintf(where, sizeof where, "%lld", json_integer_value(pkg));
        printf("  NUMA node %lld: package %s; cores %s; PUs %s; %.1f GiB\n", count_of(p, "os_index"), where,
               json_string_value(json_object_get(p, "cores")), json_string_value(json_object_get(p, "pus")),
               (double)count_of(p, "memory_bytes") / (1 << 30));
    }
}

static void print_device(const char *label, int i, const struct sb_topo_device *d)
{
    char pkg[16] = "-";
    if (d->package >= 0)
        snprintf(pkg, sizeof pkg, "%d", d->package);
    printf("  %s%-3d %-14s %-13s PCI %-13s NUMA %-5s package %-3s PUs %-16s %s%s%s%s\n", label, i, d->name, d->kind,
           d->pci[0] ? d->pci : "-", d->numa_nodes[0] ? d->numa_nodes : "-", pkg, d->local_pus, d->model,
           d->aliases[0] ? " (also " : "", d->aliases, d->aliases[0] ? ")" : "");
}

static void print_devices(struct sb_topo *t)
{
    struct sb_topo_device d;
    if (sb_topo_gpu_count(t) == 0)
        printf("GPUs: no GPU found\n");
    else
        printf("GPUs: %d\n", sb_topo_gpu_count(t));
    for (int i = 0; sb_topo_gpu(t, i, &d) == 0; i++)
        print_device("GPU", i, &d);
    if (sb_topo_nic_count(t) == 0)
        printf("NICs: none found\n");
    else
        printf("NICs: %d\n", sb_topo_nic_count(t));
    for (int i = 0; sb_topo_nic(t, i, &d) == 0; i++)
        print_device("NIC", i, &d);
}

static void print_affinity(struct sb_topo *t)
{
    int ng = sb_topo_gpu_count(t), nn = sb_topo_nic_count(t);
    if (ng == 0) {
        printf("GPU-NIC affinity: no GPU found\n");
        return;
    }
    if (nn == 0) {
        printf("GPU-NIC affinity: no NIC found\n");
        return;
    }
    printf("GPU-NIC affinity (PCIe path, as nvidia-smi topo -m):\n%-8s", "");
    for (int n = 0; n < nn; n++)
        printf("NIC%-5d", n);
    printf("CPU affinity      NUMA\n");
    for (int g = 0; g < ng; g++) {
        struct sb_topo_device d;
        sb_topo_gpu(t, g, &d);
        printf("GPU%-5d", g);
        for (int n = 0; n < nn; n++)
            printf("%-8s", sb_topo_gpu_nic_path(t, g, n));
        printf("%-18s%s\n", d.local_pus, d.numa_nodes);
    }
    printf("Legend: PIX = at most one PCIe switch; PXB = several PCIe bridges, no host bridge;\n"
           "        PHB = through a PCIe host bridge; NODE = between host bridges of one NUMA node;\n"
           "        SYS = across NUMA nodes or sockets (inter-socket link).  NVLink is not shown.\n");
}

/* ------------------------------------------------------------------ one rank */

/* Runs CMD through the shell; its output, lines joined by " | ", into out. */
static void exec_check(const char *cmd, char *out, size_t len)
{
    char raw[CHECK_OUT_LEN / 2];
    FILE *p = popen(cmd, "r");
    if (!p) {
        snprintf(out, len, "(cannot run)");
        return;
    }
    size_t n = fread(raw, 1, sizeof raw - 1, p), used = 0;
    while (fgetc(p) != EOF) /* drain, so the command never blocks on a full pipe */
        ;
    int st = pclose(p);
    while (n > 0 && raw[n - 1] == '\n')
        n--;
    raw[n] = '\0';
    out[0] = '\0';
    for (char *line = strtok(raw, "\n"); line && used < len; line = strtok(NULL, "\n"))
        used += (size_t)snprintf(out + used, len - used, "%s%s", used ? " | " : "", line);
    if (st != 0 && used < len)
        snprintf(out + used, len - used, " (exit status %d)", st);
}

/* The rank's record: topology, memory placement, check output; fits RANK_JSON_LEN. */
static char *rank_record(struct sb_topo *t, const struct sb_comm *c, const struct sb_binding *b, json_t *mem,
                         const char *check)
{
    char line[2048];
    json_t *o = sb_topo_rank_json(t, b);
    sb_topo_rank_summary(t, b, line, sizeof line);
    json_object_set_new(o, "rank", json_integer(c->rank));
    json_object_set_new(o, "local_rank", json_integer(c->local_rank));
    json_object_set_new(o, "node", json_integer(c->node));
    json_object_set_new(o, "summary", json_string(line));
    if (mem)
        json_object_set_new(o, "memory", mem);
    if (check)
        json_object_set_new(o, "exec_check", json_string(check));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s && strlen(s) >= RANK_JSON_LEN) { /* a huge machine: drop the device lists */
        free(s);
        json_object_del(o, "near_gpus");
        json_object_del(o, "near_nics");
        json_object_set_new(o, "truncated", json_true());
        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    }
    json_decref(o);
    return s;
}

static int run_rank(struct sb_topo *t, const struct topo_opts *o, const struct sb_comm *c, char **record, char *err,
                    size_t errlen)
{
    struct sb_binding b;
    int gpu = o->gpus && sb_topo_gpu_count(t) > 0 ? c->local_rank % sb_topo_gpu_count(t) : -1;
    int rc = sb_topo_apply_binding(t, o->bind, o->bind_given, c->local_rank, c->local_size, gpu, &b, err, errlen);
    void *buf = NULL;
    if (rc == 0 && o->mem_given && !(buf = sb_mem_alloc(&o->mem, o->mem_bytes, err, errlen)))
        rc = 2;
    if (rc == 0) {
        char check[CHECK_OUT_LEN];
        if (o->exec_check)
            exec_check(o->exec_check, check, sizeof check);
        json_t *mem = buf ? sb_mem_placement_json(&o->mem, buf, o->mem_bytes) : NULL;
        if (mem)
            json_object_set_new(mem, "bytes", json_integer((json_int_t)o->mem_bytes));
        *record = rank_record(t, c, &b, mem, o->exec_check ? check : NULL);
    }
    sb_mem_free(buf, o->mem_bytes);
    return rc;
}

static void print_rank_line(json_t *r)
{
    json_t *mem = json_object_get(r, "memory"), *check = json_object_get(r, "exec_check");
    printf("  rank %lld (node %lld, local %lld): %s\n", json_integer_value(json_object_get(r, "rank")),
           json_integer_value(json_object_get(r, "node")), json_integer_value(json_object_get(r, "local_rank")),
           json_string_value(json_object_get(r, "summary")));
    if (mem)
        printf("    memory (%s, %lld bytes): %s\n", json_string_value(json_object_get(mem, "policy")),
               json_integer_value(json_object_get(mem, "bytes")), json_string_value(json_object_get(mem, "report")));
    if (check)
        printf("    exec-check: %s\n", json_string_value(check));
}

/* ------------------------------------------------------------------ the whole job */

static json_t *planned_ranks(struct sb_topo *t, const struct topo_opts *o, char *err, size_t errlen)
{
    json_t *ranks = json_array();
    struct sb_comm fake = {0};
    for (int r = 0; r < o->plan; r++) {
        struct sb_binding b;
        int gpu = o->gpus && sb_topo_gpu_count(t) > 0 ? r % sb_topo_gpu_count(t) : -1;
        if (sb_topo_plan_binding(t, o->bind, r, o->plan, gpu, &b, err, errlen)) {
            json_decref(ranks);
            return NULL;
        }
        fake.rank = fake.local_rank = r;
        char *s = rank_record(t, &fake, &b, NULL, NULL);
        json_array_append_new(ranks, s ? json_loads(s, 0, NULL) : json_null());
        free(s);
    }
    return ranks;
}

static json_t *gathered_ranks(const struct sb_comm *c, const char *mine)
{
    char *all = c->rank == 0 ? calloc((size_t)c->size, RANK_JSON_LEN) : NULL;
    if (c->rank == 0 && !all)
        return NULL;
    int rc = sb_comm_gather_strings(c, mine ? mine : "null", all, RANK_JSON_LEN);
    json_t *ranks = c->rank == 0 && rc == 0 ? json_array() : NULL;
    for (int r = 0; ranks && r < c->size; r++) {
        json_t *one = json_loads(all + (size_t)r * RANK_JSON_LEN, 0, NULL);
        json_array_append_new(ranks, one ? one : json_null());
    }
    free(all);
    return ranks;
}

static void print_report(struct sb_topo *t, const struct topo_opts *o, json_t *ranks, int nodes)
{
    json_t *m = sb_topo_machine_json(t);
    if (o->json) {
        json_t *doc = json_pack("{s:s, s:s, s:s, s:b, s:o, s:O}", "type", "topology", "bind",
                                sb_bind_mode_name(o->bind), "ranks_are", o->plan ? "planned" : "bound", "gpus",
                                o->gpus, "machine", m, "ranks", ranks);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(doc);
        return;
    }
    print_machine(m);
    print_devices(t);
    print_affinity(t);
    printf("\nRanks: %zu %s on %d node%s (--bind %s%s%s):\n", json_array_size(ranks),
           o->plan ? "planned" : "running", nodes, nodes == 1 ? "" : "s", sb_bind_mode_name(o->bind),
           o->bind_given ? "" : ", default", o->gpus ? ", --gpus" : "");
    size_t i;
    json_t *r;
    json_array_foreach(ranks, i, r) print_rank_line(r);
    if (nodes > 1)
        printf("(the machine above is rank 0's node; the rank lines name each rank's host)\n");
    json_decref(m);
}

/* Agrees on the worst return code; rank 0 says why in one line. */
static int agree(const struct sb_comm *c, int rc, const char *err)
{
    int worst = sb_comm_max_int(c, rc);
    if (worst && c->rank == 0)
        fprintf(stderr, "sb_topo: %s\n", rc ? err : "failed on another rank (run it there alone to see why)");
    return worst;
}

static int run(const struct sb_comm *c, const struct topo_opts *o)
{
    char err[ERRLEN] = "";
    struct sb_topo *t = NULL;
    int rc = agree(c, sb_topo_open(&t, o->input, err, sizeof err), err);
    if (rc == 0 && o->mem_given)
        rc = agree(c, sb_mem_policy_check(&o->mem, err, sizeof err), err);
    if (rc == 0 && o->plan) {
        json_t *ranks = c->rank == 0 ? planned_ranks(t, o, err, sizeof err) : NULL;
        rc = agree(c, c->rank == 0 && !ranks ? 2 : 0, err);
        if (rc == 0 && c->rank == 0)
            print_report(t, o, ranks, 1);
        json_decref(ranks);
    } else if (rc == 0) {
        char *mine = NULL;
        rc = agree(c, run_rank(t, o, c, &mine, err, sizeof err), err);
        json_t *ranks = rc == 0 ? gathered_ranks(c, mine) : NULL;
        if (rc == 0 && c->rank == 0)
            print_report(t, o, ranks, c->nodes);
        json_decref(ranks);
        free(mine);
    }
    sb_topo_close(t);
    return rc;
}

int main(int argc, char **argv)
{
    struct sb_comm comm;
    struct topo_opts o;
    char err[ERRLEN] = "";
    int rc = sb_comm_init(&comm, &argc, &argv, 0, err, sizeof err);
    if (rc) {
        if (err[0]) /* empty on the processes that leave the explanation to the first */
            fprintf(stderr, "sb_topo: %s\n", err);
        sb_comm_finalize(&comm);
        return rc;
    }
    rc = parse_options(&o, argc, argv, err, sizeof err);
    if (rc && comm.rank == 0)
        fprintf(stderr, "sb_topo: %s\n", err);
    else if (!rc && o.help && comm.rank == 0)
        usage(stdout);
    else if (!rc && o.version && comm.rank == 0)
        printf("scalebench %s (%s)\n", PACKAGE_VERSION, SB_GIT_REVISION);
    else if (!rc && !o.help && !o.version)
        rc = run(&comm, &o);
    rc = sb_stdout_status("sb_topo", rc);
    sb_comm_finalize(&comm);
    return rc;
}
