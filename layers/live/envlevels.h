/* envlevels.h: what a sensor's reading means for people outdoors: heat stress from temperature and
 * humidity, air quality from PM2.5, hearing risk from noise. Pure functions, no state, no clock.
 *
 * Heat index: the US National Weather Service's (Rothfusz's 1990 regression of Steadman's apparent
 * temperature, NWS Technical Attachment SR 90-23, with the NWS's two adjustments for very dry and
 * for humid air, and its simple formula below 80 F). Levels: the NWS's caution, extreme caution,
 * danger and extreme danger, at 80, 90, 103 and 125 F (26.7, 32.2, 39.4, 51.7 C).
 *
 * WBGT: estimated from temperature and humidity alone with the Australian Bureau of Meteorology's
 * approximation (0.567 Ta + 0.393 e + 3.94, e the water-vapour pressure in hPa), which assumes
 * moderately high sun and light wind: an estimate, not a measurement with a black globe (ISO 7243
 * measures one). Levels: the flag scale of US Army TB MED 507 (green 27.8, yellow 29.4, red 31.1,
 * black 32.2 C WBGT); ISO 7243's reference value for acclimatised people walking (28 C) sits at green.
 *
 * Air: PM2.5 against the WHO 2021 air-quality guideline for 24 hours (15 ug/m3) and its interim
 * targets 4 to 1 (25, 37.5, 50, 75). A reading is not a 24-hour mean: the level says how far the
 * air is from the guideline now, an early warning, not a compliance figure.
 *
 * Noise: LAeq against 70 dB (the WHO's level below which no hearing loss is expected over a day)
 * and 85 dB (the usual occupational action level for 8 hours).
 *
 * Hysteresis: a level goes up as soon as a value reaches its threshold and comes down only when the
 * value falls a margin below it (1 C of heat index or WBGT, 10 % of a PM2.5 threshold, 2 dB), so a
 * reading hovering at a line does not flap.
 */
#ifndef MSH_ENVLEVELS_H
#define MSH_ENVLEVELS_H

typedef enum { MSH_ENV_HEAT = 0, MSH_ENV_WBGT, MSH_ENV_PM25, MSH_ENV_NOISE, MSH_ENV_KINDS } msh_env_kind;

/** NWS heat index in degrees C from air temperature (C) and relative humidity (0..1). */
double msh_heat_index_c(double t_c, double rh);

/** Estimated WBGT in degrees C from air temperature (C) and relative humidity (0..1). */
double msh_wbgt_estimate_c(double t_c, double rh);

/** How many levels `kind` has above 0 (0 = nothing to say). */
int msh_env_levels(msh_env_kind kind);

/** The level of `value` for `kind`, 0..msh_env_levels(kind); `prev` is the level it had (-1: none),
 * for the hysteresis. */
int msh_env_level(msh_env_kind kind, double value, int prev);

/** The level's name ("danger", "it2", ...); "none" for 0 of heat and WBGT, "guideline" for 0 of PM2.5,
 * "quiet" for 0 of noise. */
const char *msh_env_level_name(msh_env_kind kind, int level);

/** The kind's name in events: "heat", "wbgt", "pm25", "noise". */
const char *msh_env_kind_name(msh_env_kind kind);

#endif
