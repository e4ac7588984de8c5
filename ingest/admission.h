#pragma once
// Admission control for ingest (DESIGN.md "Concurrency"): a budget of bytes in flight.
// Under overload a request is refused at once with a retryable answer (HTTP 429 with
// Retry-After, gRPC UNAVAILABLE) instead of queueing and growing memory without bound.

#include <cstddef>
#include <mutex>
#include <optional>

namespace otelbox::ingest {

class Admission {
 public:
  // A held share of the budget, returned when destroyed. Move-only.
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept : owner_(other.owner_), bytes_(other.bytes_) { other.owner_ = nullptr; }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket();

   private:
    friend class Admission;
    Ticket(Admission* owner, size_t bytes) : owner_(owner), bytes_(bytes) {}
    Admission* owner_;
    size_t bytes_;
  };

  // `max_bytes` 0 disables admission control.
  explicit Admission(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Admits `bytes` when they fit the budget, or when nothing else is in flight (so one
  // request larger than the budget still goes through, alone). Thread-safe.
  std::optional<Ticket> TryAcquire(size_t bytes);

  size_t in_flight() const;

 private:
  void Release(size_t bytes);

  const size_t max_bytes_;
  mutable std::mutex mu_;
  size_t in_flight_ = 0;
};

}  // namespace otelbox::ingest
