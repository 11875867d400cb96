// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * pages.c - the page a scrape builds, shared by the responses that send it;
 * apart, as its life follows libmicrohttpd's responses, not the scrape.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <microhttpd.h>

#include "metrics.h"
#include "metricsfmt.h"

void page_unref(void *cls)
{
	struct page *p = cls;

	if (p && --p->refs == 0) {
		mbuf_free(&p->buf);
		free(p);
	}
}

/* An empty page to write: the last one if no response still sends it. */
static struct page *page_for_writing(struct metricsd *m)
{
	if (m->page && m->page->refs == 1) {
		m->page->buf.len = 0;
		return m->page;
	}
	page_unref(m->page);
	m->page = calloc(1, sizeof(*m->page));
	if (m->page)
		m->page->refs = 1;
	return m->page;
}

/* One line of text as an exposition-format comment. */
static int page_comment(struct mbuf *b, const char *text)
{
	int r = mbuf_append(b, "# ", 2);

	for (const char *p = text; !r && *p; p++)
		r = mbuf_append(b, *p == '\n' ? " " : p, 1);
	return r ? r : mbuf_append(b, "\n", 1);
}

/*
 * The current page: the units' metrics from @readings, or, without them,
 * @why as a comment and the service's own metrics.
 */
int page_build(struct metricsd *m, const struct readings_msg *readings,
	       const struct metrics_manager *manager, const struct metrics_peers *peers,
	       const char *why)
{
	struct page *p = page_for_writing(m);
	struct metrics_input in = {
		.units = m->units, .index = &m->index, .readings = readings,
		.manager = manager, .peers = peers, .service = &m->counters,
		.mkt_dh = m->mkt.done_usec ? m->mkt.dh : 0,
	};
	int r = 0;

	if (!p)
		return -ENOMEM;
	if (why)
		r = page_comment(&p->buf, why);
	return r ? r : metrics_format(&p->buf, &in);
}

/* A response that sends the current page (holding a reference to it). */
struct MHD_Response *page_response(struct metricsd *m)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer_with_free_callback_cls(
		m->page->buf.len, m->page->buf.data, page_unref, m->page);
	if (!resp)
		return NULL;
	m->page->refs++;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				    METRICS_CONTENT_TYPE) != MHD_YES) {
		MHD_destroy_response(resp);
		return NULL;
	}
	return resp;
}
