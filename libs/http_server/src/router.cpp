#include <attendance/http_server/router.hpp>

#include <algorithm>
#include <stdexcept>

namespace attendance::http_server {
namespace {

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  if (!path.empty() && path.front() == '/') i = 1;
  while (i <= path.size()) {
    const auto slash = path.find('/', i);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    out.emplace_back(path.substr(i, end - i));
    if (slash == std::string_view::npos) break;
    i = slash + 1;
  }
  return out;
}

bool isParam(const std::string& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

// Matches without allocating the split path repeatedly: walks segments in place.
bool matchSegments(const Route& r, std::string_view path, PathParams* params) {
  std::size_t i = (!path.empty() && path.front() == '/') ? 1 : 0;
  std::size_t segIndex = 0;
  while (true) {
    if (segIndex >= r.segments.size()) return false;
    const auto slash = path.find('/', i);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    const std::string_view seg = path.substr(i, end - i);
    const std::string& pat = r.segments[segIndex];
    if (isParam(pat)) {
      if (seg.empty()) return false;
      if (params != nullptr) {
        std::string decoded;
        if (!percentDecode(seg, decoded)) return false;
        (*params)[pat.substr(1, pat.size() - 2)] = std::move(decoded);
      }
    } else if (seg != pat) {
      return false;
    }
    ++segIndex;
    if (slash == std::string_view::npos) break;
    i = slash + 1;
  }
  return segIndex == r.segments.size();
}

}  // namespace

std::pair<std::string_view, std::string_view> splitTarget(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

Router& Router::add(http::verb method, std::string pattern, AsyncHandler handler, RouteOptions options) {
  if (pattern.empty() || pattern.front() != '/') throw std::invalid_argument("route pattern must start with '/'");
  Route r{method, std::move(pattern), std::move(handler), options, {}};
  r.segments = splitPath(r.pattern);
  routes_.push_back(std::move(r));
  return *this;
}

Router& Router::addSync(http::verb method, std::string pattern, SyncHandler handler, RouteOptions options) {
  return add(
      method, std::move(pattern),
      [h = std::move(handler)](RequestContext& ctx) -> boost::asio::awaitable<Response> { co_return h(ctx); }, options);
}

bool Router::hasPattern(std::string_view pattern) const {
  return std::any_of(routes_.begin(), routes_.end(), [&](const Route& r) { return r.pattern == pattern; });
}

RouteMatch Router::match(http::verb method, std::string_view path) const {
  RouteMatch m;
  std::vector<std::string_view> allowed;
  // Literal routes win over parameterised ones: try exact patterns first.
  for (int pass = 0; pass < 2; ++pass) {
    for (const Route& r : routes_) {
      const bool literal = std::none_of(r.segments.begin(), r.segments.end(), isParam);
      if ((pass == 0) != literal) continue;
      if (!matchSegments(r, path, nullptr)) continue;
      if (r.method == method || (method == http::verb::head && r.method == http::verb::get)) {
        PathParams params;
        if (!matchSegments(r, path, &params)) continue;  // bad percent-escape
        m.route = &r;
        m.params = std::move(params);
        return m;
      }
      const std::string_view name = http::to_string(r.method);
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) allowed.push_back(name);
    }
  }
  if (allowed.empty()) {
    m.error = http::status::not_found;
    return m;
  }
  m.error = http::status::method_not_allowed;
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0) m.allow += ", ";
    m.allow += allowed[i];
  }
  return m;
}

}  // namespace attendance::http_server
