// GET /assets/{name}: the embedded assets, with ETags.
#include "console.hpp"

#include "assets.hpp"

namespace attendance::admin_web {

Response Console::asset(const RequestContext& rc, bool signedIn) const {
  const std::string& name = rc.params.at("name");
  const assets::Asset* a = assets::find(name);
  // Only what browsers load; templates and SQL stay private. app.css and the
  // icon are public because the sign-in page uses them.
  const bool servable = a != nullptr && (name.ends_with(".css") || name.ends_with(".js") || name.ends_with(".svg"));
  if (!servable) return htmlResponse(http::status::not_found, pages::errorContent("Not found", "No such file."));
  if (name.ends_with(".js") && !signedIn) return redirect("/login");
  const std::string etag = "\"" + std::string(a->etag) + "\"";
  if (rc.request[http::field::if_none_match] == etag) {
    Response res{http::status::not_modified, 11};
    res.set(http::field::etag, etag);
    harden(res, true);
    return res;
  }
  Response res = http_server::textResponse(http::status::ok, std::string(a->body), a->contentType);
  res.set(http::field::etag, etag);
  // URLs carry ?v=<assets version>, so a new build is fetched at once.
  res.set(http::field::cache_control, "public, max-age=31536000, immutable");
  harden(res, true);
  return res;
}

Response Console::getAsset(Call& call) {
  bool signedIn = false;
  if (call.rc.params.at("name").ends_with(".js")) {
    auto found =
        core::findAdminSession(pool, cookieValue(call.rc.request[http::field::cookie], sessionCookieName()), now());
    signedIn = found && *found;
  }
  return asset(call.rc, signedIn);
}

}  // namespace attendance::admin_web

namespace attendance::admin_web::assets {

const Asset* find(std::string_view name) {
  for (const Asset& a : all()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

}  // namespace attendance::admin_web::assets
