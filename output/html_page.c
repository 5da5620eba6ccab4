/*
 * html_page.c - writes the HTML case report's page (report_html.h) from the
 * model report_html.c gathered: one self-contained file, inline CSS and SVG,
 * no script, no font, no request of any kind (its Content-Security-Policy
 * forbids them, so even a string that escaped its escaping could load or run
 * nothing). Every string from the wire is escaped here, in html_esc().
 *
 * Owns the page's layout: the summary, the timeline per (server, user) (one
 * bar per session up to HTML_TIMELINE_SESSIONS, a density strip beyond), the
 * tables (each lists HTML_ROWS_MAX rows at most and says how many it left
 * out), and the links to -x files, relative to the page's directory.
 */
#include "report_html_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TL_WIDTH 900      /* the timeline's drawing width, pixels */
#define TL_PAD 6          /* room at both ends for a mark */
#define TL_BINS 180       /* density bins per row */
#define TL_CLUSTERS_MAX 24 /* stretches of activity drawn to scale, idle gaps between them cut */
#define TL_GAP_PX 14      /* the width of a cut gap */
#define TL_CLUSTER_MIN_PX 36
#define TL_TICK_PX 90     /* about one axis label per this many pixels */
#define TL_SHADES 5       /* density shades */

/* ---- escaping and formatting --------------------------------------------- */

/* Text (UTF-8 already) for HTML content and attribute values: nothing in it can be markup. */
static void html_esc(FILE *fp, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", fp); break;
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&#39;", fp); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(fp, "\\x%02x", *p); /* a control character, shown as text.c does */
			else
				fputc(*p, fp);
		}
	}
}

static void html_time(FILE *fp, const struct timeval *tv)
{
	struct tm tm;
	time_t t = tv->tv_sec;
	char buf[32];
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	fputs(buf, fp);
}

static void html_size(FILE *fp, uint64_t n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	fprintf(fp, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static const char *html_base(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

/*
 * Where a row came from, to find its events and packets: the flow id, the
 * capture file, and the frame (pcap_cnt; a session's from its first, `first`)
 * to go to in Wireshark. Live capture has neither file nor frames (0).
 */
static void html_where_file(FILE *fp, uint64_t flow_id, const char *file, uint64_t first, uint64_t last)
{
	fprintf(fp, "<td class=\"w\">flow <code>%llu</code>", (unsigned long long)flow_id);
	if (file) {
		fputs("<br><span title=\"", fp);
		html_esc(fp, file);
		fputs("\">", fp);
		html_esc(fp, html_base(file));
		fputs("</span>", fp);
	}
	if (last && first && first != last)
		fprintf(fp, "<br>frames <code>%llu</code>&ndash;<code>%llu</code>", (unsigned long long)first,
			(unsigned long long)last);
	else if (last)
		fprintf(fp, "<br>frame <code>%llu</code>", (unsigned long long)last);
	fputs("</td>", fp);
}

/* The same, the file by its index in the report (-1: live). */
static void html_where(FILE *fp, const struct html_report *h, uint64_t flow_id, int file, uint64_t first,
		       uint64_t last)
{
	html_where_file(fp, flow_id, file >= 0 ? h->files[file] : NULL, first, last);
}

/* ---- servers, links -------------------------------------------------------- */

static const char *server_key(void *ctx, size_t i)
{
	return ((struct html_report *)ctx)->server_names[i];
}

static size_t server_add(void *ctx, const char *key)
{
	struct html_report *h = ctx;
	if (!html_grow(&h->server_names, h->n_server_names, &h->cap_server_names, sizeof(char *)))
		return SIZE_MAX;
	h->server_names[h->n_server_names] = strdup(key);
	return h->server_names[h->n_server_names] ? h->n_server_names++ : SIZE_MAX;
}

int html_server_new(struct html_report *h, const char *server)
{
	size_t before = h->n_server_names;
	html_map_find(&h->server_map, server, server_add, server_key, h);
	return h->n_server_names > before;
}

bool html_links_init(struct html_report *h, const struct html_config *c)
{
	const char *page = c->path ? c->path : c->page_path;
	if (!c->extract_dir)
		return true;
	h->extract_dir = strdup(c->extract_dir);
	const char *slash = page ? strrchr(page, '/') : NULL;
	h->page_dir = slash ? strndup(page, (size_t)(slash - page) + (slash == page)) : strdup(".");
	return h->extract_dir && h->page_dir;
}

/*
 * -x DIR relative to the page's directory ("a/b", "../x"), both made absolute
 * (they exist by the end of the input); NULL when either cannot be resolved.
 */
static char *html_rel_dir(const struct html_report *h)
{
	char a[PATH_MAX], b[PATH_MAX];
	if (!h->extract_dir || !realpath(h->page_dir, a) || !realpath(h->extract_dir, b))
		return NULL;
	size_t common = 0, i = 0;
	while (a[i] && a[i] == b[i]) {
		if (a[i] == '/')
			common = i;
		i++;
	}
	if (!a[i] && (b[i] == '/' || !b[i]))
		common = i; /* a is b or one of its parents */
	size_t up = 0;
	for (const char *p = a + common; *p; p++)
		up += *p == '/';
	char *out = malloc(up * 3 + strlen(b) + 2);
	if (!out)
		return NULL;
	out[0] = 0;
	for (size_t k = 0; k < up; k++)
		strcat(out, "../");
	strcat(out, b[common] == '/' ? b + common + 1 : b + common);
	if (!out[0])
		strcpy(out, ".");
	return out;
}

/* A path as a URL path: every octet but letters, digits and -._~/ percent-encoded. */
static void html_url(FILE *fp, const char *dir, const char *path)
{
	const char *parts[2] = { dir, path };
	for (int k = 0; k < 2; k++) {
		for (const unsigned char *p = (const unsigned char *)parts[k]; *p; p++) {
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    strchr("-._~/", *p))
				fputc(*p, fp);
			else
				fprintf(fp, "%%%02X", *p);
		}
		if (k == 0)
			fputc('/', fp);
	}
}

/* ---- the head and the summary ---------------------------------------------- */

static const char html_css[] =
	":root{--ok:#2e7d32;--bad:#c62828;--unk:#8a8f98;--clear:#ef6c00;--retr:#1565c0;--ink:#1d2330;"
	"--mute:#5d6472;--line:#e3e6ec;--bg:#f6f7f9}"
	"*{box-sizing:border-box}"
	"body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
	"color:var(--ink);background:var(--bg)}"
	"header{background:#1d2330;color:#fff;padding:18px 28px}"
	"header h1{margin:0;font-size:21px;font-weight:600}header p{margin:4px 0 0;color:#c5cad6}"
	"nav{padding:8px 28px;background:#fff;border-bottom:1px solid var(--line);position:sticky;top:0}"
	"nav a{margin-right:16px;color:var(--retr);text-decoration:none}"
	"main{padding:8px 28px 40px}section{margin:22px 0}"
	"h2{font-size:17px;margin:0 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}"
	"h3{font-size:15px;margin:16px 0 6px}h3 span{color:var(--mute);font-weight:400}"
	".cards{display:flex;flex-wrap:wrap;gap:10px}"
	".card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:106px}"
	".cols{display:flex;flex-wrap:wrap;gap:12px 48px}.cols h3{margin-top:10px}"
	".card b{display:block;font-size:24px;font-weight:600}.card span{color:var(--mute);font-size:12.5px}"
	".card.alert b{color:var(--bad)}.card.warn b{color:var(--clear)}"
	".note{background:#fff8e1;border:1px solid #f3d37a;border-radius:6px;padding:6px 10px;margin:8px 0}"
	"table{border-collapse:collapse;background:#fff;border:1px solid var(--line);margin:6px 0}"
	"th,td{padding:4px 9px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}"
	"th{background:#eef0f4;font-weight:600;font-size:12.5px;white-space:nowrap}"
	"tr:nth-child(even) td{background:#fafbfc}td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"td.w{font-size:12px;color:var(--mute);white-space:nowrap}td.t{white-space:nowrap}"
	"code,.mono{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:12.5px}"
	".ok{color:var(--ok)}.bad{color:var(--bad);font-weight:600}.unk{color:var(--unk)}"
	".clear{color:var(--clear);font-weight:600}.sev1{color:var(--bad);font-weight:600}"
	".sev2{color:var(--clear);font-weight:600}.sev3{color:var(--mute)}"
	".tlwrap{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px}"
	".tl td{padding:0 8px;border:0;background:none!important;white-space:nowrap}"
	".tl td.lab{max-width:260px;overflow:hidden;text-overflow:ellipsis;font-size:12.5px}"
	".tl td.lab small{color:var(--mute)}.tl{border:0;margin:0}"
	"svg .s{fill:#b9c4d6}svg .s.a{fill:#90a4c4}svg .s.f{fill:#e8b4b4}"
	"svg .m1{fill:var(--ok)}svg .m2{fill:var(--bad)}svg .m3{fill:var(--unk)}"
	"svg .c{stroke:var(--clear);stroke-width:2.2}svg .r{fill:var(--retr)}"
	"svg .d{stroke:#000;stroke-width:1.6}svg .ax{stroke:#c9ced8}svg text{font-size:11px;fill:#5d6472}"
	"svg .brk{stroke:#8a8f98;stroke-width:1.5}svg .h,svg .h1,svg .h2,svg .h3,svg .h4,svg .h5{fill:#3f5f95}"
	"svg .h1{fill-opacity:.22}svg .h2{fill-opacity:.4}svg .h3{fill-opacity:.58}svg .h4{fill-opacity:.78}"
	"svg .hf,svg .hf1{fill:var(--bad)}"
	".legend span{margin-right:14px;font-size:12.5px;color:var(--mute)}"
	".legend svg{vertical-align:middle;margin-right:4px}"
	"td.sub{max-width:360px;overflow-wrap:anywhere}footer{color:var(--mute);padding:0 28px 20px}";

static void html_head(struct html_report *h, FILE *fp)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; img-src 'none'; script-src 'none'; form-action 'none'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"popsift " POPSIFT_VERSION "\">\n"
	      "<title>popsift case report</title>\n<style>", fp);
	fputs(html_css, fp);
	fputs("</style></head><body>\n<header><h1>popsift case report</h1><p>", fp);
	if (h->have_span) {
		html_time(fp, &h->t0);
		fputs(" &ndash; ", fp);
		html_time(fp, &h->t1);
		fputs(" UTC", fp);
	} else {
		fputs("no events", fp);
	}
	fprintf(fp, " &middot; %zu capture file%s</p></header>\n", h->n_files, h->n_files == 1 ? "" : "s");
	fputs("<nav><a href=\"#summary\">Summary</a><a href=\"#timeline\">Timeline</a>"
	      "<a href=\"#cleartext\">Cleartext logins</a><a href=\"#failed\">Failed logins</a>"
	      "<a href=\"#alerts\">Alerts</a><a href=\"#mailboxes\">Mailboxes</a>"
	      "<a href=\"#messages\">Messages</a><a href=\"#sessions\">Sessions</a></nav>\n<main>\n", fp);
}

static void html_card(FILE *fp, const char *id, const char *cls, unsigned long n, const char *label)
{
	fprintf(fp, "<div class=\"card%s%s\"><b data-n=\"%s\">%lu</b><span>%s</span></div>",
		cls ? " " : "", cls ? cls : "", id, n, label);
}

static void html_span_text(FILE *fp, const struct html_report *h)
{
	double s = (double)(h->t1.tv_sec - h->t0.tv_sec) + (h->t1.tv_usec - h->t0.tv_usec) / 1e6;
	if (s < 120)
		fprintf(fp, "%.1f s", s);
	else if (s < 7200)
		fprintf(fp, "%.1f min", s / 60);
	else if (s < 172800)
		fprintf(fp, "%.1f h", s / 3600);
	else
		fprintf(fp, "%.1f days", s / 86400);
}

static void html_mech_table(const struct html_report *h, FILE *fp)
{
	fputs("<table><tr><th>mechanism</th><th>success</th><th>failure</th><th>unknown</th>"
	      "<th>cleartext</th></tr>", fp);
	for (size_t i = 0; i < h->n_mechs; i++) {
		const struct html_mech *m = &h->mechs[i];
		fputs("<tr><td>", fp);
		html_esc(fp, m->name);
		fprintf(fp, "%s</td><td class=\"n ok\">%lu</td><td class=\"n%s\">%lu</td><td class=\"n unk\">%lu"
			"</td><td class=\"n%s\">%lu</td></tr>", i == HTML_MECHS_MAX - 1 ? " and others" : "",
			m->by_result[AUTH_RESULT_SUCCESS], m->by_result[AUTH_RESULT_FAILURE] ? " bad" : "",
			m->by_result[AUTH_RESULT_FAILURE], m->by_result[AUTH_RESULT_UNKNOWN],
			m->cleartext ? " clear" : "", m->cleartext);
	}
	fputs("</table>", fp);
}

/* TLS sessions by negotiated version, with how many of them popsift read decrypted. */
static void html_tls_table(const struct html_report *h, FILE *fp)
{
	fputs("<div><h3>TLS sessions by version</h3><table><tr><th>version</th><th>sessions</th>"
	      "<th>decrypted</th></tr>", fp);
	for (size_t i = 0; i < h->n_tls; i++) {
		const struct html_tls_version *v = &h->tls[i];
		fputs("<tr><td>", fp);
		html_esc(fp, v->name);
		fprintf(fp, "%s</td><td class=\"n\" data-n=\"tls-", i == HTML_TLS_VERSIONS_MAX - 1 ? " and others" : "");
		html_esc(fp, v->name);
		fprintf(fp, "\">%lu</td><td class=\"n\">%lu</td></tr>", v->sessions, v->decrypted);
	}
	fputs("</table></div>", fp);
}

static void html_summary(struct html_report *h, FILE *fp)
{
	fputs("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">", fp);
	html_card(fp, "captures", NULL, h->n_files, "capture files");
	html_card(fp, "sessions", NULL, h->n_sessions, "sessions");
	html_card(fp, "servers", NULL, h->n_servers, "servers");
	html_card(fp, "users", NULL, h->n_users, "user names");
	html_card(fp, "logins", NULL, h->logins, "logins");
	html_card(fp, "logins-failure", h->by_result[AUTH_RESULT_FAILURE] ? "alert" : NULL,
		  h->by_result[AUTH_RESULT_FAILURE], "failed logins");
	html_card(fp, "cleartext", h->cleartext ? "warn" : NULL, h->cleartext, "cleartext logins");
	html_card(fp, "alerts", h->n_alerts ? "alert" : NULL, h->n_alerts, "alerts");
	html_card(fp, "messages", NULL, h->n_messages, "messages retrieved");
	fputs("</div>\n<p>Time span <b>", fp);
	if (h->have_span)
		html_span_text(fp, h);
	fputs("</b>; messages <b>", fp);
	html_size(fp, h->message_bytes);
	fprintf(fp, "</b>; logins: <b class=\"ok\" data-n=\"logins-success\">%lu</b> succeeded, "
		"<b class=\"bad\">%lu</b> failed, <b class=\"unk\" data-n=\"logins-unknown\">%lu</b> "
		"without a reply; TLS: <b data-n=\"stls\">%lu</b> STLS upgrade%s (%lu refused), "
		"<b data-n=\"encrypted\">%lu</b> session%s encrypted, <b data-n=\"tls-sessions\">%lu</b> "
		"TLS handshake%s seen.</p>",
		h->by_result[AUTH_RESULT_SUCCESS], h->by_result[AUTH_RESULT_FAILURE],
		h->by_result[AUTH_RESULT_UNKNOWN], h->stls[AUTH_RESULT_SUCCESS],
		h->stls[AUTH_RESULT_SUCCESS] == 1 ? "" : "s", h->stls[AUTH_RESULT_FAILURE], h->encrypted,
		h->encrypted == 1 ? "" : "s", h->tls_sessions, h->tls_sessions == 1 ? "" : "s");
	fputs("<div class=\"cols\">", fp);
	if (h->n_mechs) {
		fputs("<div><h3>Logins by mechanism and outcome</h3>", fp);
		html_mech_table(h, fp);
		fputs("</div>", fp);
	}
	if (h->n_tls)
		html_tls_table(h, fp);
	if (h->n_files) {
		fputs("<div><h3>Capture files</h3><p class=\"mono\">", fp);
		for (size_t i = 0; i < h->n_files && i < HTML_ROWS_MAX; i++) {
			html_esc(fp, h->files[i]);
			fputs(i + 1 < h->n_files ? "<br>" : "", fp);
		}
		if (h->n_files > HTML_ROWS_MAX)
			fprintf(fp, "and %zu more", h->n_files - HTML_ROWS_MAX);
		fputs("</p></div>", fp);
	}
	fputs("</div></section>\n", fp);
}

/* ---- the timeline ----------------------------------------------------------- */

/*
 * The timeline's time scale: the times sessions were open, in clusters, each
 * drawn to scale, with the idle gaps between them cut out (a break on the
 * axis), so a capture of a few bursts a day apart still shows its sessions.
 */
struct tl_cluster {
	double t0, t1; /* seconds since the report's first time */
	double x0, x1;
};

struct tl_scale {
	struct tl_cluster c[TL_CLUSTERS_MAX];
	size_t n;
};

static double tl_secs(const struct html_report *h, const struct timeval *tv)
{
	return (double)(tv->tv_sec - h->t0.tv_sec) + (tv->tv_usec - h->t0.tv_usec) / 1e6;
}

/* Capture time to x on the timeline; a time in a gap is drawn in the gap's middle. */
static double tl_x(const struct html_report *h, const struct tl_scale *sc, const struct timeval *tv)
{
	double t = tl_secs(h, tv);
	size_t lo = 0, hi = sc->n;
	while (hi - lo > 1) { /* the last cluster starting at or before t */
		size_t mid = (lo + hi) / 2;
		if (sc->c[mid].t0 <= t)
			lo = mid;
		else
			hi = mid;
	}
	const struct tl_cluster *c = &sc->c[lo];
	if (t <= c->t0)
		return c->x0;
	if (t <= c->t1)
		return c->t1 > c->t0 ? c->x0 + (t - c->t0) / (c->t1 - c->t0) * (c->x1 - c->x0) : (c->x0 + c->x1) / 2;
	return lo + 1 < sc->n ? (c->x1 + sc->c[lo + 1].x0) / 2 : c->x1;
}

static int tl_by_start(const void *a, const void *b)
{
	const double *x = a, *y = b;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Session intervals merged across gaps shorter than `gap`; false when more than TL_CLUSTERS_MAX. */
static bool tl_merge(struct tl_scale *sc, const double *iv, size_t n, double gap)
{
	sc->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct tl_cluster *c = sc->n ? &sc->c[sc->n - 1] : NULL;
		if (c && iv[2 * i] - c->t1 <= gap) {
			c->t1 = iv[2 * i + 1] > c->t1 ? iv[2 * i + 1] : c->t1;
			continue;
		}
		if (sc->n == TL_CLUSTERS_MAX)
			return false;
		sc->c[sc->n++] = (struct tl_cluster){ iv[2 * i], iv[2 * i + 1], 0, 0 };
	}
	return true;
}

/* Pixels for each cluster: a minimum each, the rest by duration. */
static void tl_place(struct tl_scale *sc)
{
	double avail = TL_WIDTH - 2 * TL_PAD - (double)(sc->n - 1) * TL_GAP_PX, total = 0;
	double min = avail / (double)sc->n < TL_CLUSTER_MIN_PX ? avail / (double)sc->n : TL_CLUSTER_MIN_PX;
	for (size_t i = 0; i < sc->n; i++)
		total += sc->c[i].t1 - sc->c[i].t0;
	double x = TL_PAD, rest = avail - min * (double)sc->n;
	for (size_t i = 0; i < sc->n; i++) {
		double share = total > 0 ? (sc->c[i].t1 - sc->c[i].t0) / total : 1.0 / (double)sc->n;
		sc->c[i].x0 = x;
		sc->c[i].x1 = x + min + rest * share;
		x = sc->c[i].x1 + TL_GAP_PX;
	}
}

static bool tl_scale_build(struct tl_scale *sc, const struct html_report *h)
{
	double *iv = malloc((h->n_sessions ? h->n_sessions : 1) * 2 * sizeof(*iv));
	if (!iv)
		return false;
	for (size_t i = 0; i < h->n_sessions; i++) {
		iv[2 * i] = tl_secs(h, &h->sessions[i].start);
		iv[2 * i + 1] = tl_secs(h, &h->sessions[i].end);
		if (iv[2 * i + 1] < iv[2 * i])
			iv[2 * i + 1] = iv[2 * i];
	}
	qsort(iv, h->n_sessions, 2 * sizeof(*iv), tl_by_start);
	/* Idle times shorter than an eighth of the busy time (or a second) are drawn to scale. */
	double busy = 0, end = -1e300;
	for (size_t i = 0; i < h->n_sessions; i++) {
		double from = iv[2 * i] > end ? iv[2 * i] : end;
		busy += iv[2 * i + 1] > from ? iv[2 * i + 1] - from : 0;
		end = iv[2 * i + 1] > end ? iv[2 * i + 1] : end;
	}
	double span = tl_secs(h, &h->t1);
	double gap = busy / 8 > 1 ? busy / 8 : 1;
	while (!tl_merge(sc, iv, h->n_sessions, gap))
		gap *= 2;
	free(iv);
	if (sc->n == 0)
		sc->c[sc->n++] = (struct tl_cluster){ 0, span, 0, 0 };
	tl_place(sc);
	return true;
}

/* A tick label's text for time t (seconds since the epoch). */
static void tl_label_text(char *buf, size_t n, time_t t, double span, double step)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, span > 172800 ? "%m-%d %H:%M" : step < 60 ? "%H:%M:%S" : "%H:%M", &tm);
}

/* One cluster's ticks: at a round step, about one per TL_TICK_PX pixels, the first labelled at least. */
static void tl_axis_cluster(const struct html_report *h, FILE *fp, const struct tl_cluster *c, double span)
{
	static const double steps[] = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
					10800, 21600, 43200, 86400, 172800, 604800, 2592000, 31536000 };
	double want = (c->t1 - c->t0) / ((c->x1 - c->x0) / TL_TICK_PX + 1e-9);
	double step = steps[0];
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && step < want; i++)
		step = steps[i];
	double base = (double)h->t0.tv_sec + h->t0.tv_usec / 1e6;
	long long k = (long long)((base + c->t0) / step);
	if ((double)k * step < base + c->t0)
		k++;
	char buf[32];
	bool any = false;
	for (double t = (double)k * step; t <= base + c->t1 + 1e-6; t += step) {
		double x = c->t1 > c->t0 ? c->x0 + (t - base - c->t0) / (c->t1 - c->t0) * (c->x1 - c->x0) : c->x0;
		tl_label_text(buf, sizeof(buf), (time_t)t, span, step);
		fprintf(fp, "<line class=\"ax\" x1=\"%.1f\" x2=\"%.1f\" y1=\"14\" y2=\"20\"/>"
			"<text x=\"%.1f\" y=\"11\" text-anchor=\"middle\">%s</text>", x, x, x, buf);
		any = true;
	}
	if (!any) { /* a short cluster: its start, labelled */
		tl_label_text(buf, sizeof(buf), (time_t)(base + c->t0), span, 1);
		fprintf(fp, "<line class=\"ax\" x1=\"%.1f\" x2=\"%.1f\" y1=\"14\" y2=\"20\"/><text x=\"%.1f\" "
			"y=\"11\" text-anchor=\"start\">%s</text>", c->x0, c->x0, c->x0, buf);
	}
}

/* The axis: each cluster's ticks, a break between clusters. */
static void tl_axis(const struct html_report *h, FILE *fp, const struct tl_scale *sc)
{
	double span = tl_secs(h, &h->t1);
	fprintf(fp, "<svg width=\"%d\" height=\"22\" role=\"img\" aria-label=\"time axis\">", TL_WIDTH);
	for (size_t i = 0; i < sc->n; i++) {
		tl_axis_cluster(h, fp, &sc->c[i], span);
		fprintf(fp, "<line class=\"ax\" x1=\"%.1f\" x2=\"%.1f\" y1=\"21\" y2=\"21\"/>", sc->c[i].x0, sc->c[i].x1);
		if (i + 1 < sc->n) {
			double x = (sc->c[i].x1 + sc->c[i + 1].x0) / 2;
			fprintf(fp, "<path class=\"brk\" d=\"M%.1f 24l4 -7M%.1f 24l4 -7\"><title>idle time left out"
				"</title></path>", x - 4, x);
		}
	}
	fputs("</svg>", fp);
}

/* flow_id -> session index: open addressing, for the marks and the messages. */
struct tl_index {
	size_t *slots;
	size_t cap;
};

static bool tl_index_build(struct tl_index *ix, const struct html_report *h)
{
	ix->cap = 16;
	while (ix->cap < h->n_sessions * 2)
		ix->cap *= 2;
	ix->slots = malloc(ix->cap * sizeof(*ix->slots));
	if (!ix->slots)
		return false;
	for (size_t i = 0; i < ix->cap; i++)
		ix->slots[i] = SIZE_MAX;
	for (size_t i = 0; i < h->n_sessions; i++) {
		size_t at = html_hash(&h->sessions[i].flow_id, 8) & (ix->cap - 1);
		while (ix->slots[at] != SIZE_MAX)
			at = (at + 1) & (ix->cap - 1);
		ix->slots[at] = i;
	}
	return true;
}

/* The session of flow_id (the last one, should the input hold it twice), or SIZE_MAX. */
static size_t tl_session(const struct tl_index *ix, const struct html_report *h, uint64_t flow_id)
{
	size_t found = SIZE_MAX;
	for (size_t at = html_hash(&flow_id, 8) & (ix->cap - 1); ix->slots[at] != SIZE_MAX;
	     at = (at + 1) & (ix->cap - 1))
		if (h->sessions[ix->slots[at]].flow_id == flow_id)
			found = ix->slots[at];
	return found;
}

/* Rows by sessions, most first (qsort_r: the report is the context). */
static int tl_by_count(const void *a, const void *b, void *ctx)
{
	const struct html_report *h = ctx;
	size_t i = *(const size_t *)a, k = *(const size_t *)b;
	if (h->rows[i].sessions != h->rows[k].sessions)
		return h->rows[i].sessions < h->rows[k].sessions ? 1 : -1;
	return (i > k) - (i < k);
}

/* Rows by server, then user; sessions that named no user last. */
static int tl_by_name(const void *a, const void *b, void *ctx)
{
	const struct html_report *h = ctx;
	const struct html_row *x = &h->rows[*(const size_t *)a], *y = &h->rows[*(const size_t *)b];
	int c = strcmp(x->server, y->server);
	if (c)
		return c;
	if (!x->user[0] != !y->user[0])
		return x->user[0] ? -1 : 1;
	return strcmp(x->user, y->user);
}

/* Items grouped by timeline row (a counting sort): row r's are idx[at[r] .. at[r + 1]). */
struct tl_groups {
	size_t *at, *idx;
};

static bool tl_group(struct tl_groups *g, size_t n_rows, size_t n, const uint32_t *row_of)
{
	g->at = calloc(n_rows + 2, sizeof(*g->at));
	g->idx = malloc((n ? n : 1) * sizeof(*g->idx));
	if (!g->at || !g->idx)
		return false;
	for (size_t i = 0; i < n; i++)
		if (row_of[i] != UINT32_MAX)
			g->at[row_of[i] + 2]++;
	for (size_t r = 2; r < n_rows + 2; r++)
		g->at[r] += g->at[r - 1];
	for (size_t i = 0; i < n; i++)
		if (row_of[i] != UINT32_MAX)
			g->idx[g->at[row_of[i] + 1]++] = i;
	return true;
}

static void tl_groups_free(struct tl_groups *g)
{
	free(g->at);
	free(g->idx);
}

/* What the timeline needs beside the model: sessions and marks by row. */
struct tl_data {
	struct tl_scale sc;
	struct tl_groups sessions, marks;
	size_t *mark_session; /* the session of each mark, SIZE_MAX: none */
};

static void tl_data_free(struct tl_data *d);

static bool tl_prepare(struct tl_data *d, const struct html_report *h)
{
	memset(d, 0, sizeof(*d));
	struct tl_index ix;
	uint32_t *row_of = malloc((h->n_sessions + h->n_marks + 1) * sizeof(*row_of));
	d->mark_session = malloc((h->n_marks + 1) * sizeof(*d->mark_session));
	bool ok = row_of && d->mark_session && tl_scale_build(&d->sc, h) && tl_index_build(&ix, h);
	if (!ok) {
		free(row_of);
		tl_data_free(d);
		return false;
	}
	for (size_t i = 0; i < h->n_sessions; i++)
		row_of[i] = h->sessions[i].row;
	ok = tl_group(&d->sessions, h->n_rows, h->n_sessions, row_of);
	for (size_t i = 0; i < h->n_marks; i++) {
		d->mark_session[i] = tl_session(&ix, h, h->marks[i].flow_id);
		row_of[i] = d->mark_session[i] == SIZE_MAX ? UINT32_MAX : h->sessions[d->mark_session[i]].row;
	}
	ok = ok && tl_group(&d->marks, h->n_rows, h->n_marks, row_of);
	free(ix.slots);
	free(row_of);
	return ok;
}

static void tl_data_free(struct tl_data *d)
{
	tl_groups_free(&d->sessions);
	tl_groups_free(&d->marks);
	free(d->mark_session);
}

static const char *const tl_mark_name[] = { "", "login succeeded", "login failed",
					    "login without a reply", "message retrieved" };

/* One session as a bar, its title saying what it was. */
static void tl_session_bar(const struct html_report *h, FILE *fp, const struct tl_data *d,
			   const struct html_session *s)
{
	double x0 = tl_x(h, &d->sc, &s->start), x1 = tl_x(h, &d->sc, &s->end);
	double w = x1 - x0 < 3 ? 3 : x1 - x0;
	fprintf(fp, "<rect class=\"s%s\" x=\"%.1f\" y=\"7\" width=\"%.1f\" height=\"12\" rx=\"2\"><title>",
		s->authenticated ? " a" : "", x1 - x0 < 3 ? x0 - 1.5 : x0, w);
	fprintf(fp, "flow %llu, ", (unsigned long long)s->flow_id);
	html_esc(fp, s->client);
	fputs(", ", fp);
	html_time(fp, &s->start);
	fputs(" to ", fp);
	html_time(fp, &s->end);
	fprintf(fp, ", %u retrieved, ended: ", s->retrieved);
	html_esc(fp, s->end_reason);
	fputs("</title></rect>", fp);
	if (s->committed == COMMIT_YES && s->marked)
		fprintf(fp, "<path class=\"d\" d=\"M%.1f 1l5 5m0 -5l-5 5\"><title>%u deletion%s committed"
			"</title></path>", x1 - 2.5, s->marked, s->marked == 1 ? "" : "s");
}

static void tl_mark(const struct html_report *h, FILE *fp, const struct tl_data *d, const struct html_mark *m)
{
	double x = tl_x(h, &d->sc, &m->when);
	int kind = m->kind & MARK_KIND;
	if (kind == MARK_RETRIEVAL) {
		fprintf(fp, "<rect class=\"r\" x=\"%.1f\" y=\"20\" width=\"1.6\" height=\"6\"/>", x - 0.8);
		return;
	}
	fprintf(fp, "<circle class=\"m%d%s\" cx=\"%.1f\" cy=\"13\" r=\"4\"><title>%s%s, ", kind,
		m->kind & MARK_CLEARTEXT ? " c" : "", x, tl_mark_name[kind],
		m->kind & MARK_CLEARTEXT ? " (CLEARTEXT password)" : "");
	html_time(fp, &m->when);
	fputs("</title></circle>", fp);
}

/* A row in detail: every session a bar, every login and retrieval a mark. */
static void tl_row_detail(const struct html_report *h, FILE *fp, const struct tl_data *d, size_t r)
{
	fprintf(fp, "<svg width=\"%d\" height=\"27\">", TL_WIDTH);
	for (size_t k = d->sessions.at[r]; k < d->sessions.at[r + 1]; k++)
		tl_session_bar(h, fp, d, &h->sessions[d->sessions.idx[k]]);
	for (size_t k = d->marks.at[r]; k < d->marks.at[r + 1]; k++)
		tl_mark(h, fp, d, &h->marks[d->marks.idx[k]]);
	fputs("</svg>", fp);
}

/*
 * Bins drawn as one path per shade, runs of neighbouring bins of the same
 * shade as one rectangle each: a density row costs a few hundred octets, not
 * an element per bin. shade = ceil(count / max * shades); 0 draws nothing.
 */
static void tl_runs(FILE *fp, const unsigned *bins, unsigned max, int shades, double bw, int y, int h,
		    const char *cls)
{
	for (int level = 1; level <= shades; level++) {
		bool open = false;
		for (int b = 0; b < TL_BINS; b++) {
			int l = bins[b] ? (int)(((unsigned long long)bins[b] * (unsigned)shades + max - 1) / max) : 0;
			if (l != level)
				continue;
			int e = b;
			while (e + 1 < TL_BINS && bins[e + 1] &&
			       (int)(((unsigned long long)bins[e + 1] * (unsigned)shades + max - 1) / max) == level)
				e++;
			if (!open)
				fprintf(fp, "<path class=\"%s%d\" d=\"", cls, level);
			fprintf(fp, "M%.1f %dh%.1fv%dh-%.1fz", TL_PAD + b * bw, y, (e - b + 1) * bw, h, (e - b + 1) * bw);
			open = true;
			b = e;
		}
		if (open)
			fputs("\"/>", fp);
	}
}

/* A row as density: sessions started per bin (shade), failed logins per bin (red). */
static void tl_row_density(const struct html_report *h, FILE *fp, const struct tl_data *d, size_t r,
			   unsigned max)
{
	unsigned bins[TL_BINS] = { 0 }, fails[TL_BINS] = { 0 };
	double bw = (double)(TL_WIDTH - 2 * TL_PAD) / TL_BINS;
	for (size_t k = d->sessions.at[r]; k < d->sessions.at[r + 1]; k++) {
		int b = (int)((tl_x(h, &d->sc, &h->sessions[d->sessions.idx[k]].start) - TL_PAD) / bw);
		bins[b < 0 ? 0 : b >= TL_BINS ? TL_BINS - 1 : b]++;
	}
	for (size_t k = d->marks.at[r]; k < d->marks.at[r + 1]; k++) {
		const struct html_mark *m = &h->marks[d->marks.idx[k]];
		int b = (int)((tl_x(h, &d->sc, &m->when) - TL_PAD) / bw);
		fails[b < 0 ? 0 : b >= TL_BINS ? TL_BINS - 1 : b] += (m->kind & MARK_KIND) == MARK_LOGIN_FAILED;
	}
	fprintf(fp, "<svg width=\"%d\" height=\"27\">", TL_WIDTH);
	tl_runs(fp, bins, max, TL_SHADES, bw, 6, 13, "h");
	tl_runs(fp, fails, 1, 1, bw, 20, 5, "hf");
	fputs("</svg>", fp);
}

/* The busiest bin of any drawn row, for the density shade. */
static unsigned tl_max_bin(const struct html_report *h, const struct tl_data *d, const size_t *rows, size_t n)
{
	unsigned max = 1;
	double bw = (double)(TL_WIDTH - 2 * TL_PAD) / TL_BINS;
	unsigned *bins = calloc(TL_BINS, sizeof(*bins));
	for (size_t i = 0; bins && i < n; i++) {
		memset(bins, 0, TL_BINS * sizeof(*bins));
		for (size_t k = d->sessions.at[rows[i]]; k < d->sessions.at[rows[i] + 1]; k++) {
			int b = (int)((tl_x(h, &d->sc, &h->sessions[d->sessions.idx[k]].start) - TL_PAD) / bw);
			b = b < 0 ? 0 : b >= TL_BINS ? TL_BINS - 1 : b;
			max = ++bins[b] > max ? bins[b] : max;
		}
	}
	free(bins);
	return max;
}

static void tl_legend(FILE *fp, bool detail)
{
	fputs("<p class=\"legend\">", fp);
	if (detail)
		fputs("<span><svg width=\"22\" height=\"12\"><rect class=\"s a\" x=\"1\" y=\"1\" width=\"20\" "
		      "height=\"10\" rx=\"2\"/></svg>session (logged in)</span><span><svg width=\"22\" height=\"12\">"
		      "<rect class=\"s\" x=\"1\" y=\"1\" width=\"20\" height=\"10\" rx=\"2\"/></svg>session</span>"
		      "<span><svg width=\"12\" height=\"12\"><circle class=\"m1\" cx=\"6\" cy=\"6\" r=\"4\"/></svg>"
		      "login ok</span><span><svg width=\"12\" height=\"12\"><circle class=\"m2\" cx=\"6\" cy=\"6\" "
		      "r=\"4\"/></svg>login failed</span><span><svg width=\"12\" height=\"12\"><circle class=\"m3\" "
		      "cx=\"6\" cy=\"6\" r=\"4\"/></svg>no reply</span><span><svg width=\"14\" height=\"14\">"
		      "<circle class=\"m1 c\" cx=\"7\" cy=\"7\" r=\"4\"/></svg>cleartext password</span><span>"
		      "<svg width=\"6\" height=\"12\"><rect class=\"r\" x=\"2\" y=\"2\" width=\"1.6\" height=\"8\"/>"
		      "</svg>message retrieved</span><span><svg width=\"10\" height=\"10\"><path class=\"d\" "
		      "d=\"M2 2l6 6m0 -6l-6 6\"/></svg>deletions committed</span>", fp);
	else
		fputs("<span><svg width=\"22\" height=\"12\"><rect class=\"h\" x=\"1\" y=\"1\" width=\"20\" "
		      "height=\"10\"/></svg>sessions started (darker: more)</span><span><svg width=\"22\" "
		      "height=\"8\"><rect class=\"hf\" x=\"1\" y=\"1\" width=\"20\" height=\"5\"/></svg>failed "
		      "logins</span>", fp);
	fputs("</p>", fp);
}

static void tl_label(const struct html_report *h, FILE *fp, size_t r)
{
	const struct html_row *row = &h->rows[r];
	fputs("<tr><td class=\"lab\" title=\"", fp);
	html_esc(fp, row->user[0] ? row->user : "(no user named)");
	fputs(" on ", fp);
	html_esc(fp, row->server);
	fputs("\"><b>", fp);
	html_esc(fp, row->user[0] ? row->user : "(no user named)");
	fputs("</b> <small>", fp);
	html_esc(fp, row->server);
	fprintf(fp, " &middot; %lu</small></td><td>", row->sessions);
}

/* The rows to draw, in order; their count in *n. */
static size_t *tl_rows(struct html_report *h, size_t *n)
{
	size_t *rows = malloc((h->n_rows ? h->n_rows : 1) * sizeof(*rows));
	if (!rows)
		return NULL;
	for (size_t i = 0; i < h->n_rows; i++)
		rows[i] = i;
	*n = h->n_rows;
	if (*n > HTML_TIMELINE_ROWS) {
		qsort_r(rows, *n, sizeof(*rows), tl_by_count, h);
		*n = HTML_TIMELINE_ROWS;
	}
	qsort_r(rows, *n, sizeof(*rows), tl_by_name, h);
	return rows;
}

static void html_timeline(struct html_report *h, FILE *fp)
{
	fputs("<section id=\"timeline\"><h2>Timeline per server and user</h2>", fp);
	struct tl_data d;
	size_t n = 0;
	size_t *rows = h->n_sessions ? tl_rows(h, &n) : NULL;
	if (!rows || !tl_prepare(&d, h)) {
		fputs(h->n_sessions ? "<p class=\"note\">Out of memory: no timeline.</p>" : "<p>No sessions.</p>", fp);
		free(rows);
		fputs("</section>\n", fp);
		return;
	}
	bool detail = h->n_sessions <= HTML_TIMELINE_SESSIONS;
	if (!detail)
		fprintf(fp, "<p class=\"note\">%zu sessions: more than %d, so each row shows how many sessions "
			"started in each of %d time slices instead of one bar per session.</p>", h->n_sessions,
			HTML_TIMELINE_SESSIONS, TL_BINS);
	if (n < h->n_rows)
		fprintf(fp, "<p class=\"note\">%zu (server, user) rows: the %zu with the most sessions are "
			"drawn, %zu are not (see the sessions table).</p>", h->n_rows, n, h->n_rows - n);
	tl_legend(fp, detail);
	unsigned max = detail ? 0 : tl_max_bin(h, &d, rows, n);
	fputs("<div class=\"tlwrap\"><table class=\"tl\"><tr><td></td><td>", fp);
	tl_axis(h, fp, &d.sc);
	fputs("</td></tr>", fp);
	for (size_t i = 0; i < n; i++) {
		tl_label(h, fp, rows[i]);
		if (detail)
			tl_row_detail(h, fp, &d, rows[i]);
		else
			tl_row_density(h, fp, &d, rows[i], max);
		fputs("</td></tr>\n", fp);
	}
	fputs("</table></div></section>\n", fp);
	tl_data_free(&d);
	free(rows);
}

/* ---- the tables ------------------------------------------------------------- */

static int grp_by_count(const void *a, const void *b)
{
	const struct html_group *x = a, *y = b;
	if (x->severity != y->severity)
		return x->severity < y->severity ? -1 : 1; /* alerts: the most severe first */
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return timercmp(&x->first, &y->first, <) ? -1 : timercmp(&x->first, &y->first, >);
}

/* Rows a table left out, and the events they stand for. */
static void html_more(FILE *fp, size_t shown, size_t rows, unsigned long events, const char *what)
{
	if (shown < rows)
		fprintf(fp, "<p class=\"note\">%zu more %s (%lu events) not listed: the page lists %d at most, "
			"the most frequent first; the events have them all.</p>", rows - shown, what, events,
			HTML_ROWS_MAX);
}

static void html_td(FILE *fp, const char *cls, const char *text)
{
	fprintf(fp, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
	html_esc(fp, text);
	fputs("</td>", fp);
}

static void html_td_times(FILE *fp, const struct html_group *g)
{
	fprintf(fp, "<td class=\"n\">%lu</td><td class=\"t\">", g->count);
	html_time(fp, &g->first);
	fputs("</td><td class=\"t\">", fp);
	if (g->count > 1)
		html_time(fp, &g->last);
	fputs("</td>", fp);
}

/* Sorts a group table and returns how many rows it lists, and the events of those left out. */
static size_t html_groups_sorted(struct html_groups *g, unsigned long *left_events)
{
	if (g->n)
		qsort(g->rows, g->n, sizeof(*g->rows), grp_by_count);
	size_t shown = g->n < HTML_ROWS_MAX ? g->n : HTML_ROWS_MAX;
	*left_events = 0;
	for (size_t i = shown; i < g->n; i++)
		*left_events += g->rows[i].count;
	return shown;
}

static void html_cleartext(struct html_report *h, FILE *fp)
{
	fputs("<section id=\"cleartext\"><h2>Cleartext logins, by client and user</h2>", fp);
	if (!h->creds.n) {
		fputs("<p>None: no reusable password or token crossed the network readable.</p></section>\n", fp);
		return;
	}
	unsigned long left;
	size_t shown = html_groups_sorted(&h->creds, &left);
	fprintf(fp, "<table><tr><th>client</th><th>server</th><th>user</th><th>mechanism</th><th>logins</th>"
		"<th>first</th><th>last</th>%s<th>first event</th></tr>", h->show_passwords ? "<th>password</th>" : "");
	for (size_t i = 0; i < shown; i++) {
		const struct html_group *g = &h->creds.rows[i];
		fputs("<tr>", fp);
		html_td(fp, "mono", g->f[0]);
		html_td(fp, "mono", g->f[1]);
		html_td(fp, "clear", g->f[2]);
		html_td(fp, NULL, g->f[3]);
		html_td_times(fp, g);
		if (h->show_passwords)
			html_td(fp, "mono", g->evidence ? g->evidence : "");
		html_where(fp, h, g->flow_id, g->file, 0, g->frame);
		fputs("</tr>\n", fp);
	}
	fputs("</table>", fp);
	html_more(fp, shown, h->creds.n, left, "(client, user) rows");
	if (!h->show_passwords)
		fputs("<p>Passwords are not shown (they are shown with --show-passwords when the events carry "
		      "them).</p>", fp);
	fputs("</section>\n", fp);
}

static void html_failed(struct html_report *h, FILE *fp)
{
	fputs("<section id=\"failed\"><h2>Failed logins</h2>", fp);
	if (!h->failures.n) {
		fputs("<p>None.</p></section>\n", fp);
		return;
	}
	unsigned long left;
	size_t shown = html_groups_sorted(&h->failures, &left);
	fputs("<table><tr><th>client</th><th>server</th><th>user</th><th>mechanism</th><th>failure</th>"
	      "<th>count</th><th>first</th><th>last</th><th>server's reply (first)</th><th>first event</th></tr>", fp);
	for (size_t i = 0; i < shown; i++) {
		const struct html_group *g = &h->failures.rows[i];
		fputs("<tr>", fp);
		html_td(fp, "mono", g->f[0]);
		html_td(fp, "mono", g->f[1]);
		html_td(fp, NULL, g->f[2]);
		html_td(fp, NULL, g->f[3]);
		html_td(fp, "bad", g->why);
		html_td_times(fp, g);
		html_td(fp, "mono sub", g->evidence ? g->evidence : "");
		html_where(fp, h, g->flow_id, g->file, 0, g->frame);
		fputs("</tr>\n", fp);
	}
	fputs("</table>", fp);
	html_more(fp, shown, h->failures.n, left, "(client, user) rows");
	fputs("</section>\n", fp);
}

static void html_alerts(struct html_report *h, FILE *fp)
{
	fputs("<section id=\"alerts\"><h2>Alerts</h2>", fp);
	if (!h->alerts.n) {
		fputs("<p>None.</p></section>\n", fp);
		return;
	}
	unsigned long left;
	size_t shown = html_groups_sorted(&h->alerts, &left);
	fputs("<table><tr><th>severity</th><th>signature</th><th>client</th><th>server</th><th>user</th>"
	      "<th>count</th><th>first</th><th>last</th><th>what it means</th><th>first event</th></tr>", fp);
	for (size_t i = 0; i < shown; i++) {
		const struct html_group *g = &h->alerts.rows[i];
		int sev = g->severity >= 1 && g->severity <= 3 ? g->severity : 3;
		fprintf(fp, "<tr><td class=\"sev%d\">%d</td>", sev, g->severity);
		html_td(fp, sev == 1 ? "bad" : NULL, g->f[0]);
		html_td(fp, "mono", g->f[1]);
		html_td(fp, "mono", g->f[2]);
		html_td(fp, NULL, g->f[3]);
		html_td_times(fp, g);
		html_td(fp, "sub", g->evidence ? g->evidence : "");
		html_where(fp, h, g->flow_id, g->file, 0, g->frame);
		fputs("</tr>\n", fp);
	}
	fputs("</table>", fp);
	html_more(fp, shown, h->alerts.n, left, "alert rows");
	fputs("</section>\n", fp);
}

/* The user of a message's session, from the session table ("" when it named none). */
static const char *html_user_of(const struct html_report *h, const struct tl_index *ix, uint64_t flow_id)
{
	size_t s = ix->slots ? tl_session(ix, h, flow_id) : SIZE_MAX;
	return s == SIZE_MAX ? "" : h->rows[h->sessions[s].row].user;
}

static void html_message_row(const struct html_report *h, FILE *fp, const struct html_message *m,
			     const char *user, const char *rel)
{
	fputs("<tr><td class=\"t\">", fp);
	html_time(fp, &m->when);
	fputs("</td>", fp);
	html_td(fp, "mono", m->client);
	html_td(fp, NULL, user);
	fprintf(fp, "<td>%s %u%s</td>", m->command, m->number, m->complete ? "" : " <b class=\"bad\">incomplete</b>");
	html_td(fp, "mono", m->uid ? m->uid : "");
	html_td(fp, "sub", m->from ? m->from : "");
	html_td(fp, "sub", m->subject ? m->subject : "");
	fprintf(fp, "<td class=\"n\">%llu</td><td class=\"mono\" title=\"%s\">%.16s&hellip;</td><td>",
		(unsigned long long)m->size, m->sha256, m->sha256);
	if (m->path && rel) {
		fputs("<a href=\"", fp);
		html_url(fp, rel, m->path);
		fputs("\">.eml</a>", fp);
	} else if (m->path) {
		fputs("<span class=\"mono\">", fp);
		html_esc(fp, m->path);
		fputs("</span>", fp);
	}
	fputs("</td>", fp);
	html_where(fp, h, m->flow_id, m->file, 0, m->frame);
	fputs("</tr>\n", fp);
}

static void html_messages(struct html_report *h, FILE *fp, const struct tl_index *ix)
{
	fputs("<section id=\"messages\"><h2>Messages retrieved</h2>", fp);
	if (!h->n_messages) {
		fputs("<p>None.</p></section>\n", fp);
		return;
	}
	char *rel = html_rel_dir(h);
	if (h->extract_dir && !rel)
		fputs("<p class=\"note\">The -x directory or the page's directory cannot be resolved: "
		      "the files are named, not linked.</p>", fp);
	fputs("<table><tr><th>time</th><th>client</th><th>user</th><th>command</th><th>uid</th><th>from</th>"
	      "<th>subject</th><th>size</th><th>sha256</th><th>file</th><th>event</th></tr>", fp);
	for (size_t i = 0; i < h->n_msgs; i++)
		html_message_row(h, fp, &h->msgs[i], html_user_of(h, ix, h->msgs[i].flow_id), rel);
	fputs("</table>", fp);
	if (h->n_messages > h->n_msgs)
		fprintf(fp, "<p class=\"note\">%lu more messages not listed: the page lists the first %d; "
			"the events have them all.</p>", h->n_messages - h->n_msgs, HTML_ROWS_MAX);
	free(rel);
	fputs("</section>\n", fp);
}

static void html_session_row(const struct html_report *h, FILE *fp, const struct html_session *s)
{
	static const char *const commit[] = { "unknown", "committed", "not committed" };
	const struct html_row *row = &h->rows[s->row];
	fputs("<tr><td class=\"t\">", fp);
	html_time(fp, &s->start);
	fprintf(fp, "</td><td class=\"n\">%.1f s</td>",
		(double)(s->end.tv_sec - s->start.tv_sec) + (s->end.tv_usec - s->start.tv_usec) / 1e6);
	html_td(fp, "mono", s->client);
	html_td(fp, "mono", row->server);
	html_td(fp, s->authenticated ? "ok" : NULL, row->user);
	html_td(fp, NULL, s->proto);
	fprintf(fp, "<td>%s</td><td class=\"n\">%u</td><td>", s->tls ? "yes" : "", s->retrieved);
	if (s->marked)
		fprintf(fp, "%u, <span class=\"%s\">%s</span>", s->marked, s->committed == COMMIT_YES ? "bad" : "unk",
			commit[s->committed < COMMIT_COUNT ? s->committed : 0]);
	fputs("</td>", fp);
	html_td(fp, NULL, s->end_reason);
	fprintf(fp, "<td class=\"n\">%u</td>", s->anomalies);
	html_where(fp, h, s->flow_id, s->file, s->frame_first, s->frame_last);
	fputs("</tr>\n", fp);
}

static void html_sessions(struct html_report *h, FILE *fp)
{
	fputs("<section id=\"sessions\"><h2>Sessions</h2>", fp);
	if (!h->n_sessions) {
		fputs("<p>None.</p></section>\n", fp);
		return;
	}
	fputs("<table><tr><th>start</th><th>duration</th><th>client</th><th>server</th><th>user</th>"
	      "<th>protocol</th><th>TLS</th><th>retrieved</th><th>deletions</th><th>ended</th>"
	      "<th>anomalies</th><th>event</th></tr>", fp);
	size_t shown = h->n_sessions < HTML_ROWS_MAX ? h->n_sessions : HTML_ROWS_MAX;
	for (size_t i = 0; i < shown; i++)
		html_session_row(h, fp, &h->sessions[i]);
	fputs("</table>", fp);
	if (shown < h->n_sessions)
		fprintf(fp, "<p class=\"note\">%zu more sessions not listed: the page lists the first %d; "
			"the events have them all.</p>", h->n_sessions - shown, HTML_ROWS_MAX);
	fputs("</section>\n", fp);
}

/* ---- the mailbox view (report_mailbox.c's model) ------------------------------ */

static void mb_session(FILE *fp, const struct mbr_session *s)
{
	size_t listed = 0, fresh = 0, marked = 0;
	for (size_t i = 0; i < s->n_listed; i++) {
		listed += s->listed[i].uid != NULL;
		fresh += s->listed[i].uid && s->listed[i].is_new;
		marked += s->listed[i].marked;
	}
	fputs("<tr><td class=\"t\">", fp);
	html_time(fp, &s->start);
	fputs("</td>", fp);
	html_td(fp, "mono", s->client);
	fputs("<td>", fp);
	for (size_t i = 0; i < s->n_logins; i++) {
		const struct mbr_login *l = &s->logins[i];
		fputs(i ? ", " : "", fp);
		html_esc(fp, l->mechanism);
		fprintf(fp, " <span class=\"%s\">%s</span>", l->result == AUTH_RESULT_SUCCESS ? "ok"
			: l->result == AUTH_RESULT_FAILURE ? "bad" : "unk", auth_result_name(l->result));
	}
	fprintf(fp, "</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td><td>",
		listed, fresh, s->n_retrieved);
	if (marked)
		fprintf(fp, "%zu: %s", marked, s->committed == COMMIT_YES ? "<b class=\"bad\">deleted</b>"
			: s->committed == COMMIT_NO ? "not committed (still there)" : "capture ended first");
	fputs("</td>", fp);
	html_where_file(fp, s->flow_id, s->pcap_file, s->frame_first, s->frame_last);
	fputs("</tr>\n", fp);
}

static void mb_message(FILE *fp, const struct mbr_message *m)
{
	fputs("<tr>", fp);
	html_td(fp, "mono", m->uid);
	if (m->size >= 0)
		fprintf(fp, "<td class=\"n\">%lld</td>", (long long)m->size);
	else
		fputs("<td></td>", fp);
	fputs("<td class=\"t\">", fp);
	html_time(fp, &m->first_seen);
	fputs("</td>", fp);
	const struct mbr_session *s = m->first_session;
	html_where_file(fp, m->first_flow, s ? s->pcap_file : NULL, s ? s->frame_first : 0, s ? s->frame_last : 0);
	fprintf(fp, "<td class=\"n\">%u</td><td>", m->times_retrieved);
	if (m->deleted)
		fprintf(fp, "<span class=\"%s\">%s</span>", strcmp(m->deleted, "committed") == 0 ? "bad" : "unk",
			strcmp(m->deleted, "committed") == 0 ? "deleted" : m->deleted);
	fputs("</td></tr>\n", fp);
}

/* One mailbox; *budget counts the rows the view may still list. */
static void mb_box(FILE *fp, const struct mbr_mailbox *b, size_t *budget)
{
	fputs("<h3>", fp);
	html_esc(fp, b->user);
	fputs(" <span>on ", fp);
	html_esc(fp, b->server);
	fprintf(fp, ": %zu session%s, %zu message%s known by uid</span></h3>", b->n_sessions,
		b->n_sessions == 1 ? "" : "s", b->n_messages, b->n_messages == 1 ? "" : "s");
	fputs("<table><tr><th>session</th><th>client</th><th>logins</th><th>uids listed</th><th>new</th>"
	      "<th>retrieved</th><th>marked for deletion</th><th>event</th></tr>", fp);
	for (size_t k = 0; k < b->n_sessions && *budget; k++, (*budget)--)
		mb_session(fp, &b->sessions[k]);
	fputs("</table>", fp);
	if (!b->n_messages)
		return;
	fputs("<table><tr><th>uid</th><th>size</th><th>first seen</th><th>in</th><th>times retrieved</th>"
	      "<th>deleted</th></tr>", fp);
	for (size_t k = 0; k < b->n_messages && *budget; k++, (*budget)--)
		mb_message(fp, &b->messages[k]);
	fputs("</table>", fp);
}

bool html_mailboxes(FILE *fp, const struct mbr_mailbox *boxes, size_t n)
{
	size_t budget = HTML_ROWS_MAX * 2;
	size_t k = 0;
	for (; k < n && budget; k++) {
		budget--; /* the box's own header counts too */
		mb_box(fp, &boxes[k], &budget);
	}
	if (!budget)
		fprintf(fp, "<p class=\"note\">The mailbox view stops after %d rows (%zu of %zu mailboxes "
			"shown, the last perhaps in part): --mailbox-report has them all.</p>", HTML_ROWS_MAX * 2,
			k, n);
	if (!n)
		fputs("<p>No session named a user.</p>", fp);
	return !ferror(fp);
}

/* ---- the page ------------------------------------------------------------------- */

bool html_page_write(struct html_report *h, FILE *fp)
{
	html_head(h, fp);
	html_summary(h, fp);
	html_timeline(h, fp);
	html_cleartext(h, fp);
	html_failed(h, fp);
	html_alerts(h, fp);
	fputs("<section id=\"mailboxes\"><h2>Mailboxes</h2><p>Per server and user: what each session "
	      "listed, what was new to it, what it retrieved, and which deletions the server really "
	      "applied.</p>", fp);
	if (h->mbox_html)
		fwrite(h->mbox_html, 1, h->mbox_len, fp);
	fputs("</section>\n", fp);
	struct tl_index ix = { 0 };
	tl_index_build(&ix, h);
	html_messages(h, fp, &ix);
	free(ix.slots);
	html_sessions(h, fp);
	fputs("</main><footer>Written by popsift " POPSIFT_VERSION " from its events. Times are capture "
	      "times, UTC. Every row names its flow id and capture file: the events with that "
	      "<code>flow_id</code> hold the whole story.</footer></body></html>\n", fp);
	return fflush(fp) == 0 && !ferror(fp);
}
