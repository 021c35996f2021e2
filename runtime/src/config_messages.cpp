// The wording of rotina's config errors, and the did-you-mean rule.
//
// Every message starts with where the problem is ("FILE:LINE" or "command
// line"), names the key and says what was expected.

#include <algorithm>

#include "config_detail.hpp"

namespace rotina {

namespace detail {

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    auto diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      auto up = row[j];
      auto cost = a[i - 1] == b[j - 1] ? 0u : 1u;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
      diag = up;
    }
  }
  return row[b.size()];
}

// Returns the full name of the accepted key meant by `name` when it lives in
// another section: same name, a near miss, or the unique key whose name ends
// in "-<name>" ("threads" for "scheduler.max-threads").
// Only [rotina] and [scheduler] keys are what a user tunes per run without a
// section; an application flag that happens to share a name with a key of
// another section (`--workers` and middleman.workers) stays the
// application's.
bool sectionless_candidate(const config::key_info& x) {
  return x.section == "rotina" || x.section == "scheduler";
}

std::optional<std::string> other_section_key(std::string_view name,
                                             bool sectionless_only) {
  std::vector<std::string> names;
  std::vector<std::string> tails;
  for (auto& x : config::known_keys()) {
    if (sectionless_only && !sectionless_candidate(x))
      continue;
    if (x.name == name)
      return x.section + "." + x.name;
    names.emplace_back(x.name);
    auto n = name.size();
    if (x.name.size() > n + 1 && x.name.substr(x.name.size() - n) == name
        && x.name[x.name.size() - n - 1] == '-')
      tails.emplace_back(x.section + "." + x.name);
  }
  if (auto guess = closest(name, names))
    for (auto& x : config::known_keys())
      if ((!sectionless_only || sectionless_candidate(x)) && x.name == *guess)
        return x.section + "." + x.name;
  if (tails.size() == 1)
    return tails.front();
  return std::nullopt;
}

} // namespace

std::optional<std::string> closest(std::string_view x,
                                   const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_dist = std::max<size_t>(2, x.size() / 3) + 1;
  for (auto& c : candidates) {
    auto d = edit_distance(x, c);
    if (d < best_dist) {
      best_dist = d;
      best = c;
    }
  }
  return best;
}

static std::vector<std::string> key_names(std::string_view section) {
  std::vector<std::string> result;
  for (auto& x : config::known_keys())
    if (x.section == section)
      result.emplace_back(x.name);
  return result;
}

[[noreturn]] void fail(std::string_view where, std::string_view what) {
  std::string msg{where};
  msg += ": ";
  msg.append(what);
  throw config_error(msg);
}

[[noreturn]] void fail_unknown(std::string_view where, std::string_view section,
                               std::string_view name, bool cli) {
  auto sections = known_sections();
  std::string msg;
  if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
    msg = "unknown section [" + std::string{section} + "]";
    if (auto guess = closest(section, sections)) {
      msg += "; did you mean [" + *guess + "]?";
    } else {
      msg += "; known sections:";
      for (auto& s : sections)
        msg += (&s == &sections.front() ? " [" : ", [") + s + "]";
    }
    fail(where, msg);
  }
  auto key = std::string{section} + "." + std::string{name};
  if (auto why = refusal(section); !why.empty())
    fail(where, "key '" + key + "' is refused: " + std::string{why});
  msg = "unknown key '" + key + "' in [" + std::string{section} + "]";
  if (auto guess = closest(name, key_names(section)))
    msg += "; did you mean '" + *guess + "'?";
  else if (auto other = other_section_key(name, false))
    msg += "; did you mean '" + std::string{cli ? "--" : ""} + *other + "'?";
  fail(where, msg);
}

[[noreturn]] void fail_value(std::string_view where,
                             const caf::config_option& opt,
                             std::string_view got, std::string_view detail) {
  std::string msg = "invalid value for '" + full_name(opt) + "': ";
  if (detail.empty())
    msg += "expected " + expected_text(opt);
  else
    msg.append(detail);
  msg += ", got ";
  msg.append(got);
  fail(where, msg);
}

} // namespace detail

bool config::is_key_or_typo(std::string_view name) {
  return detail::other_section_key(name, true).has_value();
}

} // namespace rotina
