#include "daemon/template_setup.hpp"

#include <filesystem>

namespace volley {

std::string template_store_path(const Config& cfg) {
  const std::filesystem::path suppressions(cfg.suppression.path);
  return (suppressions.parent_path() / "templates").string();
}

std::shared_ptr<storage::TemplateStore> open_template_store(const Config& cfg, std::string* error) {
  const std::string path = template_store_path(cfg);
  std::string why;
  auto store = storage::TemplateStore::open(path, &why);
  if (!store && error) *error = "templates " + path + ": " + why;
  return std::shared_ptr<storage::TemplateStore>(std::move(store));
}

}  // namespace volley
