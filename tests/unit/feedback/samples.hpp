#pragma once
// The corpus of received bounces and complaints in tests/data/feedback, read for the tests.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace volley::feedback::test {

inline std::filesystem::path sample_dir() { return std::filesystem::path(VOLLEY_SOURCE_DIR) / "tests/data/feedback"; }

inline std::string read_sample(const std::string& name) {
  std::ifstream in(sample_dir() / name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// File names of every sample, sorted (so seeded tests see them in the same order everywhere).
inline std::vector<std::string> sample_names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(sample_dir()))
    if (entry.path().extension() == ".eml") names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace volley::feedback::test
