// pack_buffer.h: 64-byte aligned scratch memory for packed panels, grown on
// demand and never shrunk.
//
// GEMM keeps one PackBuffer per thread in thread_local storage (blocked.cpp):
// the first call of a given size allocates, every later call on that thread
// reuses the memory, so the hot path does not allocate. The calling thread's
// B buffer (or, for products of few rows, its A buffer) is shared with the OpenMP
// team during a call; each team thread packs the other operand into its own
// buffer. Memory is released when the thread ends.
#pragma once

#include <cstddef>
#include <new>

namespace fastnn::gemm_detail {

class PackBuffer {
 public:
  PackBuffer() = default;
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
  ~PackBuffer() { release(); }

  // At least n floats, valid until the next call to get() on this buffer.
  float* get(std::size_t n) {
    if (n > size_) {
      release();
      data_ = static_cast<float*>(::operator new(n * sizeof(float), std::align_val_t(kAlign)));
      size_ = n;
    }
    return data_;
  }

 private:
  static constexpr std::size_t kAlign = 64;  // a cache line; covers ymm/zmm loads
  void release() {
    if (data_ != nullptr) ::operator delete(data_, std::align_val_t(kAlign));
    data_ = nullptr;
    size_ = 0;
  }
  float* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace fastnn::gemm_detail
