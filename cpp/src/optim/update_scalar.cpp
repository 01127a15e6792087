// update_scalar.cpp: the optimizer update loops in portable C++ (baseline ISA).
#include "optim/update.h"

namespace fastnn::optim_detail {

void update_range_scalar(OptimKind kind, const StepScalars& c, const OptimTensor& t,
                         index_t begin, index_t end) {
  update_range<Scalar>(kind, c, t, begin, end);
}

}  // namespace fastnn::optim_detail
