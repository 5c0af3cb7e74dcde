/* routes_wmts.c: GET /wmts/1.0.0/WMTSCapabilities.xml, the WMTS 1.0.0 capabilities (RESTful).
 *
 * Design: every raster style that compiled is a Layer: one Style ("default"), Format image/png,
 * a TileMatrixSetLink to WebMercatorQuad (well-known scale set GoogleMapsCompatible, zooms 0..22)
 * with TileMatrixSetLimits from the extent of the layers the style draws (routes/tms_wmq.h: per
 * level the same tiles the OGC API - Tiles map tileset lists, from the first zoom at which the
 * extent spans a pixel up to 22), and a ResourceURL template on the PNG path
 * that already exists, /styles/{name}/{TileMatrix}/{TileCol}/{TileRow}.png: a WMTS client gets
 * the very tiles a web map does, from the same cache. No tile path is added here and nothing is
 * kept between requests: the document is written per request from the styles and the catalog.
 * Text from data is XML-escaped (ogc_html_str's five entities; C0 controls, which XML 1.0 cannot
 * carry, become spaces); Arabic titles go out as UTF-8.
 */
#include <stdio.h>
#include <string.h>

#include "routes/ogc.h"
#include "routes/routes.h"
#include "routes/routes_raster.h"
#include "routes/tms_wmq.h"
#include "services/raster_service.h"
#include "vector_layers.h"

#define WMTS_MAX_ZOOM 22
#define CRS_3857 "urn:ogc:def:crs:EPSG::3857"

/* s as XML character data or attribute content. */
static void xml_text(msh_buf *b, const char *s)
{
    size_t n = strlen(s), run = 0;
    for (size_t i = 0; i <= n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (i < n && (ch >= 0x20 || ch == '\t' || ch == '\n' || ch == '\r'))
            continue;
        ogc_html_str(b, s + run, i - run);
        if (i < n)
            msh_buf_putc(b, ' ');
        run = i + 1;
    }
}

static void layer_xml(msh_buf *b, const char *base, const char *name, msh_layer *const *layers, int n)
{
    double bb[4];
    int minz, maxz;
    msh_layers_extent(layers, (size_t)n, bb, &minz, &maxz);
    msh_buf_printf(b, "<Layer><ows:Title>");
    xml_text(b, name);
    msh_buf_printf(b, "</ows:Title><ows:Abstract>The style %s drawn by the server from the layers: ", name);
    for (int i = 0; i < n; i++) {
        const msh_layer_info *li = &layers[i]->info;
        msh_buf_printf(b, "%s%s", i ? ", " : "", li->name);
        if (li->title && strcmp(li->title, li->name)) {
            msh_buf_printf(b, " (");
            xml_text(b, li->title);
            msh_buf_putc(b, ')');
        }
    }
    msh_buf_printf(b, "</ows:Abstract><ows:WGS84BoundingBox><ows:LowerCorner>%.9g %.9g</ows:LowerCorner>"
                      "<ows:UpperCorner>%.9g %.9g</ows:UpperCorner></ows:WGS84BoundingBox>",
                   bb[0], bb[1], bb[2], bb[3]);
    msh_buf_printf(b, "<ows:Identifier>%s</ows:Identifier><Style isDefault=\"true\"><ows:Identifier>default"
                      "</ows:Identifier></Style><Format>image/png</Format><TileMatrixSetLink><TileMatrixSet>" MSH_WMQ_ID
                      "</TileMatrixSet><TileMatrixSetLimits>",
                   name);
    for (int z = msh_wmq_first_zoom(bb); z <= WMTS_MAX_ZOOM; z++) {
        uint32_t c0, c1, r0, r1;
        msh_wmq_limits(bb, z, &c0, &c1, &r0, &r1);
        msh_buf_printf(b, "<TileMatrixLimits><TileMatrix>%d</TileMatrix><MinTileRow>%u</MinTileRow><MaxTileRow>%u"
                          "</MaxTileRow><MinTileCol>%u</MinTileCol><MaxTileCol>%u</MaxTileCol></TileMatrixLimits>",
                       z, r0, r1, c0, c1);
    }
    msh_buf_printf(b, "</TileMatrixSetLimits></TileMatrixSetLink><ResourceURL format=\"image/png\" resourceType=\"tile\" "
                      "template=\"");
    xml_text(b, base);
    msh_buf_printf(b, "/styles/%s/{TileMatrix}/{TileCol}/{TileRow}.png\"/></Layer>", name);
}

static void matrix_set_xml(msh_buf *b)
{
    msh_buf_printf(b, "<TileMatrixSet><ows:Title>Google Maps Compatible for the World</ows:Title><ows:Identifier>" MSH_WMQ_ID
                      "</ows:Identifier><ows:BoundingBox crs=\"" CRS_3857 "\"><ows:LowerCorner>%.7f %.7f</ows:LowerCorner>"
                      "<ows:UpperCorner>%.7f %.7f</ows:UpperCorner></ows:BoundingBox><ows:SupportedCRS>" CRS_3857
                      "</ows:SupportedCRS><WellKnownScaleSet>urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible"
                      "</WellKnownScaleSet>",
                   -MSH_WMQ_EDGE, -MSH_WMQ_EDGE, MSH_WMQ_EDGE, MSH_WMQ_EDGE);
    for (int z = 0; z <= WMTS_MAX_ZOOM; z++)
        msh_buf_printf(b, "<TileMatrix><ows:Identifier>%d</ows:Identifier><ScaleDenominator>%.10g</ScaleDenominator>"
                          "<TopLeftCorner>%.7f %.7f</TopLeftCorner><TileWidth>256</TileWidth><TileHeight>256</TileHeight>"
                          "<MatrixWidth>%llu</MatrixWidth><MatrixHeight>%llu</MatrixHeight></TileMatrix>",
                       z, msh_wmq_scale(z), -MSH_WMQ_EDGE, MSH_WMQ_EDGE, 1ull << z, 1ull << z);
    msh_buf_printf(b, "</TileMatrixSet>");
}

void msh_route_wmts(msh_req *r, const char *rest)
{
    (void)rest;
    char base[300];
    msh_req_base_url(r, base, sizeof base);
    msh_catalog *cat = msh_app_catalog(r->app);
    msh_buf b;
    msh_buf_init(&b, MSH_MAX_BODY);
    msh_buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Capabilities xmlns=\"http://www.opengis.net/wmts/1.0\" "
                       "xmlns:ows=\"http://www.opengis.net/ows/1.1\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
                       "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:gml=\"http://www.opengis.net/gml\" "
                       "xsi:schemaLocation=\"http://www.opengis.net/wmts/1.0 "
                       "http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd\" version=\"1.0.0\">"
                       "<ows:ServiceIdentification><ows:Title>Mashaer</ows:Title><ows:Abstract>Map styles of the holy "
                       "sites drawn as PNG tiles</ows:Abstract><ows:ServiceType>OGC WMTS</ows:ServiceType>"
                       "<ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion></ows:ServiceIdentification><Contents>");
    msh_layer *layers[MSH_RASTER_STYLE_MAX_LAYERS];
    const char *name;
    for (size_t i = 0; (name = msh_raster_service_name(r->app->raster, i)); i++) {
        const msh_rstyle *st;
        msh_err err;
        if (msh_raster_service_style(r->app->raster, name, strlen(name), &st, &err))
            continue; /* a style that did not compile draws no tiles */
        int n = msh_raster_style_layers(cat, st, layers);
        layer_xml(&b, base, name, layers, n);
    }
    matrix_set_xml(&b);
    msh_buf_printf(&b, "</Contents><ServiceMetadataURL xlink:href=\"");
    xml_text(&b, base);
    msh_buf_printf(&b, "/wmts/1.0.0/WMTSCapabilities.xml\"/></Capabilities>\n");
    r->resp.cache_control = "no-cache";
    r->resp.vary_encoding = true;
    msh_resp_buf(r, 200, "application/xml", &b);
    msh_buf_free(&b);
    msh_catalog_release(cat);
}
