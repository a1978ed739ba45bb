#pragma once
// volleyd's stored templates (docs/templates.md): their database, beside the suppression list
// (<the [suppression] path's folder>/templates, so "./var/suppressions" puts them in
// "./var/templates"), opened at start; a store that does not open stops the daemon.
#include <memory>
#include <string>

#include "core/config/config.hpp"
#include "storage/template_store.hpp"

namespace volley {

std::string template_store_path(const Config& cfg);

// nullptr and *error (naming the path) when the store does not open.
std::shared_ptr<storage::TemplateStore> open_template_store(const Config& cfg, std::string* error);

}  // namespace volley
