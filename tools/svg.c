/* The benches' chart, written by hand as SVG: one row per thing measured,
 * one horizontal bar per series in each row (its median), a whisker from the
 * least to the 99th percentile figure, and the median written at the end.
 * The axis is logarithmic in time, with a labelled line at every power of
 * ten, because the figures span four orders (a native syscall to a
 * cross-CPU ptrace round trip).  Every bar is a <rect class="bar"> naming
 * its row and series (data-row, data-series): the CI checker counts them.
 * Called from bench.c and workloads.c; hist.c's histograms use its
 * beginning and end of a file, and its text, time and colour helpers. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define WIDTH 980
#define LABEL_W 300		/* the row labels' column */
#define PLOT_X (LABEL_W + 16)
#define PLOT_W (WIDTH - PLOT_X - 90)	/* room on the right for the last value */
#define TOP 92			/* title, subtitle, legend */
#define BAR_H 13
#define ROW_GAP 12

static const char *const colours[SVG_MAX_SERIES] = {
	"#3b6fb6", "#e07b39", "#5a9e4b", "#b04a8c", "#8c6d31", "#6b6b6b", "#2a9d9d", "#c23b3b",
};

void svg_text(FILE *fp, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", fp); break;
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '"': fputs("&quot;", fp); break;
		default: fputc(*s, fp);
		}
	}
}

const char *svg_colour(int series)
{
	return colours[series % SVG_MAX_SERIES];
}

const char *svg_ns(double ns, char *buf, size_t size, bool whole)
{
	static const struct {
		double scale;
		const char *unit;
	} units[] = { { 1e9, "s" }, { 1e6, "ms" }, { 1e3, "µs" }, { 1, "ns" } };
	size_t i = 0;

	while (i + 1 < sizeof units / sizeof units[0] && ns < units[i].scale)
		i++;
	double v = ns / units[i].scale;

	snprintf(buf, size, whole ? "%.0f %s" : v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[i].unit);
	return buf;
}

struct axis {
	double lo, hi;		/* log10 of the ends */
};

static double xpos(const struct axis *a, double ns)
{
	double l = log10(ns > 0 ? ns : 1e-3);

	if (l < a->lo)
		l = a->lo;
	return PLOT_X + (l - a->lo) / (a->hi - a->lo) * PLOT_W;
}

/* Whole decades around every figure. */
static struct axis axis_of(const struct svg_chart *c)
{
	double lo = INFINITY, hi = -INFINITY;
	struct axis a;

	for (int r = 0; r < c->nrows; r++)
		for (int s = 0; s < c->nseries; s++) {
			const struct svg_bar *b = &c->rows[r].bar[s];

			if (!b->have)
				continue;
			if (b->lo > 0 && b->lo < lo)
				lo = b->lo;
			if (b->mid > 0 && b->mid < lo)
				lo = b->mid;
			if (b->hi > hi)
				hi = b->hi;
			if (b->mid > hi)
				hi = b->mid;
		}
	if (!isfinite(lo) || !isfinite(hi)) {
		lo = 10;
		hi = 1e6;
	}
	a.lo = floor(log10(lo));
	a.hi = ceil(log10(hi));
	if (a.hi <= a.lo)
		a.hi = a.lo + 1;
	return a;
}

static void grid(FILE *fp, const struct axis *a, int y0, int y1)
{
	char buf[32];

	for (int d = (int)a->lo; d <= (int)a->hi; d++) {
		for (int m = 1; m < 10 && (d < (int)a->hi || m == 1); m++) {
			double x = xpos(a, m * pow(10, d));

			if (m == 1) {
				fprintf(fp, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#bbb\"/>\n", x, y0, x,
					y1);
				fprintf(fp, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"tick\">%s</text>\n", x,
					y1 + 16, svg_ns(pow(10, d), buf, sizeof buf, true));
			} else {
				fprintf(fp, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>\n", x, y0, x,
					y1);
			}
		}
	}
}

static void bar(FILE *fp, const struct svg_chart *c, const struct axis *a, int r, int s, int y)
{
	const struct svg_row *row = &c->rows[r];
	const struct svg_bar *b = &row->bar[s];
	char lo[32], mid[32], hi[32];
	double x0 = PLOT_X, xm, xl, xh, yc = y + BAR_H / 2.0;

	if (!b->have) {
		fprintf(fp, "<text x=\"%d\" y=\"%.1f\" class=\"na\">%s: n/a", PLOT_X + 4, yc + 4, c->series_label[s]);
		if (b->note) {
			fputs(" (", fp);
			svg_text(fp, b->note);
			fputs(")", fp);
		}
		fputs("</text>\n", fp);
		return;
	}
	xm = xpos(a, b->mid);
	xl = xpos(a, b->lo);
	xh = xpos(a, b->hi);
	svg_ns(b->lo, lo, sizeof lo, false);
	svg_ns(b->mid, mid, sizeof mid, false);
	svg_ns(b->hi, hi, sizeof hi, false);
	fprintf(fp, "<rect class=\"bar\" data-row=\"%s\" data-series=\"%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
		"height=\"%d\" fill=\"%s\"><title>", row->key, c->series_key[s], x0, y, xm - x0 > 1 ? xm - x0 : 1,
		BAR_H, colours[s]);
	svg_text(fp, row->label);
	fprintf(fp, ", %s: median %s (%s: %s .. %s)</title></rect>\n", c->series_label[s], mid, c->whisker, lo, hi);
	fprintf(fp, "<path d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f\" stroke=\"#222\" "
		"stroke-width=\"1.2\" fill=\"none\"/>\n", xl, yc, xh, xl, yc - 4, yc + 4, xh, yc - 4, yc + 4);
	fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" class=\"val\">%s", (xh > xm ? xh : xm) + 5, yc + 4, mid);
	if (b->ratio > 0)
		fprintf(fp, " <tspan fill=\"#777\">x%.*f</tspan>", b->ratio < 10 ? 1 : 0, b->ratio);
	fputs("</text>\n", fp);
}

/* The series' keys, and the whisker's, on one line above the plot. */
static void legend(FILE *fp, const struct svg_chart *c, const bool *live)
{
	int x = PLOT_X;

	for (int s = 0; s < c->nseries; s++) {
		if (!live[s])
			continue;
		fprintf(fp, "<rect x=\"%d\" y=\"60\" width=\"14\" height=\"12\" fill=\"%s\"/>"
			"<text x=\"%d\" y=\"70\" class=\"leg\">", x, colours[s], x + 19);
		svg_text(fp, c->series_label[s]);
		fputs("</text>\n", fp);
		x += 34 + 7 * (int)strlen(c->series_label[s]);
	}
	fprintf(fp, "<path d=\"M%d 66h22M%d 62v8M%d 62v8\" stroke=\"#222\" fill=\"none\"/>"
		"<text x=\"%d\" y=\"70\" class=\"leg\">", x, x, x + 22, x + 28);
	svg_text(fp, c->whisker);
	fputs("</text>\n", fp);
}

FILE *svg_open(const char *path, int width, int height, const char *style, const char *title, const char *subtitle)
{
	FILE *fp = fopen(path, "we");

	if (!fp)
		return NULL;
	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n<style>%s</style>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n", width, height, width, height, style);
	fprintf(fp, "<text x=\"16\" y=\"26\" font-size=\"17\" font-weight=\"bold\">");
	svg_text(fp, title);
	fprintf(fp, "</text>\n<text x=\"16\" y=\"46\" font-size=\"12\" fill=\"#444\">");
	svg_text(fp, subtitle);
	fputs("</text>\n", fp);
	return fp;
}

int svg_close(FILE *fp)
{
	fputs("</svg>\n", fp);
	if (ferror(fp) | fclose(fp))
		return -EIO;
	return 0;
}

int svg_write(const char *path, const struct svg_chart *c)
{
	bool live[SVG_MAX_SERIES] = { false };	/* a series with no figure at all gets a footnote, not rows */
	int nlive = 0, nnotes = 0, row_h, plot_h, height;
	struct axis a = axis_of(c);
	FILE *fp;

	for (int s = 0; s < c->nseries; s++) {
		for (int r = 0; r < c->nrows; r++)
			live[s] |= c->rows[r].bar[s].have;
		nlive += live[s];
	}
	nnotes = c->nseries - nlive;
	row_h = (nlive ? nlive : 1) * (BAR_H + 3) + ROW_GAP;
	plot_h = c->nrows * row_h;
	height = TOP + plot_h + 50 + 16 * nnotes;
	if (!(fp = svg_open(path, WIDTH, height, ".tick{font-size:11px;fill:#444}.val{font-size:11px;fill:#222}"
			    ".lab{font-size:13px;fill:#111}.na{font-size:11px;fill:#888;font-style:italic}"
			    ".leg{font-size:12px;fill:#222}", c->title, c->subtitle)))
		return -errno;
	legend(fp, c, live);
	for (int r = 1; r < c->nrows; r += 2)	/* stripes under the grid, so that it shows */
		fprintf(fp, "<rect x=\"8\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f3f5f9\"/>\n",
			TOP + r * row_h - ROW_GAP / 2, WIDTH - 16, row_h);
	grid(fp, &a, TOP - 6, TOP + plot_h);
	for (int r = 0; r < c->nrows; r++) {
		int y = TOP + r * row_h;

		fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"lab\">", LABEL_W,
			y + (row_h - ROW_GAP) / 2 + 4);
		svg_text(fp, c->rows[r].label);
		fputs("</text>\n", fp);
		for (int s = 0, i = 0; s < c->nseries; s++)
			if (live[s])
				bar(fp, c, &a, r, s, y + i++ * (BAR_H + 3));
	}
	fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", PLOT_X, TOP + plot_h,
		PLOT_X + PLOT_W, TOP + plot_h);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"tick\">", PLOT_X + PLOT_W / 2,
		TOP + plot_h + 36);
	svg_text(fp, c->axis);
	fputs("</text>\n", fp);
	for (int s = 0, n = 0; s < c->nseries; s++)
		if (!live[s]) {
			const char *note = c->nrows ? c->rows[0].bar[s].note : NULL;

			fprintf(fp, "<text x=\"16\" y=\"%d\" class=\"na\">", TOP + plot_h + 58 + 16 * n++);
			svg_text(fp, c->series_label[s]);
			fputs(": n/a", fp);
			if (note) {
				fputs(" (", fp);
				svg_text(fp, note);
				fputs(")", fp);
			}
			fputs("</text>\n", fp);
		}
	return svg_close(fp);
}
