/* test_envlevels.c: heat index, WBGT estimate and the levels of heat, air and noise
 * (layers/live/envlevels.c), and the per-sensor hysteresis of layers/live/alerts.c.
 *   - the heat index against the NWS's published table (read in F, within its 1 F rounding);
 *   - the WBGT estimate against the formula worked by hand;
 *   - each scale's thresholds, and levels that come down only a margin below their line. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "live/alerts.h"
#include "live/envlevels.h"

static double f_to_c(double f) { return (f - 32.0) * 5.0 / 9.0; }
static double c_to_f(double c) { return c * 9.0 / 5.0 + 32.0; }

static void test_heat_index(void)
{
    /* NWS heat index chart: (air F, relative humidity %) -> apparent F */
    static const double table[][3] = {
        {90, 40, 91}, {90, 50, 95}, {90, 70, 106}, {90, 90, 122}, {100, 40, 109}, {100, 55, 124},
        {104, 55, 137}, {86, 90, 105}, {80, 40, 80}, {96, 45, 104},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        CHECK_NEAR(c_to_f(msh_heat_index_c(f_to_c(table[i][0]), table[i][1] / 100)), table[i][2], 1.0);
    /* below 80 F the simple formula averaged with the air: 70 F at 50 % is 69.05 F */
    CHECK_NEAR(c_to_f(msh_heat_index_c(f_to_c(70), 0.5)), 0.5 * (70 + 0.5 * (70 + 61 + 2 * 1.2 + 50 * 0.094)), 1e-9);
    /* the dry adjustment: 110 F at 10 % is 104.4 F with it (the regression alone gives 106.2 F) */
    CHECK_NEAR(c_to_f(msh_heat_index_c(f_to_c(110), 0.10)), 104.4, 0.1);
    /* Makkah's dry heat: 45 C at 15 % feels like about 44.4 C */
    CHECK_NEAR(msh_heat_index_c(45, 0.15), 44.4, 0.1);
}

static void test_wbgt(void)
{
    /* 30 C at 50 %: e = 0.5 x 6.105 x exp(17.27 x 30 / 267.7) = 21.14 hPa;
     * WBGT = 0.567 x 30 + 0.393 x 21.14 + 3.94 = 29.26 C */
    CHECK_NEAR(msh_wbgt_estimate_c(30, 0.5), 29.26, 0.01);
    /* 45 C at 15 %: e = 14.31 hPa, WBGT = 35.07 C: the black flag */
    CHECK_NEAR(msh_wbgt_estimate_c(45, 0.15), 35.07, 0.01);
    CHECK(msh_env_level(MSH_ENV_WBGT, msh_wbgt_estimate_c(45, 0.15), -1) == 4);
    CHECK(!strcmp(msh_env_level_name(MSH_ENV_WBGT, 4), "black"));
}

static void test_levels(void)
{
    /* the NWS heat levels at 26.7 / 32.2 / 39.4 / 51.7 C */
    CHECK(msh_env_level(MSH_ENV_HEAT, 26.6, -1) == 0);
    CHECK(msh_env_level(MSH_ENV_HEAT, 26.7, -1) == 1);
    CHECK(msh_env_level(MSH_ENV_HEAT, 40.0, -1) == 3);
    CHECK(msh_env_level(MSH_ENV_HEAT, 60.0, -1) == 4);
    CHECK(!strcmp(msh_env_level_name(MSH_ENV_HEAT, 3), "danger"));
    /* hysteresis: danger holds down to 1 C below 39.4, then drops to what the value says */
    CHECK(msh_env_level(MSH_ENV_HEAT, 38.5, 3) == 3);
    CHECK(msh_env_level(MSH_ENV_HEAT, 38.4, 3) == 2);
    CHECK(msh_env_level(MSH_ENV_HEAT, 20.0, 4) == 0); /* a fall through every margin at once */
    CHECK(msh_env_level(MSH_ENV_HEAT, 51.0, 4) == 4);
    CHECK(msh_env_level(MSH_ENV_HEAT, NAN, 2) == 2); /* no value: no change */
    /* PM2.5 against the WHO 2021 24-hour guideline and interim targets; 10 % margins */
    CHECK(msh_env_level(MSH_ENV_PM25, 14.9, -1) == 0);
    CHECK(msh_env_level(MSH_ENV_PM25, 15.0, -1) == 1);
    CHECK(msh_env_level(MSH_ENV_PM25, 62.0, -1) == 4);
    CHECK(msh_env_level(MSH_ENV_PM25, 80.0, -1) == 5);
    CHECK(!strcmp(msh_env_level_name(MSH_ENV_PM25, 5), "above_it1"));
    CHECK(msh_env_level(MSH_ENV_PM25, 68.0, 5) == 5);  /* 75 - 7.5 = 67.5 */
    CHECK(msh_env_level(MSH_ENV_PM25, 67.4, 5) == 4);
    /* noise at 70 and 85 dB, 2 dB margins */
    CHECK(msh_env_level(MSH_ENV_NOISE, 84.9, -1) == 1);
    CHECK(msh_env_level(MSH_ENV_NOISE, 83.1, 2) == 2);
    CHECK(msh_env_level(MSH_ENV_NOISE, 82.9, 2) == 1);
    CHECK(!strcmp(msh_env_level_name(MSH_ENV_NOISE, 2), "harmful"));
    CHECK(!strcmp(msh_env_level_name(MSH_ENV_NOISE, 9), "unknown"));
}

static void test_sensor_alerts(void)
{
    msh_alerts *a = msh_alerts_new();
    int prev;
    CHECK(msh_alerts_env(a, MSH_ENV_HEAT, "SENS-1", 6, 40.0, &prev) == 3 && prev == 0);
    CHECK(msh_alerts_env(a, MSH_ENV_HEAT, "SENS-1", 6, 38.6, &prev) == 3 && prev == 3); /* held */
    CHECK(msh_alerts_env(a, MSH_ENV_HEAT, "SENS-2", 6, 30.0, &prev) == 1 && prev == 0); /* another sensor */
    CHECK(msh_alerts_env(a, MSH_ENV_NOISE, "SENS-1", 6, 60.0, &prev) == 0 && prev == 0); /* another kind */
    CHECK(msh_alerts_env(a, MSH_ENV_HEAT, "SENS-1", 6, 38.0, &prev) == 2 && prev == 3);
    CHECK(msh_alerts_active(a) == 2);
    CHECK(msh_alerts_env(a, MSH_ENV_HEAT, "SENS-1", 6, 20.0, &prev) == 0 && prev == 2);
    CHECK(msh_alerts_active(a) == 1);
    msh_alerts_free(a);
}

int main(void)
{
    test_heat_index();
    test_wbgt();
    test_levels();
    test_sensor_alerts();
    printf("%d checks, %d failed\n", g_checks, g_failed);
    return g_failed != 0;
}
