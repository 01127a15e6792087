// vecmath.cpp: the scalar array entry points and the by-name lookup (vecmath.h).
#include "util/vecmath.h"

#include <cstring>

#include "util/isa.h"
#include "util/vecmath_scalar.h"

namespace fastnn::vecmath {

namespace scalar {

namespace {

template <float (*F)(float)>
void map(float* y, const float* x, index_t n) {
  for (index_t i = 0; i < n; ++i) y[i] = F(x[i]);
}

}  // namespace

const ArraySet arrays = {&map<exp>, &map<log>, &map<tanh>, &map<sigmoid>, &map<erf>};

}  // namespace scalar

namespace {

const ArraySet* set_for(EwIsa isa) {
  switch (isa) {
    case EwIsa::scalar:
      return &scalar::arrays;
#if FASTNN_X86_SIMD
    case EwIsa::avx2:
      return &avx2::arrays;
    case EwIsa::avx512emu:
      return &avx512emu::arrays;
    case EwIsa::avx512:
      return &avx512::arrays;
#endif
    default:
      return nullptr;  // not in this build: cpu_isa() never allows it
  }
}

}  // namespace

ArrayFn find_vecmath(EwIsa isa, const char* func) {
  const ArraySet* s = set_for(isa);
  if (s == nullptr) return nullptr;
  constexpr struct {
    const char* name;
    ArrayFn ArraySet::*fn;
  } kFuncs[] = {{"exp", &ArraySet::exp},
                {"log", &ArraySet::log},
                {"tanh", &ArraySet::tanh},
                {"sigmoid", &ArraySet::sigmoid},
                {"erf", &ArraySet::erf}};
  for (const auto& f : kFuncs)
    if (std::strcmp(f.name, func) == 0) return s->*f.fn;
  return nullptr;
}

}  // namespace fastnn::vecmath
