/* otgen: the umbrella header. Include this to get every public module of libotgen. */
#ifndef OTGEN_OTGEN_H
#define OTGEN_OTGEN_H

#include "otgen/ad.h"
#include "otgen/comm.h"
#include "otgen/core.h"
#include "otgen/data.h"
#include "otgen/eval.h"
#include "otgen/games.h"
#include "otgen/implicit.h"
#include "otgen/io.h"
#include "otgen/minimax.h"
#include "otgen/nn.h"
#include "otgen/optim.h"
#include "otgen/ot.h"
#include "otgen/particles.h"
#include "otgen/plot.h"
#include "otgen/study.h"
#include "otgen/train.h"

#endif
