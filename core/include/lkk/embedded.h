// Files compiled into the library (cmake/Embed.cmake): the SQL migrations and the built-in
// templates, keyed by their path relative to sql/ or core/templates/.
#pragma once

#include <map>
#include <string_view>

namespace lkk::embedded_sql {
const std::map<std::string_view, std::string_view>& files();  // "sqlite/001_init.sql" -> text
}
namespace lkk::embedded_templates {
const std::map<std::string_view, std::string_view>& files();  // "ru/login.html" -> text
}
