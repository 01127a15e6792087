// optim_group.h: converts one Python parameter group into optimizer_step's arguments.
//
// A group arrives as the optimizer's group dict (hyper-parameters under PyTorch's
// names) and a list of per-parameter tuples (param, grad, state0, state1, state2,
// step) prepared by the Python optimizer (fastnn/optim/optimizer.py). Shared by
// the optimizer_step binding and by the TrainStep plan (bind_train.cpp).
#pragma once

#include <pybind11/pybind11.h>

#include <vector>

#include "checks.h"
#include "fastnn/optim.h"

namespace fastnn::bind {

// The floats [lo, hi) of one buffer.
struct FloatRange {
  const float* lo;
  const float* hi;
};

struct OptimGroup {
  OptimOptions options;
  std::vector<OptimTensor> tensors;
  std::vector<FloatArray> keep;  // every array the tensors point into, alive for the call

  // Reads and validates a group; reuses this object's vectors, so a steady state
  // allocates nothing. Raises ValueError / TypeError naming `func` and the tensor.
  // writable_grads: each grad must be a float32 C-contiguous writeable array (never
  // a converted copy), so that zero_grads() zeroes the caller's gradients.
  void read(OptimKind kind, const py::handle& group, const py::handle& tensors, const char* func,
            bool writable_grads = false);

  // Fills every tensor's gradient with zeros (needs read(..., writable_grads=true)),
  // except the ranges in `keep` (disjoint; those that lie inside a gradient), which
  // the caller writes whole before anything reads them.
  void zero_grads(const std::vector<FloatRange>& keep = {});

  // Whether the floats of r lie inside one tensor's gradient.
  bool holds_grad(const FloatRange& r) const;

  // Merges back-to-back tensors (coalesce_tensors) and runs the update.
  void step(OptimIsa isa = OptimIsa::best);

 private:
  // A memory interval of one buffer, for the overlap check.
  struct Span {
    const char* lo;
    const char* hi;
    index_t tensor;
    const char* name;
  };
  std::vector<Span> spans_;
  std::vector<FloatRange> inside_;  // zero_grads' scratch
};

}  // namespace fastnn::bind
