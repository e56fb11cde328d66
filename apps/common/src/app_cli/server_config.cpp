#include "app_cli/server_config.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <type_traits>

#include <fmt/format.h>
#include <toml++/toml.h>

#include <attendance/support/log.hpp>

namespace attendance::app_cli {

std::string maskPassword(std::string_view conninfo) {
  std::string s(conninfo);
  constexpr std::string_view kMask = "***";
  const auto scheme = s.find("://");
  if (scheme != std::string::npos && (s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0)) {
    // URI: user:password@ in the authority, password=... in the query.
    const std::size_t authority = scheme + 3;
    const std::size_t authorityEnd = std::min(s.find_first_of("/?", authority), s.size());
    const std::size_t at = s.rfind('@', authorityEnd - 1);
    if (at != std::string::npos && at >= authority && at < authorityEnd) {
      const std::size_t colon = s.find(':', authority);
      if (colon != std::string::npos && colon < at) s.replace(colon + 1, at - colon - 1, kMask);
    }
    const auto query = s.find('?');
    if (query != std::string::npos) {
      std::size_t p = query + 1;
      while (p < s.size()) {
        const std::size_t end = std::min(s.find('&', p), s.size());
        if (s.compare(p, 9, "password=") == 0) {
          s.replace(p + 9, end - p - 9, kMask);
          p = p + 9 + kMask.size() + 1;
        } else {
          p = end + 1;
        }
      }
    }
    return s;
  }
  // Keyword/value: password = value | 'quoted \' value'.
  std::string out;
  std::size_t p = 0;
  while (p < s.size()) {
    const std::size_t keyStart = s.find_first_not_of(" \t\n", p);
    if (keyStart == std::string::npos) {
      out.append(s, p);
      break;
    }
    out.append(s, p, keyStart - p);
    std::size_t eq = s.find('=', keyStart);
    if (eq == std::string::npos) {
      out.append(s, keyStart);
      break;
    }
    std::string key = s.substr(keyStart, eq - keyStart);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    std::size_t v = s.find_first_not_of(" \t", eq + 1);
    if (v == std::string::npos) v = s.size();
    std::size_t end = v;
    if (end < s.size() && s[end] == '\'') {
      ++end;
      while (end < s.size() && s[end] != '\'') end += s[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, s.size());
    } else {
      while (end < s.size() && s[end] != ' ' && s[end] != '\t' && s[end] != '\n') end += s[end] == '\\' ? 2 : 1;
      end = std::min(end, s.size());
    }
    out.append(s, keyStart, v - keyStart);
    if (key == "password") {
      out += kMask;
    } else {
      out.append(s, v, end - v);
    }
    p = end;
  }
  return out;
}

void setLogFormat(std::string_view format) {
  namespace log = support::log;
  if (format == "json") {
    log::setFormat(log::Format::json);
  } else if (format == "text" || log::stderrIsJournal()) {
    log::setFormat(log::Format::text);
  } else {
    log::setFormat(log::Format::json);
  }
}

namespace {

enum class Rank { default_value = 0, file = 1, env = 2, flag = 3 };

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string tomlString(std::string_view v) {
  std::string out = "\"";
  for (const char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string tomlNumber(double v) {
  std::string text = fmt::format("{}", v);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";  // 10 would read back as an integer
  return text;
}

std::string_view typeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date or time";
  }
}

// What a value may be, checked the same for a flag, a variable and the file.
template <class T>
struct Codec;

template <>
struct Codec<std::string> {
  static constexpr std::string_view kExpected = "a string";
  static std::optional<std::string> fromText(std::string_view t) { return std::string(t); }
  static std::optional<std::string> fromNode(const toml::node& n) {
    if (const auto* s = n.as_string()) return s->get();
    return std::nullopt;
  }
  static std::string toToml(const std::string& v) { return tomlString(v); }
};

template <>
struct Codec<bool> {
  static constexpr std::string_view kExpected = "true or false";
  static std::optional<bool> fromText(std::string_view t) {
    if (t == "true") return true;
    if (t == "false") return false;
    return std::nullopt;
  }
  static std::optional<bool> fromNode(const toml::node& n) {
    if (const auto* b = n.as_boolean()) return b->get();
    return std::nullopt;
  }
  static std::string toToml(bool v) { return v ? "true" : "false"; }
};

template <class I>
requires std::is_integral_v<I>
struct Codec<I> {
  static constexpr std::string_view kExpected = "an integer";
  static std::optional<I> fromText(std::string_view t) {
    I v{};
    const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
    if (r.ec != std::errc{} || r.ptr != t.data() + t.size()) return std::nullopt;
    return v;
  }
  static std::optional<I> fromNode(const toml::node& n) {
    const auto* i = n.as_integer();
    if (i == nullptr) return std::nullopt;
    const std::int64_t v = i->get();
    if (v < 0 && !std::is_signed_v<I>) return std::nullopt;
    if (static_cast<std::uint64_t>(std::max<std::int64_t>(v, 0)) >
        static_cast<std::uint64_t>(std::numeric_limits<I>::max()))
      return std::nullopt;
    return static_cast<I>(v);
  }
  static std::string toToml(I v) { return std::to_string(v); }
};

template <>
struct Codec<double> {
  static constexpr std::string_view kExpected = "a number";
  static std::optional<double> fromText(std::string_view t) {
    double v{};
    const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
    if (r.ec != std::errc{} || r.ptr != t.data() + t.size()) return std::nullopt;
    return v;
  }
  static std::optional<double> fromNode(const toml::node& n) {
    if (const auto* f = n.as_floating_point()) return f->get();
    if (const auto* i = n.as_integer()) return static_cast<double>(i->get());
    return std::nullopt;
  }
  static std::string toToml(double v) { return tomlNumber(v); }
};

}  // namespace

struct ServerConfig::Impl {
  struct Entry {
    ConfigKey key;
    Rank rank = Rank::default_value;
    std::string where;  // file: "<path>:<line>", env: the variable, flag: the flag
    std::size_t line = 0, column = 0;
    // Parse + check; the second also stores.
    std::function<std::optional<std::string>(std::string_view)> checkText, applyText;
    std::function<std::optional<std::string>(const toml::node&)> applyNode;
    std::function<std::string()> toToml;
    CLI::Option* option = nullptr;
    std::string flagText;
    std::vector<std::string> flagList;  // a repeatable flag's values
    bool isSwitch = false;
    std::optional<std::string> externalFlag;  // setFromFlag
    std::string externalFlagName;
    std::string secretOf;                                            // a file key: the secret it fills
    std::string* text = nullptr;                                     // the target, when a string
    std::function<void(const std::vector<std::string>&)> applyList;  // a list: the flag's values
    std::optional<toml::source_position> problemAt;  // where applyNode's problem is, if not at the value
    std::string readFrom;                            // a secret: the file it was read from
  };

  std::string tool;
  std::vector<std::string> sections, otherSections;
  std::vector<std::unique_ptr<Entry>> entries;
  std::vector<std::unique_ptr<std::string>> owned;  // the paths of secret files (no variable of the server's)
  std::string configPath;
  bool print = false;
  std::string usedFile;

  Entry* find(std::string_view section, std::string_view name) {
    for (auto& e : entries)
      if (e->key.section == section && e->key.name == name) return e.get();
    return nullptr;
  }

  template <class T>
  Entry& add(CLI::App* cmd, ConfigKey key, T& target, std::function<std::optional<std::string>(const T&)> check,
             const std::string& help, const std::string& typeLabel) {
    auto e = std::make_unique<Entry>();
    e->key = std::move(key);
    const std::string label = e->key.section + "." + e->key.name;
    auto parseCheck = [check](std::string_view text) -> std::pair<std::optional<T>, std::string> {
      auto v = Codec<T>::fromText(text);
      if (!v) return {std::nullopt, fmt::format("must be {} (got '{}')", Codec<T>::kExpected, text)};
      if (check) {
        if (auto why = check(*v)) return {std::nullopt, *why};
      }
      return {v, {}};
    };
    e->checkText = [parseCheck](std::string_view text) -> std::optional<std::string> {
      auto [v, why] = parseCheck(text);
      if (!v) return why;
      return std::nullopt;
    };
    e->applyText = [parseCheck, &target](std::string_view text) -> std::optional<std::string> {
      auto [v, why] = parseCheck(text);
      if (!v) return why;
      target = *v;
      return std::nullopt;
    };
    e->applyNode = [check, &target, label](const toml::node& node) -> std::optional<std::string> {
      auto v = Codec<T>::fromNode(node);
      if (!v) {
        if (node.is_integer() && Codec<T>::kExpected == std::string_view{"an integer"}) {
          return fmt::format("{} is out of range (got {})", label, node.as_integer()->get());
        }
        return fmt::format("{} must be {} (got {})", label, Codec<T>::kExpected, typeName(node));
      }
      if (check) {
        if (auto why = check(*v)) return label + " " + *why;
      }
      target = *v;
      return std::nullopt;
    };
    e->toToml = [&target] { return Codec<T>::toToml(target); };
    if constexpr (std::is_same_v<T, std::string>) e->text = &target;
    if (cmd != nullptr && !e->key.flag.empty()) {
      Entry* raw = e.get();
      e->option = cmd->add_option(e->key.flag, e->flagText, help);
      e->option->type_name(typeLabel);
      if constexpr (std::is_same_v<T, std::string>) {
        e->option->default_str(target);
      } else {
        e->option->default_str(Codec<T>::toToml(target));
      }
      e->option->check(CLI::Validator(
          [raw](std::string& text) -> std::string { return raw->checkText(text).value_or(std::string{}); }, "", ""));
    }
    entries.push_back(std::move(e));
    return *entries.back();
  }

  std::optional<std::string> readFile();
  std::optional<std::string> applySecretFiles();
};

ServerConfig::ServerConfig(std::string tool, std::vector<std::string> sections, std::vector<std::string> otherSections)
    : impl_(std::make_unique<Impl>()) {
  impl_->tool = std::move(tool);
  impl_->sections = std::move(sections);
  impl_->otherSections = std::move(otherSections);
}

ServerConfig::~ServerConfig() = default;

void ServerConfig::addString(CLI::App& cmd, ConfigKey key, std::string& target, std::string help,
                             std::function<std::optional<std::string>(const std::string&)> check) {
  impl_->add<std::string>(&cmd, std::move(key), target, std::move(check), help, "TEXT");
}

void ServerConfig::addChoice(CLI::App& cmd, ConfigKey key, std::string& target, std::vector<std::string> choices,
                             std::string help) {
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  std::string label;
  for (const auto& c : choices) label += (label.empty() ? "" : "|") + c;
  impl_->add<std::string>(
      &cmd, std::move(key), target,
      [choices, list](const std::string& v) -> std::optional<std::string> {
        for (const auto& c : choices)
          if (v == c) return std::nullopt;
        return fmt::format("must be one of {} (got '{}')", list, v);
      },
      help, label);
}

namespace {
template <class T>
std::function<std::optional<std::string>(const T&)> rangeCheck(T min, T max) {
  return [min, max](const T& v) -> std::optional<std::string> {
    if (v >= min && v <= max) return std::nullopt;
    if (max == std::numeric_limits<T>::max()) return fmt::format("must be at least {} (got {})", min, v);
    return fmt::format("must be in {}..{} (got {})", min, max, v);
  };
}
}  // namespace

void ServerConfig::addUnsigned(CLI::App& cmd, ConfigKey key, unsigned& target, unsigned min, unsigned max,
                               std::string help) {
  impl_->add<unsigned>(&cmd, std::move(key), target, rangeCheck(min, max), help, "UINT");
}

void ServerConfig::addSize(CLI::App& cmd, ConfigKey key, std::size_t& target, std::size_t min, std::size_t max,
                           std::string help) {
  impl_->add<std::size_t>(&cmd, std::move(key), target, rangeCheck(min, max), help, "UINT");
}

void ServerConfig::addLong(CLI::App& cmd, ConfigKey key, long& target, long min, long max, std::string help) {
  impl_->add<long>(&cmd, std::move(key), target, rangeCheck(min, max), help, "INT");
}

void ServerConfig::addNumber(CLI::App& cmd, ConfigKey key, double& target, double min, double max, std::string help) {
  impl_->add<double>(&cmd, std::move(key), target, rangeCheck(min, max), help, "NUMBER");
}

void ServerConfig::addStringList(CLI::App& cmd, ConfigKey key, std::vector<std::string>& target,
                                 std::function<std::optional<std::string>(const std::string&)> check,
                                 std::string help) {
  auto e = std::make_unique<Impl::Entry>();
  e->key = std::move(key);
  const std::string label = e->key.section + "." + e->key.name;
  e->checkText = [check](std::string_view text) { return check ? check(std::string(text)) : std::nullopt; };
  e->applyText = [](std::string_view) -> std::optional<std::string> { return "a list has no environment variable"; };
  Impl::Entry* entry = e.get();
  e->applyNode = [check, &target, label, entry](const toml::node& node) -> std::optional<std::string> {
    const auto* array = node.as_array();
    if (array == nullptr) return fmt::format("{} must be an array of strings (got {})", label, typeName(node));
    std::vector<std::string> values;
    for (const auto& item : *array) {
      entry->problemAt = item.source().begin;
      const auto* text = item.as_string();
      if (text == nullptr) return fmt::format("{} must be an array of strings (got {} in it)", label, typeName(item));
      if (check) {
        if (auto why = check(text->get())) return fmt::format("{} {}", label, *why);
      }
      values.push_back(text->get());
    }
    entry->problemAt.reset();
    target = std::move(values);
    return std::nullopt;
  };
  e->toToml = [&target] {
    std::string out = "[";
    for (const auto& v : target) out += (out.size() > 1 ? ", " : "") + tomlString(v);
    return out + "]";
  };
  e->applyList = [&target](const std::vector<std::string>& values) { target = values; };
  if (!e->key.flag.empty()) {
    Impl::Entry* raw = e.get();
    e->option = cmd.add_option(e->key.flag, e->flagList, help);
    e->option->type_name("TEXT");
    e->option->check(CLI::Validator(
        [raw](std::string& text) -> std::string { return raw->checkText(text).value_or(std::string{}); }, "", ""));
  }
  impl_->entries.push_back(std::move(e));
}

void ServerConfig::addSwitch(CLI::App& cmd, ConfigKey key, bool& target, bool whenFlagGiven, std::string help) {
  const std::string flag = key.flag;
  key.flag.clear();  // a flag without a value: added here, not as an option with one
  auto& e = impl_->add<bool>(nullptr, std::move(key), target, {}, help, "");
  e.key.flag = flag;
  e.isSwitch = true;
  e.flagText = whenFlagGiven ? "true" : "false";
  if (!flag.empty()) e.option = cmd.add_flag(flag, help);
}

void ServerConfig::addSecretFile(ConfigKey fileKey, const std::string& secretName) {
  impl_->owned.push_back(std::make_unique<std::string>());
  auto& e = impl_->add<std::string>(nullptr, std::move(fileKey), *impl_->owned.back(), {}, "", "FILE");
  e.secretOf = secretName;
}

void ServerConfig::addFileOptions(CLI::App& cmd) {
  cmd.add_option("--config", impl_->configPath,
                 fmt::format("TOML file of settings; flags and environment override it (default: {} when it exists)",
                             kServerConfigPath))
      ->type_name("FILE");
  cmd.add_flag("--print-config", impl_->print,
               "Print the effective configuration as TOML with each value's source (passwords masked), then exit 0");
}

void ServerConfig::useFile(const std::string& path) {
  if (impl_->configPath.empty()) impl_->configPath = path;
}

void ServerConfig::setFromFlag(const std::string& section, const std::string& name, const std::string& value,
                               const std::string& flag) {
  if (auto* e = impl_->find(section, name)) {
    e->externalFlag = value;
    e->externalFlagName = flag;
  }
}

bool ServerConfig::printRequested() const { return impl_->print; }

std::optional<std::string> ServerConfig::Impl::readFile() {
  std::string path = configPath;
  if (path.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(kServerConfigPath, ec)) return std::nullopt;
    path = std::string(kServerConfigPath);
  }
  {
    std::ifstream probe(path);
    if (!probe) return fmt::format("cannot read the config file {}: {}", path, std::strerror(errno));
  }
  usedFile = path;
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return fileError(path, e.source().begin.line, e.source().begin.column, e.description());
  }
  const auto at = [&path](const toml::source_region& where, const std::string& reason) {
    return fileError(path, where.begin.line, where.begin.column, reason);
  };
  std::string known;
  for (const auto* list : {&sections, &otherSections})
    for (const auto& s : *list) known += (known.empty() ? "[" : ", [") + s + "]";
  for (const auto& [sectionKey, sectionNode] : table) {
    const std::string section(sectionKey.str());
    const auto* sectionTable = sectionNode.as_table();
    if (sectionTable == nullptr) {
      return at(sectionKey.source(),
                fmt::format("unknown key {} outside a section (the sections: {})", section, known));
    }
    bool mine = false, other = false;
    for (const auto& s : sections) mine = mine || s == section;
    for (const auto& s : otherSections) other = other || s == section;
    if (other && !mine) continue;  // the other server checks it
    if (!mine) return at(sectionKey.source(), fmt::format("unknown section [{}] (the sections: {})", section, known));
    for (const auto& [key, node] : *sectionTable) {
      const std::string name(key.str());
      Entry* e = find(section, name);
      if (e == nullptr) return at(key.source(), fmt::format("unknown key {}.{}", section, name));
      if (auto why = e->applyNode(node)) {
        const auto& where = e->problemAt ? *e->problemAt : node.source().begin;
        return fileError(path, where.line, where.column, *why);
      }
      e->rank = Rank::file;
      e->line = node.source().begin.line;
      e->column = node.source().begin.column;
      e->where = fmt::format("{}:{}", path, e->line);
    }
  }
  return std::nullopt;
}

std::optional<std::string> ServerConfig::Impl::applySecretFiles() {
  for (auto& f : entries) {
    if (f->secretOf.empty()) continue;
    Entry* secret = find(f->key.section, f->secretOf);
    if (secret == nullptr || f->rank == Rank::default_value || f->text == nullptr || f->text->empty()) continue;
    const std::string label = f->key.section + "." + f->key.name;
    const std::string secretLabel = f->key.section + "." + secret->key.name;
    const auto problem = [&](const std::string& reason) {
      if (f->rank == Rank::file) return fileError(usedFile, f->line, f->column, reason);
      return f->where + ": " + reason;
    };
    if (secret->rank > f->rank) continue;  // the stronger source names the value itself
    if (secret->rank == f->rank) {
      return problem(fmt::format("{} and {} are both set: keep one", secretLabel, label));
    }
    const std::string& path = *f->text;
    std::ifstream in(path, std::ios::binary);
    if (!in) return problem(fmt::format("{}: cannot read {}: {}", label, path, std::strerror(errno)));
    std::string value;
    std::getline(in, value);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ' || value.back() == '\t')) value.pop_back();
    if (auto why = secret->applyText(value)) return problem(label + ": " + *why);
    secret->rank = f->rank;
    secret->where = f->where;
    secret->readFrom = fmt::format("{}, read from {}", f->key.name, path);
  }
  return std::nullopt;
}

std::optional<std::string> ServerConfig::resolve() {
  return resolve([](const char* name) { return std::getenv(name); });
}

std::optional<std::string> ServerConfig::resolve(const GetEnv& getenv) {
  if (auto why = impl_->readFile()) return why;
  for (auto& e : impl_->entries) {
    if (e->key.env.empty()) continue;
    const char* value = getenv(e->key.env.c_str());
    if (value == nullptr || *value == '\0') continue;
    if (auto why = e->applyText(value)) return e->key.env + ": " + *why;
    e->rank = Rank::env;
    e->where = e->key.env;
  }
  for (auto& e : impl_->entries) {
    if (e->externalFlag) {
      if (auto why = e->applyText(*e->externalFlag)) return e->externalFlagName + ": " + *why;
      e->rank = Rank::flag;
      e->where = e->externalFlagName;
    }
    if (e->option == nullptr || e->option->count() == 0) continue;
    if (e->applyList) {
      e->applyList(e->flagList);
    } else if (auto why = e->applyText(e->flagText)) {
      return e->key.flag + ": " + *why;  // checked by CLI11 already
    }
    e->rank = Rank::flag;
    e->where = e->key.flag;
  }
  return impl_->applySecretFiles();
}

std::string ServerConfig::print() const {
  std::string out = fmt::format("# {}: the effective configuration (--print-config)\n", impl_->tool);
  out += impl_->usedFile.empty() ? std::string("# config file: none\n")
                                 : fmt::format("# config file: {}\n", impl_->usedFile);
  out += "# after each value its source: default, file <path>:<line>, env <variable> or flag <flag>\n";
  for (const auto& section : impl_->sections) {
    out += fmt::format("\n[{}]\n", section);
    for (const auto& e : impl_->entries) {
      if (e->key.section != section) continue;
      const std::string value = e->key.secret && e->text != nullptr ? tomlString(maskPassword(*e->text)) : e->toToml();
      std::string source;
      switch (e->rank) {
        case Rank::default_value: source = "default"; break;
        case Rank::file: source = "file " + e->where; break;
        case Rank::env: source = "env " + e->where; break;
        case Rank::flag: source = "flag " + e->where; break;
      }
      if (!e->readFrom.empty()) source += " (" + e->readFrom + ")";
      out += fmt::format("{} = {}  # {}\n", e->key.name, value, source);
    }
  }
  return out;
}

}  // namespace attendance::app_cli
