#include "api/openapi_check.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <stdexcept>

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include "admin/web_fixture.hpp"

namespace attendance::testing::openapi {

namespace {

namespace http = boost::beast::http;

const std::set<std::string> kMethods{"get", "put", "post", "delete", "options", "head", "patch", "trace"};

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A local reference ("#/components/schemas/Error"): the JSON pointer after '#' walked
// through the document's objects (the documents use no arrays on reference paths), or nullptr.
const json::value* resolveRef(const json::object& doc, const std::string& ref) {
  if (!ref.starts_with("#/")) return nullptr;
  const json::object* obj = &doc;
  const json::value* here = nullptr;
  std::size_t pos = 2;
  while (true) {
    const std::size_t next = ref.find('/', pos);
    std::string token = ref.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    for (std::size_t i; (i = token.find("~1")) != std::string::npos;) token.replace(i, 2, "/");
    for (std::size_t i; (i = token.find("~0")) != std::string::npos;) token.replace(i, 2, "~");
    if (obj == nullptr) return nullptr;
    here = obj->if_contains(token);
    if (here == nullptr) return nullptr;
    obj = here->if_object();
    if (next == std::string::npos) return here;
    pos = next + 1;
  }
}

// Follows $ref chains (at most a few) to the object they name.
const json::value& deref(const json::object& doc, const json::value& v) {
  const json::value* cur = &v;
  for (int i = 0; i < 8; ++i) {
    const auto* o = cur->if_object();
    if (o == nullptr || !o->contains("$ref")) return *cur;
    const auto* target = resolveRef(doc, std::string(o->at("$ref").as_string()));
    if (target == nullptr) throw std::runtime_error("unresolvable $ref " + json::serialize(o->at("$ref")));
    cur = target;
  }
  throw std::runtime_error("$ref chain too long");
}

void collectRefs(const json::value& v, const std::string& where,
                 std::vector<std::pair<std::string, std::string>>& out) {
  if (const auto* o = v.if_object()) {
    for (const auto& [k, child] : *o) {
      if (k == "$ref" && child.is_string()) out.emplace_back(std::string(child.as_string()), where);
      // Examples are data, not document structure.
      if (k == "example" || k == "examples") continue;
      collectRefs(child, where + "/" + std::string(k), out);
    }
  } else if (const auto* a = v.if_array()) {
    for (std::size_t i = 0; i < a->size(); ++i) collectRefs((*a)[i], where + "/" + std::to_string(i), out);
  }
}

std::vector<std::string> templateParams(const std::string& path) {
  std::vector<std::string> names;
  static const std::regex param{R"(\{([^}/]+)\})"};
  for (auto it = std::sregex_iterator(path.begin(), path.end(), param); it != std::sregex_iterator(); ++it) {
    names.push_back((*it)[1]);
  }
  return names;
}

// The parameters of an operation: the path item's, overridden by the operation's (same name and place).
std::vector<const json::object*> parametersOf(const json::object& doc, const json::object& pathItem,
                                              const json::object& op) {
  std::vector<const json::object*> out;
  auto add = [&](const json::value* list) {
    if (list == nullptr || !list->is_array()) return;
    for (const auto& p : list->as_array()) {
      const auto& param = deref(doc, p).as_object();
      std::erase_if(out, [&](const json::object* q) {
        return q->at("name") == param.at("name") && q->at("in") == param.at("in");
      });
      out.push_back(&param);
    }
  };
  add(pathItem.if_contains("parameters"));
  add(op.if_contains("parameters"));
  return out;
}

std::string exampleText(const json::value& example) {
  if (example.is_string()) return std::string(example.as_string());
  return json::serialize(example);
}

const json::array& securityOf(const json::object& doc, const json::object& op) {
  static const json::array none;
  if (const auto* s = op.if_contains("security")) return s->as_array();
  if (const auto* s = doc.if_contains("security")) return s->as_array();
  return none;
}

std::string mediaType(std::string_view contentType) {
  const auto semi = contentType.find(';');
  std::string_view t = contentType.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return lower(std::string(t));
}

}  // namespace

std::vector<std::string> structuralProblems(const json::value& value) {
  std::vector<std::string> problems;
  auto fail = [&](std::string p) { problems.push_back(std::move(p)); };
  const auto* doc = value.if_object();
  if (doc == nullptr) return {"the document is not a JSON object"};
  const auto* version = doc->if_contains("openapi");
  if (version == nullptr || !version->is_string() ||
      !(version->as_string().starts_with("3.0.") || version->as_string().starts_with("3.1."))) {
    fail("openapi must be a string 3.0.x or 3.1.x");
  }
  const auto* info = doc->if_contains("info");
  if (info == nullptr || !info->is_object() || !info->as_object().contains("title") ||
      !info->as_object().at("title").is_string() || !info->as_object().contains("version") ||
      !info->as_object().at("version").is_string()) {
    fail("info must be an object with string title and version");
  }
  const auto* paths = doc->if_contains("paths");
  if (paths == nullptr || !paths->is_object()) {
    fail("paths must be an object");
    return problems;
  }

  std::vector<std::pair<std::string, std::string>> refs;
  collectRefs(value, "#", refs);
  for (const auto& [ref, where] : refs) {
    if (resolveRef(*doc, ref) == nullptr) fail(fmt::format("{}: $ref {} does not resolve", where, ref));
  }
  if (!problems.empty()) return problems;  // the rest follows references

  std::set<std::string> schemes;
  if (const auto* c = doc->if_contains("components"); c != nullptr && c->is_object()) {
    if (const auto* s = c->as_object().if_contains("securitySchemes")) {
      for (const auto& [name, scheme] : s->as_object()) {
        schemes.insert(std::string(name));
        const auto& o = scheme.as_object();
        const std::string type = o.contains("type") ? std::string(o.at("type").as_string()) : "";
        if (type == "apiKey" && (!o.contains("name") || !o.contains("in"))) {
          fail(fmt::format("security scheme {}: apiKey needs name and in", std::string(name)));
        } else if (type == "http" && !o.contains("scheme")) {
          fail(fmt::format("security scheme {}: http needs scheme", std::string(name)));
        } else if (type != "apiKey" && type != "http" && type != "oauth2" && type != "openIdConnect" &&
                   type != "mutualTLS") {
          fail(fmt::format("security scheme {}: unknown type '{}'", std::string(name), type));
        }
      }
    }
  }
  auto checkSecurity = [&](const json::value& sec, const std::string& where) {
    if (!sec.is_array()) return fail(where + ": security must be an array");
    for (const auto& req : sec.as_array()) {
      if (!req.is_object()) return fail(where + ": a security requirement must be an object");
      for (const auto& [name, scopes] : req.as_object()) {
        if (!schemes.contains(std::string(name))) {
          fail(fmt::format("{}: security scheme {} is not in components.securitySchemes", where, std::string(name)));
        }
        if (!scopes.is_array()) fail(where + ": scopes must be an array");
      }
    }
  };
  if (const auto* s = doc->if_contains("security")) checkSecurity(*s, "#/security");

  std::set<std::string> operationIds;
  for (const auto& [pathKey, itemValue] : paths->as_object()) {
    const std::string path(pathKey);
    if (!path.starts_with("/")) fail(fmt::format("path {} does not start with /", path));
    if (!itemValue.is_object()) {
      fail(fmt::format("path {} is not an object", path));
      continue;
    }
    const auto& item = itemValue.as_object();
    const auto names = templateParams(path);
    bool anyOperation = false;
    for (const auto& [methodKey, opValue] : item) {
      const std::string method(methodKey);
      if (method == "parameters" || method == "summary" || method == "description" || method == "servers") continue;
      const std::string where = fmt::format("{} {}", upper(method), path);
      if (!kMethods.contains(method)) {
        fail(fmt::format("path {}: '{}' is not an HTTP method", path, method));
        continue;
      }
      anyOperation = true;
      const auto* op = opValue.if_object();
      if (op == nullptr) {
        fail(where + ": not an object");
        continue;
      }
      if (const auto* id = op->if_contains("operationId")) {
        if (!id->is_string() || !operationIds.insert(std::string(id->as_string())).second) {
          fail(where + ": operationId missing a string or not unique");
        }
      }
      if (const auto* s = op->if_contains("security")) checkSecurity(*s, where);
      const auto* responses = op->if_contains("responses");
      if (responses == nullptr || !responses->is_object() || responses->as_object().empty()) {
        fail(where + ": responses must be a non-empty object");
      } else {
        static const std::regex status{R"([1-5](\d\d|XX))"};
        for (const auto& [code, resValue] : responses->as_object()) {
          if (code != "default" && !std::regex_match(std::string(code), status)) {
            fail(fmt::format("{}: response key {} is not a status code", where, std::string(code)));
          }
          const auto& res = deref(*doc, resValue);
          if (!res.is_object() || !res.as_object().contains("description") ||
              !res.as_object().at("description").is_string()) {
            fail(fmt::format("{}: response {} needs a description", where, std::string(code)));
          }
          if (const auto* content = res.as_object().if_contains("content"); content && !content->is_object()) {
            fail(fmt::format("{}: response {} content must be an object", where, std::string(code)));
          }
        }
      }
      if (const auto* body = op->if_contains("requestBody")) {
        const auto& b = deref(*doc, *body);
        if (!b.is_object() || !b.as_object().contains("content") || !b.as_object().at("content").is_object() ||
            b.as_object().at("content").as_object().empty()) {
          fail(where + ": requestBody needs content");
        }
      }
      std::set<std::string> pathParams;
      for (const json::object* p : parametersOf(*doc, item, *op)) {
        const auto* in = p->if_contains("in");
        const auto* name = p->if_contains("name");
        if (in == nullptr || name == nullptr || !in->is_string() || !name->is_string()) {
          fail(where + ": a parameter needs string name and in");
          continue;
        }
        static const std::set<std::string> places{"query", "header", "path", "cookie"};
        if (!places.contains(std::string(in->as_string())))
          fail(where + ": parameter in must be query/header/path/cookie");
        if (!p->contains("schema") && !p->contains("content")) fail(where + ": a parameter needs schema or content");
        if (in->as_string() == "path") {
          pathParams.insert(std::string(name->as_string()));
          const auto* required = p->if_contains("required");
          if (required == nullptr || !required->is_bool() || !required->as_bool()) {
            fail(fmt::format("{}: path parameter {} must be required", where, std::string(name->as_string())));
          }
        }
      }
      const std::set<std::string> inTemplate(names.begin(), names.end());
      if (pathParams != inTemplate) fail(where + ": the path parameters do not match the path's {names}");
    }
    if (!anyOperation) fail(fmt::format("path {} has no operation", path));
  }
  return problems;
}

std::vector<std::string> documentedOperations(const json::object& doc) {
  std::vector<std::string> out;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      if (kMethods.contains(std::string(method))) out.push_back(upper(std::string(method)) + " " + std::string(path));
    }
  }
  return out;
}

std::vector<std::string> routerOperations(const http_server::Router& router) {
  std::vector<std::string> out;
  for (const auto& route : router.routes()) {
    out.push_back(std::string(http::to_string(route.method)) + " " + route.pattern);
  }
  return out;
}

std::vector<std::string> schemaProblems(const json::object& doc, const json::value& schemaValue,
                                        const json::value& value, const std::string& where) {
  std::vector<std::string> problems;
  const auto& schema = deref(doc, schemaValue).as_object();
  if (value.is_null()) {
    const auto* nullable = schema.if_contains("nullable");
    if (schema.contains("type") && !(nullable != nullptr && nullable->is_bool() && nullable->as_bool())) {
      problems.push_back(where + " is null but not nullable");
    }
    return problems;
  }
  if (const auto* type = schema.if_contains("type")) {
    const std::string t(type->as_string());
    const bool ok = (t == "object" && value.is_object()) || (t == "array" && value.is_array()) ||
                    (t == "string" && value.is_string()) || (t == "boolean" && value.is_bool()) ||
                    (t == "integer" && (value.is_int64() || value.is_uint64())) || (t == "number" && value.is_number());
    if (!ok) return {fmt::format("{} is not of type {}: {}", where, t, json::serialize(value).substr(0, 200))};
  }
  if (const auto* e = schema.if_contains("enum")) {
    const auto& allowed = e->as_array();
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      problems.push_back(fmt::format("{} = {} is not one of {}", where, json::serialize(value), json::serialize(*e)));
    }
  }
  if (const auto* o = value.if_object()) {
    if (const auto* required = schema.if_contains("required")) {
      for (const auto& name : required->as_array()) {
        if (!o->contains(name.as_string())) {
          problems.push_back(fmt::format("{} lacks the required property {}", where, std::string(name.as_string())));
        }
      }
    }
    if (const auto* props = schema.if_contains("properties")) {
      for (const auto& [name, sub] : props->as_object()) {
        if (const auto* v = o->if_contains(name)) {
          auto more = schemaProblems(doc, sub, *v, where + "." + std::string(name));
          problems.insert(problems.end(), more.begin(), more.end());
        }
      }
    }
  }
  if (const auto* a = value.if_array()) {
    if (const auto* items = schema.if_contains("items")) {
      for (std::size_t i = 0; i < a->size() && i < 50; ++i) {
        auto more = schemaProblems(doc, *items, (*a)[i], fmt::format("{}[{}]", where, i));
        problems.insert(problems.end(), more.begin(), more.end());
      }
    }
  }
  return problems;
}

const json::object& operation(const json::object& doc, const std::string& key) {
  const auto space = key.find(' ');
  return doc.at("paths").at(key.substr(space + 1)).at(lower(key.substr(0, space))).as_object();
}

std::vector<Call> callEveryOperation(const json::object& doc, const LiveServer& server, bool authenticated) {
  // Document order, except that deletions come last, the longest path first: a sub-resource
  // (a registration) goes before what owns it (the account), and nothing is called after its
  // owner is gone.
  std::vector<std::pair<std::string, std::string>> order;  // path, method
  for (const auto& [pathKey, itemValue] : doc.at("paths").as_object()) {
    for (const auto& [methodKey, opValue] : itemValue.as_object()) {
      if (kMethods.contains(std::string(methodKey))) order.emplace_back(std::string(pathKey), std::string(methodKey));
    }
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    const bool aDeletes = a.second == "delete";
    const bool bDeletes = b.second == "delete";
    if (aDeletes != bDeletes) return bDeletes;
    return aDeletes && a.first.size() > b.first.size();
  });
  std::vector<Call> calls;
  for (const auto& [path, method] : order) {
    {
      const auto& item = doc.at("paths").as_object().at(path).as_object();
      const auto& op = item.at(method).as_object();
      Call call;
      call.operation = upper(method) + " " + path;

      const json::object* requirement = nullptr;
      bool optional = false;
      for (const auto& req : securityOf(doc, op)) {
        if (req.as_object().empty()) {
          optional = true;
        } else if (requirement == nullptr) {
          requirement = &req.as_object();
        }
      }
      if (!authenticated && (requirement == nullptr || optional)) continue;  // a stranger's call: secured ones only

      std::string target = path;
      std::string query;
      for (const json::object* p : parametersOf(doc, item, op)) {
        const std::string name(p->at("name").as_string());
        const std::string in(p->at("in").as_string());
        const auto* example = p->if_contains("example");
        if (in == "path") {
          if (example == nullptr)
            throw std::runtime_error(call.operation + ": path parameter " + name + " has no example");
          target.replace(target.find("{" + name + "}"), name.size() + 2, exampleText(*example));
        } else if (in == "query" && example != nullptr) {
          query += (query.empty() ? "?" : "&") + name + "=" + exampleText(*example);
        }
      }
      call.target = target + query;

      admin_web::testing::Browser client{server.port};
      std::map<std::string, std::string> headers;
      if (authenticated && requirement != nullptr) {
        call.authenticated = true;
        for (const auto& [scheme, scopes] : *requirement) {
          const auto found = server.schemes.find(std::string(scheme));
          if (found == server.schemes.end())
            throw std::runtime_error("no credentials for scheme " + std::string(scheme));
          for (const auto& [k, v] : found->second.headers) headers[k] = v;
          for (const auto& [k, v] : found->second.cookies) client.cookies[k] = v;
        }
      }
      std::string body;
      if (const auto* rb = op.if_contains("requestBody")) {
        const auto& content = deref(doc, *rb).as_object().at("content").as_object();
        const auto& [type, media] = *content.begin();
        headers["Content-Type"] = std::string(type);
        if (const auto* example = media.as_object().if_contains("example")) body = exampleText(*example);
      }
      const auto verb = http::string_to_verb(upper(method));
      const auto res = client.send(verb, call.target, body, headers);
      call.status = static_cast<int>(res.result_int());
      call.contentType = std::string(res[http::field::content_type]);
      call.body = res.body();
      calls.push_back(std::move(call));
    }
  }
  return calls;
}

std::vector<std::string> answerProblems(const json::object& doc, const Call& call) {
  const auto& op = operation(doc, call.operation);
  const auto& responses = op.at("responses").as_object();
  const std::string where = fmt::format("{} ({}{})", call.operation, call.target,
                                        call.authenticated ? ", with credentials" : ", without credentials");
  const json::value* documented = responses.if_contains(std::to_string(call.status));
  if (documented == nullptr) documented = responses.if_contains(fmt::format("{}XX", call.status / 100));
  if (documented == nullptr) documented = responses.if_contains("default");
  if (documented == nullptr) {
    return {fmt::format("{} answered {}, which is not documented: {}", where, call.status, call.body.substr(0, 300))};
  }
  const auto& res = deref(doc, *documented).as_object();
  const auto* content = res.if_contains("content");
  if (content == nullptr || content->as_object().empty()) return {};
  const std::string type = mediaType(call.contentType);
  const auto* media = content->as_object().if_contains(type);
  if (media == nullptr) {
    return {fmt::format("{} answered {} with Content-Type '{}', which the document does not list for it", where,
                        call.status, call.contentType)};
  }
  if (type != "application/json") return {};
  boost::system::error_code ec;
  const auto body = json::parse(call.body, ec);
  if (ec) return {fmt::format("{} answered {} with a body that is not JSON", where, call.status)};
  if (const auto* schema = media->as_object().if_contains("schema")) {
    return schemaProblems(doc, *schema, body, fmt::format("{} {} body", where, call.status));
  }
  return {};
}

}  // namespace attendance::testing::openapi
