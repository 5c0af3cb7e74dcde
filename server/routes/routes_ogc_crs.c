/* routes_ogc_crs.c: the HTTP side of OGC API - Features Part 2 (Coordinate Reference Systems by
 * Reference) for the OGC routes: the `Content-Crs` header of an answer, and a projected bbox's
 * lon/lat ring as a query geometry. The CRSs themselves and the conversions are
 * exporters/features/crs_ref.h; the parameters are read in routes_ogc.c.
 */
#include <stdio.h>

#include "query/qgeom.h"
#include "routes/ogc.h"

void ogc_content_crs(msh_req *r, msh_crs crs)
{
    if (r->resp.status == 200) /* an error says nothing about coordinates */
        msh_resp_header(r, "Content-Crs", "<%s>", msh_crs_uri(crs));
}

msh_rc ogc_ring_qgeom(const double *ring, size_t n, msh_qgeom *g)
{
    /* through the WKT reader, the one way into a msh_qgeom polygon: n is a few hundred vertices */
    msh_buf w;
    msh_buf_init(&w, (size_t)1 << 20);
    msh_buf_printf(&w, "POLYGON((");
    for (size_t i = 0; i < n; i++)
        msh_buf_printf(&w, "%s%.12g %.12g", i ? "," : "", ring[2 * i], ring[2 * i + 1]);
    msh_buf_printf(&w, "))");
    msh_err err;
    size_t used;
    msh_rc rc = msh_buf_error(&w) ? MSH_ENOMEM : msh_qgeom_parse_wkt((const char *)w.data, w.len, &used, g, &err);
    msh_buf_free(&w);
    return rc;
}
