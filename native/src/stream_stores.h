// Internal: whether the micro-kernels write an output larger than the caches with non-temporal
// stores. It depends on the machine, not on the layer: on an Intel Xeon (model 207) they took
// cv7 at mini-batch 8 to 0.71 of the time, on an AMD EPYC Zen 5 they made cv7 1.07x slower with
// clean caches and 1.4x with caches left dirty by other work. So it is measured, once per micro-kernel config and
// output width (one tile or more), on the first layer that could stream (MEC4J_STREAM_STORES=auto, the default), or
// forced (=on, =off).
#ifndef MEC4J_STREAM_STORES_H
#define MEC4J_STREAM_STORES_H

#include "configs/igemm_config.h"
#include "mec4j.h"

namespace mec4j {

enum class StreamStores { Auto, On, Off };

// True where config's GEMM should stream final outputs larger than the caches on this machine,
// for a layer of `channels` output channels per group (measured apart for layers one tile wide).
bool stream_stores_pay(const IgemmConfig& config, int64_t channels);
// MEC4J_ERROR_BAD_ENVIRONMENT when MEC4J_STREAM_STORES is misspelt (planning refuses it).
mec4j_status stream_stores_status();
// Tests: force a mode (Auto measures again).
void set_stream_stores_for_testing(StreamStores mode);

}  // namespace mec4j
#endif
