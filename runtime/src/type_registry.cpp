// The process-wide registry of message types that cross nodes.
//
// Invariants:
// - entries() holds at most one entry per name and per type.
// - Once frozen() is true (the first runtime started) it stays true and
//   entries() never changes again, so readers after the freeze need no lock
//   for consistency (they take it anyway; it is cheap and rare).

#include "rotina/type_registry.hpp"

#include <algorithm>
#include <mutex>

#include <openssl/evp.h>

#include "rotina/detail/remote_handle.hpp"
#include "rotina/error.hpp"

namespace rotina {

namespace {

struct entry {
  std::string name;
  std::type_index type;
  std::function<void(caf::actor_system_config&, const std::string&)> add;
};

struct registry {
  std::mutex mtx;
  std::vector<entry> entries;
  bool frozen = false;
};

registry& reg() {
  static registry instance;
  return instance;
}

[[noreturn]] void misuse(std::string msg) {
  throw panic_error{error{errc::misuse, std::move(msg)}};
}

} // namespace

namespace detail {

void register_type_impl(
  std::string name, std::type_index type,
  std::function<void(caf::actor_system_config&, const std::string&)> add) {
  auto& r = reg();
  std::lock_guard<std::mutex> guard{r.mtx};
  auto call
    = "register_type<" + std::string{type.name()} + ">(\"" + name + "\")";
  if (name.empty())
    misuse(call + ": the name must not be empty");
  for (auto& x : r.entries) {
    if (x.name == name && x.type == type)
      return; // Same registration again: no-op.
    if (x.name == name)
      misuse(call + ": the name \"" + name
             + "\" is already registered for type " + x.type.name());
    if (x.type == type)
      misuse(call + ": the type is already registered as \"" + x.name + "\"");
  }
  if (r.frozen)
    misuse(call
           + " after a runtime started: register every type before "
             "creating the first rotina::runtime (the registry is "
             "process-wide and every node must list the same types)");
  r.entries.push_back(entry{std::move(name), type, std::move(add)});
}

bool is_registered_impl(std::type_index type) noexcept {
  auto& r = reg();
  std::lock_guard<std::mutex> guard{r.mtx};
  return std::any_of(r.entries.begin(), r.entries.end(),
                     [&](const entry& x) { return x.type == type; });
}

std::string registered_name_impl(std::type_index type) {
  auto& r = reg();
  std::lock_guard<std::mutex> guard{r.mtx};
  for (auto& x : r.entries)
    if (x.type == type)
      return x.name;
  return {};
}

void apply_registered_types(caf::actor_system_config& cfg) {
  // rotina's own wire types: the same on every node, so not part of the
  // fingerprint of the user's registrations.
  cfg.add_message_type<remote_handle>("rotina.remote_handle");
  auto& r = reg();
  std::lock_guard<std::mutex> guard{r.mtx};
  r.frozen = true;
  for (auto& x : r.entries)
    x.add(cfg, x.name);
}

} // namespace detail

std::vector<std::string> registered_types() {
  auto& r = reg();
  std::vector<std::string> result;
  {
    std::lock_guard<std::mutex> guard{r.mtx};
    for (auto& x : r.entries)
      result.push_back(x.name);
  }
  std::sort(result.begin(), result.end());
  return result;
}

std::string registered_types_fingerprint() {
  std::string input;
  for (auto& name : registered_types()) {
    input += name;
    input += '\n';
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(),
                 nullptr)
      != 1)
    throw std::runtime_error("rotina: EVP_Digest(SHA-256) failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string result;
  for (unsigned int i = 0; i < len; ++i) {
    result += hex[digest[i] >> 4];
    result += hex[digest[i] & 0x0f];
  }
  return result;
}

} // namespace rotina
