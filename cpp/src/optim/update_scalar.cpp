// update_scalar.cpp: the optimizer update loops in portable C++ (baseline ISA).
#include "optim/update.h"

namespace fastnn::optim_detail {

void update_range_scalar(OptimKind kind, const StepScalars& c, const OptimTensor& t,
                         index_t begin, index_t end) {
  update_range<Scalar>(kind, c, t, begin, end);
}

void bc2_division_scalar(const StepScalars& c, const float* a, float* out, index_t n) {
  bc2_division<Scalar>(c, a, out, n);
}

}  // namespace fastnn::optim_detail
