/* steps.h: a walking route told as steps (turn-by-turn directions) in one language.
 *
 * The line is cut where it turns by 30 degrees or more (runs under 15 m merge into the next);
 * each run is a step: a maneuver relative to the run before, a compass heading, and the street it
 * follows, the name walked for at least half the run (the walkways' `name_ar` / `name`, see
 * graph.h). The sentences come from the phrase table of the language (phrases.h).
 */
#ifndef MSH_STEPS_H
#define MSH_STEPS_H

#include "graph.h"
#include "phrases.h"

/**
 * Append `"steps":[...]` for the route line `line` (n lon/lat points: `lead_m` metres walked to the
 * network, then the path p's edges, then any walk from the network) to b. `secs_per_m` gives each
 * step's time. Errors are the buffer's (sticky, msh_buf_error).
 */
void msh_steps_json(msh_buf *b, const msh_graph *g, const msh_path *p, const double *line, size_t n, double lead_m,
                    double secs_per_m, const msh_phrases *ph);

#endif
