#pragma once

#include <span>
#include <string_view>

// The files of apps/admin/web/assets/, embedded at build time by
// embed_assets.cmake (no file is read at run time).
namespace attendance::admin_web::assets {

struct Asset {
  std::string_view name;         // "app.css"
  std::string_view contentType;  // "text/css; charset=utf-8"
  std::string_view body;
  std::string_view etag;  // first 16 hex digits of the SHA-256 of body
};

[[nodiscard]] std::span<const Asset> all();
// nullptr when there is no such asset.
[[nodiscard]] const Asset* find(std::string_view name);
// Changes whenever any asset changes; used as a cache-busting query string.
[[nodiscard]] std::string_view version();

}  // namespace attendance::admin_web::assets
