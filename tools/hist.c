/* Latency histograms for `hostk bench irq` and `hostk bench nic`: order
 * statistics of one figure per event, a log2 histogram with two buckets an
 * octave, and three ways to show it: cyclictest's table of counts (a row per
 * bucket, a column per thing measured), JSON, and an SVG chart of small
 * multiples on shared axes, so that a latency and its floor can be compared
 * by eye.  Buckets rather than the figures themselves, because 10 000 events
 * per series would make the JSON and the chart unwieldy and add nothing a
 * reader can see. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* The first edge, and the octaves above it: bucket 1 + 2k starts at
 * 250 ns x 2^k, bucket 2 + 2k at 375 ns x 2^k. */
#define EDGE0 250u

uint64_t hist_edge(int b)
{
	if (b <= 0)
		return 0;
	return (uint64_t)((b - 1) % 2 ? EDGE0 * 3 / 2 : EDGE0) << ((b - 1) / 2);
}

static int bucket_of(uint64_t v)
{
	int o, b;

	if (v < EDGE0)
		return 0;
	o = 63 - __builtin_clzll(v / EDGE0);
	b = 1 + 2 * o + (v >= (uint64_t)EDGE0 * 3 / 2 << o);
	return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: a figure that was measured, as stat_of() takes it. */
static uint64_t rank(const uint64_t *v, size_t n, unsigned pct)
{
	return v[(pct * n + 99) / 100 - 1];
}

void hist_fill(struct hist *h, uint64_t *v, size_t n)
{
	h->n = n;
	h->min = h->p50 = h->p99 = h->max = 0;
	memset(h->count, 0, sizeof h->count);
	if (!n)
		return;
	qsort(v, n, sizeof *v, cmp_u64);
	h->min = v[0];
	h->p50 = rank(v, n, 50);
	h->p99 = rank(v, n, 99);
	h->max = v[n - 1];
	for (size_t i = 0; i < n; i++)
		h->count[bucket_of(v[i])]++;
}

/* The buckets any of the histograms uses: [*lo, *hi]; false if none. */
static bool used(const struct hist *h, int nh, int *lo, int *hi)
{
	*lo = HIST_BUCKETS;
	*hi = -1;
	for (int i = 0; i < nh; i++)
		for (int b = 0; b < HIST_BUCKETS; b++)
			if (h[i].count[b]) {
				*lo = b < *lo ? b : *lo;
				*hi = b > *hi ? b : *hi;
			}
	return *hi >= 0;
}

void hist_print(FILE *fp, const struct hist *h, int nh)
{
	static const char *const rows[] = { "min (us)", "p50 (us)", "p99 (us)", "max (us)" };
	int lo, hi;

	fprintf(fp, "histogram: events per bucket, from its edge (us) to the next\n%12s", "from (us)");
	for (int i = 0; i < nh; i++)
		fprintf(fp, " %11s", h[i].col);
	fputc('\n', fp);
	if (used(h, nh, &lo, &hi))
		for (int b = lo; b <= hi; b++) {
			fprintf(fp, "%12.7g", (double)hist_edge(b) / 1e3);
			for (int i = 0; i < nh; i++)
				fprintf(fp, " %11" PRIu64, h[i].count[b]);
			fputc('\n', fp);
		}
	fprintf(fp, "%12s", "total");
	for (int i = 0; i < nh; i++)
		fprintf(fp, " %11" PRIu64, h[i].n);
	fputc('\n', fp);
	for (int r = 0; r < 4; r++) {
		fprintf(fp, "%12s", rows[r]);
		for (int i = 0; i < nh; i++) {
			uint64_t v = r == 0 ? h[i].min : r == 1 ? h[i].p50 : r == 2 ? h[i].p99 : h[i].max;

			fprintf(fp, " %11.1f", (double)v / 1e3);
		}
		fputc('\n', fp);
	}
}

void hist_json(FILE *fp, const struct hist *h)
{
	const char *sep = "";

	fprintf(fp, "{\"n\":%" PRIu64 ",\"min\":%" PRIu64 ",\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"max\":%" PRIu64
		",\"hist\":[", h->n, h->min, h->p50, h->p99, h->max);
	for (int b = 0; b < HIST_BUCKETS; b++) {
		if (!h->count[b])
			continue;
		/* The last bucket has no upper edge: its top is the largest figure. */
		fprintf(fp, "%s{\"lo_ns\":%" PRIu64 ",\"hi_ns\":%" PRIu64 ",\"count\":%" PRIu64 "}", sep, hist_edge(b),
			b + 1 < HIST_BUCKETS ? hist_edge(b + 1) - 1 : h->max, h->count[b]);
		sep = ",";
	}
	fputs("]}", fp);
}

/* The chart's geometry. */
#define WIDTH 980
#define PLOT_X 80
#define PLOT_W (WIDTH - PLOT_X - 30)
#define TOP 64			/* title and subtitle */
#define PANEL_H 96		/* a panel's plot */
#define PANEL_GAP 44		/* its title above, tick labels below */

struct frame {
	int lo, hi;		/* the buckets shown */
	double bw;		/* a bucket's width */
	double top;		/* the count axis' top: a power of ten */
};

static double ycount(const struct frame *f, double c)
{
	return PANEL_H * log10(1 + c) / log10(1 + f->top);
}

/* Where v lies: its bucket, and within it by the ratio of the edges. */
static double xval(const struct frame *f, uint64_t v)
{
	int b = bucket_of(v);
	double e0 = (double)hist_edge(b), e1 = (double)hist_edge(b + 1), in;

	in = b == 0 ? (double)v / EDGE0 : b + 1 >= HIST_BUCKETS ? 0.5 : log((double)v / e0) / log(e1 / e0);
	return PLOT_X + (b - f->lo + (in < 0 ? 0 : in > 1 ? 1 : in)) * f->bw;
}

static void marker(FILE *fp, const struct frame *f, uint64_t v, int y, const char *what, const char *dash)
{
	double x = xval(f, v);

	fprintf(fp, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#222\" stroke-dasharray=\"%s\"/>"
		"<text x=\"%.1f\" y=\"%d\" class=\"mk\">%s</text>\n", x, y - 2, x, y + PANEL_H, dash, x + 3, y + 8, what);
}

static void panel(FILE *fp, const struct frame *f, const struct hist *h, int i, int y)
{
	char a[32], b[32], c[32], d[32];

	fprintf(fp, "<text x=\"%d\" y=\"%d\" class=\"lab\" fill=\"%s\">", PLOT_X, y - 8, svg_colour(i));
	svg_text(fp, h->label);
	fprintf(fp, "</text>\n<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"tick\">n %" PRIu64 ", min %s, "
		"p50 %s, p99 %s, max %s</text>\n", PLOT_X + PLOT_W, y - 8, h->n, svg_ns((double)h->min, a, sizeof a, false),
		svg_ns((double)h->p50, b, sizeof b, false), svg_ns((double)h->p99, c, sizeof c, false),
		svg_ns((double)h->max, d, sizeof d, false));
	for (double g = 1; g <= f->top; g *= 10) {
		double yg = y + PANEL_H - ycount(f, g);

		fprintf(fp, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" class=\"tick\">%.0f</text>\n", PLOT_X, yg,
			PLOT_X + PLOT_W, yg, PLOT_X - 6, yg + 4, g);
	}
	for (int k = f->lo; k <= f->hi; k++) {
		double hgt = ycount(f, (double)h->count[k]);

		if (!h->count[k])
			continue;
		fprintf(fp, "<rect class=\"bin\" data-series=\"%s\" data-lo=\"%" PRIu64 "\" data-count=\"%" PRIu64 "\" "
			"x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", h->key, hist_edge(k),
			h->count[k], PLOT_X + (k - f->lo) * f->bw + 1, y + PANEL_H - hgt, f->bw - 2 > 1 ? f->bw - 2 : 1,
			hgt, svg_colour(i));
		svg_text(fp, h->label);
		fprintf(fp, ": %" PRIu64 " from %s</title></rect>\n", h->count[k], svg_ns((double)hist_edge(k), a, sizeof a,
											 false));
	}
	if (h->n) {
		marker(fp, f, h->p50, y, "p50", "4 3");
		marker(fp, f, h->p99, y, "p99", "1 2");
	}
	fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", PLOT_X, y + PANEL_H,
		PLOT_X + PLOT_W, y + PANEL_H);
	/* Every other edge labelled, in us as the table has them: the octaves,
	 * 1, 2, 4 ... 1024 (not "1.02 ms"). */
	for (int k = f->lo; k <= f->hi + 1; k++)
		if (k % 2 == 1 || k == 0)
			fprintf(fp, "<path d=\"M%.1f %dv4\" stroke=\"#444\"/><text x=\"%.1f\" y=\"%d\" "
				"text-anchor=\"middle\" class=\"tick\">%.7g µs</text>\n", PLOT_X + (k - f->lo) * f->bw,
				y + PANEL_H, PLOT_X + (k - f->lo) * f->bw, y + PANEL_H + 15, (double)hist_edge(k) / 1e3);
}

int hist_svg(const char *path, const char *title, const char *subtitle, const struct hist *h, int nh)
{
	struct frame f = { .top = 10 };
	uint64_t most = 1;
	int height = TOP + nh * (PANEL_H + PANEL_GAP) + 30;
	FILE *fp;

	if (!used(h, nh, &f.lo, &f.hi))
		f.lo = f.hi = 0;
	f.bw = (double)PLOT_W / (f.hi - f.lo + 1);
	for (int i = 0; i < nh; i++)
		for (int b = 0; b < HIST_BUCKETS; b++)
			most = h[i].count[b] > most ? h[i].count[b] : most;
	while (f.top < (double)most)
		f.top *= 10;
	if (!(fp = svg_open(path, WIDTH, height, ".tick{font-size:11px;fill:#444}.lab{font-size:13px;font-weight:bold}"
			    ".mk{font-size:10px;fill:#222}", title, subtitle)))
		return -errno;
	for (int i = 0; i < nh; i++)
		panel(fp, &f, &h[i], i, TOP + 24 + i * (PANEL_H + PANEL_GAP));
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"tick\">latency, log2 buckets (two an "
		"octave); height: events, log scale</text>\n", PLOT_X + PLOT_W / 2, height - 8);
	return svg_close(fp);
}
