#!/bin/sh
# sim_bins.sh: what the simulator's waste bins cost its model: the same dry run (100,000 pilgrims,
# 120 ticks at 600x: 20 simulated hours after the silent warm-up to 06:00 of the 8th, crews and
# sensors written, no positions) with a build before the bins and one with them, three runs each;
# wall seconds and peak memory (GNU time). The new build also writes the bins (1,858 readings every
# 5 simulated minutes) when WITH_BINS=1.
#
#   bench/sim_bins.sh OLD_MASHAER NEW_MASHAER [DATA_DIR]
set -eu
old=$1 new=$2 data=${3:-data/demo}
for bin in "$old" "$new"; do
    feeds=crews,sensors
    [ "$bin" = "$new" ] && [ "${WITH_BINS:-0}" = 1 ] && feeds=crews,sensors,bins
    for i in 1 2 3; do
        /usr/bin/time -f "$bin --feeds $feeds: %e s, %M KB" "$bin" simulate --dry-run --pilgrims 100000 \
            --ticks 120 --speedup 600 --fast --quiet --feeds "$feeds" --data "$data" >/dev/null
    done
done
