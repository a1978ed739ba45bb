#pragma once
// The doctor's findings as a table for a terminal: one row per finding (status, check, subject,
// the record seen, cut to fit) and under it the fix, wrapped; no line wider than `width`
// columns. The full records are in the JSON (findings_json).
#include <cstddef>
#include <string>
#include <vector>

#include "core/doctor/finding.hpp"

namespace volley::doctor {

inline constexpr std::size_t kTableWidth = 100;

std::string render_table(const std::vector<Finding>& findings, std::size_t width = kTableWidth);

}  // namespace volley::doctor
