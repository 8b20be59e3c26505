// goro/goro.h — the goro runtime's umbrella header.
#pragma once

#include "goro/chan.h"
#include "goro/hash.h"
#include "goro/map.h"
#include "goro/misuse.h"
#include "goro/panic.h"
#include "goro/sched.h"
#include "goro/sync.h"
#include "goro/syncmap.h"
#include "goro/time.h"
