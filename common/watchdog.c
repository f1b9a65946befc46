/* The hang watchdog; see watchdog.h. */
#include "watchdog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sysinfo.h"

#define POLL_S 0.05         /* how often the thread looks */
#define BUSY_WINDOW_S 0.5   /* CPU use of the main thread is measured over this long */
#define COLLECT_S 3.0       /* rank 0 waits this long for the other ranks' reports */
#define LONE_ABORT_S 15.0   /* a rank that reported but was not ended by rank 0 ends the job */
#define MSGLEN 1024

struct sb_watchdog {
    pthread_t thread;
    clockid_t main_clock; /* CPU-time clock of the main thread */
    struct sb_comm *comm;
    const char *prog;
    double timeout;
    sb_watchdog_report_fn report;
    void *arg;
    atomic_int_least64_t progress_ns; /* monotonic time of the last progress */
    atomic_int armed, stop;
    pthread_mutex_t lock; /* guards what/bytes */
    char what[256];
    size_t bytes;
    char host[64];
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static double cpu_seconds(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0)
        return -1.0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int stalled(struct sb_watchdog *w, double *seconds)
{
    if (!atomic_load(&w->armed))
        return 0;
    *seconds = (double)(now_ns() - atomic_load(&w->progress_ns)) * 1e-9;
    return *seconds > w->timeout;
}

/* This rank's report: where it is stuck and whether its main thread is using the CPU. */
static json_t *own_report(struct sb_watchdog *w, double stalled_s)
{
    double c0 = cpu_seconds(w->main_clock);
    sleep_s(BUSY_WINDOW_S);
    double c1 = cpu_seconds(w->main_clock);
    double busy = (c0 >= 0 && c1 >= 0) ? (c1 - c0) / BUSY_WINDOW_S : -1.0;
    pthread_mutex_lock(&w->lock);
    json_t *o = json_pack("{s:i, s:s, s:s, s:I, s:f, s:f}", "rank", w->comm->rank, "host", w->host, "what", w->what,
                          "bytes", (json_int_t)w->bytes, "stalled_s", stalled_s + BUSY_WINDOW_S, "cpu_busy",
                          busy > 1.0 ? 1.0 : busy);
    pthread_mutex_unlock(&w->lock);
    return o;
}

static void append_rank(char *buf, size_t len, json_t *r)
{
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, "%srank %lld (%s, %lld bytes, %.1f s, cpu %.0f%%)", used ? ", " : "",
             json_integer_value(json_object_get(r, "rank")), json_string_value(json_object_get(r, "host")),
             json_integer_value(json_object_get(r, "bytes")), json_real_value(json_object_get(r, "stalled_s")),
             100.0 * json_real_value(json_object_get(r, "cpu_busy")));
}

/* Rank 0: the error record from the reports (indexed by rank; NULL = no report). */
static json_t *error_record(struct sb_watchdog *w, json_t **reports, char *lines, size_t len)
{
    int n = w->comm->size;
    json_t *stuck = json_array(), *idle = json_array(), *silent = json_array();
    char not_finished[4096] = "", idle_list[1024] = "", silent_list[1024] = "";
    double busiest = 0.0;
    for (int r = 0; r < n; r++) {
        double busy = reports[r] ? json_real_value(json_object_get(reports[r], "cpu_busy")) : 0.0;
        busiest = busy > busiest ? busy : busiest;
    }
    for (int r = 0; r < n; r++) {
        if (!reports[r]) {
            json_array_append_new(silent, json_integer(r));
            size_t u = strlen(silent_list);
            snprintf(silent_list + u, sizeof silent_list - u, "%s%d", u ? ", " : "", r);
            continue;
        }
        json_array_append(stuck, reports[r]);
        append_rank(not_finished, sizeof not_finished, reports[r]);
        double busy = json_real_value(json_object_get(reports[r], "cpu_busy"));
        if (sb_watchdog_looks_idle(busy, busiest)) {
            json_array_append_new(idle, json_integer(r));
            size_t u = strlen(idle_list);
            snprintf(idle_list + u, sizeof idle_list - u, "%s%d (%s)", u ? ", " : "", r,
                     json_string_value(json_object_get(reports[r], "host")));
        }
    }
    pthread_mutex_lock(&w->lock);
    snprintf(lines, len,
             "%s: timeout: no progress for %g s (-T) in %s\n"
             "%s: not finished: %s\n"
             "%s: idle in the call (main thread below %.0f%% CPU and a quarter of the busiest's while the others poll; likely the cause): %s\n"
             "%s: sent no report (finished the call, or unreachable): %s\n"
             "%s: aborting the job with exit code 1; the records written before stay valid\n",
             w->prog, w->timeout, w->what, w->prog, not_finished, w->prog, 100.0 * SB_WATCHDOG_IDLE_BELOW,
             idle_list[0] ? idle_list : "none", w->prog, silent_list[0] ? silent_list : "none", w->prog);
    json_t *o = json_pack("{s:s, s:s, s:f, s:s, s:I, s:o, s:o, s:o}", "error", "timeout", "message", lines,
                          "timeout_s", w->timeout, "what", w->what, "bytes", (json_int_t)w->bytes, "not_finished",
                          stuck, "idle_ranks", idle, "no_report_ranks", silent);
    pthread_mutex_unlock(&w->lock);
    return o;
}

/* Rank 0: collects reports until all ranks sent one or COLLECT_S passed, then ends the job. */
static void conclude(struct sb_watchdog *w, json_t **reports)
{
    double end = (double)now_ns() * 1e-9 + COLLECT_S;
    char msg[MSGLEN];
    int from, have = 0;
    for (int r = 0; r < w->comm->size; r++)
        have += reports[r] != NULL;
    double seconds;
    while (w->comm->threads && have < w->comm->size && (double)now_ns() * 1e-9 < end) {
        if (!reports[0] && stalled(w, &seconds)) { /* rank 0 itself stuck too, a moment later */
            reports[0] = own_report(w, seconds);
            have++;
        } else if (sb_comm_side_poll(w->comm, msg, sizeof msg, &from) && from >= 0 && from < w->comm->size &&
            !reports[from]) {
            reports[from] = json_loads(msg, 0, NULL);
            have += reports[from] != NULL;
        } else {
            sleep_s(POLL_S);
        }
    }
    char lines[8192];
    json_t *rec = error_record(w, reports, lines, sizeof lines);
    fputs(lines, stderr);
    fflush(stderr);
    if (w->report)
        w->report(rec, w->arg);
    json_decref(rec);
    sb_comm_abort(w->comm, 1);
}

static void *watch(void *arg)
{
    struct sb_watchdog *w = arg;
    int n = w->comm->size, rank0 = w->comm->rank == 0;
    json_t **reports = calloc((size_t)n, sizeof *reports);
    double fired_at = 0, seconds;
    char msg[MSGLEN];
    int from;
    while (reports && !atomic_load(&w->stop)) {
        sleep_s(POLL_S);
        int first_news = rank0 && w->comm->threads && sb_comm_side_poll(w->comm, msg, sizeof msg, &from);
        if (first_news && from >= 0 && from < n)
            reports[from] = json_loads(msg, 0, NULL);
        if (!fired_at && stalled(w, &seconds)) {
            fired_at = (double)now_ns() * 1e-9;
            json_t *mine = own_report(w, seconds);
            if (rank0) {
                reports[0] = mine;
            } else {
                char *text = json_dumps(mine, JSON_COMPACT);
                if (w->comm->threads && text)
                    sb_comm_side_send(w->comm, text);
                fprintf(stderr, "%s: rank %d: timeout: no progress for %.3g s: %s\n", w->prog, w->comm->rank,
                        seconds, text ? text : "");
                free(text);
                json_decref(mine);
            }
        }
        if (rank0 && (first_news || reports[0]))
            conclude(w, reports); /* does not return */
        if (fired_at && (double)now_ns() * 1e-9 - fired_at > LONE_ABORT_S) {
            fprintf(stderr, "%s: rank %d: rank 0 did not end the hung job; ending it from here\n", w->prog,
                    w->comm->rank);
            sb_comm_abort(w->comm, 1);
        }
    }
    free(reports);
    return NULL;
}

int sb_watchdog_start(struct sb_watchdog **out, struct sb_comm *c, const char *prog, double timeout_s,
                      sb_watchdog_report_fn report, void *arg, char *err, size_t errlen)
{
    struct sb_watchdog *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return 2;
    }
    *w = (struct sb_watchdog){.comm = c, .prog = prog, .timeout = timeout_s, .report = report, .arg = arg};
    atomic_init(&w->progress_ns, now_ns());
    atomic_init(&w->armed, 0);
    atomic_init(&w->stop, 0);
    pthread_mutex_init(&w->lock, NULL);
    sb_host_name(w->host, sizeof w->host);
    if (pthread_getcpuclockid(pthread_self(), &w->main_clock) != 0)
        w->main_clock = CLOCK_THREAD_CPUTIME_ID; /* unusable from another thread: busy reads -1 */
    if (c->threads)
        sb_comm_side_open(c);
    if (pthread_create(&w->thread, NULL, watch, w) != 0) {
        snprintf(err, errlen, "cannot start the --timeout watchdog thread");
        free(w);
        return 2;
    }
    *out = w;
    return 0;
}

void sb_watchdog_arm(struct sb_watchdog *w, const char *what, size_t bytes)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    snprintf(w->what, sizeof w->what, "%s", what);
    w->bytes = bytes;
    pthread_mutex_unlock(&w->lock);
    atomic_store(&w->progress_ns, now_ns());
    atomic_store(&w->armed, 1);
}

void sb_watchdog_progress(struct sb_watchdog *w)
{
    if (w)
        atomic_store_explicit(&w->progress_ns, now_ns(), memory_order_relaxed);
}

void sb_watchdog_disarm(struct sb_watchdog *w)
{
    if (w)
        atomic_store(&w->armed, 0);
}

void sb_watchdog_stop(struct sb_watchdog *w, struct sb_comm *c)
{
    if (!w)
        return;
    atomic_store(&w->stop, 1);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    if (c->threads)
        sb_comm_side_close(c);
    free(w);
}
