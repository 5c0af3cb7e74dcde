"""Walking directions in Arabic and English: GET /route?lang=ar|en.

* On the demo network, lang=ar gives every step's sentence in Arabic script from the Arabic phrase
  table (انطلق باتجاه ..., انعطف يمينًا/يسارًا ..., وصلت إلى وجهتك) and the street names of the walkways
  from `name_ar`; lang=en the same steps (maneuvers, distances, geometry) in English with `name`;
  no lang is English.
* On a two-street network made here: a street with no `name_ar` is said by its `name` in Arabic,
  a quote in a name stays valid JSON.
* A language without a table (lang=xx, empty, AR) is 400 naming the ones there are.
"""

import json
import re
import unittest
import urllib.parse

import mshtest
from mshtest import ogr

SERVER = None
MINI = None
ARABIC = re.compile(r"[\u0600-\u06FF]")
LATIN = re.compile(r"[A-Za-z]")
# Mina (a camp street) to Muzdalifah: along the Mina - Muzdalifah pedestrian path
FROM, TO = "39.8930,21.4130", "39.9300,21.3900"


def setUpModule():
    global SERVER, MINI
    db = mshtest.work_path("lang.sqlite")
    mshtest.import_demo(db, layers=["walkways", "site_walkways"])
    SERVER = mshtest.Server(db).start()
    mini = mshtest.work_path("mini.geojson")
    with open(mini, "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": 'Test "Quoted" Street', "name_ar": "شارع الاختبار"},
             "geometry": {"type": "LineString", "coordinates": [[39.0, 21.0], [39.0, 21.001], [39.0, 21.002]]}},
            {"type": "Feature", "properties": {"name": "East Lane", "name_ar": None},
             "geometry": {"type": "LineString", "coordinates": [[39.0, 21.002], [39.001, 21.002], [39.002, 21.002]]}},
        ]}, f, ensure_ascii=False)
    mdb = mshtest.work_path("mini.sqlite")
    mshtest.import_layer(mdb, mini, "walkways")
    MINI = mshtest.Server(mdb, name="mini").start()


def tearDownModule():
    mshtest.stop_servers(SERVER, MINI)


def route(server, frm, to, **params):
    q = dict(params, **{"from": frm, "to": to})
    return mshtest.fetch(server.base + "/route?" + urllib.parse.urlencode(q))


def walkway_names():
    """{name: name_ar} of the demo's site walkways that have both."""
    ds = ogr.Open(mshtest.demo_path("site_walkways.geojson"))
    lyr = ds.GetLayer(0)
    out = {}
    for f in lyr:
        if f.GetField("name") and f.GetField("name_ar"):
            out[f.GetField("name")] = f.GetField("name_ar")
    return out


class Arabic(unittest.TestCase):
    def test_demo_route_in_arabic_and_english(self):
        ar, en, default = (route(SERVER, FROM, TO, lang="ar"), route(SERVER, FROM, TO, lang="en"),
                           route(SERVER, FROM, TO))
        for r in (ar, en, default):
            self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(default.body, en.body, "no lang is English")
        a, e = ar.json(), en.json()
        self.assertEqual(a["geometry"], e["geometry"])
        sa, se = a["properties"]["steps"], e["properties"]["steps"]
        self.assertEqual([s["maneuver"] for s in sa], [s["maneuver"] for s in se])
        self.assertEqual([s["distance_m"] for s in sa], [s["distance_m"] for s in se])
        self.assertEqual([s.get("heading") for s in sa], [s.get("heading") for s in se], "codes do not change")
        # every Arabic sentence is Arabic script and only that (the demo's named ways all have name_ar)
        for s in sa:
            self.assertRegex(s["instruction"], ARABIC, s)
            self.assertNotRegex(s["instruction"], LATIN, s)
        self.assertTrue(sa[0]["instruction"].startswith("انطلق باتجاه "), sa[0])
        self.assertEqual(sa[-1]["instruction"], "وصلت إلى وجهتك")
        self.assertEqual(se[0]["instruction"].split(" ")[0], "Head")
        self.assertEqual(se[-1]["instruction"], "Arrive at the destination")
        said = {"turn left": "انعطف يسارًا", "turn right": "انعطف يمينًا", "bear left": "انحرف يسارًا",
                "bear right": "انحرف يمينًا", "continue": "تابع السير", "turn around": "استدر للخلف"}
        for s in sa[1:-1]:
            self.assertTrue(s["instruction"].startswith(said[s["maneuver"]]), s)
        # street names: name_ar in Arabic, name in English, on the same steps
        names = walkway_names()
        named = [(x, y) for x, y in zip(sa, se) if "name" in y]
        self.assertGreaterEqual(len(named), 2, se)
        for x, y in named:
            self.assertIn(y["name"], names)
            self.assertEqual(x["name"], names[y["name"]])
            self.assertTrue(x["instruction"].endswith(" " + x["name"]), x)
            self.assertTrue(y["instruction"].endswith(" " + y["name"]), y)
        self.assertIn("طريق المشاة - منى مزدلفة", [x["name"] for x, _ in named])
        # a bend that keeps to the same street says so
        stays = [(x, y) for i, (x, y) in enumerate(zip(sa, se)) if i and "name" in x and x["name"] == sa[i - 1].get("name")
                 and x["maneuver"] in ("bear left", "bear right", "turn left", "turn right")]
        self.assertTrue(stays, sa)
        for x, y in stays:
            self.assertIn(" للبقاء على " + x["name"], x["instruction"])
            self.assertIn(" to stay on " + y["name"], y["instruction"])
        self.assertTrue(any(x["instruction"] in ("انعطف يمينًا إلى طريق المشاة - منى مزدلفة",
                                                 "انعطف يسارًا إلى طريق المشاة - منى مزدلفة")
                            for x, _ in named), [x["instruction"] for x, _ in named])

    def test_names_fall_back_and_stay_json(self):
        a = route(MINI, "39.0,21.0", "39.002,21.002", lang="ar")
        e = route(MINI, "39.0,21.0", "39.002,21.002", lang="en")
        self.assertEqual((a.status, e.status), (200, 200), a.body[:300])
        sa, se = a.json()["properties"]["steps"], e.json()["properties"]["steps"]
        self.assertEqual([s["instruction"] for s in sa],
                         ["انطلق باتجاه الشمال على شارع الاختبار", "انعطف يمينًا إلى East Lane", "وصلت إلى وجهتك"])
        self.assertEqual([s["instruction"] for s in se],
                         ['Head north on Test "Quoted" Street', "Turn right onto East Lane", "Arrive at the destination"])
        self.assertEqual([s.get("name") for s in sa], ["شارع الاختبار", "East Lane", None])

    def test_unknown_language_is_400(self):
        for lang in ("xx", "", "AR", "ar-SA", "en;drop"):
            r = route(SERVER, FROM, TO, lang=lang)
            self.assertEqual(r.status, 400, (lang, r.body[:200]))
            self.assertEqual(r.json()["error"], "'lang' must be one of ar, en")
        self.assertTrue(SERVER.alive())


if __name__ == "__main__":
    mshtest.main()
