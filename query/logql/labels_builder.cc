// LabelsBuilder: Loki's pkg/logql/log/labels.go model (three categories + deletions + error),
// kept allocation-free per entry by reusing string slots.

#include <algorithm>

#include "query/logql/log_pipeline.h"

namespace otelbox::query::logql {

const std::vector<Label> LabelsBuilder::kNoLabels;

namespace {

constexpr int kStream = static_cast<int>(LabelCategory::kStream);
constexpr int kMeta = static_cast<int>(LabelCategory::kStructuredMetadata);
constexpr int kParsed = static_cast<int>(LabelCategory::kParsed);

const Label* FindSorted(const std::vector<Label>& labels, std::string_view name) {
  // Stream label sets are small; a linear scan beats binary search below ~16 entries and
  // works even if a caller's vector is not perfectly sorted.
  for (const Label& l : labels) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

bool ByName(const Label& a, const Label& b) { return a.name < b.name; }

}  // namespace

LabelsBuilder::Slot* LabelsBuilder::SlotList::Find(std::string_view name) {
  if ((bloom & Bit(name)) == 0) return nullptr;
  for (size_t i = 0; i < size; ++i) {
    if (slots[i].name == name) return &slots[i];
  }
  return nullptr;
}

const LabelsBuilder::Slot* LabelsBuilder::SlotList::Find(std::string_view name) const {
  if ((bloom & Bit(name)) == 0) return nullptr;
  for (size_t i = 0; i < size; ++i) {
    if (slots[i].name == name) return &slots[i];
  }
  return nullptr;
}

void LabelsBuilder::SlotList::Add(std::string_view name, std::string_view value) {
  if (size == slots.size()) slots.emplace_back();
  Slot& s = slots[size++];
  bloom |= Bit(name);
  s.name.assign(name);
  s.value.assign(value);
}

void LabelsBuilder::SlotList::Remove(std::string_view name) {
  for (size_t i = 0; i < size; ++i) {
    if (slots[i].name == name) {
      // Keep insertion order (Loki appends in order; result order is sorted anyway, but
      // ForEach order is visible to templates iterating maps — keep it stable).
      for (size_t j = i + 1; j < size; ++j) std::swap(slots[j - 1], slots[j]);
      --size;
      return;
    }
  }
}

LabelsBuilder::LabelsBuilder() = default;
LabelsBuilder::~LabelsBuilder() = default;

void LabelsBuilder::SetStream(const std::vector<Label>* stream) {
  stream_ = stream ? stream : &kNoLabels;
  Reset();
}

void LabelsBuilder::Reset() {
  for (auto& a : add_) a.Clear();
  deleted_.Clear();
  extracted_.Clear();
  error_.clear();
  error_details_.clear();
}

void LabelsBuilder::StartEntry(std::span<const Label> structured_metadata) {
  Reset();
  std::string name;
  for (const Label& l : structured_metadata) {
    if (l.name == kErrorLabel) {
      error_.assign(l.value);
      continue;
    }
    if (l.name == kErrorDetailsLabel) {
      error_details_.assign(l.value);
      continue;
    }
    if (StreamHas(l.name)) {
      name.assign(l.name);
      name.append(kExtractedSuffix);
      Set(LabelCategory::kStructuredMetadata, name, l.value);
    } else {
      Set(LabelCategory::kStructuredMetadata, l.name, l.value);
    }
  }
}

bool LabelsBuilder::Deleted(std::string_view name) const { return deleted_.Find(name) != nullptr; }

std::optional<std::string_view> LabelsBuilder::Get(std::string_view name) const {
  for (const auto& a : add_) {
    if (const Slot* s = a.Find(name)) return std::string_view(s->value);
  }
  if (Deleted(name)) return std::nullopt;
  if (const Label* l = FindSorted(*stream_, name); l && !l->value.empty()) {
    return std::string_view(l->value);
  }
  return std::nullopt;
}

std::optional<LabelCategory> LabelsBuilder::CategoryOf(std::string_view name) const {
  for (int c = 0; c < 3; ++c) {
    if (add_[c].Find(name)) return static_cast<LabelCategory>(c);
  }
  if (Deleted(name)) return std::nullopt;
  if (const Label* l = FindSorted(*stream_, name); l && !l->value.empty()) {
    return LabelCategory::kStream;
  }
  return std::nullopt;
}

bool LabelsBuilder::StreamHas(std::string_view name) const {
  const Label* l = FindSorted(*stream_, name);
  return l != nullptr && !l->value.empty();
}

bool LabelsBuilder::HasInCategory(std::string_view name, LabelCategory category) const {
  return add_[static_cast<int>(category)].Find(name) != nullptr;
}

void LabelsBuilder::Set(LabelCategory category, std::string_view name, std::string_view value) {
  const int c = static_cast<int>(category);
  if (c == kParsed) {
    add_[kMeta].Remove(name);
    add_[kStream].Remove(name);
  } else if (c == kMeta) {
    add_[kStream].Remove(name);
    if (add_[kParsed].Find(name)) return;
  } else {
    if (add_[kMeta].Find(name) || add_[kParsed].Find(name)) return;
  }
  if (Slot* s = add_[c].Find(name)) {
    s->value.assign(value);
  } else {
    add_[c].Add(name, value);
  }
  if (c == kParsed && !extracted_.Find(name)) extracted_.Add(name, {});
}

void LabelsBuilder::ParsedName(std::string_view name, std::string* out) const {
  out->assign(name);
  if (StreamHas(name) || HasInCategory(name, LabelCategory::kStructuredMetadata)) {
    out->append(kExtractedSuffix);
  }
}

bool LabelsBuilder::AddParsed(std::string_view name, std::string_view value) {
  if (StreamHas(name) || HasInCategory(name, LabelCategory::kStructuredMetadata)) {
    std::string suffixed;
    suffixed.reserve(name.size() + kExtractedSuffix.size());
    suffixed.append(name);
    suffixed.append(kExtractedSuffix);
    if (extracted_.Find(suffixed)) return false;
    Set(LabelCategory::kParsed, suffixed, value);
    return true;
  }
  if (extracted_.Find(name)) return false;
  // Not extracted yet implies not in the parsed category (every parsed Set records the
  // name), and the name is neither a stream label nor metadata: append directly, which is
  // what Set would do after its lookups.
  if (add_[kStream].size != 0) add_[kStream].Remove(name);
  add_[kParsed].Add(name, value);
  extracted_.Add(name, {});
  return true;
}

void LabelsBuilder::Del(std::string_view name) {
  for (auto& a : add_) a.Remove(name);
  if (!deleted_.Find(name)) deleted_.Add(name, {});
}

void LabelsBuilder::SetError(std::string_view error) { error_.assign(error); }
void LabelsBuilder::SetErrorDetails(std::string_view details) { error_details_.assign(details); }

bool LabelsBuilder::Unchanged() const {
  return add_[0].size == 0 && add_[1].size == 0 && add_[2].size == 0 && deleted_.size == 0 &&
         error_.empty() && error_details_.empty();
}

void LabelsBuilder::Labels(std::vector<Label>* out) const {
  out->clear();
  if (Unchanged()) {
    for (const Label& l : *stream_) {
      if (!l.value.empty()) out->push_back(l);
    }
    return;
  }
  ForEach([&](std::string_view n, std::string_view v) {
    out->push_back(Label{std::string(n), std::string(v)});
  });
  std::sort(out->begin(), out->end(), ByName);
}

CategorizedLabels LabelsBuilder::Categorized() const {
  CategorizedLabels r;
  for (const Label& l : *stream_) {
    if (l.value.empty() || Deleted(l.name) || add_[kMeta].Find(l.name) ||
        add_[kParsed].Find(l.name)) {
      continue;
    }
    if (const Slot* s = add_[kStream].Find(l.name)) {
      r.stream.push_back(Label{l.name, s->value});
    } else {
      r.stream.push_back(l);
    }
  }
  for (const Slot& s : add_[kMeta].Items()) {
    if (add_[kParsed].Find(s.name)) continue;
    r.structured_metadata.push_back(Label{s.name, s.value});
  }
  for (const Slot& s : add_[kParsed].Items()) r.parsed.push_back(Label{s.name, s.value});
  if (!error_.empty()) r.parsed.push_back(Label{std::string(kErrorLabel), error_});
  if (!error_details_.empty()) {
    r.parsed.push_back(Label{std::string(kErrorDetailsLabel), error_details_});
  }
  std::sort(r.stream.begin(), r.stream.end(), ByName);
  std::sort(r.structured_metadata.begin(), r.structured_metadata.end(), ByName);
  std::sort(r.parsed.begin(), r.parsed.end(), ByName);
  return r;
}

}  // namespace otelbox::query::logql
