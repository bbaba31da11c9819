/* Private helpers shared by the game types of src/games: the random matrices of bilinear and
 * onelayer (random_matrix.c), a leaf with no dependency on any game. */
#ifndef OTGEN_GAMES_INTERNAL_H
#define OTGEN_GAMES_INTERNAL_H

#include "otgen/games.h"

/* Q [d, d] with orthonormal columns from r (Gram-Schmidt on a Gaussian matrix, drawing again
 * until each column is of full rank). */
void otgi_game_random_orthogonal(int64_t d, otg_rng *r, double *q);
/* a [d, d] = U diag(s) V^T, U then V random orthogonal from r, s_l = cond^(-l/(d-1)): condition
 * number cond, largest singular value 1. OTG_ENOMEM or OTG_OK. */
otg_status otgi_game_random_conditioned(int64_t d, double cond, otg_rng *r, double *a);

#endif
