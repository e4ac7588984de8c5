#include "ingest/admission.h"

namespace otelbox::ingest {

Admission::Ticket::~Ticket() {
  if (owner_ != nullptr) owner_->Release(bytes_);
}

std::optional<Admission::Ticket> Admission::TryAcquire(size_t bytes) {
  std::lock_guard lock(mu_);
  if (max_bytes_ > 0 && in_flight_ > 0 && in_flight_ + bytes > max_bytes_) return std::nullopt;
  in_flight_ += bytes;
  return Ticket(this, bytes);
}

size_t Admission::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

void Admission::Release(size_t bytes) {
  std::lock_guard lock(mu_);
  in_flight_ -= bytes;
}

}  // namespace otelbox::ingest
