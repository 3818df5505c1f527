/*
 * svg.c - a flame graph as one SVG image, in the manner of flamegraph.pl:
 * the root at the bottom, each frame a box as wide as its share of the
 * total, callees stacked above their callers.  Any image viewer shows it;
 * in a browser a small embedded script adds click-to-zoom and search
 * (Ctrl-F or the "Search" button), as the SVGs py-spy and flamegraph.pl
 * users paste into issues do.
 *
 * Boxes narrower than 0.1 pixel are left out (their time is still inside
 * their caller's box), so the file stays small whatever the number of
 * samples.  Each box has a <title> with the frame as the text report
 * spells it (the file short unless --full-paths, the function's hottest
 * line, "×N" for folded recursion), its time and share.  Its fill says
 * where its code lives (emit_frame_color: the program warm, the standard
 * library blue, packages green, native code violet, a shade per package),
 * and a legend under the title names the origins the image has.
 */
#include "config.h"

#include "render.h"
#include "emit.h"

#include <string.h>

#include "collector/shape.h"

#define SVG_WIDTH 1200.0
#define SVG_PAD 10.0
#define FRAME_H 16
#define MIN_WIDTH 0.1
#define LEGEND_H 16

static const char svg_script[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"var frames=[],W=" G_STRINGIFY(SVG_WIDTH) "-20,P=10,detail,matched;\n"
	"function init(){var gs=document.getElementsByClassName('f');"
	"for(var i=0;i<gs.length;i++){var r=gs[i].getElementsByTagName('rect')[0];"
	"frames.push({g:gs[i],r:r,t:gs[i].getElementsByTagName('text')[0],"
	"x:+r.getAttribute('x'),w:+r.getAttribute('width'),y:+r.getAttribute('y'),"
	"label:gs[i].getAttribute('data-label')});"
	"gs[i].onclick=zoomer(frames[frames.length-1]);}"
	"detail=document.getElementById('details');matched=document.getElementById('matched');}\n"
	"function fit(f,x,w){f.r.setAttribute('x',x);f.r.setAttribute('width',w);"
	"if(!f.t)return;var n=Math.floor((w-6)/7);f.t.setAttribute('x',x+3);"
	"f.t.textContent=n<3?'':f.label.length<=n?f.label:f.label.slice(0,n-2)+'..';}\n"
	"function zoomer(z){return function(){var s=W/z.w;"
	"frames.forEach(function(f){var inside=f.x>=z.x-1e-6&&f.x+f.w<=z.x+z.w+1e-6;"
	"var below=f.y>z.y;if(inside||(below&&f.x<=z.x+1e-6&&f.x+f.w>=z.x+z.w-1e-6)){"
	"f.g.style.display='';if(inside)fit(f,P+(f.x-z.x)*s,f.w*s);else fit(f,P,W);}"
	"else f.g.style.display='none';});"
	"document.getElementById('unzoom').style.opacity=1;};}\n"
	"function unzoom(){frames.forEach(function(f){f.g.style.display='';fit(f,f.x,f.w);});"
	"document.getElementById('unzoom').style.opacity=0;}\n"
	"function search(){var term=prompt('Search for (regular expression):','');"
	"if(term===null)return;var re=new RegExp(term),n=0;"
	"frames.forEach(function(f){var m=term!==''&&re.test(f.label);"
	"f.r.style.fill=m?'rgb(230,0,230)':'';if(m)n++;});"
	"matched.textContent=term?n+' frames match '+term:'';}\n"
	"window.addEventListener('keydown',function(e){if((e.ctrlKey||e.metaKey)&&e.key==='f'){"
	"e.preventDefault();search();}});\n"
	"]]></script>\n";

static void append_color(GString *b, guint32 rgb)
{
	g_string_append_printf(b, "#%06x", rgb & 0xffffff);
}

/* "label ×N (file:line)", "label [place]", the label alone for synthetic
 * frames: what the text report shows of node id */
static void append_title(GString *b, const struct profile *p,
			 const struct profile_tree *t, guint32 id,
			 const struct render_options *o)
{
	const struct profile_node *nd = profile_tree_node(t, id);
	const struct profile_frame *f = profile_frame(p, nd->frame);
	GString *s = g_string_new(NULL);

	render_append_label(s, f, profile_tree_repeat(t, id), FALSE);
	if (f->kind == PROFILE_FRAME_PYTHON)
		g_string_append(s, " (");
	else if (f->kind == PROFILE_FRAME_NATIVE)
		g_string_append_c(s, ' ');
	render_append_shown_place(s, f, profile_frame(p, shape_hot_line(t, id)),
				  o->full_paths);
	if (f->kind == PROFILE_FRAME_PYTHON)
		g_string_append_c(s, ')');
	emit_xml_text(b, s->str);
	g_string_free(s, TRUE);
}

/* A line of swatches under the title for the origins the image has */
static void write_legend(FILE *out, const gboolean *seen, GString *b)
{
	static const struct { enum profile_origin o; const char *what; } key[] = {
		{PROFILE_ORIGIN_PROGRAM, "the program"},
		{PROFILE_ORIGIN_STDLIB, "standard library"},
		{PROFILE_ORIGIN_LIBRARY, "installed packages"},
		{PROFILE_ORIGIN_NATIVE, "native code"},
		{PROFILE_ORIGIN_OTHER, "threads, folded, idle"},
	};
	double x = SVG_PAD;

	for (gsize i = 0; i < G_N_ELEMENTS(key); i++) {
		if (!seen[key[i].o])
			continue;
		g_string_assign(b, "");
		append_color(b, emit_origin_color(key[i].o));
		fprintf(out, "<g class=\"legend\" data-origin=\"%s\"><rect x=\"%.0f\" y=\"33\" "
			"width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%.0f\" y=\"42\">%s</text></g>\n",
			profile_origin_name(key[i].o), x, b->str, x + 14, key[i].what);
		x += 14 + 7.0 * (double)strlen(key[i].what) + 18;
	}
}

struct item {
	guint32 node, depth;
	double x;
};

gboolean render_svg(const struct profile *p, const struct profile_tree *t,
		    const struct render_options *o, FILE *out, GError **error)
{
	const struct profile_node *root = profile_tree_node(t, 0);
	gboolean by_ns = root->total_ns > 0;
	double total = by_ns ? (double)root->total_ns : (double)root->total_samples;
	double scale = total > 0 ? (SVG_WIDTH - 2 * SVG_PAD) / total : 0;
	guint32 max_depth = 0;
	GArray *todo = g_array_new(FALSE, FALSE, sizeof(struct item));
	GString *b = g_string_new(NULL);
	struct item it = {0, 0, SVG_PAD};
	double height;
	gboolean seen[PROFILE_ORIGIN_NATIVE + 1] = {FALSE};

	/* the height: the deepest box that will be drawn; the origins the
	 * legend names */
	g_array_append_val(todo, it);
	while (todo->len) {
		guint32 n;
		const guint32 *kids;
		it = g_array_index(todo, struct item, todo->len - 1);
		g_array_set_size(todo, todo->len - 1);
		if (it.depth > max_depth)
			max_depth = it.depth;
		if (it.node)
			seen[profile_frame(p, profile_tree_node(t, it.node)->frame)->origin] = TRUE;
		kids = profile_tree_children(t, it.node, &n);
		for (guint32 i = 0; i < n; i++) {
			const struct profile_node *c = profile_tree_node(t, kids[i]);
			double w = (by_ns ? (double)c->total_ns : (double)c->total_samples) * scale;
			struct item k = {kids[i], it.depth + 1, 0};
			if (w >= MIN_WIDTH)
				g_array_append_val(todo, k);
		}
	}
	height = (max_depth + 1) * FRAME_H + 70 + LEGEND_H;

	fprintf(out, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%.0f\" height=\"%.0f\" onload=\"init()\" "
		"viewBox=\"0 0 %.0f %.0f\" xmlns=\"http://www.w3.org/2000/svg\" "
		"xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n", SVG_WIDTH, height,
		SVG_WIDTH, height);
	fputs("<style type=\"text/css\">text{font-family:Verdana,sans-serif;font-size:12px;fill:#000}"
	      ".f:hover rect{stroke:#000;stroke-width:0.5;cursor:pointer}"
	      "#title{font-size:17px;text-anchor:middle}#unzoom,#search{cursor:pointer}"
	      "</style>\n", out);
	fputs(svg_script, out);
	g_string_assign(b, "");
	emit_xml_text(b, o->title ? o->title
			 : p->mode == PROFILE_MODE_WALL ? "Flame Graph (wall time)"
							: "Flame Graph (CPU time)");
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#f8f8f8\"/>\n"
		"<text id=\"title\" x=\"%.0f\" y=\"24\">%s</text>\n"
		"<text id=\"unzoom\" x=\"10\" y=\"24\" onclick=\"unzoom()\" style=\"opacity:0\">Reset Zoom</text>\n"
		"<text id=\"search\" x=\"%.0f\" y=\"24\" onclick=\"search()\">Search</text>\n"
		"<text id=\"matched\" x=\"%.0f\" y=\"%.0f\"></text>\n"
		"<text id=\"details\" x=\"10\" y=\"%.0f\"> </text>\n",
		SVG_WIDTH, height, SVG_WIDTH / 2, b->str, SVG_WIDTH - 70,
		SVG_WIDTH - 250, height - 8, height - 8);
	write_legend(out, seen, b);

	it.node = it.depth = 0;
	it.x = SVG_PAD;
	g_array_append_val(todo, it);
	while (todo->len) {
		const struct profile_node *nd;
		guint32 n;
		const guint32 *kids;
		double w, x, y, cx;
		guint64 weight;
		GString *label = g_string_new(NULL);

		it = g_array_index(todo, struct item, todo->len - 1);
		g_array_set_size(todo, todo->len - 1);
		nd = profile_tree_node(t, it.node);
		weight = by_ns ? nd->total_ns : nd->total_samples;
		w = (double)weight * scale;
		x = it.x;
		y = height - 40 - (it.depth + 1) * FRAME_H;
		g_string_assign(b, "<g class=\"f\" data-label=\"");
		if (it.node == 0) {
			g_string_append(label, "all");
			g_string_append(b, "all\"><title>all");
		} else {
			render_append_label(label, profile_frame(p, nd->frame),
					    profile_tree_repeat(t, it.node), FALSE);
			emit_xml_text(b, label->str);
			g_string_append(b, "\"><title>");
			append_title(b, p, t, it.node, o);
		}
		g_string_append_printf(b, " (%.3f s, %" G_GUINT64_FORMAT " samples, %.2f%%)</title>",
				       (double)nd->total_ns / 1e9, nd->total_samples,
				       total > 0 ? 100.0 * (double)weight / total : 0.0);
		g_string_append_printf(b, "<rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" "
				       "rx=\"2\" ry=\"2\" fill=\"", x, y, w, FRAME_H - 1);
		append_color(b, it.node ? emit_frame_color(profile_frame(p, nd->frame))
					: emit_origin_color(PROFILE_ORIGIN_OTHER));
		g_string_append(b, "\"/>");
		{
			/* about 7 pixels per character at 12px */
			glong fits = (glong)((w - 6) / 7), len = g_utf8_strlen(label->str, -1);
			g_string_append_printf(b, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + 11.5);
			if (fits >= 3) {
				if (len <= fits) {
					emit_xml_text(b, label->str);
				} else {
					char *cut = g_utf8_substring(label->str, 0, fits - 2);
					emit_xml_text(b, cut);
					g_string_append(b, "..");
					g_free(cut);
				}
			}
			g_string_append(b, "</text>");
		}
		g_string_append(b, "</g>\n");
		fputs(b->str, out);
		g_string_free(label, TRUE);

		kids = profile_tree_children(t, it.node, &n);
		cx = x;
		/* pushed in reverse so they are drawn left to right */
		for (guint32 i = 0; i < n; i++) {
			const struct profile_node *c = profile_tree_node(t, kids[i]);
			cx += (double)(by_ns ? c->total_ns : c->total_samples) * scale;
		}
		for (guint32 i = n; i-- > 0;) {
			const struct profile_node *c = profile_tree_node(t, kids[i]);
			double cw = (double)(by_ns ? c->total_ns : c->total_samples) * scale;
			struct item k = {kids[i], it.depth + 1, 0};
			cx -= cw;
			k.x = cx;
			if (cw >= MIN_WIDTH)
				g_array_append_val(todo, k);
		}
	}
	fputs("</svg>\n", out);
	g_array_unref(todo);
	g_string_free(b, TRUE);
	return render_check_stream(out, error);
}
