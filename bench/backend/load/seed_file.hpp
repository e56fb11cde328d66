#pragma once
// The JSON that attendance-backend-bench-seed prints: scanner keys and ids, and
// the bleUuids of the registered users; and the admin password file beside it.

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>

namespace attendance::bench {

struct SeedFile {
  std::vector<std::string> apiKeys;
  std::vector<std::string> scannerIds;
  std::vector<std::string> bleUuids;
};

inline SeedFile loadSeedFile(const std::string& path) {
  std::ifstream in{path};
  if (!in) throw std::runtime_error("cannot read the seed file " + path);
  const std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  const auto doc = boost::json::parse(text).as_object();
  auto strings = [&](const char* key) {
    std::vector<std::string> out;
    for (const auto& v : doc.at(key).as_array()) out.emplace_back(v.as_string());
    return out;
  };
  SeedFile seed{strings("apiKeys"), strings("scannerIds"), strings("bleUuids")};
  if (seed.apiKeys.size() != seed.scannerIds.size() || seed.apiKeys.empty()) {
    throw std::runtime_error("the seed file has no scanners, or keys and ids do not pair up");
  }
  return seed;
}

// The first line of a file without its line ending (the admin password file).
inline std::string readFirstLine(const std::string& path) {
  std::ifstream in{path};
  std::string line;
  if (!in || !std::getline(in, line)) throw std::runtime_error("cannot read " + path);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

}  // namespace attendance::bench
