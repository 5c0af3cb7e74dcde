/* msh_constants.h: the physical and crowd-safety constants the product relies on, each once, with
 * where it comes from (docs/HAJJ-FACTS.md has the sources in full).
 *
 * Change a threshold here and every user follows: the density colours of heatmaps and movement
 * tiles, the density alerts on /events, the walking costs that avoid crushes, the KPIs.
 */
#ifndef MSH_CONSTANTS_H
#define MSH_CONSTANTS_H

/* ---- the Earth (WGS 84) ---- */

/** Semi-major axis of the WGS 84 ellipsoid, metres (also the sphere of Web Mercator). */
#define MSH_WGS84_A 6378137.0
/** 2 pi MSH_WGS84_A: the Web Mercator world's width in metres at the equator (a world unit is
 * this times cos(latitude) metres on the ground). */
#define MSH_EARTH_CIRCUMFERENCE 40075016.685578488

/* ---- crowd density: Fruin's walkway levels of service, persons per m2 (Fruin 1971) ---- */

#define MSH_FRUIN_A_MAX 0.31 /* A: free flow, below this */
#define MSH_FRUIN_B_MAX 0.43
#define MSH_FRUIN_C_MAX 0.72
#define MSH_FRUIN_D_MAX 1.08 /* E starts here: the level a density alert on its own raises at */
#define MSH_FRUIN_E_MAX 2.15 /* E includes this value; F (jammed) is above it */

/** Fruin's walkway level of service of a density (persons/m2): 'A' to 'F'. */
static inline char msh_fruin_los(double d)
{
    if (d < MSH_FRUIN_A_MAX) return 'A';
    if (d < MSH_FRUIN_B_MAX) return 'B';
    if (d < MSH_FRUIN_C_MAX) return 'C';
    if (d < MSH_FRUIN_D_MAX) return 'D';
    if (d <= MSH_FRUIN_E_MAX) return 'E';
    return 'F';
}

/* ---- Fruin's queuing levels of service, persons per m2 (Fruin 1971): people standing in line ---- */

#define MSH_FRUIN_QUEUE_A_MAX 0.83
#define MSH_FRUIN_QUEUE_B_MAX 1.08
#define MSH_FRUIN_QUEUE_C_MAX 1.54
#define MSH_FRUIN_QUEUE_D_MAX 3.6
#define MSH_FRUIN_QUEUE_E_MAX 5.4

/** Fruin's queuing level of service of a density (persons/m2): 'A' to 'F'. */
static inline char msh_fruin_queue_los(double d)
{
    if (d < MSH_FRUIN_QUEUE_A_MAX) return 'A';
    if (d < MSH_FRUIN_QUEUE_B_MAX) return 'B';
    if (d < MSH_FRUIN_QUEUE_C_MAX) return 'C';
    if (d < MSH_FRUIN_QUEUE_D_MAX) return 'D';
    if (d <= MSH_FRUIN_QUEUE_E_MAX) return 'E';
    return 'F';
}

/** The square in front of a gate whose people make its queue: this many metres each side of it. */
#define MSH_GATE_QUEUE_HALF_M 15.0

/* ---- alert thresholds (defaults of `mashaer serve`) ---- */

/** Persons/m2 at which crowds become critical (G. Keith Still): the default --alert-density. */
#define MSH_STILL_CRITICAL_DENSITY 4.0
/** Crowd pressure (density x velocity variance, 1/s2) Helbing et al. name the alarm level: the
 * default --alert-pressure. */
#define MSH_HELBING_PRESSURE_ALARM 0.02
/** A raised alert clears only below this share of its threshold: no flapping around the line. */
#define MSH_ALERT_CLEAR_RATIO 0.8

#endif
