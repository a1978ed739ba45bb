#pragma once
// JSON answers in the shape every Volley API answer has; errors are
//   {"error":{"code":"...","message":"...","field":"..."}}
// with a machine-readable code, a message for people and the JSON path of the offending field
// ("" when the error is not about one field).
#include <string>
#include <string_view>

#include "api/http_server.hpp"

namespace volley::api {

HttpResponse json_response(int status, std::string body);
HttpResponse error_response(int status, std::string_view code, std::string_view message,
                            std::string_view field = {});
// 405 with the Allow header: `allow` is the method the resource takes.
HttpResponse method_not_allowed(std::string_view allow);

}  // namespace volley::api
