// counts.hpp: the wordfreq app's value types and helpers.
// - document: one input file (name and bytes), the message main sends;
// - word_counts: word -> count plus the number of words, the message a mapper
//   sends and the reducer's result;
// - count_words: the mapper's work; list_files: the command line's files.
// document and word_counts are plain values with a CAF inspect() function, the
// form in which they can later cross nodes (the text travels with the
// document, so a mapper on another node needs no access to the files).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace wordfreq {

/// document is one input file: its path and its bytes.
struct document {
  std::string name;
  std::string text;

  document() = default;
  document(std::string name, std::string text) : name(std::move(name)), text(std::move(text)) {}
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, document& x) {
  return f(caf::meta::type_name("wordfreq.document"), x.name, x.text);
}

/// word_counts maps each word to its number of occurrences; `words` is the
/// sum of all counts; `source` names the document a partial count is of (the
/// key of at-least-once de-duplication across nodes; "" for a merged total).
struct word_counts {
  std::map<std::string, int64_t> counts;
  int64_t words = 0;
  std::string source;

  word_counts() = default;

  /// Adds the counts of `other` to this one.
  void merge(const word_counts& other) {
    for (auto& [w, n] : other.counts)
      counts[w] += n;
    words += other.words;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, word_counts& x) {
  return f(caf::meta::type_name("wordfreq.word_counts"), x.counts, x.words, x.source);
}

/// Counts the words of `text`: maximal runs of ASCII letters, lowercased; every
/// other byte (digits, punctuation, bytes of UTF-8 sequences) separates words.
inline word_counts count_words(const std::string& text) {
  word_counts c;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) {
      ++c.counts[word];
      ++c.words;
      word.clear();
    }
  };
  for (char ch : text) {
    if (ch >= 'a' && ch <= 'z')
      word += ch;
    else if (ch >= 'A' && ch <= 'Z')
      word += static_cast<char>(ch - 'A' + 'a');
    else
      flush();
  }
  flush();
  return c;
}

/// Expands the command line into files: a directory stands for its regular
/// files (not symlinks) whose name has no '.', in byte order of their names;
/// any other argument is taken as a file. Prints an error naming the path and
/// returns false if a path does not exist.
inline bool list_files(const std::vector<std::string>& args, std::vector<std::string>& files) {
  namespace fs = std::filesystem;
  for (auto& arg : args) {
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<std::string> found;
      for (auto& entry : fs::directory_iterator(arg, ec))
        if (entry.symlink_status().type() == fs::file_type::regular
            && entry.path().filename().string().find('.') == std::string::npos)
          found.push_back(entry.path().string());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(arg, ec)) {
      files.push_back(arg);
    } else {
      std::fprintf(stderr, "wordfreq: %s: no such file or directory\n", arg.c_str());
      return false;
    }
  }
  return true;
}

} // namespace wordfreq
